"""Named datasets with deterministic train / validation / test splits.

Every dataset loads into memory as float32 tensors (images N×C×H×W scaled to [0, 1]) and
integer labels. Validation is always carved from training data with a fixed split seed, so
the test set is never seen by selection (early stopping, search, model choice).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from ..progress import say
from ..registry import Registry
from .readers import read_cifar_batches, read_idx, read_npz
from .reber import encode, generate_reber, read_reber_csv
from .sources import DataError, data_dirs, default_cache, fetch, find_local

__all__ = ["Split", "Splits", "DATASETS", "load_dataset"]


@dataclass
class Split:
    """One part of a dataset: inputs ``x`` (float32) and labels ``y`` (int64).

    ``len(split)`` is the number of labels.

    Args:
        x: The inputs, one row per example (images N×C×H×W in [0, 1]).
        y: The labels, one per example.

    Example:
        >>> len(Split(torch.zeros(3, 1, 8, 8), torch.tensor([0, 1, 2])))
        3
    """

    x: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class Splits:
    """A dataset loaded by ``load_dataset``: its train, validation and test splits.

    ``input_shape`` is the shape of one input (``train.x.shape[1:]``).

    Args:
        name: The dataset's name in ``DATASETS``.
        train: The training split (validation carved out of it).
        val: The validation split, from the training data.
        test: The test split.
        num_classes: The number of classes.
        note: How the splits were made when it is not the dataset's own protocol; empty
            otherwise.

    Example:
        >>> s = Split(torch.zeros(4, 1, 8, 8), torch.zeros(4, dtype=torch.long))
        >>> Splits("toy", s, s, s, num_classes=2).input_shape
        (1, 8, 8)
    """

    name: str
    train: Split
    val: Split
    test: Split
    num_classes: int
    note: str = ""  # how the splits were made when it is not the dataset's own protocol

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.train.x.shape[1:])


def _digits(data_dir, download):
    from ..extras import require

    d = require("sklearn.datasets", "the digits data set").load_digits()
    x = (d.images / 16.0).astype(np.float32)[:, None]
    return _holdout(x, d.target.astype(np.int64), test_fraction=0.2)


def _idx_pair(folder: str, prefix: str, data_dir, download):
    x = read_idx(fetch(f"{folder}/{prefix}-images-idx3-ubyte.gz", data_dir, download))
    y = read_idx(fetch(f"{folder}/{prefix}-labels-idx1-ubyte.gz", data_dir, download))
    if len(x) != len(y):
        raise DataError(f"{folder}/{prefix}: {len(x)} images but {len(y)} labels")
    return (x.astype(np.float32) / 255.0)[:, None], y.astype(np.int64)


def _mnist_like(folder: str):
    def load(data_dir, download):
        return (*_idx_pair(folder, "train", data_dir, download),
                *_idx_pair(folder, "t10k", data_dir, download))

    return load


def _test_file_note(name: str, n: int) -> str:
    return (f"{name}: the official training files were not found, so the official test file "
            f"({n} images) is split 80/20 (fixed seed) into this run's training and test "
            f"parts; numbers are not comparable with the official protocol")


def _official_or_split(folder: str, train: str, test: str, data_dir, download, name: str):
    """The official train / test files when a data folder has the training files; else the
    test file split 80/20 with a note saying so."""
    if find_local(f"{folder}/{train}-images-idx3-ubyte.gz", data_dir) is not None:
        return (*_idx_pair(folder, train, data_dir, download),
                *_idx_pair(folder, test, data_dir, download), "")
    x, y = _idx_pair(folder, test, data_dir, download)
    return (*_holdout(x, y, test_fraction=0.2), _test_file_note(name, len(y)))


def _emnist(split: str):
    """EMNIST: the official files when present; the shared data hold only the *test* files,
    which are then split 80/20. Images are stored transposed in the official files; they are
    turned upright."""

    def load(data_dir, download):
        xtr, ytr, xte, yte, note = _official_or_split(
            "emnist", f"emnist-{split}-train", f"emnist-{split}-test", data_dir, download,
            f"emnist-{split}")

        def upright(x):
            return np.ascontiguousarray(x.transpose(0, 1, 3, 2))
        return upright(xtr), ytr, upright(xte), yte, note

    return load


def _kmnist(data_dir, download):
    return _official_or_split("kmnist", "train", "t10k", data_dir, download, "kmnist")


def _cifar10(data_dir, download):
    """Canonical pickles when a data folder holds ``cifar-10-batches-py``; otherwise the
    shared pixel-exact subset (10k train / first 1k test); otherwise download the pickles."""
    def local(rel):
        return any((d / rel).is_file() for d in data_dirs(data_dir))

    if local("cifar-10-batches-py/test_batch") or not local(
        "cifar-10-subset/cifar10-train-10k.npz"
    ):
        batches = [f"cifar-10-batches-py/data_batch_{i}" for i in range(1, 6)]
        xtr, ytr = read_cifar_batches([fetch(b, data_dir, download) for b in batches])
        xte, yte = read_cifar_batches([fetch("cifar-10-batches-py/test_batch", data_dir,
                                             download)])
    else:
        xtr, ytr = read_npz(fetch("cifar-10-subset/cifar10-train-10k.npz", data_dir, download))
        xte, yte = read_npz(fetch("cifar-10-subset/cifar10-test-1k.npz", data_dir, download))
    return xtr.astype(np.float32) / 255.0, ytr, xte.astype(np.float32) / 255.0, yte


def _reber_generated(data_dir, download):
    """25 000 generated strings (seed 0, 56% of the invalid ones over foreign letters),
    split 75/25 like the paper's data."""
    # v2: invalid strings copy the lengths of valid ones
    cache = default_cache() / "reber" / "generated-v2-25000-seed0.npz"
    if cache.is_file():
        with np.load(cache) as f:
            x, y = f["x"], f["y"]
    else:
        strings, y = generate_reber(25_000, seed=0)
        x = encode(strings)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, x=x, y=y)
    return _holdout(x, y, test_fraction=0.25)


