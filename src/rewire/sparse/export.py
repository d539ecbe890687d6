"""Compact export of ternary models.

A layer's ternary weights are stored as the gaps between nonzero entries, Rice-coded with
the best parameter for that layer, plus one sign bit per nonzero. At 90% sparsity that is
about 0.6 bits per weight, close to the entropy of the {-1, 0, +1} distribution; a 2-bit
packing would take 2 bits. Other tensors (biases, scales) are kept as float32.

File layout: ``b"RWT1"``, a little-endian uint32 header length, a JSON header (model spec,
per-layer shape / count / Rice parameter / byte length), then the payloads in order.
"""

from __future__ import annotations

import io
import json
import os
import struct
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .masks import prunable_weights
from .report import layer_row
from .ternary import is_ternary, ternarize
from .wiring import Wiring, read_wiring, write_wiring

__all__ = ["pack_ternary", "unpack_ternary", "save_packed", "read_packed", "load_packed",
           "packed_report", "float32_bytes"]

MAGIC = b"RWT1"


def _rice_bits(gaps: np.ndarray, k: int) -> int:
    return int((gaps >> k).sum()) + len(gaps) * (k + 2)


def pack_ternary(w: torch.Tensor) -> tuple[bytes, dict]:
    """Encode one ternary tensor; returns the payload and its header entry.

    Args:
        w: A CPU tensor of any shape with values in {-1, 0, +1} (converted to int8 first).

    Returns:
        ``(payload, entry)``: the Rice-coded bytes, and the header entry with the tensor's
            ``"shape"``, its number of nonzeros ``"nnz"``, the Rice parameter ``"k"`` and the
            payload length ``"nbytes"``.

    Raises:
        ValueError: If ``w`` has a value of magnitude above 1.

    Example:
        >>> payload, entry = pack_ternary(torch.tensor([0, 1, 0, 0, -1, 0]))
        >>> entry
        {'shape': [6], 'nnz': 2, 'k': 0, 'nbytes': 1}
        >>> unpack_ternary(payload, entry)
        tensor([ 0,  1,  0,  0, -1,  0], dtype=torch.int8)
    """
    flat = w.flatten().to(torch.int8).numpy()
    if np.abs(flat).max(initial=0) > 1:
        raise ValueError("pack_ternary needs values in {-1, 0, 1}")
    nz = np.flatnonzero(flat)
    gaps = np.diff(np.concatenate([[-1], nz])) - 1
    k = min(range(24), key=lambda k: _rice_bits(gaps, k)) if len(nz) else 0
    q, r = gaps >> k, gaps & ((1 << k) - 1)
    lengths = q + k + 2
    starts = np.cumsum(lengths) - lengths
    bits = np.zeros(int(lengths.sum()), dtype=np.uint8)
    ones = np.repeat(starts, q) + (np.arange(q.sum()) - np.repeat(np.cumsum(q) - q, q))
    bits[ones] = 1
    for j in range(k):
        bits[starts + q + 1 + j] = (r >> (k - 1 - j)) & 1
    bits[starts + q + 1 + k] = flat[nz] > 0
    payload = np.packbits(bits).tobytes()
    return payload, {"shape": list(w.shape), "nnz": len(nz), "k": k, "nbytes": len(payload)}


