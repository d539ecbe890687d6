"""Plots of a NAS run: best fitness as the searches go; the predictor's Kendall tau."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..extras import require

__all__ = ["plot_fitness", "plot_predictor", "best_so_far"]


def best_so_far(rows: list[dict], search: str) -> tuple[list[int], list[float], list[int]]:
    """Per generation of one search: generation, best trained fitness so far, trainings
    so far."""
    gens, best, used = [], [], []
    top, n = float("nan"), 0
    for g in sorted({r["generation"] for r in rows if r["search"] == search}):
        rs = [r for r in rows if r["search"] == search and r["generation"] == g]
        n += sum(1 for r in rs if r.get("new_training"))
        trained = [r["fitness"] for r in rs if r["trained"]]
        if trained:
            top = max(trained) if np.isnan(top) else max(top, max(trained))
        gens.append(g)
        best.append(top)
        used.append(n)
    return gens, best, used


def plot_fitness(rows: list[dict], path: Path, dataset: str) -> None:
    """Best trained validation accuracy so far, mean over seeds, against the generation and
    against the trainings spent, one line per (strategy, estimation)."""
    plt = require("matplotlib.pyplot", "plots")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    variants = sorted({(r["strategy"], r["estimation"]) for r in rows})
    for strategy, est in variants:
        names = sorted({r["search"] for r in rows
                        if r["strategy"] == strategy and r["estimation"] == est})
        curves = [best_so_far(rows, n) for n in names]
        length = min(len(c[0]) for c in curves)
        gens = curves[0][0][:length]
        mean = np.nanmean([c[1][:length] for c in curves], axis=0)
        used = np.mean([c[2][:length] for c in curves], axis=0)
        label = f"{strategy}" + (f", {est:.0%} predicted" if est else "")
        style = "-" if strategy == "genetic" else "--"
        axes[0].plot(gens, mean, style, marker="o", ms=3, label=label)
        axes[1].plot(used, mean, style, marker="o", ms=3, label=label)
    axes[0].set_xlabel("generation")
    axes[0].xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    axes[1].set_xlabel("trainings spent (mean over seeds)")
    for ax in axes:
        ax.set_ylabel("best validation accuracy so far")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"{dataset}: architecture search, mean over search seeds")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_predictor(summary: dict, path: Path, dataset: str) -> None:
    """Kendall tau per generation of the structural predictor and of the parameter / MAC
    baseline, each refitted on the generations before and scored on the new candidates."""
    plt = require("matplotlib.pyplot", "plots")
    online = summary.get("online", [])
    fig, ax = plt.subplots(figsize=(6, 4))
    if online:
        g = [o["generation"] for o in online]
        ax.plot(g, [o["tau_features"] for o in online], marker="o", label="graph features")
        ax.plot(g, [o["tau_params"] for o in online], "--", marker="s",
                label="parameters + MACs only")
        ax.legend()
    else:
        ax.text(0.5, 0.5, "one generation only: nothing to predict from", ha="center",
                transform=ax.transAxes)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel("generation")
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.set_ylabel("Kendall tau on the generation's new candidates")
    ax.set_title(f"{dataset}: predictor fitted on the earlier generations")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
