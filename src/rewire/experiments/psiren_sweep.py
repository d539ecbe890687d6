"""AANN Figure 2a / Figure 12: p-SIREN test accuracy across sparsity levels and seeds.

Dense training (step 1) is shared by all sparsity levels of a seed. Each (sparsity, seed)
run is its own p-SIREN run folder under ``OUT/runs/``; a finished run is skipped and an
unfinished one resumes from its checkpoints, so re-running the same command continues an
interrupted sweep. All work goes through :func:`rewire.experiments.executor.run_tasks`.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from ..runs import RunFolder, write_json
from ..siren import SirenConfig, run_psiren, train_dense
from .executor import run_tasks

__all__ = ["PAPER_SPARSITIES", "run_sweep", "summarize"]

PAPER_SPARSITIES = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.87, 0.89, 0.91, 0.93,
                    0.95]


def _dense_task(cfg: dict, checkpoint: str) -> str:
    train_dense(SirenConfig(**cfg), checkpoint)
    return checkpoint


def _psiren_task(cfg: dict, out: str, dense: str) -> dict:
    if (Path(out) / "results.json").is_file():
        return json.loads((Path(out) / "results.json").read_text())
    return run_psiren(SirenConfig(**cfg), out, dense_checkpoint=dense, progress=False,
                      verbose=False)


def run_sweep(base: SirenConfig, out, sparsities=PAPER_SPARSITIES, seeds=(0, 1, 2),
              workers: int = 1, ray_address: str | None = None) -> dict:
    """Run p-SIREN for every sparsity x seed into ``out``; writes results.json, CSV and plot."""
    out = Path(out)
    config = {"experiment": "psiren-sweep", **asdict(base), "sparsities": list(sparsities),
              "seeds": list(seeds)}
    config.pop("sparsity")
    config.pop("seed")
    RunFolder(out, config)
    dense = {s: str(out / "dense" / f"seed{s}.pt") for s in seeds}
    run_tasks(_dense_task, [{"cfg": asdict(replace(base, seed=s)), "checkpoint": dense[s]}
                            for s in seeds], workers, ray_address=ray_address,
              desc="dense (step 1)")
    tasks = [{"cfg": asdict(replace(base, seed=s, sparsity=p)),
              "out": str(out / "runs" / f"p{p:.2f}_seed{s}"), "dense": dense[s]}
             for s in seeds for p in sparsities]
    results = run_tasks(_psiren_task, tasks, workers, ray_address=ray_address,
                        desc="p-SIREN runs")
    return summarize(results, base.dataset, out)


def summarize(results: list[dict], dataset: str, out) -> dict:
    """Write results.json (``{"dataset", "rows"}``), results.csv and accuracy_vs_sparsity.png."""
    out = Path(out)
    rows = []
    for r in results:
        rows.append({
            "sparsity": r["target_sparsity"], "seed": r["seed"],
            "test_accuracy": r["test_accuracy"], "val_accuracy": r["val_accuracy"],
            "measured_sparsity": r["sparsity"],
            **{f"{step}_test_accuracy": v["test_accuracy"] for step, v in r["steps"].items()},
            "packed_bytes": r["packed_bytes"], "float32_bytes": r["float32_bytes"],
        })
    rows.sort(key=lambda r: (r["sparsity"], r["seed"]))
    summary = {"dataset": dataset, "rows": rows, "by_sparsity": _by_sparsity(rows)}
    write_json(out / "results.json", summary)
    with open(out / "results.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    plot_sweep(summary, out / "accuracy_vs_sparsity.png")
    (out / "table.md").write_text(markdown_table(rows))
    return summary


STEPS = ["dense", "sparsified", "finetuned", "ternarized", "ternary"]


def markdown_table(rows: list[dict]) -> str:
    """Mean ± std over seeds of the test accuracy after each p-SIREN step, per sparsity."""
    head = ("| sparsity | seeds | " + " | ".join(STEPS) + " | packed bytes |\n"
            "|---:|---:|" + "---:|" * len(STEPS) + "---:|\n")
    lines = []
    for p in sorted({r["sparsity"] for r in rows}):
        sel = [r for r in rows if r["sparsity"] == p]
        cells = []
        for step in STEPS:
            a = np.array([r[f"{step}_test_accuracy"] for r in sel]) * 100
            cells.append(f"{a.mean():.2f} ± {a.std():.2f}")
        size = int(np.mean([r["packed_bytes"] for r in sel]))
        lines.append(f"| {p:.2f} | {len(sel)} | " + " | ".join(cells) + f" | {size} |")
    return head + "\n".join(lines) + "\n"


def _by_sparsity(rows: list[dict]) -> list[dict]:
    table = []
    for p in sorted({r["sparsity"] for r in rows}):
        accs = np.array([r["test_accuracy"] for r in rows if r["sparsity"] == p])
        dense = np.array([r["dense_test_accuracy"] for r in rows if r["sparsity"] == p])
        table.append({"sparsity": p, "seeds": len(accs), "mean": float(accs.mean()),
                      "std": float(accs.std()), "min": float(accs.min()),
                      "max": float(accs.max()), "dense_mean": float(dense.mean())})
    return table


def plot_sweep(summary: dict, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = summary["by_sparsity"]
    p = np.array([r["sparsity"] for r in t]) * 100
    mean, lo, hi = (np.array([r[k] for r in t]) * 100 for k in ("mean", "min", "max"))
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.fill_between(p, lo, hi, alpha=0.25, color="C0", label="seed range (min-max)")
    ax.plot(p, mean, "o-", color="C0", label="ternary {-1,0,+1}, mean over seeds")
    for r in summary["rows"]:
        ax.plot(r["sparsity"] * 100, r["test_accuracy"] * 100, ".", color="C0", alpha=0.5)
    ax.plot(p, np.array([r["dense_mean"] for r in t]) * 100, "s--", color="gray", ms=3,
            label="dense float (step 1)")
    ax.set_xlabel("sparsity (%)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"p-SIREN on {summary['dataset']}: sparse ternary CNN")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
