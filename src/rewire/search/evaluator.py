"""Scoring wirings of the AANN CNN: a full forward pass, and a delta path for bit-swaps.

Exactness. Weights are -1, 0 or +1, so every value in the network is a sum of signed inputs,
clamped. When the inputs are multiples of 1/s for a small integer s (pixels k/255 for the MNIST
family, k/16 for digits), the evaluator runs the network on ``s * x``: every value is then an
integer (HardTanh becomes a clamp at ±s), and as long as the largest possible sum stays below
2^24 float32 computes it *exactly*, in any summation order. Otherwise it computes in float64,
where inputs on float32's grid leave enough headroom to stay exact for these sizes. Either way
the delta path and the full path give identical logits, bit for bit, and so identical
predictions (ties broken towards the first class, as ``argmax``).

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
from .moves import apply_swap

__all__ = ["AANNEvaluator", "LAYERS"]

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
    return correct.double().sum(-1), margin.double().sum(-1)


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
        self.w = {k: wiring[k].contiguous() for k in LAYERS}
        k1, k2 = self.w["conv1.weight"].shape[-1], self.w["conv2.weight"].shape[-1]
        self.pad1, self.pad2 = k1 // 2, k2 // 2
        c2 = self.w["conv2.weight"].shape[0]
        h4, w4 = x.shape[-2] // 4, x.shape[-1] // 4
        if self.w["fc.weight"].shape[1] != c2 * h4 * w4:
            raise ValueError(f"fc takes {self.w['fc.weight'].shape[1]} inputs but "
                             f"{tuple(x.shape[1:])} images give {c2 * h4 * w4}")
        self.scale, self.dtype = _integer_scale(x, self.w)
        self.w = {k: v.to(self.dtype) for k, v in self.w.items()}
        self.x = (x.to(torch.float64) * self.scale).round().to(self.dtype) if self.scale > 1 \
            else x.to(self.dtype)
        self.y = y
        self.kappa = float(kappa)
        self.chunk = chunk
        self.block = h4 * w4  # pooled features per conv2 channel
        self.refresh()

    # ----------------------------------------------------------------- full path
    def _act_pool(self, z: torch.Tensor) -> torch.Tensor:
        """HardTanh then 2x2 max-pool, computed as pool then clamp (they commute; 4x less
        clamping) with the pool as two maxima over strided views (faster than max_pool2d)."""
        pooled = torch.maximum(torch.maximum(z[..., 0::2, 0::2], z[..., 0::2, 1::2]),
                               torch.maximum(z[..., 1::2, 0::2], z[..., 1::2, 1::2]))
        return pooled.clamp_(-self.scale, self.scale)

    def _forward(self, w1, w2, w3):
        z1 = F.conv2d(self.x, w1, padding=self.pad1)
        p1 = self._act_pool(z1)
        z2 = F.conv2d(p1, w2, padding=self.pad2)
        f = self._act_pool(z2).flatten(1)
        return z1, p1, z2, f, f @ w3.T

    def refresh(self) -> None:
        """Recompute every cache from the current weights (the full path).

        Caches are stored channel-major (C x N x ...), so the channel a swap touches is one
        contiguous block.
        """
        z1, p1, z2, f, self.logits = self._forward(
            self.w["conv1.weight"], self.w["conv2.weight"], self.w["fc.weight"])

        def cm(t):
            return t.transpose(0, 1).contiguous()

        self.z1, self.p1, self.z2 = cm(z1), cm(p1), cm(z2)
        self.f = f.view(len(f), self.z2.shape[0], self.block).transpose(0, 1).contiguous()
        self.xpad = F.pad(self.x[:, 0], (self.pad1,) * 4)
        self.p1pad = F.pad(self.p1, (self.pad2,) * 4)
        self._rescore()

    def full_logits(self, wiring: Wiring) -> torch.Tensor:
        """Logits of any wiring by a full forward pass (the reference for the delta path)."""
        w = {k: wiring[k].to(self.dtype) for k in LAYERS}
        return self._forward(w["conv1.weight"], w["conv2.weight"], w["fc.weight"])[-1]

    def _rescore(self) -> None:
        acc, hinge = self.scores(self.logits)
        self.accuracy, self.hinge = float(acc), float(hinge)

    def scores(self, logits: torch.Tensor):
        """Accuracy and hinge in the network's own units (the scale divided out)."""
        correct, hinge = _score_sums(logits, self.y, self.kappa * self.scale)
        n = len(self.y)
        return correct.double() / n, hinge.double() / (n * self.scale)

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
            acc[i], hinge[i] = self.scores(self.neighbour_logits(layer, swap))
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
            for c, z, fb in zip(chans, z2c, fc_blocks):
                self.z2[c], self.f[c] = z, fb
        else:
            chans, z1c, p1c, self.z2, self.f, self.logits = self._conv1_delta(swap, keep=True)
            for c, z, p in zip(chans, z1c, p1c):
                self.z1[c], self.p1[c] = z, p
                self.p1pad[c, :, self.pad2:-self.pad2, self.pad2:-self.pad2] = p
        apply_swap(self.w[layer], swap)
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
        logits[:, ca] -= v * self._feature(ja)
        logits[:, cb] += v * self._feature(jb)
        return logits

    def _feature(self, j) -> torch.Tensor:
        """Column j of the flattened fc input, for every image."""
        return self.f[int(j) // self.block, :, int(j) % self.block]

    def _score_fc(self, swaps: torch.Tensor) -> dict[str, torch.Tensor]:
        n, C = self.logits.shape
        kappa = self.kappa * self.scale
        L = self.logits
        true = L.gather(1, self.y[:, None])[:, 0]
        margin = true - L.scatter(1, self.y[:, None], float("-inf")).amax(1)
        # a swap moves a logit by at most `scale` in each of two classes, so a margin by at
        # most 2 * scale: only these images can change their prediction or clamped margin
        active = margin.abs() <= kappa + 2 * self.scale
        base_acc, base_hinge = _score_sums(L[~active], self.y[~active], kappa)
        L, y, true = L[active], self.y[active], true[active]
        qlt, qgt = _pair_tables(L, y)  # C*C x M: best other class below / above the label
        # fc input transposed (features x images): a feature's values are one contiguous row
        fT = self.f[:, active].transpose(1, 2).reshape(-1, int(active.sum()))
        LT = L.T.contiguous()
        ca, ja, cb, jb, v = self._fc_parts(swaps)
        acc = torch.empty(len(swaps), dtype=torch.float64)
        hinge = torch.empty(len(swaps), dtype=torch.float64)
        neg = torch.tensor(float("-inf"), dtype=L.dtype)
        for s in range(0, len(swaps), self.chunk):
            sl = slice(s, s + self.chunk)
            a_cls, b_cls, vv = ca[sl, None], cb[sl, None], v[sl, None]
            same = a_cls == b_cls
            fb = vv * fT[jb[sl]]
            A = LT[ca[sl]] - vv * fT[ja[sl]] + torch.where(same, fb, 0)
            B = torch.where(same, neg, LT[cb[sl]] + fb)
            is_a, is_b = a_cls == y, (b_cls == y) & ~same
            new_true = torch.where(is_a, A, torch.where(is_b, B, true))
            comp_a = torch.where(is_a, neg, A)
            comp_b = torch.where(is_b, neg, B)
            pair = ca[sl] * C + cb[sl]
            lt = torch.maximum(qlt[pair], torch.maximum(torch.where(a_cls < y, comp_a, neg),
                                                        torch.where(b_cls < y, comp_b, neg)))
            gt = torch.maximum(qgt[pair], torch.maximum(torch.where(a_cls > y, comp_a, neg),
                                                        torch.where(b_cls > y, comp_b, neg)))
            correct = (new_true > lt) & (new_true >= gt)  # argmax takes the first maximum
            mar = (new_true - torch.maximum(lt, gt)).clamp(-kappa, kappa)
            acc[sl] = (correct.double().sum(1) + base_acc) / n
            hinge[sl] = (mar.double().sum(1) + base_hinge) / (n * self.scale)
        return {"accuracy": acc, "hinge": hinge}

    # conv2 ---------------------------------------------------------------------
    def _conv2_delta(self, swap: torch.Tensor):
        """New z2 channels, their pooled features and the new logits after a conv2 swap."""
        w2 = self.w["conv2.weight"]
        src, dst = int(swap[0]), int(swap[1])
        v = float(w2.view(-1)[src])
        pad = self.p1pad
        h, w = self.p1.shape[-2:]  # channel-major: C x N x H x W
        z = {}
        for idx, sign in ((src, -1.0), (dst, 1.0)):
            o, i, ky, kx = _unravel(idx, w2.shape)
            z.setdefault(o, self.z2[o].clone())
            z[o].add_(pad[i, :, ky:ky + h, kx:kx + w], alpha=sign * v)
        chans = list(z)
        new_f = [self._act_pool(z[c]).flatten(1) for c in chans]
        w3 = self.w["fc.weight"]
        logits = self.logits.clone()
        for c, nf in zip(chans, new_f):
            sl = slice(c * self.block, (c + 1) * self.block)
            logits += (nf - self.f[c]) @ w3[:, sl].T
        return chans, [z[c] for c in chans], new_f, logits

    # conv1 ---------------------------------------------------------------------
    def _conv1_delta(self, swap: torch.Tensor, keep: bool = False):
        """New z1/p1 channels and logits after a conv1 swap (and z2, features if ``keep``).

        The change of one or two p1 channels is pushed through conv2 in chunks of images
        small enough to stay in cache; only the logits are kept unless ``keep``.
        """
        w1, w2 = self.w["conv1.weight"], self.w["conv2.weight"]
        src, dst = int(swap[0]), int(swap[1])
        v = float(w1.view(-1)[src])
        h, w = self.x.shape[-2:]
        z = {}
        for idx, sign in ((src, -1.0), (dst, 1.0)):
            o, _, ky, kx = _unravel(idx, w1.shape)
            z.setdefault(o, self.z1[o].clone())
            z[o].add_(self.xpad[:, ky:ky + h, kx:kx + w], alpha=sign * v)
        chans = list(z)
        new_p1 = [self._act_pool(z[c]) for c in chans]
        dp = torch.stack([p - self.p1[c] for c, p in zip(chans, new_p1)], 1)
        w2c = w2[:, chans].contiguous()
        w3 = self.w["fc.weight"].view(-1, self.z2.shape[0], self.block)  # classes x C x block
        logits = torch.empty_like(self.logits)
        z2 = torch.empty_like(self.z2) if keep else None
        f = torch.empty_like(self.f) if keep else None
        for s in range(0, len(self.y), 512):
            sl = slice(s, s + 512)
            z2c = self.z2[:, sl] + F.conv2d(dp[sl], w2c, padding=self.pad2).transpose(0, 1)
            fc = self._act_pool(z2c).flatten(2)  # C x B x block
            logits[sl] = torch.einsum("cbk,jck->bj", fc, w3)
            if keep:
                z2[:, sl], f[:, sl] = z2c, fc
        return chans, [z[c] for c in chans], new_p1, z2, f, logits


def _integer_scale(x: torch.Tensor, w: dict) -> tuple[float, torch.dtype]:
    """(s, dtype): s * x is integral and float32 holds every sum exactly, or (1, float64)."""
    fan_in = max(w["conv1.weight"][0].numel(), w["conv2.weight"][0].numel(),
                 w["fc.weight"].shape[1])
    xd = x.to(torch.float64)
    for s in (255, 16):
        if (xd * s - (xd * s).round()).abs().max() < 1e-3 and s * fan_in < 2**24:
            return float(s), torch.float32
    return 1.0, torch.float64


def _pair_tables(L: torch.Tensor, y: torch.Tensor):
    """For every class pair (a, b) and image n: the largest logit among classes other than
    a, b and y_n that come before y_n (``lt``) and after it (``gt``); shape C*C x N."""
    n, C = L.shape
    cls = torch.arange(C)
    neg = torch.tensor(float("-inf"), dtype=L.dtype)
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


def _unravel(idx: int, shape) -> tuple[int, ...]:
    out = []
    for size in reversed(shape):
        out.append(idx % size)
        idx //= size
    return tuple(reversed(out))
