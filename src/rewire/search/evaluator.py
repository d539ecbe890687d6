"""Scoring wirings of the AANN CNN: a full forward pass, and a delta path for bit-swaps.

Exactness. The evaluator computes in float64 from float32 inputs in [0, 1]. Such inputs are
multiples of 2^-31, weights are -1, 0 or +1, every pre-activation is a sum of at most a few
thousand of these terms and stays below 2^11 in magnitude, so every intermediate value needs at
most 42 significant bits: float64 (53 bits) computes the ternary network *exactly*, in any
summation order. The delta path and the full path therefore give identical logits, bit for
bit, and so identical predictions (ties broken towards the first class, as ``argmax``).

Delta path, per layer:

- **fc**: a swap changes two entries of the fc weight, hence two logit columns. A swap moves
  any margin by at most 2, so only images with |margin| <= kappa + 2 can change their
  prediction or clamped margin; all candidates are scored at once on that subset.
- **conv2**: a swap changes one or two output channels of conv2; only those channels'
  pooled features and their fc contribution are recomputed.
- **conv1**: a swap changes one or two channels of conv1; their change is pushed through
  conv2 (one input channel each), then the pooling and the fc layer.

Scores: ``accuracy`` and ``hinge``, the mean margin ``L_y - max_{c != y} L_c`` clamped to
[-kappa, kappa], a smooth companion of accuracy that still moves when accuracy ties.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..sparse.wiring import Wiring

__all__ = ["AANNEvaluator", "scores_from_logits", "LAYERS"]

LAYERS = ("conv1.weight", "conv2.weight", "fc.weight")


def _score_sums(logits: torch.Tensor, y: torch.Tensor, kappa: float):
    """Number correct (argmax, first class on ties) and sum of margins clamped to
    [-kappa, kappa], over the sample dimension of ``(..., N, C)`` logits.

    Both sums are exact in float64 (margins lie on the 2^-31 grid), so any split of the
    samples adds up to the same numbers.
    """
    correct = logits.argmax(-1) == y
    index = y.expand(logits.shape[:-1]).unsqueeze(-1)
    true = logits.gather(-1, index).squeeze(-1)
    others = logits.scatter(-1, index, float("-inf")).amax(-1)
    margin = (true - others).clamp(-kappa, kappa)
    return correct.double().sum(-1), margin.sum(-1)


def scores_from_logits(logits: torch.Tensor, y: torch.Tensor, kappa: float):
    """Accuracy and mean clamped margin (hinge) of ``(..., N, C)`` logits."""
    correct, hinge = _score_sums(logits, y, kappa)
    return correct / len(y), hinge / len(y)


class AANNEvaluator:
    """Exact scores of one AANN-CNN wiring and of its bit-swap neighbours on ``(x, y)``.

    Args:
        wiring: the current wiring (``conv1.weight``, ``conv2.weight``, ``fc.weight``).
        x, y: evaluation images (N x 1 x H x W, in [0, 1]) and labels.
        kappa: clamp of the hinge score.
        chunk: candidates scored together on the fc path (bounds memory).
    """

    def __init__(self, wiring: Wiring, x: torch.Tensor, y: torch.Tensor, kappa: float = 2.0,
                 chunk: int = 256):
        if set(wiring) != set(LAYERS):
            raise ValueError(f"the delta evaluator knows the AANN CNN ({', '.join(LAYERS)}); "
                             f"got layers {', '.join(wiring)}")
        self.w = {k: wiring[k].to(torch.float64).contiguous() for k in LAYERS}
        k1, k2 = self.w["conv1.weight"].shape[-1], self.w["conv2.weight"].shape[-1]
        self.pad1, self.pad2 = k1 // 2, k2 // 2
        c2 = self.w["conv2.weight"].shape[0]
        h4, w4 = x.shape[-2] // 4, x.shape[-1] // 4
        if self.w["fc.weight"].shape[1] != c2 * h4 * w4:
            raise ValueError(f"fc takes {self.w['fc.weight'].shape[1]} inputs but "
                             f"{tuple(x.shape[1:])} images give {c2 * h4 * w4}")
        self.x = x.to(torch.float64)
        self.y = y
        self.kappa = float(kappa)
        self.chunk = chunk
        self.block = h4 * w4  # pooled features per conv2 channel
        self.refresh()

    # ----------------------------------------------------------------- full path
    def _forward(self, w1, w2, w3):
        z1 = F.conv2d(self.x, w1, padding=self.pad1)
        p1 = F.max_pool2d(F.hardtanh(z1), 2)
        z2 = F.conv2d(p1, w2, padding=self.pad2)
        f = F.max_pool2d(F.hardtanh(z2), 2).flatten(1)
        return z1, p1, z2, f, f @ w3.T

    def refresh(self) -> None:
        """Recompute every cache from the current weights (the full path)."""
        self.z1, self.p1, self.z2, self.f, self.logits = self._forward(
            self.w["conv1.weight"], self.w["conv2.weight"], self.w["fc.weight"])
        self._rescore()

    def full_logits(self, wiring: Wiring) -> torch.Tensor:
        """Logits of any wiring by a full forward pass (the reference for the delta path)."""
        w = {k: wiring[k].to(torch.float64) for k in LAYERS}
        return self._forward(w["conv1.weight"], w["conv2.weight"], w["fc.weight"])[-1]

    def _rescore(self) -> None:
        acc, hinge = scores_from_logits(self.logits, self.y, self.kappa)
        self.accuracy, self.hinge = float(acc), float(hinge)

    def wiring(self) -> Wiring:
        return Wiring({k: v.to(torch.int8) for k, v in self.w.items()})

    # ----------------------------------------------------------------- delta path
    def score_swaps(self, layer: str, swaps: torch.Tensor) -> dict[str, torch.Tensor]:
        """Scores of the neighbours reached by each swap (K x 2 flat indices) in ``layer``."""
        if layer not in self.w:
            raise KeyError(f"no layer {layer!r}; the evaluator has {', '.join(LAYERS)}")
        if layer == "fc.weight":
            return self._score_fc(swaps)
        acc, hinge = torch.empty(len(swaps), dtype=torch.float64), torch.empty(
            len(swaps), dtype=torch.float64)
        for i, swap in enumerate(swaps):
            logits = self.neighbour_logits(layer, swap)
            acc[i], hinge[i] = scores_from_logits(logits, self.y, self.kappa)
        return {"accuracy": acc, "hinge": hinge}

    def neighbour_logits(self, layer: str, swap: torch.Tensor) -> torch.Tensor:
        """Logits of one neighbour by the delta path (what ``score_swaps`` scores)."""
        if layer == "fc.weight":
            return self._fc_logits(swap)
        delta = self._conv2_delta if layer == "conv2.weight" else self._conv1_delta
        return delta(swap)[-1]

    def accept(self, layer: str, swap: torch.Tensor) -> None:
        """Move to the neighbour reached by ``swap``, updating the caches incrementally."""
        if layer == "fc.weight":
            self.logits = self._fc_logits(swap)
        elif layer == "conv2.weight":
            chans, z2c, fc_blocks, self.logits = self._conv2_delta(swap)
            for c, z, fb in zip(chans, z2c, fc_blocks, strict=True):
                self.z2[:, c] = z
                self.f[:, c * self.block:(c + 1) * self.block] = fb
        else:
            chans, z1c, p1c, self.z2, self.f, self.logits = self._conv1_delta(swap)
            for c, z, p in zip(chans, z1c, p1c, strict=True):
                self.z1[:, c] = z
                self.p1[:, c] = p
        _swap_in_place(self.w[layer], swap)
        self._rescore()

    # fc ------------------------------------------------------------------------
    def _fc_parts(self, swaps: torch.Tensor):
        w3 = self.w["fc.weight"]
        nf = w3.shape[1]
        src, dst = swaps[:, 0], swaps[:, 1]
        v = w3.view(-1)[src]
        return src // nf, src % nf, dst // nf, dst % nf, v

    def _fc_logits(self, swap: torch.Tensor) -> torch.Tensor:
        ca, ja, cb, jb, v = (t[0] for t in self._fc_parts(swap[None]))
        logits = self.logits.clone()
        logits[:, ca] -= v * self.f[:, ja]
        logits[:, cb] += v * self.f[:, jb]
        return logits

    def _score_fc(self, swaps: torch.Tensor) -> dict[str, torch.Tensor]:
        n = len(self.y)
        true = self.logits.gather(1, self.y[:, None])[:, 0]
        others = self.logits.scatter(1, self.y[:, None], float("-inf")).amax(1)
        margin = true - others
        # a swap moves any margin by at most 2: only these images can change anything
        active = margin.abs() <= self.kappa + 2
        still = ~active
        base_acc, base_hinge = _score_sums(self.logits[still], self.y[still], self.kappa)
        L, f, y = self.logits[active], self.f[active], self.y[active]
        ca, ja, cb, jb, v = self._fc_parts(swaps)
        acc = torch.empty(len(swaps), dtype=torch.float64)
        hinge = torch.empty(len(swaps), dtype=torch.float64)
        for s in range(0, len(swaps), self.chunk):
            sl = slice(s, s + self.chunk)
            k = len(swaps[sl])
            new = L.unsqueeze(0).expand(k, -1, -1).clone()  # K x M x C
            da = (-v[sl, None] * f[:, ja[sl]].T).unsqueeze(-1)
            db = (v[sl, None] * f[:, jb[sl]].T).unsqueeze(-1)
            new.scatter_add_(2, ca[sl, None, None].expand(k, len(y), 1), da)
            new.scatter_add_(2, cb[sl, None, None].expand(k, len(y), 1), db)
            a, h = _score_sums(new, y, self.kappa)
            acc[sl] = (a + base_acc) / n
            hinge[sl] = (h + base_hinge) / n
        return {"accuracy": acc, "hinge": hinge}

    # conv2 ---------------------------------------------------------------------
    def _conv2_delta(self, swap: torch.Tensor):
        """New z2 channels, their pooled features and the new logits after a conv2 swap."""
        w2 = self.w["conv2.weight"]
        src, dst = int(swap[0]), int(swap[1])
        v = float(w2.view(-1)[src])
        pad = F.pad(self.p1, (self.pad2,) * 4)
        h, w = self.p1.shape[-2:]
        z = {}
        for idx, sign in ((src, -1.0), (dst, 1.0)):
            o, i, ky, kx = _unravel(idx, w2.shape)
            z.setdefault(o, self.z2[:, o].clone())
            z[o] += (sign * v) * pad[:, i, ky:ky + h, kx:kx + w]
        chans = list(z)
        new_f = [F.max_pool2d(F.hardtanh(z[c]), 2).flatten(1) for c in chans]
        w3 = self.w["fc.weight"]
        logits = self.logits.clone()
        for c, nf in zip(chans, new_f, strict=True):
            sl = slice(c * self.block, (c + 1) * self.block)
            logits += (nf - self.f[:, sl]) @ w3[:, sl].T
        return chans, [z[c] for c in chans], new_f, logits

    # conv1 ---------------------------------------------------------------------
    def _conv1_delta(self, swap: torch.Tensor):
        """New z1/p1 channels, z2, features and logits after a conv1 swap."""
        w1, w2 = self.w["conv1.weight"], self.w["conv2.weight"]
        src, dst = int(swap[0]), int(swap[1])
        v = float(w1.view(-1)[src])
        xpad = F.pad(self.x, (self.pad1,) * 4)
        h, w = self.x.shape[-2:]
        z = {}
        for idx, sign in ((src, -1.0), (dst, 1.0)):
            o, i, ky, kx = _unravel(idx, w1.shape)
            z.setdefault(o, self.z1[:, o].clone())
            z[o] += (sign * v) * xpad[:, i, ky:ky + h, kx:kx + w]
        chans = list(z)
        new_p1 = [F.max_pool2d(F.hardtanh(z[c]), 2) for c in chans]
        dp = torch.stack([p - self.p1[:, c] for c, p in zip(chans, new_p1, strict=True)], 1)
        z2 = self.z2 + F.conv2d(dp, w2[:, chans], padding=self.pad2)
        f = F.max_pool2d(F.hardtanh(z2), 2).flatten(1)
        return chans, [z[c] for c in chans], new_p1, z2, f, f @ self.w["fc.weight"].T


def _unravel(idx: int, shape) -> tuple[int, ...]:
    out = []
    for size in reversed(shape):
        out.append(idx % size)
        idx //= size
    return tuple(reversed(out))


def _swap_in_place(w: torch.Tensor, swap: torch.Tensor) -> None:
    flat = w.view(-1)
    src, dst = int(swap[0]), int(swap[1])
    flat[dst] = flat[src]
    flat[src] = 0
