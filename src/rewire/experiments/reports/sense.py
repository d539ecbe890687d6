"""README of a SENSE results folder (AANN Fig 6, 7, 8a; one run, or the paper's rule and
rewire's defaults side by side)."""

from __future__ import annotations

from pathlib import Path

from ...files import read_json, read_jsonl
from . import paper


def pct(v: float) -> str:
    return f"{v * 100:.2f}"


def _runs(folder: Path, spec: dict) -> list[tuple[str, dict, list[dict], str, str]]:
    """(rule, results, metrics rows, sub-folder, command) per run, in the report's order."""
    out = []
    for sub, command in spec["commands"].items():
        d = folder / sub
        r, cfg = read_json(d / "results.json"), read_json(d / "config.json")
        out.append((_rule(cfg), r, read_jsonl(d / "metrics.jsonl"), sub, command))
    return out


def _rule(cfg: dict) -> str:
    if cfg["criterion"] == "accuracy" and cfg["accept_top"] == 1:
        return "the paper's rule (accuracy, best neighbour only)"
    batch = "" if cfg.get("batch", 8192) == 8192 else f", batches of {cfg['batch']}"
    return (f"rewire's defaults ({cfg['criterion']}, up to {cfg['accept_top']} improving moves "
            f"per neighbourhood{batch})")


def _along(rows: list[dict]) -> str:
    out = ["| minutes | neighbourhoods | val % | test % |", "|---:|---:|---:|---:|"]
    last = None
    for m in [1, 2, 5, 10, 20, 30, 40, 50, 60]:
        sel = [x for x in rows if x["seconds"] <= m * 60]
        if sel and sel[-1] is not last:
            last = sel[-1]
            out.append(f"| {m} | {last['step']} | {pct(last['val_accuracy'])} | "
                       f"{pct(last['test_accuracy'])} |")
    return "\n".join(out)


def _table(runs) -> str:
    head = ("| run | start val / test % | kept network: val / test % | last network: val / "
            "test % | ensemble val / test % | neighbourhoods | minutes |")
    out = [head, "|---|---:|---:|---:|---:|---:|---:|"]
    for name, r, *_ in runs:
        out.append(f"| {name} | {pct(r['start_val_accuracy'])} / {pct(r['start_test_accuracy'])}"
                   f" | {pct(r['final_val_accuracy'])} / **{pct(r['final_test_accuracy'])}** | "
                   f"{pct(r['last_val_accuracy'])} / {pct(r['last_test_accuracy'])} | "
                   f"{pct(r['ensemble_val_accuracy'])} / {pct(r['ensemble_test_accuracy'])} "
                   f"({r['ensemble_size']}) | {r['steps']} | {r['seconds'] / 60:.1f} |")
    return "\n".join(out)


def _driving(folder: Path, spec: dict) -> str:
    """The closed-loop section of a car SENSE folder (sub-folder ``drive``), else nothing."""
    if "drive" not in spec:
        return ""
    d = read_json(folder / "drive" / "results.json")
    expert = folder.parent / "carracing-expert" / "results.json"
    ref = read_json(expert)["three_action"] if expert.is_file() else None
    beside = (f" The 3-action expert it imitates drives the same tracks at "
              f"{ref['mean_return']:.1f} mean, {ref['min_return']:.1f} min." if ref else "")
    return f"""
## Closed loop

The kept network drove {d['episodes']} held-out evaluation tracks (from
{d['per_seed'][0]['seed']}; no demonstration came from them):

```
{spec['drive']}
```

{(folder / 'drive' / 'table.md').read_text().strip()}

Its outputs are the paper's three ({{left, right, gas}}); it learned from the 3-action
expert's frames, never drove during its search, and no DAgger round corrected it.{beside}

![returns per track](drive/returns.png)
"""


def plots(folder: Path, spec: dict) -> None:
    from ..sense_run import plot_climb

    for _, r, rows, sub, _ in _runs(folder, spec):
        plot_climb(rows, r, folder / sub / "climb.png")


def render(folder: Path, spec: dict) -> str:
    p = paper(spec["paper"])
    runs = _runs(folder, spec)
    r0 = runs[0][1]
    number = p["test_percent"]
    paper_line = f"Paper: **{number}%** test." if number is not None else "Paper: no number."
    commands = "\n".join(f"```\n# {sub}\n{c}\n```" if sub != "." else f"```\n{c}\n```"
                         for *_, sub, c in runs)
    gaps = ", ".join(f"{abs(r['final_val_accuracy'] - r['final_test_accuracy']) * 100:.2f} "
                     f"points ({n})" for n, r, *_ in runs)
    along = "\n\n".join(f"Along the way, {n}:\n\n{_along(rows)}" for n, _, rows, *_ in runs)
    limit = read_json(folder / runs[0][3] / "config.json").get("limit")
    held = (f" (of {r0['train_images']} held: a fixed random subset of the training split)"
            if limit else "")
    pictures = "\n".join(f"![climb, {n}]({sub}/climb.png)" for n, *_, sub, _ in runs)
    return f"""# {p['title']}

No gradients anywhere: {p['schedule']}. Every neighbour is scored exactly (delta evaluator, integer
arithmetic) on a rotating batch of {r0['batch']} *training* images{held}; a move is taken only if it
strictly beats the current network on that batch. The validation split only chooses the network
kept (best validation accuracy along the path), the ensemble members, and never a move; the
test split is only reported. Start: a random ternary wiring at {r0['sparsity'] * 100:.0f}%
sparsity, seed {r0['seed']}.

{commands}

{_table(runs)}

{paper_line} The paper's own words: {p['quote']}

Validation and test of the kept network differ by
{gaps}.
The family is kept: per-layer counts of -1, 0, +1 are identical at start and end
(`start_counts`, `final_counts` in each results.json).

{along}

{pictures}
{_driving(folder, spec)}
See docs/sense.md for the protocol and what was tried.
"""
