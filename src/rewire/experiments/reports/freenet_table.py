"""README of the FreeNets Table 2 results folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...files import read_json, write_text
from ..freenet_plots import markdown_table, plot_table
from ..freenet_run import PAPER_KS, PAPER_TABLE2

EXAMPLES = ["fig4_fashion_k40", "fig4_fashion_k90", "fig6_mnist_k30", "fig6_mnist_k100",
            "fig7_mnist_k100"]


def plots(folder: Path, spec: dict) -> None:
    rows = read_json(folder / "results.json")["rows"]
    write_text(folder / "table.md", markdown_table(rows))
    plot_table(rows, folder / "accuracy_vs_k.png")


def _mean(rows, d, model, k):
    v = [r["test_accuracy"] for r in rows if r["dataset"] == d and r["model"] == model
         and r["k"] == k]
    return np.mean(v) * 100 if v else None


def _below(ks, ok) -> str:
    return (f" (below at k = {', '.join(str(k) for k in ks if k not in ok)})"
            if len(ok) < len(ks) else "")


def render(folder: Path, spec: dict) -> str:
    rows = read_json(folder / "results.json")["rows"]
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    checks = []
    for d in datasets:
        ks = sorted({r["k"] for r in rows if r["dataset"] == d})
        if d in ("mnist", "fashion-mnist"):
            ok = [k for k in ks
                  if _mean(rows, d, "freenet", k) >= PAPER_TABLE2[d][0][PAPER_KS.index(k)]]
            checks.append(f"- {d}: FreeEvolve at or above the paper's FreeEvolve at {len(ok)} "
                          f"of {len(ks)} k" + _below(ks, ok))
        ok = [k for k in ks if _mean(rows, d, "freenet", k) >= _mean(rows, d, "fcnn", k)]
        checks.append(f"- {d}: FreeEvolve at or above our matched FCNN at {len(ok)} of "
                      f"{len(ks)} k" + _below(ks, ok))
    paired = []  # FreeNet minus FCNN on the same (k, seed): one number per training pair
    for d in datasets:
        acc = {(r["model"], r["k"], r["seed"]): r["test_accuracy"] for r in rows
               if r["dataset"] == d}
        diff = np.array([(v - acc[("fcnn", k, s)]) * 100 for (m, k, s), v in acc.items()
                         if m == "freenet" and ("fcnn", k, s) in acc])
        if len(diff) > 1:
            se = diff.std(ddof=1) / np.sqrt(len(diff))
            paired.append(f"| {d} | {len(diff)} | {diff.mean():+.2f} | {se:.2f} | "
                          f"{(diff > 0).sum()} / {(diff == 0).sum()} / {(diff < 0).sum()} |")
    seeds = sorted({r["seed"] for r in rows})
    live = [(r["k"], r["live_edges"], r["k"] * (r["k"] - 1) // 2) for r in rows
            if r["model"] == "freenet" and r["dataset"] == "mnist" and r["seed"] == 0]
    shown = [n for n in EXAMPLES if (folder / f"{n}.png").is_file()]
    command = "\n".join(spec["commands"].values())
    return f"""# FreeNets Table 2: FreeEvolve against the parameter-matched FCNN

```
{command}
```

FreeNet(k): encoder → dense lower-triangular DAG over k ReLU neurons → decoder, evolved by
FreeEvolve (ε = 0.25, graph updates between epochs until the graph stops changing); the FCNN
has one hidden layer widened to the FreeNet's parameter count. Same budget for both: 20
epochs, Adam 2e-3 with a cosine schedule, batch 128, standardised inputs, best validation
epoch kept; test accuracy below. Seeds: {', '.join(map(str, seeds))}. EMNIST is the ByClass
test file (62 classes) split 80/20 with a fixed seed (docs/freenets.md); the paper's EMNIST
is an unnamed "truncated" split, so its row is a reference only.

{markdown_table(rows)}
Checks:

{chr(10).join(checks)}

FreeNet minus FCNN, paired on the same (k, seed), in points of test accuracy:

| dataset | pairs | mean | std. error | FreeNet better / equal / worse |
|---|---:|---:|---:|---|
{chr(10).join(paired)}

![accuracy against k](accuracy_vs_k.png)

Graphs after FreeEvolve (MNIST, seed 0): live edges / dense edges per k:
{', '.join(f'k={k}: {a}/{b}' for k, a, b in live)}.

""" + "\n".join(f"![{n}]({n}.png)" for n in shown) + "\n"
