"""AANN Figure 2a / Figure 12: p-SIREN test accuracy across sparsity levels and seeds.

Dense training (step 1) is shared by all sparsity levels of a seed (stage ``dense``). Each
(sparsity, seed) run is its own p-SIREN run folder under ``OUT/runs/``; the engine
(:mod:`rewire.experiments.engine`) skips a finished run and an unfinished one resumes from its
checkpoints, so re-running the same command continues an interrupted sweep. On the car task
``drive`` > 0 adds stage ``drive``: each model drives that many evaluation tracks, one task
per (model, track), and its rows gain ``mean_return`` and ``min_return``.
"""

from __future__ import annotations

import csv
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..configs import EVAL_SEEDS_FROM, PAPER_SPARSITIES, SirenConfig, SweepRun
from ..runs import write_json
from ..siren import train_dense
from .engine import Stage, Sweep, Task, run_sweep, sibling
from .siren_run import run_siren
from .tables import cell, sample_std

__all__ = ["PAPER_SPARSITIES", "run_psiren_sweep", "psiren_sweep", "summarize",
           "markdown_table", "by_sparsity", "plot_sweep"]


def _dense_task(folder: str, cfg: dict) -> str:
    train_dense(SirenConfig(**cfg), Path(folder) / "dense.pt")
    return "dense.pt"


def _psiren_task(folder: str, cfg: dict) -> dict:
    c = SirenConfig(**cfg)
    dense = sibling(folder, "dense", f"seed{c.seed}") / "dense.pt"
    return run_siren(c, folder, dense_checkpoint=dense, progress=False)


def _run_name(sparsity: float, seed: int) -> str:
    return f"p{sparsity:.2f}_seed{seed}"


def _drive_task(folder: str, run: str, track: int, max_steps: int) -> dict:
    from .car_run import drive_episode

    model = sibling(folder, "runs", run) / "model.pt"
    return {"run": run, **drive_episode(folder, str(model), track, max_steps)}


def psiren_sweep(cfg: SweepRun) -> Sweep:
    """Step 1 once per seed (stage ``dense``), then p-SIREN per (seed, sparsity), then (car
    task, ``cfg.drive``) closed-loop driving per (run, evaluation track)."""
    dense = Stage("dense", _dense_task, [Task(f"seed{s}", {"cfg": asdict(cfg.siren(0.0, s))})
                                         for s in cfg.seeds], "dense (step 1)")
    names = [(_run_name(p, s), p, s) for s in cfg.seeds for p in cfg.sparsities]
    runs = Stage("runs", _psiren_task, [Task(n, {"cfg": asdict(cfg.siren(p, s))})
                                        for n, p, s in names], "p-SIREN runs")
    tracks = range(EVAL_SEEDS_FROM, EVAL_SEEDS_FROM + cfg.drive)
    drive = Stage("drive", _drive_task, [Task(f"{n}_track{t}", {"run": n, "track": t,
                                                                  "max_steps": cfg.drive_steps})
                                         for n, _, _ in names for t in tracks],
                  "closed-loop driving")

    def summary(results, out):
        return summarize(results[1], cfg.dataset, out, results[2] if cfg.drive else None)

    return Sweep("psiren-sweep", cfg, [dense, runs] + ([drive] if cfg.drive else []),
                 summary, {"bias": False, "scale": False, "drive": 0, "drive_steps": 1000})


def run_psiren_sweep(cfg: SweepRun, out=None) -> dict:
    """Run p-SIREN for every sparsity x seed into ``out`` (default ``cfg.out``); writes
    results.json, CSV and plot."""
    return run_sweep(psiren_sweep(cfg), out or cfg.out, cfg.workers, cfg.ray_address)


