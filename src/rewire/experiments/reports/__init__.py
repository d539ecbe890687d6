"""Results READMEs rendered from the files of a results folder: ``rewire report FOLDER``.

A results folder holds what its runs wrote (``results.json``, ``config.json``,
``metrics.jsonl``, plots) and a ``report.json`` that says how to present them: its ``kind``
(a renderer below), the ``paper`` entry whose numbers and words go beside ours (in
``paper.json``, each with its source), and the ``commands`` that produced each run, keyed by
the sub-folder it lives in (``"."`` for the folder itself). Rendering reads only those files,
so every committed README can be regenerated, and checked, from the repository alone.
"""

from __future__ import annotations

import importlib
import json
from functools import cache
from pathlib import Path

from ...files import read_json, write_json, write_text

__all__ = ["render", "write_report", "paper", "KINDS"]

KINDS = ("sense", "neighbours", "psiren_sweep", "psiren_single", "freenet_theorem",
         "freenet_table", "sense_psiren", "priors",
         "prune_rnn", "prune_ffn", "car_expert", "car_train", "nas")


@cache
def _papers() -> dict:
    return json.loads((Path(__file__).parent / "paper.json").read_text())


def paper(key: str) -> dict:
    """The paper's numbers and words for one figure or table, with their source."""
    try:
        return _papers()[key]
    except KeyError:
        raise ValueError(f"no paper entry {key!r}; expected one of "
                         f"{', '.join(_papers())}") from None


def _spec(folder: Path) -> dict:
    f = folder / "report.json"
    if not f.is_file():
        raise ValueError(f"{folder}: no report.json (a results folder says how to present its "
                         f"runs there: kind, paper, commands)")
    spec = read_json(f)
    if spec.get("kind") not in KINDS:
        raise ValueError(f"{f}: unknown kind {spec.get('kind')!r}; expected one of "
                         f"{', '.join(KINDS)}")
    return spec


def render(folder) -> str:
    """The README of a results folder, from its files alone."""
    folder = Path(folder)
    spec = _spec(folder)
    module = importlib.import_module(f".{spec['kind']}", __name__)
    return module.render(folder, spec)


def write_report(folder, plots: bool = True) -> str:
    """Render ``README.md`` (and, with ``plots``, re-draw the plots) of a results folder."""
    folder = Path(folder)
    spec = _spec(folder)
    module = importlib.import_module(f".{spec['kind']}", __name__)
    if plots and hasattr(module, "plots"):
        module.plots(folder, spec)
    text = module.render(folder, spec)
    write_text(folder / "README.md", text)
    return text


def new_report(folder, kind: str, paper_key: str | None, commands: dict[str, str]) -> None:
    """Write the ``report.json`` of a results folder."""
    write_json(Path(folder) / "report.json",
               {"kind": kind, "paper": paper_key, "commands": commands})
