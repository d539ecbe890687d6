"""The one way rewire writes files: atomically (a temp file, then a rename), so a reader or a
resumed run never sees half a file.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> write_json(d / "a.json", {"x": 1}); append_jsonl(d / "m.jsonl", {"step": 1})
    >>> read_json(d / "a.json"), read_jsonl(d / "m.jsonl")
    ({'x': 1}, [{'step': 1}])
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write", "write_json", "write_text", "atomic_torch_save", "read_json",
           "append_jsonl", "read_jsonl"]


def atomic_write(path: str | os.PathLike, write: Callable[[Path], object]) -> None:
    """``write(tmp)`` writes the content to a temporary path that then replaces ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    tmp.replace(path)


def write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text))


def write_json(path: str | os.PathLike, obj, indent: int | None = 2) -> None:
    """``obj`` as JSON (``indent=None``: compact, for large tables of rows)."""
    write_text(path, json.dumps(obj, indent=indent) + "\n")


def atomic_torch_save(obj, path: str | os.PathLike) -> None:
    import torch

    atomic_write(path, lambda tmp: torch.save(obj, tmp))


def read_json(path: str | os.PathLike):
    return json.loads(Path(path).read_text())


def append_jsonl(path: str | os.PathLike, record: dict) -> None:
    """One JSON line, appended and flushed."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    p = Path(path)
    return [json.loads(line) for line in p.read_text().splitlines() if line.strip()] \
        if p.is_file() else []
