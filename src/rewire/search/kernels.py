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

__all__ = ["available", "compiled", "plan", "score_flat", "score_conv_flat", "score_last"]

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


def compiled(ev) -> bool:
    """Whether the compiled last-layer kernel serves ``ev`` (CPU, exact arithmetic)."""
    return available() and ev.device.type == "cpu" and ev.arith.exact


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
B = 512  # images per block: long enough to stream, short enough to share among threads


@functools.cache
def _kernels():
    nb = _numba()
    jit = nb.njit(cache=True, fastmath=True)  # integer sums: exact in any order; no inf/nan

    @jit
    def _score_block(L, y, b0, b1, dl, kappa, correct, hinge, k, write):
        """Add the block's (correct, clamped margin) with logits L + dl to row k."""
        C = L.shape[1]
        for n in range(b0, b1):
            i = n - b0
            yn = y[n]
            t = L[n, yn] + dl[yn, i]
            lt = -BIG
            gt = -BIG
            for c in range(C):
                if c == yn:
                    continue
                v = L[n, c] + dl[c, i]
                if c < yn:
                    lt = max(lt, v)
                else:
                    gt = max(gt, v)
            if t > lt and t >= gt:
                correct[k] += 1.0
            m = t - max(lt, gt)
            hinge[k] += min(max(m, -kappa), kappa)
            if write:
                for c in range(C):
                    L[n, c] += dl[c, i]

    @jit
    def _channel_out(Z, X, o, qy, qx, pk, s, e_ci, e_ky, e_kx, e_val, ents, nent, b0, b1,
                     lo, hi, out, zz, write):
        """out[:] = clamp(max over pooling window (qy, qx) of channel o's new
        pre-activations) for images b0..b1; writes the new pre-activations when ``write``."""
        nb_ = b1 - b0
        for i in range(nb_):
            out[i] = -BIG
        for py in range(qy * pk, qy * pk + pk):
            for px in range(qx * pk, qx * pk + pk):
                zrow = Z[o, py, px]
                for i in range(nb_):
                    zz[i] = zrow[b0 + i]
                for q in range(nent):
                    e = ents[q]
                    val = e_val[e]
                    xrow = X[e_ci[e], py * s + e_ky[e], px * s + e_kx[e]]
                    for i in range(nb_):
                        zz[i] += val * xrow[b0 + i]
                if write:
                    for i in range(nb_):
                        zrow[b0 + i] = zz[i]
                for i in range(nb_):
                    out[i] = max(out[i], zz[i])
        for i in range(nb_):
            out[i] = min(max(out[i], lo), hi)

    @jit
    def _rest(Z, X, o, Hq, Wq, pk, s, e_ci, e_ky, e_kx, e_val, ents, nent, b0, b1):
        """(write) pre-activations outside every pooling window (floor pooling)."""
        for py in range(Z.shape[1]):
            for px in range(Z.shape[2]):
                if py < Hq * pk and px < Wq * pk:
                    continue
                for i in range(b0, b1):
                    for q in range(nent):
                        e = ents[q]
                        Z[o, py, px, i] += e_val[e] * X[e_ci[e], py * s + e_ky[e],
                                                         px * s + e_kx[e], i]

    @jit
    def _features(F, w3_start, w3_j, w3_w, feat, v, b0, b1, dl, write):
        """Push a feature's new values v (block) into the logit changes dl."""
        nb_ = b1 - b0
        for t in range(w3_start[feat], w3_start[feat + 1]):
            j, w = w3_j[t], w3_w[t]
            for i in range(nb_):
                dl[j, i] += w * (v[i] - F[feat, b0 + i])
        if write:
            for i in range(nb_):
                F[feat, b0 + i] = v[i]

    @jit
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

    @nb.njit(parallel=True, cache=True, fastmath=True)
    def flat(X, Z, F, w3_start, w3_j, w3_w, L, y, cand_o, cand_ci, cand_ky, cand_kx,
             cand_val, s, pk, lo, hi, kappa, n0, n1, write):
        """Swap in the conv block flattened into the last layer; K candidates. Threads take
        blocks of B images and score every candidate on them."""
        K = cand_o.shape[0]
        C = L.shape[1]
        Hq, Wq = Z.shape[1] // pk, Z.shape[2] // pk
        nblk = (n1 - n0 + B - 1) // B
        correct = np.zeros((nblk, K))
        hinge = np.zeros((nblk, K))
        for blk in nb.prange(nblk):
            b0 = n0 + B * blk
            b1 = min(b0 + B, n1)
            dl = np.zeros((C, B), np.float32)
            v = np.empty(B, np.float32)
            zz = np.empty(B, np.float32)
            for k in range(K):
                dl[:] = 0
                chans, ents, counts, nch = _channels(cand_o[k])
                for c in range(nch):
                    o = chans[c]
                    for qy in range(Hq):
                        for qx in range(Wq):
                            _channel_out(Z, X, o, qy, qx, pk, s, cand_ci[k], cand_ky[k],
                                         cand_kx[k], cand_val[k], ents[c], counts[c], b0, b1,
                                         lo, hi, v, zz, write)
                            _features(F, w3_start, w3_j, w3_w, (o * Hq + qy) * Wq + qx, v,
                                      b0, b1, dl, write)
                    if write:
                        _rest(Z, X, o, Hq, Wq, pk, s, cand_ci[k], cand_ky[k], cand_kx[k],
                              cand_val[k], ents[c], counts[c], b0, b1)
                _score_block(L, y, b0, b1, dl, kappa, correct[blk], hinge[blk], k, write)
        return correct.sum(0), hinge.sum(0)

    @nb.njit(parallel=True, cache=True, fastmath=True)
    def conv_flat(X, Z, P, Z2, F, w3_start, w3_j, w3_w, L, y, cand_o, cand_ci, cand_ky,
                  cand_kx, cand_val, s, pk, lo, hi, pad2, s2, pk2, lo2, hi2, tap_start,
                  tap_ky, tap_kx, tap_w, kappa, n0, n1, write):
        """Swap in a conv block whose output feeds the flattened conv block; K candidates.

        X: padded input of the block; Z: its pre-activations; P: padded input of the next
        block (this block's output); Z2: the next block's pre-activations; taps: the next
        block's live weights, grouped by (output channel, input channel) (CSR by
        ``tap_start[r * C1 + c]``)."""
        K = cand_o.shape[0]
        C = L.shape[1]
        Hq, Wq = Z.shape[1] // pk, Z.shape[2] // pk
        C1 = P.shape[0]
        C2, Ho2, Wo2 = Z2.shape[0], Z2.shape[1], Z2.shape[2]
        Hq2, Wq2 = Ho2 // pk2, Wo2 // pk2
        nblk = (n1 - n0 + B - 1) // B
        correct = np.zeros((nblk, K))
        hinge = np.zeros((nblk, K))
        for blk in nb.prange(nblk):
            b0 = n0 + B * blk
            b1 = min(b0 + B, n1)
            nb_ = b1 - b0
            dl = np.zeros((C, B), np.float32)
            v = np.empty(B, np.float32)
            zz = np.empty(B, np.float32)
            d1 = np.zeros((2, Hq, Wq, B), np.float32)
            live1 = np.zeros((2, Hq, Wq), np.bool_)
            dz = np.zeros((Ho2, Wo2, B), np.float32)
            for k in range(K):
                dl[:] = 0
                chans, ents, counts, nch = _channels(cand_o[k])
                for c in range(nch):  # 1: the changed channels of this block's output
                    o = chans[c]
                    for qy in range(Hq):
                        for qx in range(Wq):
                            _channel_out(Z, X, o, qy, qx, pk, s, cand_ci[k], cand_ky[k],
                                         cand_kx[k], cand_val[k], ents[c], counts[c], b0, b1,
                                         lo, hi, v, zz, write)
                            any_ = False
                            for i in range(nb_):
                                d = v[i] - P[o, qy + pad2, qx + pad2, b0 + i]
                                d1[c, qy, qx, i] = d
                                any_ = any_ or d != 0
                                if write:
                                    P[o, qy + pad2, qx + pad2, b0 + i] = v[i]
                            live1[c, qy, qx] = any_
                    if write:
                        _rest(Z, X, o, Hq, Wq, pk, s, cand_ci[k], cand_ky[k], cand_kx[k],
                              cand_val[k], ents[c], counts[c], b0, b1)
                for r in range(C2):  # 2: through the next block's live taps, channel by channel
                    touched = False
                    for c in range(nch):
                        g = r * C1 + chans[c]
                        for t in range(tap_start[g], tap_start[g + 1]):
                            w = tap_w[t]
                            for qy in range(Hq):
                                ay = qy + pad2 - tap_ky[t]
                                if ay < 0 or ay % s2 or ay // s2 >= Ho2:
                                    continue
                                oy = ay // s2
                                for qx in range(Wq):
                                    if not live1[c, qy, qx]:
                                        continue
                                    ax = qx + pad2 - tap_kx[t]
                                    if ax < 0 or ax % s2 or ax // s2 >= Wo2:
                                        continue
                                    ox = ax // s2
                                    touched = True
                                    for i in range(nb_):
                                        dz[oy, ox, i] += w * d1[c, qy, qx, i]
                    if not touched:
                        continue
                    for cy in range(Hq2):  # 3: its pooling windows and features
                        for cx in range(Wq2):
                            for i in range(nb_):
                                v[i] = -BIG
                            for py in range(cy * pk2, cy * pk2 + pk2):
                                for px in range(cx * pk2, cx * pk2 + pk2):
                                    for i in range(nb_):
                                        v[i] = max(v[i], Z2[r, py, px, b0 + i] + dz[py, px, i])
                            for i in range(nb_):
                                v[i] = min(max(v[i], lo2), hi2)
                            _features(F, w3_start, w3_j, w3_w, (r * Hq2 + cy) * Wq2 + cx, v,
                                      b0, b1, dl, write)
                    for py in range(Ho2):
                        for px in range(Wo2):
                            for i in range(nb_):
                                if write:
                                    Z2[r, py, px, b0 + i] += dz[py, px, i]
                                dz[py, px, i] = 0
                _score_block(L, y, b0, b1, dl, kappa, correct[blk], hinge[blk], k, write)
        return correct.sum(0), hinge.sum(0)

    @nb.njit(parallel=True, cache=True, fastmath=True)
    def last(LT, fT, T, y, qlt, qgt, ca, ja, cb, jb, v, kappa):
        """Swaps in the last Linear layer, on images already cut to the margin band: a swap
        changes logit columns ca (loses v * f[ja]) and cb (gains v * f[jb]); qlt / qgt hold,
        per class pair, the best other logit before / after each image's label. Threads
        take blocks of 256 images (their feature rows stay in L2 across candidates)."""
        K = ca.shape[0]
        C = LT.shape[0]
        M = T.shape[0]
        nblk = (M + 255) // 256
        correct = np.zeros((nblk, K))
        hinge = np.zeros((nblk, K))
        for blk in nb.prange(nblk):
            b0 = 256 * blk
            b1 = min(b0 + 256, M)
            for k in range(K):
                a, b, vk = ca[k], cb[k], v[k]
                same = a == b
                la, lb, fa, fb = LT[a], LT[b], fT[ja[k]], fT[jb[k]]
                ql, qg = qlt[a * C + b], qgt[a * C + b]
                ok = 0.0
                hs = 0.0
                for i in range(b0, b1):
                    yi = y[i]
                    A = la[i] - vk * fa[i]
                    Bv = lb[i] + vk * fb[i]
                    if same:
                        A += vk * fb[i]
                    t = A if a == yi else (Bv if (b == yi and not same) else T[i])
                    lt = ql[i]
                    gt = qg[i]
                    if a != yi:
                        if a < yi:
                            lt = max(lt, A)
                        else:
                            gt = max(gt, A)
                    if not same and b != yi:
                        if b < yi:
                            lt = max(lt, Bv)
                        else:
                            gt = max(gt, Bv)
                    if t > lt and t >= gt:
                        ok += 1.0
                    hs += min(max(t - max(lt, gt), -kappa), kappa)
                correct[blk, k] = ok
                hinge[blk, k] = hs
        return correct.sum(0), hinge.sum(0)

    return flat, conv_flat, last


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
    b = ev.blocks[i]
    pk, lo, hi = _stage(b, flatten=True)
    o, ci, ky, kx, val = _entries(b, swaps)
    flat = _kernels()[0]
    return flat(_np(ev.inp[i]), _np(ev.z[i]), _np(ev.inp[-1]), *_w3(ev), _np(ev.logits),
                _np(ev.y), o, ci, ky, kx, val, b.stride[0], pk, np.float32(lo),
                np.float32(hi), float(ev.kappa * ev.scale), n0, n1, write)


