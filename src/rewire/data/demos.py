"""Recorded CarRacing demonstrations: the on-disk format and its reader (``carracing``).

A demonstrations folder holds one compressed ``.npz`` per episode under ``episodes/``
(``frames``: T x 96 x 96 uint8 grayscale, ``actions``: T int8 class labels) and
``index.json``: the action set (``classes``: the env action of each label), and per episode
its track seed, split (``train`` / ``val`` / ``test``, whole episodes), frame count, file and
SHA-256. ``rewire car record`` writes it (``rewire.car``); this module only reads it, and
checks every file against its checksum.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from .sources import DataError

__all__ = ["read_demos", "demos_folder", "file_sha256"]

SPLITS = ("train", "val", "test")


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def demos_folder(data_dir: str | os.PathLike | None) -> Path:
    """``data_dir`` itself when it holds ``index.json``, else ``data_dir/carracing``."""
    if data_dir is None:
        data_dir = os.environ.get("REWIRE_DATA")
    if data_dir is None:
        raise DataError("carracing: no demonstrations folder; record one with 'rewire car "
                        "record --out DIR' and pass --data-dir DIR")
    d = Path(data_dir)
    for f in (d, d / "carracing"):
        if (f / "index.json").is_file():
            return f
    raise DataError(f"{d}: no demonstrations (index.json) here or in {d / 'carracing'}; "
                    f"record them with 'rewire car record --out DIR'")


def read_demos(data_dir, splits: tuple[str, ...] = SPLITS) -> dict:
    """``{"train" | "val" | "test": (frames N x 1 x 96 x 96 float32 in [0, 1], labels int64),
    "classes": [...], "note": str}`` for each of ``splits``; raises DataError for a missing
    or corrupt file."""
    d = demos_folder(data_dir)
    try:
        index = json.loads((d / "index.json").read_text())
        episodes, classes = index["episodes"], index["classes"]
    except (ValueError, KeyError, TypeError):
        raise DataError(f"{d / 'index.json'} is not a demonstrations index") from None
    parts: dict = {s: ([], []) for s in SPLITS}
    for e in episodes:
        if e["split"] not in splits:
            continue
        f = d / e["file"]
        if not f.is_file():
            raise DataError(f"{f}: missing (listed in {d / 'index.json'})")
        if file_sha256(f) != e["sha256"]:
            raise DataError(f"{f}: corrupt (checksum differs); delete it and re-run "
                            f"'rewire car record' into {d}")
        with np.load(f) as z:
            parts[e["split"]][0].append(z["frames"])
            parts[e["split"]][1].append(z["actions"].astype(np.int64))
    out: dict = {"classes": classes}
    for s in splits:
        if not parts[s][0]:
            raise DataError(f"{d}: no {s} episodes")
        x = np.concatenate(parts[s][0])[:, None].astype(np.float32) / 255.0
        out[s] = (x, np.concatenate(parts[s][1]))
    n = {s: sum(e["split"] == s for e in episodes) for s in SPLITS}
    out["note"] = (f"carracing: {n['train']} / {n['val']} / {n['test']} expert episodes "
                   f"(train / val / test, split by whole episodes) from {d}")
    return out
