"""Compiled (numba) delta paths for convolution swaps, image by image, touching only what moves.

Used by :class:`~rewire.search.evaluator.DeltaEvaluator` on the CPU, in exact float32, for
the convolution layers of chains shaped like the AANN CNNs: ``conv -> [max-pool] ->
[HardTanh | ReLU] (-> conv -> [max-pool] -> [act]) -> flatten -> Linear`` with no biases.
Everything else takes the torch path, which computes the same numbers.

Per image and per candidate swap:

- ``flat`` (a swap in the convolution whose output is flattened into the last layer): for
  each pooling window of the one or two changed channels, skip it when the swap's input
  values there are all zero, else recompute the window's maximum and clamp; every feature
  that changed adds its change times its column of the last layer to the logits;
- ``conv_flat`` (a swap in the convolution before that one): the same for its own output
  cells, then each changed cell is pushed through the *live* taps of the next convolution
  only (90% of them are zero), into a scratch buffer of pre-activation changes; the pooling
  windows those touch are recomputed, and the features that change update the logits.

With ``write`` the kernels also update the caches in place (accepting the move); they are
only called for a validated swap, so they cannot fail half-way. Sums are of integers in
float32 (no fastmath), so every path agrees bit for bit with the torch path.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

__all__ = ["available", "plan", "score_flat", "score_conv_flat"]

BIG = np.float32(3.0e38)


@functools.cache
def _numba():
    try:
        import numba
    except ImportError:
        return None
    return numba


def available() -> bool:
    return _numba() is not None


def _stage(b, flatten: bool):
    """(pool, lo, hi) of a block's ops if they are [max-pool k/k/0] then [clamp | relu]
    (and flatten when ``flatten``), else None."""
    pool, lo, hi, seen_act = 1, -BIG, BIG, False
    ops = list(b.ops)
    if flatten:
        if not ops or ops[-1][0] != "flatten":
            return None
        ops = ops[:-1]
    elif b.flattens:
        return None
    for op in ops:
        if op[0] == "maxpool" and not seen_act and pool == 1 and op[1] == op[2] and op[3] == 0:
            pool = op[1]
        elif op[0] == "clamp" and not seen_act:
            lo, hi, seen_act = np.float32(op[1]), np.float32(op[2]), True
        elif op[0] == "relu" and not seen_act:
            lo, seen_act = np.float32(0), True
        else:
            return None
    if b.bias is not None or b.kind != "conv":
        return None
    return pool, float(lo), float(hi)


def plan(ev) -> dict[int, str]:
    """Block index -> kernel ("flat" / "conv_flat") for the blocks a kernel can score."""
    blocks = ev.blocks
    if not available() or ev.device.type != "cpu" or ev.dtype != torch.float32 \
            or not ev.arith.exact or len(blocks) < 2:
        return {}
    last = blocks[-1]
    if last.kind != "linear" or last.ops or last.bias is not None:
        return {}
    out = {}
    i = len(blocks) - 2
    square = lambda b: b.stride[0] == b.stride[1] and b.padding[0] == b.padding[1]  # noqa: E731
    if _stage(blocks[i], flatten=True) is not None and square(blocks[i]):
        out[i] = "flat"
        if i >= 1 and _stage(blocks[i - 1], flatten=False) is not None \
                and square(blocks[i - 1]):
            out[i - 1] = "conv_flat"
    return out


# --------------------------------------------------------------------------- kernels
@functools.cache
def _kernels():
    nb = _numba()

    @nb.njit(cache=True)
    def _score(L, y, n, dl, kappa):
        """(correct, clamped margin) of image n with logits L[n] + dl."""
        C = L.shape[1]
        yn = y[n]
        t = L[n, yn] + dl[yn]
        lt = -BIG
        gt = -BIG
        for c in range(C):
            if c == yn:
                continue
            v = L[n, c] + dl[c]
            if c < yn:
                if v > lt:
                    lt = v
            elif v > gt:
                gt = v
        ok = 1.0 if (t > lt and t >= gt) else 0.0
        m = t - (lt if lt > gt else gt)
        if m > kappa:
            m = kappa
        elif m < -kappa:
            m = -kappa
        return ok, m

    @nb.njit(cache=True)
    def _window(Z, X, n, o, qy, qx, pk, s, ents, nent, e_ci, e_ky, e_kx, e_val, write):
        """New max over pooling window (qy, qx) of channel o, or BIG when the swap's inputs
        are zero throughout the window (nothing there changes)."""
        live = False
        for py in range(qy * pk, qy * pk + pk):
            for px in range(qx * pk, qx * pk + pk):
                for q in range(nent):
                    e = ents[q]
                    if X[e_ci[e], n, py * s + e_ky[e], px * s + e_kx[e]] != 0:
                        live = True
        if not live:
            return BIG
        m = -BIG
        for py in range(qy * pk, qy * pk + pk):
            for px in range(qx * pk, qx * pk + pk):
                zz = Z[o, n, py, px]
                for q in range(nent):
                    e = ents[q]
                    zz += e_val[e] * X[e_ci[e], n, py * s + e_ky[e], px * s + e_kx[e]]
                if write:
                    Z[o, n, py, px] = zz
                if zz > m:
                    m = zz
        return m

    @nb.njit(cache=True)
    def _rest(Z, X, n, o, Hq, Wq, pk, s, ents, nent, e_ci, e_ky, e_kx, e_val):
        """In write mode: pre-activations outside every pooling window (floor pooling)."""
        Ho, Wo = Z.shape[2], Z.shape[3]
        for py in range(Ho):
            for px in range(Wo):
                if py < Hq * pk and px < Wq * pk:
                    continue
                for q in range(nent):
                    e = ents[q]
                    Z[o, n, py, px] += e_val[e] * X[e_ci[e], n, py * s + e_ky[e],
                                                     px * s + e_kx[e]]

    @nb.njit(cache=True)
    def _channels(e_o):
        """Distinct output channels of a candidate's two entries, with their entries."""
        chans = np.empty(2, np.int64)
        ents = np.empty((2, 2), np.int64)
        counts = np.zeros(2, np.int64)
        nch = 0
        for e in range(2):
            k = -1
            for c in range(nch):
                if chans[c] == e_o[e]:
                    k = c
            if k < 0:
                k = nch
                chans[k] = e_o[e]
                nch += 1
            ents[k, counts[k]] = e
            counts[k] += 1
        return chans, ents, counts, nch

    @nb.njit(cache=True)
    def _all_channels(cand_o):
        K = cand_o.shape[0]
        chans = np.empty((K, 2), np.int64)
        ents = np.empty((K, 2, 2), np.int64)
        counts = np.zeros((K, 2), np.int64)
        nch = np.empty(K, np.int64)
        for k in range(K):
            a, b, c, d = _channels(cand_o[k])
            chans[k] = a
            ents[k] = b
            counts[k] = c
            nch[k] = d
        return chans, ents, counts, nch

    @nb.njit(parallel=True, cache=True)
    def flat(X, Z, F, W3T, L, y, cand_o, cand_ci, cand_ky, cand_kx, cand_val, s, pk, lo, hi,
             kappa, n0, n1, write):
        """Swap in the conv block flattened into the last layer; K candidates. Threads take
        blocks of 16 images and score every candidate on them (the block's features stay
        in cache across candidates)."""
        K = cand_o.shape[0]
        C = L.shape[1]
        Hq = Z.shape[2] // pk
        Wq = Z.shape[3] // pk
        chans, ents, counts, nch = _all_channels(cand_o)
        nblk = (n1 - n0 + 15) // 16
        correct = np.zeros((nblk, K))
        hinge = np.zeros((nblk, K))
        for blk in nb.prange(nblk):
            dl = np.zeros(C, np.float32)
            for k in range(K):
                for n in range(n0 + 16 * blk, min(n0 + 16 * blk + 16, n1)):
                    dl[:] = 0
                    for c in range(nch[k]):
                        o = chans[k, c]
                        for qy in range(Hq):
                            for qx in range(Wq):
                                m = _window(Z, X, n, o, qy, qx, pk, s, ents[k, c],
                                            counts[k, c], cand_ci[k], cand_ky[k],
                                            cand_kx[k], cand_val[k], write)
                                if m == BIG:
                                    continue
                                v = lo if m < lo else (hi if m > hi else m)
                                feat = (o * Hq + qy) * Wq + qx
                                d = v - F[feat, n]
                                if d != 0:
                                    for j in range(C):
                                        dl[j] += W3T[feat, j] * d
                                    if write:
                                        F[feat, n] = v
                        if write:
                            _rest(Z, X, n, o, Hq, Wq, pk, s, ents[k, c], counts[k, c],
                                  cand_ci[k], cand_ky[k], cand_kx[k], cand_val[k])
                    ok, mg = _score(L, y, n, dl, kappa)
                    correct[blk, k] += ok
                    hinge[blk, k] += mg
                    if write:
                        for j in range(C):
                            L[n, j] += dl[j]
        return correct.sum(0), hinge.sum(0)

    @nb.njit(parallel=True, cache=True)
    def conv_flat(X, Z, P, Z2, F, W3T, L, y, cand_o, cand_ci, cand_ky, cand_kx, cand_val,
                  s, pk, lo, hi, pad2, s2, pk2, lo2, hi2, tap_start, tap_r, tap_ky, tap_kx,
                  tap_w, kappa, n0, n1, write):
        """Swap in a conv block whose output feeds the flattened conv block; K candidates.

        X: padded input of the block; Z: its pre-activations; P: padded input of the next
        block (this block's output); Z2: the next block's pre-activations; taps: the next
        block's live weights grouped by input channel (CSR by ``tap_start``)."""
        K = cand_o.shape[0]
        C = L.shape[1]
        Hq, Wq = Z.shape[2] // pk, Z.shape[3] // pk
        C2, Ho2, Wo2 = Z2.shape[0], Z2.shape[2], Z2.shape[3]
        Hq2, Wq2 = Ho2 // pk2, Wo2 // pk2
        chans, ents, counts, nch = _all_channels(cand_o)
        nblk = (n1 - n0 + 15) // 16
        correct = np.zeros((nblk, K))
        hinge = np.zeros((nblk, K))
        for blk in nb.prange(nblk):
            dl = np.zeros(C, np.float32)
            dz = np.zeros((C2, Ho2, Wo2), np.float32)
            hit = np.zeros((C2, Hq2, Wq2), np.bool_)
            cells = np.empty((C2 * Hq2 * Wq2, 3), np.int64)
            for k in range(K):
                for n in range(n0 + 16 * blk, min(n0 + 16 * blk + 16, n1)):
                    dl[:] = 0
                    ncell = 0
                    for c in range(nch[k]):
                        o = chans[k, c]
                        for qy in range(Hq):
                            for qx in range(Wq):
                                m = _window(Z, X, n, o, qy, qx, pk, s, ents[k, c],
                                            counts[k, c], cand_ci[k], cand_ky[k],
                                            cand_kx[k], cand_val[k], write)
                                if m == BIG:
                                    continue
                                v = lo if m < lo else (hi if m > hi else m)
                                d1 = v - P[o, n, qy + pad2, qx + pad2]
                                if d1 == 0:
                                    continue
                                if write:
                                    P[o, n, qy + pad2, qx + pad2] = v
                                for t in range(tap_start[o], tap_start[o + 1]):
                                    ay = qy + pad2 - tap_ky[t]
                                    ax = qx + pad2 - tap_kx[t]
                                    if ay < 0 or ax < 0 or ay % s2 or ax % s2:
                                        continue
                                    oy, ox = ay // s2, ax // s2
                                    if oy >= Ho2 or ox >= Wo2:
                                        continue
                                    r = tap_r[t]
                                    dz[r, oy, ox] += tap_w[t] * d1
                                    cy, cx = oy // pk2, ox // pk2
                                    if cy < Hq2 and cx < Wq2 and not hit[r, cy, cx]:
                                        hit[r, cy, cx] = True
                                        cells[ncell, 0] = r
                                        cells[ncell, 1] = cy
                                        cells[ncell, 2] = cx
                                        ncell += 1
                        if write:
                            _rest(Z, X, n, o, Hq, Wq, pk, s, ents[k, c], counts[k, c],
                                  cand_ci[k], cand_ky[k], cand_kx[k], cand_val[k])
                    for q in range(ncell):
                        r, cy, cx = cells[q, 0], cells[q, 1], cells[q, 2]
                        hit[r, cy, cx] = False
                        m = -BIG
                        for py in range(cy * pk2, cy * pk2 + pk2):
                            for px in range(cx * pk2, cx * pk2 + pk2):
                                zz = Z2[r, n, py, px] + dz[r, py, px]
                                if zz > m:
                                    m = zz
                        v = lo2 if m < lo2 else (hi2 if m > hi2 else m)
                        feat = (r * Hq2 + cy) * Wq2 + cx
                        d = v - F[feat, n]
                        if d != 0:
                            for j in range(C):
                                dl[j] += W3T[feat, j] * d
                            if write:
                                F[feat, n] = v
                    if write:  # every touched pre-activation, inside pooling windows or not
                        for r in range(C2):
                            for py in range(Ho2):
                                for px in range(Wo2):
                                    if dz[r, py, px] != 0:
                                        Z2[r, n, py, px] += dz[r, py, px]
                                        dz[r, py, px] = 0
                    else:
                        for q in range(ncell):
                            r, cy, cx = cells[q, 0], cells[q, 1], cells[q, 2]
                            for py in range(cy * pk2, cy * pk2 + pk2):
                                for px in range(cx * pk2, cx * pk2 + pk2):
                                    dz[r, py, px] = 0
                        if Ho2 % pk2 or Wo2 % pk2:  # positions outside every window
                            dz[:] = 0
                    ok, mg = _score(L, y, n, dl, kappa)
                    correct[blk, k] += ok
                    hinge[blk, k] += mg
                    if write:
                        for j in range(C):
                            L[n, j] += dl[j]
        return correct.sum(0), hinge.sum(0)

    return flat, conv_flat