def unpack_ternary(payload: bytes, entry: dict) -> torch.Tensor:
    """Decode one tensor written by :func:`pack_ternary` (vectorised, no loop per weight).

    A codeword is ``q`` ones, the zero that ends them, ``k`` remainder bits and a sign bit,
    so the codeword after one whose unary part ends at zero ``z`` ends at the first zero at
    or after ``z + k + 2``. That "next end" pointer is known for every zero at once; the
    chain of ends from the first zero is found by pointer doubling (log2(nnz) rounds).

    Args:
        payload: The bytes written by ``pack_ternary``.
        entry: Its header entry; ``"shape"``, ``"nnz"`` and ``"k"`` are read.

    Returns:
        An int8 tensor of ``entry["shape"]`` with values in {-1, 0, +1}.

    Raises:
        ValueError: If ``entry["nnz"]`` nonzeros cannot fit in the payload's bits or in a
            tensor of ``entry["shape"]``.
        IndexError: If the payload does not hold ``entry["nnz"]`` codewords inside a tensor
            of ``entry["shape"]``.

    Example:
        >>> unpack_ternary(*pack_ternary(torch.tensor([[1, 0], [0, -1]])))
        tensor([[ 1,  0],
                [ 0, -1]], dtype=torch.int8)
    """
    k, nnz, n = entry["k"], entry["nnz"], int(np.prod(entry["shape"]))
    bits = np.unpackbits(np.frombuffer(payload, dtype=np.uint8))
    if nnz > min(n, len(bits) // (k + 2)):
        raise ValueError(f"{nnz} nonzeros cannot fit in {len(bits)} bits or {n} weights")
    out = np.zeros(n, dtype=np.int8)
    if nnz:
        is_zero = bits == 0
        zeros = np.flatnonzero(is_zero)
        before = np.zeros(len(bits) + 1, dtype=np.intp)  # how many zeros precede each bit
        np.cumsum(is_zero, out=before[1:])
        # next[i]: the zero that ends the codeword after one ending at zero i (len: none)
        nxt = np.append(before[np.minimum(zeros + k + 2, len(bits))], len(zeros))
        chain = np.zeros(1, dtype=np.intp)  # the first 2**r ends, then doubled
        while len(chain) < nnz:
            chain = np.concatenate([chain, nxt[chain]])
            nxt = nxt[nxt]  # now jumps twice as far
        ends = zeros[chain[:nnz]]  # IndexError: the payload ran out of codewords
        starts = np.concatenate([[0], ends[:-1] + k + 2])
        gaps = (ends - starts) << k
        for j in range(k):
            gaps |= bits[ends + 1 + j].astype(np.intp) << (k - 1 - j)
        out[np.cumsum(gaps + 1) - 1] = bits[ends + k + 1].astype(np.int8) * 2 - 1
    return torch.from_numpy(out).view(entry["shape"])


def _extra_tensors(model: nn.Module) -> dict[str, torch.Tensor]:
    """Parameters and buffers that are not masked weights (biases, scales, norms)."""
    skip = ("parametrizations.",)
    return {k: v for k, v in model.state_dict().items() if not any(s in k for s in skip)}


def float32_bytes(model: nn.Module) -> int:
    """Size of the model's float32 state_dict (effective weights, no masks) with torch.save."""
    state = {f"{n}": getattr(m, p).detach().float() for n, (m, p) in
             prunable_weights(model).items()}
    state.update({k: v.float() for k, v in _extra_tensors(model).items()})
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getbuffer().nbytes


def save_packed(model: nn.Module, path: str | os.PathLike) -> dict:
    """Write a ternary model in the packed format; returns its size beside float32.

    The file holds the model's ``rewire_spec`` attribute (``None`` if it has none), the
    packed wiring of every prunable weight and, as float32, the other parameters and
    buffers (biases, norms); masks are not stored, they are the wiring's nonzeros.

    Args:
        model: A ternary model (see ``ternarize``).
        path: The file to write (replaced if it exists).

    Returns:
        ``{"packed_bytes": ..., "float32_bytes": ...}``: the size of the file written, and
            that of the model's float32 state_dict saved with ``torch.save``.

    Raises:
        ValueError: If ``model`` is not ternary.

    Example:
        >>> import os, tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> path = os.path.join(tmp.name, "m.rwt")
        >>> sizes = save_packed(ternarize(nn.Sequential(nn.Linear(64, 8))), path)
        >>> sizes["packed_bytes"] < sizes["float32_bytes"]
        True
        >>> tmp.cleanup()
    """
    if not is_ternary(model):
        raise ValueError("save_packed needs a ternary model (call ternarize first)")
    spec = getattr(model, "rewire_spec", None)
    header: dict = {"spec": spec, "layers": {}, "extra": {}}
    payloads = []
    for name, w in read_wiring(model).items():
        payload, entry = pack_ternary(w)
        header["layers"][name] = entry
        payloads.append(payload)
    for name, t in _extra_tensors(model).items():
        raw = t.detach().float().contiguous().numpy().tobytes()
        header["extra"][name] = {"shape": list(t.shape), "nbytes": len(raw)}
        payloads.append(raw)
    head = json.dumps(header, separators=(",", ":")).encode()
    blob = MAGIC + struct.pack("<I", len(head)) + head + b"".join(payloads)
    Path(path).write_bytes(blob)
    return {"packed_bytes": len(blob), "float32_bytes": float32_bytes(model)}


def read_packed(path: str | os.PathLike) -> tuple[dict | None, Wiring, dict]:
    """``(spec, wiring, extra tensors)`` of a packed file; no model needed.

    Args:
        path: A file written by ``save_packed``.

    Returns:
        ``(spec, wiring, extra)``: the model spec stored with the model (``None`` if there
            was none), the ``Wiring`` of its prunable weights, and its other tensors (biases,
            norms) by state_dict name, as float32.

    Raises:
        ValueError: a missing, truncated or foreign file, in one line.

    Example:
        >>> read_packed("/nonexistent/m.rwt")
        Traceback (most recent call last):
        ...
        ValueError: /nonexistent/m.rwt: no such model file
    """
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"{path}: no such model file")
    blob = p.read_bytes()
    if blob[:4] != MAGIC:
        raise ValueError(f"{path}: not a rewire packed model (.rwt); it does not start with "
                         f"{MAGIC!r}")
    try:
        (n,) = struct.unpack("<I", blob[4:8])
        header = json.loads(blob[8 : 8 + n])
        sizes = [e["nbytes"] for e in header["layers"].values()]
        sizes += [e["nbytes"] for e in header["extra"].values()]
    except (struct.error, ValueError, KeyError, TypeError, AttributeError):
        raise ValueError(f"{path}: truncated or corrupt .rwt header") from None
    if len(blob) != 8 + n + sum(sizes):
        raise ValueError(f"{path}: truncated or corrupt .rwt file ({len(blob)} bytes, the "
                         f"header describes {8 + n + sum(sizes)})")
    pos = 8 + n
    wiring = Wiring()
    try:
        for name, entry in header["layers"].items():
            wiring[name] = unpack_ternary(blob[pos : pos + entry["nbytes"]], entry)
            pos += entry["nbytes"]
    except (ValueError, IndexError):
        raise ValueError(f"{path}: corrupt .rwt payload in layer {name}") from None
    extra = {}
    for name, entry in header["extra"].items():
        arr = np.frombuffer(blob[pos : pos + entry["nbytes"]], dtype=np.float32)
        extra[name] = torch.from_numpy(arr.copy()).view(entry["shape"])
        pos += entry["nbytes"]
    return header.get("spec"), wiring, extra


