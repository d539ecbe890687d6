"""Shared by the deepstruct folders: the grammar-free Reber baselines (they need the data)."""

from __future__ import annotations

import functools
import os


def data_dir() -> str:
    return os.environ.get("REWIRE_DATA", "../shared/data")


@functools.cache
def baseline(name: str, rule: str = "length") -> float:
    """Test accuracy (%) of a rule that needs no grammar: the string length, its letters, or
    both (rewire.data.reber.length_baseline / letter_baseline / letter_length_baseline)."""
    from ...data import load_dataset, reber

    data = load_dataset(name, data_dir(), download=False)
    score = {"length": reber.length_baseline, "letters": reber.letter_baseline,
             "both": reber.letter_length_baseline}[rule]
    return 100 * score(data.train.x.numpy(), data.train.y.numpy(), data.test.x.numpy(),
                       data.test.y.numpy())