# --------------------------------------------------------------------------- callers
def _entries(b, swaps: torch.Tensor):
    """Per candidate, its two weight changes: (o, ci, ky, kx, signed value) arrays K x 2."""
    w = b.weight
    shape = w.shape
    idx = swaps.cpu().numpy()
    flat = w.reshape(-1).cpu().numpy()
    v = flat[idx[:, 0]]
    val = np.stack([-v, v], 1).astype(np.float32)
    o, rem = np.divmod(idx, shape[1] * shape[2] * shape[3])
    ci, rem = np.divmod(rem, shape[2] * shape[3])
    ky, kx = np.divmod(rem, shape[3])
    return o, ci, ky, kx, val


def _np(t: torch.Tensor) -> np.ndarray:
    return t.numpy()


def score_flat(ev, i: int, swaps: torch.Tensor, n0: int, n1: int, write: bool = False):
    """(correct, margin sums) of K candidate swaps in block i (kernel ``flat``)."""
    b, last = ev.blocks[i], ev.blocks[-1]
    pk, lo, hi = _stage(b, flatten=True)
    o, ci, ky, kx, val = _entries(b, swaps)
    flat, _ = _kernels()
    return flat(_np(ev.inp[i]), _np(ev.z[i]), _np(ev.inp[-1]), _w3t(ev), _np(ev.logits),
                _np(ev.y), o, ci, ky, kx, val, b.stride[0], pk, np.float32(lo),
                np.float32(hi), float(ev.kappa * ev.scale), n0, n1, write)


