"""Run folders: config, metrics log, results and checkpoints of one experiment in one place."""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["RunFolder", "write_json", "write_summary"]

# Config keys that do not change results (data files are checksum-verified wherever they are).
NOT_IDENTITY = {"data_dir"}


def write_json(path: str | os.PathLike, obj) -> None:
    """Write JSON atomically (temp file + rename), so a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n")
    tmp.replace(path)


def write_summary(out: str | os.PathLike, summary: dict, table: str) -> None:
    """A sweep's ``results.json`` (``{"rows": [...], ...}``) and its ``table.md``."""
    write_json(Path(out) / "results.json", summary)
    (Path(out) / "table.md").write_text(table)


class RunFolder:
    """A run folder. Re-running with the same folder resumes; a different config is refused."""

    def __init__(self, path: str | os.PathLike, config: dict, defaults: dict | None = None):
        """``defaults``: values of options added after a run was started; a stored config
        without such an option matches when the new value is its default."""
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        config = json.loads(json.dumps(config))  # compare as stored (tuples become lists)
        defaults = json.loads(json.dumps(defaults or {}))
        cfg_file = self.path / "config.json"
        if cfg_file.is_file():
            old = json.loads(cfg_file.read_text())
            for k, v in defaults.items():
                if k not in old and k in config and config[k] == v:
                    old[k] = v
            diff = {k for k in (set(old) | set(config)) - NOT_IDENTITY
                    if old.get(k) != config.get(k)}
            if diff:
                raise ValueError(
                    f"{self.path} holds a run with another config (differs in "
                    f"{', '.join(sorted(diff))}); use a new --out folder"
                )
        else:
            write_json(cfg_file, config)
        self.config = config

    def file(self, name: str) -> Path:
        return self.path / name

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.jsonl"

    def write_results(self, results: dict) -> None:
        write_json(self.path / "results.json", results)
