"""Readers for the original file formats: IDX (MNIST family) and CIFAR-10 pickles/npz."""

from __future__ import annotations

import pickle
import struct
import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .sources import DataError, open_maybe_gz

__all__ = ["read_idx", "read_cifar_batches", "read_npz"]

_IDX_DTYPES: dict[int, npt.DTypeLike] = {
    0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (optionally gzipped) as a numpy array, checking its header.

    Args:
        path: The file, gzipped or not (told by its magic bytes, not its name).

    Returns:
        A read-only array of the header's shape and type (big-endian types kept as such).

    Raises:
        DataError: bad magic number, unknown type code, or a size that disagrees with the header.

    Example:
        >>> import struct, tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> path = Path(tmp.name) / "labels-idx1-ubyte"
        >>> _ = path.write_bytes(bytes([0, 0, 0x08, 1]) + struct.pack(">I", 3) + bytes([7, 1, 4]))
        >>> read_idx(path).tolist()
        [7, 1, 4]
        >>> tmp.cleanup()
    """
    try:
        with open_maybe_gz(path) as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(
            f"{path}: cannot decompress ({exc}); the file is corrupt or truncated") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DataError(f"{path}: not an IDX file (bad magic number)")
    code, ndim = data[2], data[3]
    if code not in _IDX_DTYPES or not 1 <= ndim <= 4:
        raise DataError(f"{path}: bad IDX header (type code {code:#x}, {ndim} dimensions)")
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = int(np.prod(shape)) * dtype.itemsize
    body = data[4 + 4 * ndim :]
    if len(body) != expected:
        raise DataError(
            f"{path}: header says {shape} ({expected} bytes) but the file holds {len(body)} bytes"
        )
    return np.frombuffer(body, dtype=dtype).reshape(shape)


def read_cifar_batches(paths: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """Read canonical ``cifar-10-batches-py`` pickles into (N×3×32×32 uint8, N int64).

    The files are unpickled, so read only trusted (checksummed) ones.

    Args:
        paths: The batch files (``data_batch_1`` ... ``test_batch``), concatenated in order.

    Returns:
        ``(images, labels)``: the images N×3×32×32 uint8 and their labels, int64.

    Raises:
        DataError: If a file cannot be read as a CIFAR-10 batch, or its numbers of images
            and labels differ.
    """
    xs, ys = [], []
    for p in paths:
        try:
            with open(p, "rb") as f:
                d = pickle.load(f, encoding="bytes")
            x = np.asarray(d[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
            y = np.asarray(d[b"labels"], dtype=np.int64)
        except Exception as exc:  # any unpickling failure means a bad file
            raise DataError(
                f"{p}: not a CIFAR-10 batch ({exc.__class__.__name__}: {exc})") from None
        if len(x) != len(y):
            raise DataError(f"{p}: {len(x)} images but {len(y)} labels")
        xs.append(x)
        ys.append(y)
    return np.concatenate(xs), np.concatenate(ys)


def read_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read the CIFAR-10 subset ``.npz`` (x: N×32×32×3 HWC) as (N×3×32×32 uint8, N int64).

    Args:
        path: An ``.npz`` file with arrays ``x`` (N×32×32×3) and ``y`` (N labels).

    Returns:
        ``(images, labels)``: the images transposed to N×3×32×32 (``x``'s dtype, uint8 in
            the canonical files), and the labels as int64.

    Raises:
        DataError: If the file cannot be loaded, lacks ``x`` or ``y``, or ``x`` is not
            N×32×32×3 with one label per image.
    """
    try:
        with np.load(path) as d:
            x, y = d["x"], d["y"]
    except Exception as exc:  # any loading failure means a bad file
        raise DataError(
            f"{path}: not a readable npz ({exc.__class__.__name__}: {exc})") from None
    if x.ndim != 4 or x.shape[1:] != (32, 32, 3) or len(x) != len(y):
        raise DataError(f"{path}: expected x of shape N×32×32×3, got {x.shape}")
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2)), y.astype(np.int64)
