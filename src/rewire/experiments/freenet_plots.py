"""Plots and tables of the FreeNets experiments (Figures 4-7, Table 2)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..freenet.evolve import lower_triangle, read_updates
from .tables import cell

__all__ = ["plot_run", "markdown_table", "plot_table", "table_cells"]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _val_curve(path: Path) -> list[float]:
    if not path.is_file():
        return []
    return [json.loads(line)["val_accuracy"] * 100 for line in path.read_text().splitlines()]


def plot_run(out) -> None:
    """validation.png (Fig 4), updates.png (Fig 6), coactivation_kde.png (Fig 7)."""
    out = Path(out)
    res = json.loads((out / "results.json").read_text())
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, label in (("freenet", "FreeEvolve"), ("fcnn", "FCNN (matched)")):
        curve = _val_curve(out / name / "metrics.jsonl")
        if curve:
            ax.plot(range(1, len(curve) + 1), curve, "o-", ms=3, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy (%)")
    ax.set_title(f"{res['dataset']}, k = {res['k']}, seed {res['seed']}")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "validation.png", dpi=110)
    plt.close(fig)

    ups = read_updates(out / "freenet" / "updates.jsonl")
    if ups:
        it = [u["iteration"] for u in ups]
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(it, [u["pruned"] for u in ups], "o-", color="C3", label="pruned")
        ax.plot(it, [u["added"] for u in ups], "s-", color="C2", label="added")
        ax2 = ax.twinx()
        ax2.plot(it, [u["live_edges"] for u in ups], "--", color="gray", label="live edges")
        ax2.set_ylabel("live edges")
        ax.set_xlabel("FreeEvolve iteration")
        ax.set_ylabel("edges changed")
        ax.set_title(f"graph updates, k = {res['k']} (ε = {res['epsilon']})")
        ax.legend(loc="upper right")
        fig.tight_layout()
        fig.savefig(out / "updates.png", dpi=110)
        plt.close(fig)

    start, end = out / "freenet" / "coactivation_start.npz", out / "freenet" / "coactivation.npz"
    if start.is_file() and end.is_file():
        _plot_kde(start, end, _final_edges(out / "freenet" / "model.pt"), res["epsilon"],
                  out / "coactivation_kde.png")


def _final_edges(model_file: Path) -> np.ndarray | None:
    """The evolved graph's live edges over neuron pairs (lower triangle, row-major)."""
    import torch

    if not model_file.is_file():
        return None
    return lower_triangle(torch.load(model_file, weights_only=False)["state_dict"]["graph"])


def _plot_kde(start: Path, end: Path, live: np.ndarray | None, epsilon: float, path) -> None:
    """Fig 7: the prune statistic (NCIM) on the edges FreeEvolve keeps — all pairs at the
    dense start, the live edges at the end — and the augment statistic (NCAM) on all pairs."""
    from scipy.stats import gaussian_kde

    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    grid = np.linspace(0, 1, 201)
    panels = (("ncim", "NCIM on live edges (what Prune reads)", True),
              ("ncam", "NCAM over all neuron pairs (what Aug reads)", False))
    for ax, (key, title, on_live) in zip(axes, panels):
        for f, label, style in ((start, "start (dense graph)", "--"), (end, "end", "-")):
            v = np.load(f)[key].astype(np.float64)
            if on_live and f == end and live is not None:
                v = v[live]
            if len(v) > 1 and np.ptp(v) > 0:
                ax.plot(grid, gaussian_kde(v)(grid), style, label=f"{label}, {len(v)} pairs")
        ax.axvline(1 - epsilon, color="k", lw=0.8, ls=":", label="1 − ε")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("value")
        ax.set_ylabel("density")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def table_cells(rows: list[dict], dataset: str, model: str, ks: list[int]) -> list[str]:
    seeds = len({r["seed"] for r in rows})
    return [cell([r["test_accuracy"] * 100 for r in rows if r["dataset"] == dataset
                  and r["model"] == model and r["k"] == k], seeds) for k in ks]


def markdown_table(rows: list[dict]) -> str:
    """Our Table 2: mean ± std test accuracy over seeds, the paper's row beside each of ours."""
    from .freenet_run import PAPER_TABLE2

    ks = sorted({r["k"] for r in rows})
    lines = ["| dataset | model | " + " | ".join(str(k) for k in ks) + " |",
             "|---|---|" + "---:|" * len(ks)]
    for d in dict.fromkeys(r["dataset"] for r in rows):
        paper = PAPER_TABLE2.get(d)
        for model, label, pi in (("freenet", "FreeEvolve (ours)", 0), ("fcnn", "FCNN (ours)", 1)):
            lines.append(f"| {d} | {label} | " + " | ".join(table_cells(rows, d, model, ks))
                         + " |")
            if paper:
                from .freenet_run import PAPER_KS

                vals = [f"{paper[pi][PAPER_KS.index(k)]:.2f}" if k in PAPER_KS else "–"
                        for k in ks]
                lines.append(f"| {d} | {label.split(' ')[0]} (paper) | " + " | ".join(vals)
                             + " |")
    seeds = len({r["seed"] for r in rows})
    return "\n".join(lines) + (f"\n\nTest accuracy (%), mean ± sample std (n - 1) over {seeds} "
                               f"seed(s).\n")


def plot_table(rows: list[dict], path) -> None:
    """Accuracy against k per dataset, ours (mean and seed range) and the paper's (Fig 5)."""
    from .freenet_run import PAPER_KS, PAPER_TABLE2

    plt = _plt()
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    fig, axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 3.8), squeeze=False)
    for ax, d in zip(axes[0], datasets):
        for model, colour, label in (("freenet", "C0", "FreeEvolve"), ("fcnn", "C1", "FCNN")):
            sel = [r for r in rows if r["dataset"] == d and r["model"] == model]
            ks = sorted({r["k"] for r in sel})
            if not ks:
                continue
            acc = [np.array([r["test_accuracy"] for r in sel if r["k"] == k]) * 100 for k in ks]
            ax.plot(ks, [a.mean() for a in acc], "o-", color=colour, label=f"{label} (ours)")
            ax.fill_between(ks, [a.min() for a in acc], [a.max() for a in acc], color=colour,
                            alpha=0.2)
            if d in PAPER_TABLE2:
                ax.plot(PAPER_KS, PAPER_TABLE2[d][0 if model == "freenet" else 1], "x:",
                        color=colour, label=f"{label} (paper)")
        ax.set_title(d)
        ax.set_xlabel("neurons k")
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
