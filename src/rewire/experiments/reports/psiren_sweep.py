"""README of a p-SIREN sweep results folder (AANN Fig 2a on MNIST, Fig 12 on Fashion-MNIST)."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from ...files import read_json, write_text
from ..psiren_sweep import by_sparsity, markdown_table, plot_sweep
from . import paper

NETS = {"aann-mnist-cnn": "The AANN MNIST CNN", "car-cnn": "The AANN car CNN (`car-cnn`)"}


def _driving(t: dict, cfg: dict) -> str:
    r90 = cast(dict, t.get(0.9) or t.get(0.89))  # the sweep has one of the two levels
    best = max((r for r in t.values() if "mean_return" in r), key=lambda r: r["mean_return"])
    limit = cfg.get("limit")
    data = (f" The networks learned from {limit} training frames (a fixed random subset of the "
            "demonstrations' training episodes), to fit 57 runs in one session."
            if limit else "")
    return f"""
Closed loop: each network drove {cfg.get('drive')} held-out evaluation tracks (from 100000;
no demonstration came from them). At {r90['sparsity'] * 100:.0f}% sparsity the mean return over
seeds is {r90['mean_return']:.1f} (worst track {r90['min_return']:.1f}); the best level is
{best['sparsity'] * 100:.0f}% ({best['mean_return']:.1f}).{data}
"""


def plots(folder: Path, spec: dict) -> None:
    s = read_json(folder / "results.json")
    plot_sweep({**s, "by_sparsity": by_sparsity(s["rows"])}, folder / "accuracy_vs_sparsity.png")
    write_text(folder / "table.md", markdown_table(s["rows"]))


def render(folder: Path, spec: dict) -> str:
    s = read_json(folder / "results.json")
    d, p = s["dataset"], paper(spec["paper"])
    t = {round(r["sparsity"], 2): r for r in by_sparsity(s["rows"])}
    seeds = sorted({r["seed"] for r in s["rows"]})
    r90 = cast(dict, t.get(0.89) or t.get(0.9))  # the sweep has one of the two levels
    headline = (f"At 89% sparsity: {r90['mean'] * 100:.2f} ± {r90['std'] * 100:.2f}% test "
                f"(min {r90['min'] * 100:.2f}) over {r90['seeds']} seeds; at 95%: "
                f"{t[0.95]['mean'] * 100:.2f} ± {t[0.95]['std'] * 100:.2f}%; dense float: "
                f"{t[0.0]['dense_mean'] * 100:.2f}%.")
    best = max(t.values(), key=lambda r: r["mean"])
    shape = (f"The best ternary mean is at {best['sparsity'] * 100:.0f}% sparsity "
             f"({best['mean'] * 100:.2f}%), above the 0%-sparse ternary network "
             f"({t[0.0]['mean'] * 100:.2f}%): moderate sparsity helps a ternary network (the "
             "paper states no trend in its text). The gap to the dense float net is the price "
             "of {-1, 0, +1} weights without scales or biases.")
    command = "\n".join(spec["commands"].values())
    cfg = read_json(folder / "config.json") if (folder / "config.json").is_file() else {}
    net = NETS.get(cfg.get("model", "aann-mnist-cnn"), cfg.get("model"))
    driving = _driving(t, cfg) if any("mean_return" in r for r in t.values()) else ""
    title = f"p-SIREN sweep on {d}: sparse ternary CNNs at {len(t)} sparsities"
    return f"""# {title} (AANN {p['figure']})

```
{command}
```

{net} made pure ternary {{-1, 0, +1}} (no biases, no scales) by p-SIREN at the
paper's {len(t)} sparsity levels, per-layer sparsity, seeds {', '.join(map(str, seeds))}; dense
training shared per seed; presets and decisions in docs/psiren.md. Test accuracy after each
of the four steps (mean ± sample std over seeds, n - 1 in the denominator); "ternary" is the
final network.

{headline}

{shape}
{driving}
The paper: {p['figure']} ({p['note']}).

{markdown_table(s["rows"])}
![accuracy against sparsity](accuracy_vs_sparsity.png)

`results.json` holds one row per (sparsity, seed); `results.csv` the same table.
"""
