"""The fallback evaluator: a full forward pass per neighbour, for any ternary model.

Used when a model is not a chain the delta evaluator understands (BatchNorm, residual
blocks, attention, ...). Same interface as :class:`~rewire.search.evaluator.DeltaEvaluator`;
the "delta" and the full path are the same computation here, so they agree trivially, and
the scores are those of the model itself in its own dtype.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn.utils import parametrize

from ..sparse.masks import prunable_weights
from ..sparse.wiring import Wiring
from ..train.device import check_device
from .evaluator import read_ternary, score_each, score_sums
from .moves import apply_swap

__all__ = ["ForwardEvaluator"]


class ForwardEvaluator:
    """Scores of a ternary model's neighbours by full forward passes (any architecture).

    Works on a deep copy of ``model`` in eval mode, its rewire parametrizations baked into
    plain weights; the caller's model is left untouched. :func:`~rewire.search.make_evaluator`
    builds one when the model is not a chain the delta evaluator reads.

    Args:
        model: a network whose searchable weights are exactly -1, 0 or +1 (see
            :func:`~rewire.search.read_ternary`).
        x: evaluation inputs (N x ...).
        y: their labels (N).
        kappa: clamp of the hinge score, in the units of the logits.
        device (str | torch.device | None): where the copy runs; ``None`` for the CPU.
        image_chunk: images per forward pass (bounds memory).

    Raises:
        ValueError: if a searchable weight is not ternary, or ``device`` does not exist.

    Example:
        >>> from rewire.sparse import Wiring, ternarize, write_wiring
        >>> net = ternarize(nn.Sequential(nn.Linear(4, 2, bias=False), nn.BatchNorm1d(2)))
        >>> _ = write_wiring(net, Wiring({"0.weight": torch.tensor([[1, 0, 0, 0],
        ...                                                         [0, 1, 0, 0]])}))
        >>> ev = ForwardEvaluator(net, torch.eye(4), torch.tensor([0, 1, 0, 1]))
        >>> ev.kind, ev.layers, ev.accuracy
        ('forward', ('0.weight',), 0.75)
    """

    kind = "forward"

    def __init__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                 kappa: float = 2.0, device=None, image_chunk: int = 2048):
        self.device = check_device(device)
        wiring = read_ternary(model)
        net = copy.deepcopy(model).to(self.device).eval()
        for module, pname in prunable_weights(net).values():
            if parametrize.is_parametrized(module, pname):
                # a deep copy shares the original's generated Parametrized* class, and
                # removing a parametrization deletes its property from that class: give the
                # copy a class of its own first, so the caller's model is left untouched
                cls = type(module)
                module.__class__ = type(cls.__name__, cls.__bases__, dict(cls.__dict__))
                parametrize.remove_parametrizations(module, pname, leave_parametrized=True)
        self.net = net
        self.params = {name: getattr(m, p) for name, (m, p) in prunable_weights(net).items()
                       if name in wiring}
        self.layers = tuple(self.params)
        self.x, self.y = x.to(self.device), y.to(self.device)
        self.kappa, self.scale = float(kappa), 1.0
        self.image_chunk = image_chunk
        self.refresh()

    @property
    def w(self) -> dict[str, torch.Tensor]:
        return {k: p.detach() for k, p in self.params.items()}

    def wiring(self) -> Wiring:
        return Wiring({k: p.detach().to("cpu", torch.int8) for k, p in self.params.items()})

    def __len__(self) -> int:
        return len(self.y)

    @torch.no_grad()
    def _logits(self, sl: slice = slice(None)) -> torch.Tensor:
        x = self.x[sl]
        return torch.cat([self.net(x[s:s + self.image_chunk])
                          for s in range(0, len(x), self.image_chunk)])

    def refresh(self) -> None:
        self.logits = self._logits()
        acc, hinge = self.scores(self.logits)
        self.accuracy, self.hinge = float(acc), float(hinge)

    def scores(self, logits: torch.Tensor, y: torch.Tensor | None = None):
        y = self.y if y is None else y
        correct, hinge = score_sums(logits, y, self.kappa)
        return correct.double() / len(y), hinge.double() / len(y)

    def current_scores(self, images: slice | None = None) -> dict[str, float]:
        sl = images or slice(None)
        acc, hinge = self.scores(self.logits[sl], self.y[sl])
        return {"accuracy": float(acc), "hinge": float(hinge)}

    def _param(self, layer: str) -> torch.Tensor:
        if layer not in self.params:
            raise KeyError(f"no layer {layer!r}; the evaluator has {', '.join(self.layers)}")
        return self.params[layer]

    @torch.no_grad()
    def neighbour_logits(self, layer: str, swap: torch.Tensor, sl: slice = slice(None)):
        w = self._param(layer).data
        apply_swap(w, swap)
        try:
            return self._logits(sl)
        finally:
            apply_swap(w, swap.flip(0))

    def score_swaps(self, layer: str, swaps: torch.Tensor,
                    images: slice | None = None) -> dict[str, torch.Tensor]:
        sl = images or slice(None)
        return score_each(self, lambda swap: self.neighbour_logits(layer, swap, sl), swaps, sl)

    @torch.no_grad()
    def full_logits(self, wiring: Wiring) -> torch.Tensor:
        saved = {k: p.data.clone() for k, p in self.params.items()}
        try:
            for k, p in self.params.items():
                p.data.copy_(wiring[k].to(p.dtype))
            return self._logits()
        finally:
            for k, p in self.params.items():
                p.data.copy_(saved[k])

    def accept(self, layer: str, swap: torch.Tensor) -> None:
        apply_swap(self._param(layer).data, swap)
        self.refresh()