def score_conv_flat(ev, i: int, swaps: torch.Tensor, n0: int, n1: int, write: bool = False):
    """(correct, margin sums) of K candidate swaps in block i (kernel ``conv_flat``)."""
    b, nb = ev.blocks[i], ev.blocks[i + 1]
    pk, lo, hi = _stage(b, flatten=False)
    pk2, lo2, hi2 = _stage(nb, flatten=True)
    o, ci, ky, kx, val = _entries(b, swaps)
    taps = _taps(nb.weight)
    _, conv_flat = _kernels()
    return conv_flat(_np(ev.inp[i]), _np(ev.z[i]), _np(ev.inp[i + 1]), _np(ev.z[i + 1]),
                     _np(ev.inp[-1]), _w3t(ev), _np(ev.logits), _np(ev.y), o, ci, ky, kx,
                     val, b.stride[0], pk, np.float32(lo), np.float32(hi), nb.padding[0],
                     nb.stride[0], pk2, np.float32(lo2), np.float32(hi2), *taps,
                     float(ev.kappa * ev.scale), n0, n1, write)


def _w3t(ev) -> np.ndarray:
    return np.ascontiguousarray(ev.blocks[-1].weight.T.numpy())


def _taps(w: torch.Tensor):
    """Live weights of a conv grouped by input channel: start offsets, out channel, ky, kx,
    value."""
    nz = (w != 0).nonzero()  # (r, c, ky, kx), r-major
    order = torch.argsort(nz[:, 1] * w.shape[0] + nz[:, 0], stable=True)
    nz = nz[order]
    counts = torch.bincount(nz[:, 1], minlength=w.shape[1])
    start = torch.zeros(w.shape[1] + 1, dtype=torch.long)
    start[1:] = counts.cumsum(0)
    vals = w[nz[:, 0], nz[:, 1], nz[:, 2], nz[:, 3]].to(torch.float32)
    return (start.numpy(), nz[:, 0].numpy().copy(), nz[:, 2].numpy().copy(),
            nz[:, 3].numpy().copy(), vals.numpy())
