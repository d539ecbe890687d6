"""Pruning methods: a score per weight, and masks that keep the highest scores.

Small functional API in the spirit of ``torch.nn.utils.prune``::

    prune.magnitude(model, amount=0.8, scope="layer")    # same fraction in every layer
    prune.magnitude(model, amount=0.8, scope="global")   # one threshold over all layers

Each method is a class with one ``scores`` method; :func:`apply_pruning` turns scores into
masks with an exact count of pruned weights (ties broken by position, so results are
deterministic). Weights already pruned score zero and stay pruned.
"""

from __future__ import annotations

import torch
from torch import nn

from ..sparse.masks import get_mask, prunable_weights, sparsify

__all__ = ["PruningMethod", "Magnitude", "apply_pruning", "magnitude", "check_amount"]


def check_amount(amount: float) -> float:
    if not isinstance(amount, (int, float)) or not 0.0 <= amount < 1.0:
        raise ValueError(f"amount (sparsity) must be in [0, 1), got {amount!r}")
    return float(amount)


class PruningMethod:
    """A pruning criterion: ``scores(model, layers)`` -> per-layer importance (higher = keep)."""

    def scores(self, model: nn.Module, layers: list[str]) -> dict[str, torch.Tensor]:
        raise NotImplementedError


class Magnitude(PruningMethod):
    """|w| of the effective (masked) weight."""

    def scores(self, model, layers):
        table = prunable_weights(model)
        return {n: getattr(*table[n]).detach().abs() for n in layers}


def _keep_top(scores: torch.Tensor, n_prune: int) -> torch.Tensor:
    """Boolean mask that zeroes exactly ``n_prune`` lowest scores (stable on ties)."""
    flat = scores.flatten()
    mask = torch.ones_like(flat, dtype=torch.bool)
    if n_prune > 0:
        order = torch.sort(flat, stable=True).indices
        mask[order[:n_prune]] = False
    return mask.view_as(scores)


def apply_pruning(
    model: nn.Module,
    method: PruningMethod,
    amount: float,
    scope: str = "layer",
    layers: list[str] | None = None,
) -> nn.Module:
    """Prune ``amount`` of the weights of ``layers`` (all prunable layers by default).

    Args:
        amount: target share of zero weights, in [0, 1).
        scope: ``"layer"``, the same share in every layer; ``"global"``, one ranking over
            all the layers together.
    """
    amount = check_amount(amount)
    if scope not in ("layer", "global"):
        raise ValueError(f"scope must be 'layer' or 'global', got {scope!r}")
    sparsify(model, layers)
    layers = layers if layers is not None else list(prunable_weights(model))
    scores = method.scores(model, layers)
    if scope == "layer":
        for n in layers:
            get_mask(model, n).copy_(_keep_top(scores[n], round(amount * scores[n].numel())))
    else:
        flat = torch.cat([scores[n].flatten() for n in layers])
        keep = _keep_top(flat, round(amount * flat.numel()))
        offset = 0
        for n in layers:
            size = scores[n].numel()
            get_mask(model, n).copy_(keep[offset : offset + size].view_as(scores[n]))
            offset += size
    return model


def magnitude(model: nn.Module, amount: float, scope: str = "layer",
              layers: list[str] | None = None) -> nn.Module:
    """Magnitude pruning: zero the ``amount`` smallest |w| per layer or globally."""
    return apply_pruning(model, Magnitude(), amount, scope, layers)
