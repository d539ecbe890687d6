"""Datasets: original-format readers, checksummed sources, deterministic splits."""

from .datasets import DATASETS, Split, Splits, load_dataset
from .readers import read_cifar_batches, read_idx, read_npz
from .sources import FILES, DataError, data_dirs, fetch

__all__ = ["DATASETS", "DataError", "FILES", "Split", "Splits", "data_dirs", "fetch",
           "load_dataset", "read_cifar_batches", "read_idx", "read_npz"]