def score_conv_flat(ev, i: int, swaps: torch.Tensor, n0: int, n1: int, write: bool = False):
    """(correct, margin sums) of K candidate swaps in block i (kernel ``conv_flat``)."""
    b, nb = ev.blocks[i], ev.blocks[i + 1]
    pk, lo, hi = _stage(b, flatten=False)
    pk2, lo2, hi2 = _stage(nb, flatten=True)
    o, ci, ky, kx, val = _entries(b, swaps)
    conv_flat = _kernels()[1]
    return conv_flat(_np(ev.inp[i]), _np(ev.z[i]), _np(ev.inp[i + 1]), _np(ev.z[i + 1]),
                     _np(ev.inp[-1]), *_w3(ev), _np(ev.logits), _np(ev.y), o, ci, ky, kx,
                     val, b.stride[0], pk, np.float32(lo), np.float32(hi), nb.padding[0],
                     nb.stride[0], pk2, np.float32(lo2), np.float32(hi2), *_taps(nb.weight),
                     float(ev.kappa * ev.scale), n0, n1, write)


def score_last(LT, fT, T, y, qlt, qgt, ca, ja, cb, jb, v, kappa: float):
    """(correct, margin sums) of last-layer swaps on the band's images (kernel ``last``)."""
    last = _kernels()[2]
    f = lambda t: t.contiguous().numpy()  # noqa: E731
    big = float(BIG)  # fastmath assumes finite values: "no class there" becomes -BIG
    return last(f(LT), f(fT), f(T), f(y), f(qlt.clamp_min(-big)), f(qgt.clamp_min(-big)),
                f(ca), f(ja), f(cb), f(jb), f(v), float(kappa))


def _w3(ev):
    """The last layer's live weights by input feature (CSR): start, class, value."""
    return _csr(ev.blocks[-1].weight.T.contiguous())


def _csr(w: torch.Tensor):
    """Rows of a 2-D weight as CSR: start offsets, column, value (float32)."""
    nz = (w != 0).nonzero()
    start = torch.zeros(w.shape[0] + 1, dtype=torch.long)
    start[1:] = torch.bincount(nz[:, 0], minlength=w.shape[0]).cumsum(0)
    return (start.numpy(), nz[:, 1].numpy().copy(),
            w[nz[:, 0], nz[:, 1]].to(torch.float32).numpy().copy())


def _taps(w: torch.Tensor):
    """Live weights of a conv grouped by (output channel, input channel), row-major (CSR):
    start offsets, ky, kx, value."""
    r, c, kh, kw = w.shape
    start, col, val = _csr(w.reshape(r * c, kh * kw))
    ky, kx = np.divmod(col, kw)
    return start, ky, kx, val
