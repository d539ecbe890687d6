"""Scoring wirings of any feed-forward ternary network: a full path and exact delta paths.

:func:`make_evaluator` reads the model as a chain of blocks (``chain.read_chain``): Conv2d
(any kernel, stride, padding) and Linear layers with ternary weights, each followed by bias,
scale, HardTanh / ReLU / identity, max / average pooling and flatten. For such a chain it
returns a :class:`DeltaEvaluator`; for anything else (BatchNorm, residual blocks, ...) a
:class:`~rewire.search.forward.ForwardEvaluator` with the same interface, which runs a full
forward pass per neighbour and says so once.

The delta evaluator keeps, for every block, its input and its pre-activation, channel-major
and image-last (C x H x W x N, or F x N): a channel is one contiguous block, and every
operation on one position runs along a contiguous vector of images. It recomputes only what
a swap can reach:

- a swap moves one weight of block i, so it changes one or two output channels (units) of
  block i: only those are recomputed (a shifted add of one input channel, or one column);
- their change goes through block i's ops (clamp, pool, ...) channel by channel, and into
  block i+1 only through the weights that read those channels: the rows of block i+1 with a
  live weight on them (90% of weights are zero), by a convolution over the changed input
  channels only, or a product with the changed columns only; and so on to the logits;
- the last layer is scored in a batch over all candidates at once, and only on images whose
  margin the swap can move across the clamp (|margin| <= kappa + 2 max|input|);
- a Linear layer just before the last one is scored in a batch too: a swap changes at most
  two hidden units, a rank-2 update of the logits.

Exactness: see :mod:`rewire.search.chain`. When ``arithmetic.exact`` (the AANN networks on
pixel data, any chain without non-dyadic biases or scales) every path gives identical logits,
bit for bit, so identical scores (ties broken towards the first class, like ``argmax``).

Scores: ``accuracy`` and ``hinge``, the mean margin ``L_y - max_{c != y} L_c`` clamped to
[-kappa, kappa] (a smooth companion of accuracy that still moves when accuracy ties).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..sparse.wiring import Wiring
from ..train.device import check_device
from . import kernels
from .chain import Arithmetic, Block, arithmetic, read_chain
from .moves import apply_swap

__all__ = ["DeltaEvaluator", "make_evaluator", "score_sums", "check_device", "check_swappable",
           "read_ternary"]


def score_sums(logits: torch.Tensor, y: torch.Tensor, kappa: float):
    """Number correct (argmax, first class on ties) and sum of margins clamped to
    [-kappa, kappa], over the sample dimension of ``(..., N, C)`` logits (float64 sums:
    exact for integer margins, so any split of the samples adds up to the same numbers)."""
    correct = logits.argmax(-1) == y
    index = y.expand(logits.shape[:-1]).unsqueeze(-1)
    true = logits.gather(-1, index).squeeze(-1)
    others = logits.scatter(-1, index, float("-inf")).amax(-1)
    margin = (true - others).clamp(-kappa, kappa)
    return correct.double().sum(-1), margin.double().sum(-1)


def check_swappable(wiring: Wiring) -> None:
    """ValueError unless every layer has both a nonzero and a zero weight."""
    for name, w in wiring.items():
        eff = w.float()
        if eff.numel() == 0 or not bool((eff != 0).any()):
            raise ValueError(f"layer {name} has no nonzero weight: no bit-swap can move it")
        if bool((eff != 0).all()):
            raise ValueError(f"layer {name} has no zero weight: no bit-swap can move it "
                             f"(sparsify it first)")


def read_ternary(model: nn.Module) -> Wiring:
    """The wiring of a model whose searchable weights are exactly -1, 0 or +1.

    The searchable weights are the prunable parameters named ``weight`` (of Linear and
    Conv layers, for instance), read as their effective (masked, ternarized) values.

    Args:
        model: the network; it is not modified.

    Returns:
        Per layer name (``"fc.weight"``), a contiguous int8 copy of the weight.

    Raises:
        ValueError: a weight is not ternary (names the layer and the value).

    Example:
        >>> lin = nn.Linear(3, 2, bias=False)
        >>> with torch.no_grad():
        ...     _ = lin.weight.copy_(torch.tensor([[1., 0, -1], [0, 1, 0]]))
        >>> read_ternary(lin)["weight"].tolist()
        [[1, 0, -1], [0, 1, 0]]
    """
    from ..sparse.masks import prunable_weights

    out = Wiring()
    for name, (module, pname) in prunable_weights(model).items():
        if pname != "weight":
            continue
        w = getattr(module, pname).detach()
        bad = (w != 0) & (w != 1) & (w != -1)
        if bool(bad.any()):
            raise ValueError(f"layer {name} has a weight {float(w[bad][0]):g} that is not "
                             f"-1, 0 or +1: ternarize the model first")
        out[name] = w.to(torch.int8).contiguous()
    return out


def make_evaluator(model: nn.Module, x: torch.Tensor, y: torch.Tensor, kappa: float = 2.0,
                   device=None, log=print):
    """An exact evaluator of ``model``'s wiring on ``(x, y)``: delta paths when the model is
    a chain (see module doc), full forward passes otherwise (``log`` says so once).

    Args:
        model: a network whose searchable weights are exactly -1, 0 or +1 (see
            :func:`read_ternary`); every layer needs a zero and a nonzero weight.
        x: evaluation inputs (N x ...).
        y: their labels (N).
        kappa: clamp of the hinge score, in units of the inputs.
        device (str | torch.device | None): where the evaluator computes; ``None`` for the
            CPU.
        log (Callable[[str], object]): receives the one-line note when the model is not a
            chain.

    Returns:
        (DeltaEvaluator | ForwardEvaluator): a :class:`DeltaEvaluator` for a chain, else a
            :class:`~rewire.search.forward.ForwardEvaluator` with the same interface;
            ``.accuracy`` and ``.hinge`` hold the current scores.

    Raises:
        ValueError: a weight is not ternary, a layer cannot be swapped, or the device does
            not exist.

    Example:
        >>> from rewire.sparse import Wiring, ternarize, write_wiring
        >>> lin = ternarize(nn.Linear(4, 2, bias=False))
        >>> _ = write_wiring(lin, Wiring(weight=torch.tensor([[1, 0, 0, 0], [0, 1, 0, 0]])))
        >>> ev = make_evaluator(lin, torch.eye(4), torch.tensor([0, 1, 0, 1]))
        >>> ev.kind, ev.accuracy
        ('delta', 0.75)
        >>> ev.score_swaps("weight", torch.tensor([[0, 7], [5, 1]]))["accuracy"].tolist()
        [1.0, 0.5]
    """
    dev = check_device(device)
    wiring = read_ternary(model)
    check_swappable(wiring)
    blocks, why = read_chain(model, x[:8].float())
    if blocks is None:
        from .forward import ForwardEvaluator

        log(f"note: {why}; scoring every neighbour with a full forward pass (slower)")
        return ForwardEvaluator(model, x, y, kappa=kappa, device=dev)
    return DeltaEvaluator(blocks, x, y, kappa=kappa, device=dev)


def score_each(ev, logits_of, swaps: torch.Tensor, sl: slice) -> dict[str, torch.Tensor]:
    """Scores of each swap from its neighbour's logits on images ``sl`` (one at a time)."""
    acc = torch.empty(len(swaps), dtype=torch.float64)
    hinge = torch.empty(len(swaps), dtype=torch.float64)
    for k, swap in enumerate(swaps):
        acc[k], hinge[k] = ev.scores(logits_of(swap), ev.y[sl])
    return {"accuracy": acc, "hinge": hinge}


