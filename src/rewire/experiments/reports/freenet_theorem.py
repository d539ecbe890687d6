"""README of the FreeNets Theorem 1 results folder."""

from __future__ import annotations

from pathlib import Path

from ...files import read_json


def render(folder: Path, spec: dict) -> str:
    r = read_json(folder / "results.json")
    best_layered = r["mse"][r["best_layered"]]
    random_start = ("Here the FreeNet beats the best layered split even from a random start."
                    if r["mse"]["freenet"] < best_layered else
                    "From a random start the optimiser did not find that advantage here; from "
                    "the embedded layered solution it did.")
    rows = "\n".join(f"| {name} | {mse:.4f} |" for name, mse in r["mse"].items())
    command = "\n".join(spec["commands"].values())
    return f"""# FreeNets Theorem 1, checked numerically

```
{command}
```

Target: {r['target']}, {r['points']} points, a polynomial of degree k = {r['k']}; every model
has k = {r['k']} ReLU neurons (plus a linear read-out). Full-batch Adam, {r['steps']} steps,
cosine schedule, best of {r['seeds']} seeds per model. "freenet" starts from the dense DAG at
random; "freenet warm" starts from the best layered fit embedded in the dense DAG (every
layered net over k neurons is a FreeNet subgraph, Claim 4.1 — tested exactly in
tests/test_freenet.py) with its other edges at zero, then trains all edges.

| model (k neurons) | mean squared error |
|---|---:|
{rows}

Best FreeNet / best layered ({r['best_layered']}): **{r['freenet_vs_best_layered']:.3f}**.

With ReLU neurons no network of k units fits a degree-k polynomial exactly, so the paper's
proof sketch (building x, x², …, x^k from k neurons) does not carry over literally; what
holds, and what this shows, is the inclusion: a FreeNet over k neurons contains every
layered arrangement of the same k neurons, and its extra (skip and intra-layer) edges fit
the polynomial better than the best of them. {random_start}

![fits](fits.png)
"""
