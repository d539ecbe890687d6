"""Run folders: config, metrics log, results and checkpoints of one experiment in one place."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from .files import read_json, write_json, write_text
from .seeds import SEEDING

__all__ = ["RunFolder", "write_json", "write_summary"]

# Config keys that do not change results: runtime options (rewire.configs marks them) and
# keys of older versions that another key replaced.
NOT_IDENTITY = {"data_dir", "download", "out", "workers", "ray_address", "max_minutes",
                "device"}


def write_summary(out: str | os.PathLike, summary: dict, table: str) -> None:
    """A sweep's ``results.json`` (``{"rows": [...], ...}``) and its ``table.md``."""
    write_json(Path(out) / "results.json", summary)
    write_text(Path(out) / "table.md", table)


class RunFolder:
    """A run folder. Re-running with the same folder resumes; a different config is refused,
    unless the folder holds nothing but its config (no work to lose): then it is replaced."""

    def __init__(self, path: str | os.PathLike, config: dict, defaults: dict | None = None):
        """``defaults``: values of options added after a run was started; a stored config
        without such an option matches when the new value is its default. The seed
        derivation's version (:data:`rewire.seeds.SEEDING`) is part of every identity; a
        folder without one was started under version 1."""
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"{self.path} is a file, not a run folder")
        self.path.mkdir(parents=True, exist_ok=True)
        self.started = time.time()
        config = json.loads(json.dumps({**config, "seeding": SEEDING}))  # as stored
        defaults = json.loads(json.dumps(defaults or {}))
        cfg_file = self.path / "config.json"
        self.resumed = cfg_file.is_file() and any(
            p.name not in ("config.json", "timing.json")
            for p in self.path.rglob("*") if p.is_file())
        if self.resumed:
            old = read_json(cfg_file)
            old.setdefault("seeding", 1)
            legacy = old.pop("model_options", None)  # p-SIREN runs before bias / scale fields
            if isinstance(legacy, dict):
                for k in ("bias", "scale"):
                    old.setdefault(k, bool(legacy.get(k, False)))
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
        self._open_session()

    def file(self, name: str) -> Path:
        return self.path / name

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.jsonl"

    def write_results(self, results: dict, indent: int | None = 2) -> None:
        write_json(self.path / "results.json", results, indent)

    def _timing(self) -> dict:
        f = self.file("timing.json")
        return read_json(f) if f.is_file() else {"seconds": 0.0, "sessions": 0}

    def _open_session(self) -> None:
        """Mark this session open in ``timing.json``. A session still open from before was
        killed (SIGKILL, power): it is counted up to the last file it wrote."""
        t = self._timing()
        began = t.pop("open", None)
        if began is not None:
            last = max((p.stat().st_mtime for p in self.path.rglob("*")
                        if p.is_file() and p.name != "timing.json"), default=began)
            t["seconds"] += max(last - began, 0.0)
            t["sessions"] += 1
        t["open"] = self.started
        write_json(self.file("timing.json"), t)

    def add_time(self, seconds: float | None = None) -> float:
        """Close this session: add its wall time to ``timing.json`` (kept apart from the
        results, so two runs with the same seed write the same results); returns the
        total."""
        t = self._timing()
        t.pop("open", None)
        t["seconds"] += time.time() - self.started if seconds is None else seconds
        t["sessions"] += 1
        write_json(self.file("timing.json"), t)
        self.started = time.time()
        return t["seconds"]
