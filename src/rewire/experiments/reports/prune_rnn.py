"""README of the Reber RNN pruning results folder (deepstruct Fig 2b, 3, 5), fresh and
iterative readings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ...files import read_json, write_text
from ..prune_plots import rnn_table
from . import paper
from .deepstruct import baseline

HEADER = ("| data | target | cell | base test % | safe | recovers after 1 epoch | test % at 90%, "
          "1 epoch | test % at 100%, 1 epoch |\n|---|---|---|---:|---:|---:|---:|---:|")


def plots(folder: Path, spec: dict) -> None:
    for sub in spec["commands"]:
        rows = read_json(folder / sub / "results.json")["rows"]
        write_text(folder / sub / "table.md", rnn_table(rows))


def _lines(rows: list[dict]) -> list[str]:
    """One summary line per (data, target, cell): base, safe share, recovered share, and the
    accuracy after one epoch at 90% and at 100%."""
    safe_paper = paper("safe-4.2")["safe"]
    lines = []
    for d in dict.fromkeys(r["dataset"] for r in rows):
        for t in ("both", "i2h", "h2h"):
            for cell in dict.fromkeys(r["cell"] for r in rows):
                sel = sorted((r for r in rows if r["dataset"] == d and r["target"] == t
                              and r["cell"] == cell), key=lambda r: r["amount"])
                if not sel:
                    continue
                base = np.mean([r["base_test_accuracy"] for r in sel])
                safe = max([r["amount"] for r in sel
                            if r["test_accuracy_before"] >= base - 0.01], default=0.0)
                rec = max([r["amount"] for r in sel
                           if r["test_accuracy_after"] >= base - 0.01], default=0.0)
                after = {round(r["amount"], 2): r["test_accuracy_after"] * 100 for r in sel}
                lines.append(f"| {d} | {t} | {cell} | {base * 100:.2f} | {safe:.0%} "
                             f"(paper {safe_paper[t][cell]:.0%}) | {rec:.0%} | "
                             f"{after.get(0.9, float('nan')):.1f} | "
                             f"{after.get(1.0, float('nan')):.1f} |")
    return lines


def _checks(rows: list[dict]) -> str:
    """GRU and LSTM after 90% pruning and one epoch; h2h 100% pruning for each cell type."""
    out = []
    for d in dict.fromkeys(r["dataset"] for r in rows):
        at90 = [r for r in rows if r["dataset"] == d and r["cell"] in ("gru", "lstm")
                and round(r["amount"], 2) == 0.9]
        acc = [r["test_accuracy_after"] * 100 for r in at90]
        full = sum(round(r["test_accuracy_after"], 3) >= 1.0 for r in at90)
        worst = min(at90, key=lambda r: r["test_accuracy_after"])
        h2h = {r["cell"]: r["test_accuracy_after"] * 100 for r in rows if r["dataset"] == d
               and r["target"] == "h2h" and r["amount"] == 1.0}
        out.append(
            f"- `{d}`: GRU and LSTM at 90% pruned, after one epoch: {min(acc):.1f}–"
            f"{max(acc):.1f}% test, ≥ 99.95% in {full} of {len(at90)} (cell, target) "
            f"cases; the lowest is {worst['cell']} {worst['target']}. h2h 100% pruned, after "
            f"one epoch: " + ", ".join(f"{c} {v:.1f}%" for c, v in h2h.items()) + ".")
    return "\n".join(out)


def _pngs(folder: Path, sub: str) -> str:
    prefix = "" if sub == "." else f"{sub}/"
    return "\n".join(f"![{f.stem}]({prefix}{f.name})"
                     for f in sorted((folder / sub).glob("prune_rnn_*.png")))


def render(folder: Path, spec: dict) -> str:
    (main, command), *more = spec["commands"].items()
    rows = read_json(folder / main / "results.json")["rows"]
    table = (folder / main / "table.md").read_text()
    epochs = json.loads((folder / main / "config.json").read_text())["base_epochs"]
    lengths = ", ".join(f"{d} {baseline(d):.2f}%"
                        for d in dict.fromkeys(r["dataset"] for r in rows))
    iterative = ""
    for sub, it_cmd in more:  # the iterative reading, on the same base nets
        it_rows = read_json(folder / sub / "results.json")["rows"]
        iterative = f"""
## The iterative reading

The paper calls its Figure 5 "iterative magnitude percentage pruning" and says it goes "from
p = 10 to 100 while incrementing p by 10 after each round". Read that way, each level prunes
the net re-trained at the level before (pruned weights stay pruned), not the base. The same
base nets, run that way (`iterative/`; we copied the first run's `base/` folder into this
run's, so both readings start from the very same nets; the command alone trains them again
from the same seeds):

```
{it_cmd}
```

{HEADER}
{chr(10).join(_lines(it_rows))}

{_checks(it_rows)}

{_pngs(folder, sub)}

### All levels (iterative)

{(folder / sub / "table.md").read_text()}
"""
    return f"""# Pruning recurrent nets on the Reber grammar (deepstruct Fig 2b, 3, 5)

```
{command}
```

A base ReberRNN per cell type (embedding, three recurrent layers of 50, linear head) on the
paper's own strings and split (`reber-deepstruct`) and on our generated strings (`reber`);
its input-to-hidden (i2h), hidden-to-hidden (h2h) or both weights pruned by magnitude per
layer; test accuracy before and after one re-training epoch. Every level prunes the base
net afresh (the iterative reading is below). Decisions in docs/deepstruct.md.

"Safe" = the largest share pruned with test accuracy within 1 point of the base, before
re-training; "recovers" = the largest share whose accuracy is back within 1 point after one
epoch.

{HEADER}
{chr(10).join(_lines(rows))}

The paper: ReLU, LSTM and GRU reach 100% test within two epochs (tanh 90% after six);
pruned models recover within one re-training epoch up to 90% (i2h, h2h, both); at 100% no
model recovers except LSTM and GRU with h2h pruned. Ours:

{_checks(rows)}

Our "safe" shares are below the paper's for most cells. Our base nets train for at most
{epochs} epochs (early stop, best validation kept), the paper's for 50; we did not
re-train the bases longer after seeing this.

With every input-to-hidden weight pruned (i2h 100%) a network still sees how long the string
is: its state moves at every step through the biases and h2h weights. Predicting the training
split's majority class of each string length scores {lengths} on the test split, the level
such a network re-trains to. Our generator gives invalid strings the lengths of valid ones,
so on `reber` length says nothing (docs/deepstruct.md).

{_pngs(folder, main)}
{iterative}
## All levels

{table}
"""