def _unravel(idx: int, shape) -> tuple[int, ...]:
    out = []
    for size in reversed(shape):
        out.append(idx % size)
        idx //= size
    return tuple(reversed(out))


class DeltaEvaluator:
    """Exact scores of one wiring of a chain and of its bit-swap neighbours on ``(x, y)``.

    Args:
        blocks: the chain (``chain.read_chain``); weights are read as the start wiring.
        x: evaluation inputs (N x ...).
        y: their labels (N).
        kappa: clamp of the hinge score, in units of the inputs.
        chunk: candidates scored together on the batched paths (bounds memory).
        device: where the caches live and the arithmetic runs.
        image_chunk: images per piece of the full forward pass and of the per-candidate
            delta path (bounds memory; same numbers for any value).
        use_kernels: score the convolutions of AANN-shaped chains with the compiled
            kernels (``search.kernels``) when numba is installed; same numbers either way.
    """

    kind = "delta"

    def __init__(self, blocks: list[Block], x: torch.Tensor, y: torch.Tensor,
                 kappa: float = 2.0, chunk: int = 256, device: str | torch.device | None = None,
                 image_chunk: int = 2048,
                 use_kernels: bool = True):
        self.device = check_device(device)
        self.arith: Arithmetic = arithmetic(blocks, x)
        s, dt = self.arith.scale, self.arith.dtype
        self.scale, self.dtype = s, dt
        self.blocks = [_scaled(b, s, dt, self.device) for b in blocks]
        self.layers = tuple(b.name for b in self.blocks)
        self.index = {b.name: i for i, b in enumerate(self.blocks)}
        xs = x.to(self.device, torch.float64) * s
        self.x = (xs.round() if self.arith.exact else xs).to(dt)
        if self.blocks[0].kind == "linear":
            self.x = self.x.flatten(1)
        self.y = y.to(self.device)
        self.kappa = float(kappa)
        self.chunk, self.image_chunk = chunk, image_chunk
        self.refresh()
        self.kernels = kernels.plan(self) if use_kernels else {}
        self.compiled = use_kernels and kernels.compiled(self)

    # ----------------------------------------------------------------- state
    @property
    def w(self) -> dict[str, torch.Tensor]:
        return {b.name: b.weight for b in self.blocks}

    def wiring(self) -> Wiring:
        return Wiring({b.name: b.weight.to("cpu", torch.int8) for b in self.blocks})

    def __len__(self) -> int:
        return len(self.y)

    # ----------------------------------------------------------------- full path
    def _forward(self, weights: list[torch.Tensor], x: torch.Tensor, keep: bool = False):
        """Logits of a batch; with ``keep`` also every block's (input, pre-activation),
        channel-major, inputs of convolutions zero-padded."""
        a, cache = x, []
        for b, w in zip(self.blocks, weights):
            if b.kind == "conv":
                z = F.conv2d(a, w, stride=b.stride, padding=b.padding)
                if keep:
                    cache.append((F.pad(a, (b.padding[1],) * 2 + (b.padding[0],) * 2)
                                  .permute(1, 2, 3, 0).contiguous(),
                                  z.permute(1, 2, 3, 0).contiguous()))
                a = b.post(z.permute(1, 2, 3, 0), slice(None)).permute(3, 0, 1, 2)
            else:
                z = a @ w.T
                if keep:
                    cache.append((a.T.contiguous(), z.T.contiguous()))
                a = b.post(z.T, slice(None)).T
            if b.flattens:
                a = a.flatten(1)
        return a, cache

    def refresh(self) -> None:
        """Recompute every cache from the current weights (the full path)."""
        weights = [b.weight for b in self.blocks]
        parts = [self._forward(weights, self.x[s:s + self.image_chunk], keep=True)
                 for s in range(0, len(self.x), self.image_chunk)]
        self.logits = torch.cat([p[0] for p in parts])
        self.inp = [torch.cat([p[1][i][0] for p in parts], -1) for i in range(len(self.blocks))]
        self.z = [torch.cat([p[1][i][1] for p in parts], -1) for i in range(len(self.blocks))]
        self._rescore()

    def full_logits(self, wiring: Wiring) -> torch.Tensor:
        """Logits of any wiring by a full forward pass (the reference for the delta path)."""
        weights = [wiring[b.name].to(self.device, self.dtype) for b in self.blocks]
        return torch.cat([self._forward(weights, self.x[s:s + self.image_chunk])[0]
                          for s in range(0, len(self.x), self.image_chunk)])

    def _rescore(self) -> None:
        acc, hinge = self.scores(self.logits)
        self.accuracy, self.hinge = float(acc), float(hinge)

    def scores(self, logits: torch.Tensor, y: torch.Tensor | None = None):
        """Accuracy and hinge in the network's own units (the scale divided out)."""
        y = self.y if y is None else y
        correct, hinge = score_sums(logits, y, self.kappa * self.scale)
        n = len(y)
        return correct.double() / n, hinge.double() / (n * self.scale)

    def current_scores(self, images: slice | None = None) -> dict[str, float]:
        """The current network's scores on ``images`` (all by default)."""
        sl = images or slice(None)
        acc, hinge = self.scores(self.logits[sl], self.y[sl])
        return {"accuracy": float(acc), "hinge": float(hinge)}

    # ----------------------------------------------------------------- delta path
    def _block(self, layer: str) -> int:
        if layer not in self.index:
            raise KeyError(f"no layer {layer!r}; the evaluator has {', '.join(self.layers)}")
        return self.index[layer]

    def score_swaps(self, layer: str, swaps: torch.Tensor,
                    images: slice | None = None) -> dict[str, torch.Tensor]:
        """Scores of the neighbours reached by each swap (K x 2 flat indices) in ``layer``,
        on ``images`` (a slice of the evaluation set; all by default)."""
        i = self._block(layer)
        swaps = swaps.to(self.device)
        sl = images or slice(None)
        last = len(self.blocks) - 1
        if i == last:
            return self._score_last(swaps, sl)
        if i == last - 1 and self.blocks[i].kind == "linear" and not self.blocks[last].ops \
                and self.blocks[last].bias is None:
            return self._score_hidden(swaps, sl)
        if i in self.kernels:
            n0, n1, _ = sl.indices(len(self.y))
            score = kernels.score_flat if self.kernels[i] == "flat" else kernels.score_conv_flat
            correct, margins = score(self, i, swaps, n0, n1)
            n = n1 - n0
            return {"accuracy": torch.from_numpy(correct) / n,
                    "hinge": torch.from_numpy(margins) / (n * self.scale)}
        return self._score_per_candidate(i, swaps, sl)

    def neighbour_logits(self, layer: str, swap: torch.Tensor) -> torch.Tensor:
        """Logits of one neighbour by the (per-candidate) delta path."""
        return self._delta_logits(self._block(layer), swap.to(self.device), slice(None))

    def _delta_logits(self, i: int, swap: torch.Tensor, sl: slice) -> torch.Tensor:
        n = len(self.y[sl])
        start = sl.start or 0
        out = []
        for s in range(0, n, self.image_chunk):
            part = slice(start + s, start + min(s + self.image_chunk, n))
            chans, znew = self._swap_z(i, swap, part)
            out.append(self._propagate(i, chans, znew, part, None))
        return torch.cat(out)

    def _swap_z(self, i: int, swap: torch.Tensor, sl: slice):
        """The output channels of block i a swap changes, and their new pre-activations."""
        b = self.blocks[i]
        src, dst = int(swap[0]), int(swap[1])
        v = float(b.weight.view(-1)[src])
        z: dict[int, torch.Tensor] = {}
        for idx, sign in ((src, -1.0), (dst, 1.0)):
            if b.kind == "conv":
                o, ci, ky, kx = _unravel(idx, b.weight.shape)
                ho, wo = self.z[i].shape[1:3]
                sy, sx = b.stride
                src_view = self.inp[i][ci, ky:ky + sy * (ho - 1) + 1:sy,
                                       kx:kx + sx * (wo - 1) + 1:sx, sl]
            else:
                o, j = divmod(idx, b.weight.shape[1])
                src_view = self.inp[i][j, sl]
            if o not in z:
                z[o] = self.z[i][o, ..., sl].clone()
            z[o].add_(src_view, alpha=sign * v)
        chans = sorted(z)
        return chans, torch.stack([z[c] for c in chans])

    def _propagate(self, i: int, chans: list[int], znew: torch.Tensor, sl: slice,
                   keep: list | None) -> torch.Tensor:
        """Logits of images ``sl`` when block i's output channels ``chans`` take pre-activation
        ``znew``; with ``keep`` (a list) the new cache pieces are appended to it."""
        b = self.blocks[i]
        if keep is not None:
            keep.append(("z", i, chans, znew))
        anew = b.post(znew, chans)
        last = len(self.blocks) - 1
        if i == last:
            logits = self.logits[sl].clone()
            logits[:, chans] = anew.T
            return logits
        nb = self.blocks[i + 1]
        if b.flattens:  # conv channels -> blocks of features of the next Linear
            per = anew[0].numel() // anew.shape[-1]
            cols = (torch.tensor(chans, device=self.device)[:, None] * per
                    + torch.arange(per, device=self.device)).flatten()
            anew = anew.reshape(-1, anew.shape[-1])  # (c, h, w) order: torch's flatten
            old = _rows(self.inp[i + 1], cols, sl)
        elif nb.kind == "conv":
            py, px = nb.padding
            h, w = anew.shape[1:3]
            cols = torch.tensor(chans, device=self.device)
            old = _rows(self.inp[i + 1], cols, sl)[:, py:py + h, px:px + w]
        else:
            cols = torch.tensor(chans, device=self.device)
            old = _rows(self.inp[i + 1], cols, sl)
        d = anew - old
        if keep is not None:
            keep.append(("inp", i + 1, cols, anew))
        wsub = nb.weight[:, cols]
        live = wsub.flatten(1).ne(0).any(1)
        rows = live.nonzero()[:, 0]
        if not len(rows):
            return self.logits[sl].clone()
        if 2 * len(rows) > len(live):  # most rows: a view of all beats a gather of some
            rows, wrows, zold = torch.arange(len(live), device=live.device), wsub, \
                self.z[i + 1][..., sl]
        else:
            wrows, zold = wsub[rows], self.z[i + 1][rows, ..., sl]
        if nb.kind == "conv":
            dz = F.conv2d(d.permute(3, 0, 1, 2), wrows, stride=nb.stride,
                          padding=nb.padding).permute(1, 2, 3, 0)
        else:
            dz = wrows @ d
        return self._propagate(i + 1, rows.tolist(), zold + dz, sl, keep)

    def accept(self, layer: str, swap: torch.Tensor) -> None:
        """Move to the neighbour reached by ``swap``, updating the caches incrementally.

        Everything is computed before anything is written, so an error leaves the evaluator
        as it was.
        """
        i = self._block(layer)
        swap = swap.to(self.device)
        b = self.blocks[i]
        apply_swap(b.weight.clone(), swap)  # validates the move first
        if i in self.kernels:  # in place, image by image; cannot fail after the check
            score = kernels.score_flat if self.kernels[i] == "flat" else kernels.score_conv_flat
            score(self, i, swap[None], 0, len(self.y), write=True)
            self.z[-1] = self.logits.T.contiguous()  # the last layer has no ops: z = logits
            apply_swap(b.weight, swap)
            self._rescore()
            return
        pieces, logits = [], []
        for s in range(0, len(self.y), self.image_chunk):
            part = slice(s, min(s + self.image_chunk, len(self.y)))
            keep: list = []
            chans, znew = self._swap_z(i, swap, part)
            logits.append(self._propagate(i, chans, znew, part, keep))
            pieces.append((part, keep))
        for part, keep in pieces:
            for what, j, idx, val in keep:
                if what == "z":
                    self.z[j][idx, ..., part] = val
                elif self.blocks[j].kind == "conv":
                    py, px = self.blocks[j].padding
                    h, w = val.shape[1:3]
                    self.inp[j][idx, py:py + h, px:px + w, part] = val
                else:
                    self.inp[j][idx, part] = val
        self.logits = torch.cat(logits)
        apply_swap(b.weight, swap)
        self._rescore()

    # ----------------------------------------------------------------- batched paths
    def _score_last(self, swaps: torch.Tensor, sl: slice) -> dict[str, torch.Tensor]:
        """All candidates of the last (Linear) layer at once: a swap changes two weights,
        hence two logit columns, by at most max|input| each."""
        b = self.blocks[-1]
        L, y = self.logits[sl], self.y[sl]
        fin = self.inp[-1][:, sl]  # F x N: a feature's values are one contiguous row
        n, C = L.shape
        kappa = self.kappa * self.scale
        true = L.gather(1, y[:, None])[:, 0]
        margin = true - L.scatter(1, y[:, None], float("-inf")).amax(1)
        if b.ops:  # a clamp or scale after the last layer: no band, one by one
            return self._score_per_candidate(len(self.blocks) - 1, swaps, sl)
        reach = 2 * fin.abs().amax(0)
        active = margin.abs() <= kappa + reach
        base_acc, base_hinge = score_sums(L[~active], y[~active], kappa)
        L, y, true = L[active], y[active], true[active]
        qlt, qgt = _pair_tables(L, y)  # C*C x M: best other class below / above the label
        fT = fin[:, active]
        LT = L.T.contiguous()
        nf = b.weight.shape[1]
        src, dst = swaps[:, 0], swaps[:, 1]
        v = b.weight.view(-1)[src]
        ca, ja, cb, jb = src // nf, src % nf, dst // nf, dst % nf
        if self.compiled:  # compiled (CPU, exact): same numbers, image blocks in cache
            correct, margins = kernels.score_last(LT, fT, true, y, qlt, qgt, ca, ja, cb, jb, v,
                                                  kappa)
            return {"accuracy": (torch.from_numpy(correct) + float(base_acc)) / n,
                    "hinge": (torch.from_numpy(margins) + float(base_hinge)) / (n * self.scale)}
        acc = torch.empty(len(swaps), dtype=torch.float64)
        hinge = torch.empty(len(swaps), dtype=torch.float64)
        neg = torch.tensor(float("-inf"), dtype=L.dtype, device=L.device)
        for s in range(0, len(swaps), self.chunk):
            c = slice(s, s + self.chunk)
            a_cls, b_cls, vv = ca[c, None], cb[c, None], v[c, None]
            same = a_cls == b_cls
            fb = vv * fT[jb[c]]
            A = LT[ca[c]] - vv * fT[ja[c]] + torch.where(same, fb, 0)
            B = torch.where(same, neg, LT[cb[c]] + fb)
            is_a, is_b = a_cls == y, (b_cls == y) & ~same
            new_true = torch.where(is_a, A, torch.where(is_b, B, true))
            comp_a = torch.where(is_a, neg, A)
            comp_b = torch.where(is_b, neg, B)
            pair = ca[c] * C + cb[c]
            lt = torch.maximum(qlt[pair], torch.maximum(torch.where(a_cls < y, comp_a, neg),
                                                        torch.where(b_cls < y, comp_b, neg)))
            gt = torch.maximum(qgt[pair], torch.maximum(torch.where(a_cls > y, comp_a, neg),
                                                        torch.where(b_cls > y, comp_b, neg)))
            correct = (new_true > lt) & (new_true >= gt)  # argmax takes the first maximum
            mar = (new_true - torch.maximum(lt, gt)).clamp(-kappa, kappa)
            acc[c] = ((correct.double().sum(1) + base_acc) / n).cpu()
            hinge[c] = ((mar.double().sum(1) + base_hinge) / (n * self.scale)).cpu()
        return {"accuracy": acc, "hinge": hinge}

    def _score_per_candidate(self, i: int, swaps: torch.Tensor, sl: slice):
        return score_each(self, lambda swap: self._delta_logits(i, swap, sl), swaps, sl)

    def _score_hidden(self, swaps: torch.Tensor, sl: slice) -> dict[str, torch.Tensor]:
        """All candidates of the Linear layer before the last at once: a swap changes at most
        two hidden units, so the logits take a rank-2 update."""
        i = len(self.blocks) - 2
        b, out = self.blocks[i], self.blocks[-1]
        L, y = self.logits[sl], self.y[sl]
        fin, z = self.inp[i][:, sl], self.z[i][:, sl]
        hid = self.inp[i + 1][:, sl]
        nf = b.weight.shape[1]
        src, dst = swaps[:, 0], swaps[:, 1]
        v = b.weight.view(-1)[src]
        ua, ja, ub, jb = src // nf, src % nf, dst // nf, dst % nf
        W = out.weight  # C x H
        kappa = self.kappa * self.scale
        acc = torch.empty(len(swaps), dtype=torch.float64)
        hinge = torch.empty(len(swaps), dtype=torch.float64)
        step = max(1, self.chunk // 8)
        for s in range(0, len(swaps), step):
            c = slice(s, s + step)
            vv = v[c, None]
            same = (ua[c] == ub[c])[:, None]
            fb = vv * fin[jb[c]]
            za = z[ua[c]] - vv * fin[ja[c]] + torch.where(same, fb, 0)
            zb = z[ub[c]] + fb
            ha = b.post(za, ua[c]) - hid[ua[c]]
            hb = torch.where(same, 0, b.post(zb, ub[c]) - hid[ub[c]])
            new = (L[None] + ha[..., None] * W.T[ua[c]][:, None]
                   + hb[..., None] * W.T[ub[c]][:, None])
            correct, mar = score_sums(new, y, kappa)
            acc[c] = (correct / len(y)).cpu()
            hinge[c] = (mar / (len(y) * self.scale)).cpu()
        return {"accuracy": acc, "hinge": hinge}


def _rows(t: torch.Tensor, rows: torch.Tensor, sl: slice) -> torch.Tensor:
    """``t[rows, sl]``, as a view when ``rows`` are all of them in order (no copy)."""
    if len(rows) == len(t) and bool((rows == torch.arange(len(t), device=rows.device)).all()):
        return t[..., sl]
    return t[rows, ..., sl]


def _scaled(b: Block, s: float, dtype, device) -> Block:
    """The block on ``s * x``: biases and clamp bounds scale with the inputs. The weight is
    the evaluator's own copy (``.to`` alone returns the model's tensor when dtype and device
    already match, and accepting a move would then rewrite the caller's model)."""
    ops = [("clamp", op[1] * s, op[2] * s) if op[0] == "clamp" else op for op in b.ops]
    weight = b.weight.to(device, dtype, copy=True).contiguous()
    return Block(b.name, b.kind, weight, b.stride, b.padding,
                 None if b.bias is None else (b.bias.to(device, torch.float64) * s).to(dtype),
                 _fold(ops), b.in_shape, b.out_shape)


def _fold(ops: list[tuple]) -> list[tuple]:
    """Move monotone elementwise ops (clamp, relu) after a following max-pool: they commute,
    and the pool leaves 4x fewer values to clamp. The same order serves every path."""
    ops = list(ops)
    changed = True
    while changed:
        changed = False
        for k in range(len(ops) - 1):
            if ops[k][0] in ("clamp", "relu") and ops[k + 1][0] == "maxpool" \
                    and ops[k + 1][3] == 0:
                ops[k], ops[k + 1] = ops[k + 1], ops[k]
                changed = True
    return ops


def _pair_tables(L: torch.Tensor, y: torch.Tensor):
    """For every class pair (a, b) and image n: the largest logit among classes other than
    a, b and y_n that come before y_n (``lt``) and after it (``gt``); shape C*C x N."""
    n, C = L.shape
    cls = torch.arange(C, device=L.device)
    neg = torch.tensor(float("-inf"), dtype=L.dtype, device=L.device)
    out = []
    for side in (cls[None] < y[:, None], cls[None] > y[:, None]):
        masked = torch.where(side, L, neg)
        k = min(3, C)
        vals, idx = masked.topk(k, dim=1)  # the best three survive any two exclusions
        a = cls.repeat_interleave(C)[:, None, None]  # C*C x 1 x 1
        b = cls.repeat(C)[:, None, None]
        ok = (idx[None] != a) & (idx[None] != b)  # C*C x N x k
        first = ok.int().argmax(-1, keepdim=True)
        best = vals[None].expand(C * C, -1, -1).gather(-1, first)[..., 0]
        out.append(torch.where(ok.any(-1), best, neg))
    return out[0], out[1]