def summarize(results: list[dict], dataset: str, out, drives: list[dict] | None = None) -> dict:
    """Write results.json (``{"dataset", "rows"}``), results.csv and accuracy_vs_sparsity.png;
    with ``drives`` (episodes of stage ``drive``) each row gets its closed-loop returns."""
    out = Path(out)
    rows = []
    for r in results:
        name = _run_name(r["target_sparsity"], r["seed"])
        returns = [e["total_return"] for e in drives or [] if e["run"] == name]
        rows.append({
            "sparsity": r["target_sparsity"], "seed": r["seed"],
            "test_accuracy": r["test_accuracy"], "val_accuracy": r["val_accuracy"],
            "measured_sparsity": r["sparsity"],
            **{f"{step}_test_accuracy": v["test_accuracy"] for step, v in r["steps"].items()},
            "packed_bytes": r["packed_bytes"], "float32_bytes": r["float32_bytes"],
            **({"mean_return": float(np.mean(returns)), "min_return": float(np.min(returns)),
                "tracks": len(returns)} if returns else {}),
        })
    rows.sort(key=lambda r: (r["sparsity"], r["seed"]))
    summary = {"dataset": dataset, "rows": rows, "by_sparsity": by_sparsity(rows)}
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
    """Mean ± sample std over seeds of the test accuracy after each p-SIREN step, per
    sparsity."""
    driven = any("mean_return" in r for r in rows)
    extra = " mean return | min return |" if driven else ""
    head = ("| sparsity | seeds | " + " | ".join(STEPS) + " | packed bytes |" + extra + "\n"
            "|---:|---:|" + "---:|" * (len(STEPS) + 1 + 2 * driven) + "\n")
    lines = []
    for p in sorted({r["sparsity"] for r in rows}):
        sel = [r for r in rows if r["sparsity"] == p]
        seeds = len({r["seed"] for r in rows})
        cells = [cell([r[f"{step}_test_accuracy"] * 100 for r in sel], seeds) for step in STEPS]
        size = int(np.mean([r["packed_bytes"] for r in sel]))
        line = f"| {p:.2f} | {len(sel)} | " + " | ".join(cells) + f" | {size} |"
        if driven:
            rets = [r["mean_return"] for r in sel if "mean_return" in r]
            worst = min((r["min_return"] for r in sel if "min_return" in r), default=None)
            line += (f" {cell(rets, seeds, digits=1)} | "
                     f"{'' if worst is None else f'{worst:.1f}'} |")
        lines.append(line)
    note = ("\nmean return: over the seeds' models, each the mean over its evaluation tracks; "
            "min return: the worst track of any of them.\n" if driven else "")
    return head + "\n".join(lines) + "\n" + note


def by_sparsity(rows: list[dict]) -> list[dict]:
    table = []
    for p in sorted({r["sparsity"] for r in rows}):
        accs = np.array([r["test_accuracy"] for r in rows if r["sparsity"] == p])
        dense = np.array([r["dense_test_accuracy"] for r in rows if r["sparsity"] == p])
        rets = [r["mean_return"] for r in rows if r["sparsity"] == p and "mean_return" in r]
        table.append({"sparsity": p, "seeds": len(accs), "mean": float(accs.mean()),
                      "std": sample_std(accs), "min": float(accs.min()),
                      "max": float(accs.max()), "dense_mean": float(dense.mean()),
                      **({"mean_return": float(np.mean(rets)),
                          "min_return": min(r["min_return"] for r in rows
                                            if r["sparsity"] == p and "min_return" in r)}
                         if rets else {})})
    return table


def plot_sweep(summary: dict, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = summary["by_sparsity"]
    p = np.array([r["sparsity"] for r in t]) * 100
    mean, lo, hi = (np.array([r[k] for r in t]) * 100 for k in ("mean", "min", "max"))
    driven = [r for r in t if "mean_return" in r]
    fig, axes = plt.subplots(1, 1 + bool(driven), figsize=(6.4 * (1 + bool(driven)), 4.2),
                             squeeze=False)
    ax = axes[0, 0]
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
    if driven:
        ax = axes[0, 1]
        q = np.array([r["sparsity"] for r in driven]) * 100
        ax.plot(q, [r["mean_return"] for r in driven], "o-", color="C1",
                label="mean return (mean over seeds)")
        ax.plot(q, [r["min_return"] for r in driven], "v:", color="C3", ms=4,
                label="worst track")
        ax.axhline(900, color="gray", ls="--", lw=1, label="'solved' (900)")
        ax.set_xlabel("sparsity (%)")
        ax.set_ylabel("closed-loop return")
        ax.set_title("driving held-out evaluation tracks")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
