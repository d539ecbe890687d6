"""README of the feed-forward pruning results folder (deepstruct Fig 2a)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from ...configs import PRUNE_SCHEMES
from ...files import read_json, write_text
from ..prune_plots import ffn_table, plot_ffn
from ..tables import cell
from . import paper

METHODS = ["magnitude-blinded", "magnitude-uniform", "magnitude-distributed", "obd", "random"]


def plots(folder: Path, spec: dict) -> None:
    rows = read_json(folder / "results.json")["rows"]
    write_text(folder / "table.md", ffn_table(rows))
    plot_ffn(rows, folder)


def render(folder: Path, spec: dict) -> str:
    s = read_json(folder / "results.json")
    rows, base = s["rows"], s["base"]
    p = paper(spec["paper"])
    acc = defaultdict(list)
    for r in rows:
        acc[(r["model"], r["method"], r["scheme"], r["retrained"], round(r["amount"], 3))].append(
            r["test_accuracy"] * 100)

    def at(model, method, retrained):
        v = acc.get((model, method, "one-shot", retrained, 0.8))
        return f"{cell(v)} ({len(v)} seeds)" if v else "–"

    seeds = sorted({r["seed"] for r in rows})
    key = "\n".join(f"| {m} | {at('mlp-100', m, True)} | {at('mlp-100', m, False)} | "
                    f"{at('lenet-300-100', m, True)} |" for m in METHODS)
    by_model = defaultdict(list)
    for b in base:
        by_model[b["model"]].append(b["test_accuracy"] * 100)
    bases = "; ".join(f"{m}: {cell(v)}" for m, v in sorted(by_model.items()))
    blinded = {sc: np.mean([r["test_accuracy"] * 100 for r in rows if r["model"] == "mlp-100"
                            and r["method"] == "magnitude-blinded" and r["retrained"]
                            and r["scheme"] == sc and abs(r["amount"] - 0.8) <= 0.03])
               for sc in PRUNE_SCHEMES}
    one = acc[("mlp-100", "magnitude-blinded", "one-shot", True, 0.8)]
    gain = np.mean(one) - np.mean(by_model["mlp-100"])
    order = [np.mean(acc[("mlp-100", m, "one-shot", True, 0.8)])
             for m in ["magnitude-blinded", "magnitude-uniform", "random"]]
    met = ", ".join(k for k, v in blinded.items() if v >= 98) or "no scheme"
    checks = (
        f"- Dense base nets before pruning (test %, {len(seeds)} seeds, mean ± sample std): "
        f"{bases}.\n"
        f"- mlp-100, magnitude class-blinded, 80%, re-trained: one-shot "
        f"{' / '.join(f'{v:.2f}' for v in one)} (seeds); by scheme (levels within 0.03 of 80%): "
        + ", ".join(f"{k} {v:.2f}" for k, v in blinded.items())
        + f". Target ≥ 98: {'met' if max(blinded.values()) >= 98 else 'not met'} by {met}; "
        f"the paper: {p['test_percent']}.\n"
        f"- Over the uncompressed net: one-shot class-blinded at 80% with re-training is "
        f"{gain:+.2f} points against the dense mlp-100 base; the paper: "
        f"+{p['over_uncompressed_points']} points (its abstract: {p['quote']}).\n"
        f"- Order at 80% one-shot re-trained, mlp-100: class-blinded {order[0]:.2f} > "
        f"class-uniform {order[1]:.2f} > random {order[2]:.2f}: "
        f"{'as in the paper' if order[0] > order[1] > order[2] else 'NOT as in the paper'}.")
    commands = "\n".join(spec["commands"].values())
    return f"""# Pruning feed-forward nets on MNIST (deepstruct Fig 2a)

```
{commands}
```

Five selection methods × four schemes on mlp-100 (784-100-10) and LeNet-300-100, each with one
re-training epoch after every pruning step and without; seeds {', '.join(map(str, seeds))}.
Decisions in docs/deepstruct.md. {spec.get("note", "")}

At 80% of the weights pruned, one-shot, test accuracy (%, mean ± sample std):

| method | mlp-100, re-trained | mlp-100, no re-training | LeNet-300-100, re-trained |
|---|---:|---:|---:|
{key}

The paper: magnitude class-blinded on the 784-100-10 net at 80% with re-training, 97.5%;
class-blinded clearly ahead, OBD nearly the same, random lowest (Fig 2a, no table).

{checks}

![one-shot](prune_ffn_one_shot.png)
![all schemes](prune_ffn_all_schemes.png)

## Every method, scheme and level

{ffn_table(rows)}
"""