def _reber_deepstruct(data_dir, download):
    """The paper's own 25 000 strings and its train / test split."""
    s_tr, y_tr = read_reber_csv(fetch("reber-deepstruct/train_data.csv", data_dir, download))
    s_te, y_te = read_reber_csv(fetch("reber-deepstruct/test_data.csv", data_dir, download))
    length = max(len(s) for s in s_tr + s_te)
    return encode(s_tr, length), y_tr, encode(s_te, length), y_te


def _carracing(data_dir, download):
    """Recorded demonstrations (``rewire car record``): three splits of whole episodes."""
    from .demos import read_demos

    return read_demos(data_dir)


def _holdout(x, y, test_fraction: float, seed: int = 0):
    """Split a single array into train and test parts with a fixed permutation."""
    perm = np.random.default_rng(seed).permutation(len(y))
    n_test = int(round(len(y) * test_fraction))
    te, tr = perm[:n_test], perm[n_test:]
    return x[tr], y[tr], x[te], y[te]


# name -> (loader, number of classes)
DATASETS = Registry("dataset")
for _name, _entry in [
    ("digits", (_digits, 10)),
    ("mnist", (_mnist_like("mnist"), 10)),
    ("fashion-mnist", (_mnist_like("fashion-mnist"), 10)),
    ("emnist", (_emnist("byclass"), 62)),
    ("emnist-mnist", (_emnist("mnist"), 10)),
    ("kmnist", (_kmnist, 10)),
    ("cifar10", (_cifar10, 10)),
    ("reber", (_reber_generated, 2)),
    ("reber-deepstruct", (_reber_deepstruct, 2)),
    ("carracing", (_carracing, 3)),
]:
    DATASETS.register(_name, _entry)


def load_dataset(
    name: str,
    data_dir: str | os.PathLike | None = None,
    val_fraction: float = 0.1,
    split_seed: int = 0,
    download: bool = True,
    limit: int | None = None,
) -> Splits:
    """Load a dataset by name with a deterministic validation split carved from training data.

    Args:
        name: one of ``DATASETS`` (``digits`` is embedded in scikit-learn and always offline).
        data_dir: folder searched first for the original files (also ``REWIRE_DATA``).
        val_fraction: share of the training data held out for validation.
        split_seed: seed of the train/validation permutation (fixed by default).
        download: fetch missing files from their canonical source.
        limit: keep only ``limit`` training images (a fixed random subset) for quick runs;
            the validation and test splits stay whole.

    Returns:
        The ``Splits`` (train, validation, test, number of classes).

    Raises:
        ValueError: If ``name`` is not in ``DATASETS`` or ``val_fraction`` is not in
            (0, 1).
        DataError: If a data file is missing (and cannot be downloaded) or corrupt (a
            ``ValueError`` too).
        MissingExtra: If the dataset needs an optional package that is not installed
            (scikit-learn for ``digits``).

    Example:
        >>> d = load_dataset("digits")
        >>> d.input_shape, len(d.test)
        ((1, 8, 8), 359)
    """
    loader, num_classes = DATASETS[name]
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    parts = loader(data_dir, download)

    def split(x, y):
        return Split(torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y))

    if isinstance(parts, dict):  # the data come split (whole episodes): keep it
        (xtr, ytr), (xva, yva), (xte, yte) = parts["train"], parts["val"], parts["test"]
        note, tr = parts.get("note", ""), np.arange(len(ytr))
        num_classes = len(parts.get("classes", range(num_classes)))
        if limit is not None:
            tr = np.random.default_rng(split_seed).permutation(len(ytr))[: int(limit)]
        train, val = split(xtr[tr], ytr[tr]), split(xva, yva)
    else:
        xtr, ytr, xte, yte, *note = parts
        note = note[0] if note else ""
        perm = np.random.default_rng(split_seed).permutation(len(ytr))
        n_val = max(1, int(round(len(perm) * val_fraction)))
        va, tr = perm[:n_val], perm[n_val:]
        if limit is not None:
            tr = tr[: int(limit)]
        train, val = split(xtr[tr], ytr[tr]), split(xtr[va], ytr[va])
    if note and note not in _SAID:
        _SAID.add(note)
        say(note)
    return Splits(name, train, val, split(xte, yte), num_classes, note)


_SAID: set[str] = set()