def load_packed(path: str | os.PathLike, model: nn.Module) -> nn.Module:
    """Load a packed ternary model into ``model`` (same architecture); returns it.
    ``rewire.models.load_model`` builds the model from the stored spec instead.

    Args:
        path: A file written by ``save_packed``.
        model: A model of the saved architecture; ternarized in place, then given the
            file's wiring and other tensors.

    Returns:
        ``model`` itself.

    Raises:
        ValueError: If the file is missing, truncated or not a packed model, or a layer's
            shape differs from the file's.
        KeyError: If the file has a layer that ``model`` does not have.

    Example:
        >>> import os, tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> path = os.path.join(tmp.name, "m.rwt")
        >>> saved = ternarize(nn.Sequential(nn.Linear(4, 2)))
        >>> _ = save_packed(saved, path)
        >>> loaded = load_packed(path, nn.Sequential(nn.Linear(4, 2)))
        >>> torch.equal(loaded[0].weight, saved[0].weight)
        True
        >>> tmp.cleanup()
    """
    _, wiring, extra = read_packed(path)
    ternarize(model)
    write_wiring(model, wiring)
    model.load_state_dict(extra, strict=False)
    return model


def packed_report(path: str | os.PathLike) -> list[dict]:
    """Per-layer counts of -1, 0, +1 straight from a packed file (any model, no build).

    Args:
        path: A file written by ``save_packed``.

    Returns:
        One row per layer, with the keys of ``sparsity_report``'s rows (``"layer"``,
            ``"shape"``, ``"weights"``, ``"minus"``, ``"zero"``, ``"plus"``, ``"sparsity"``).

    Raises:
        ValueError: If the file is missing, truncated or not a packed model.
    """
    _, wiring, _ = read_packed(path)
    return [layer_row(name, w) for name, w in wiring.items()]
