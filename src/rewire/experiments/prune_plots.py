"""Tables and plots of the pruning experiments (deepstruct Figures 2, 3, 5)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from ..prune import SCHEMES

__all__ = ["ffn_table", "plot_ffn", "rnn_table", "plot_rnn"]

TABLE_AMOUNTS = [0.5, 0.8, 0.9, 0.95, 0.98]
METHOD_COLOURS = {"random": "tab:gray", "magnitude-blinded": "tab:blue",
                  "magnitude-uniform": "tab:orange", "magnitude-distributed": "tab:green",
                  "obd": "tab:red"}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _curves(rows, keys):
    """(key tuple) -> sorted [(amount, mean, min, max, n)] over seeds."""
    acc = defaultdict(lambda: defaultdict(list))
    for r in rows:
        acc[tuple(r[k] for k in keys)][round(r["amount"], 3)].append(r["test_accuracy"] * 100)
    return {k: [(a, float(np.mean(v)), float(np.min(v)), float(np.max(v)), len(v))
                for a, v in sorted(d.items())] for k, d in acc.items()}


def _at(curve, amount, tol=0.03):
    best = min(curve, key=lambda p: abs(p[0] - amount))
    return best if abs(best[0] - amount) <= tol else None


def ffn_table(rows: list[dict]) -> str:
    curves = _curves(rows, ("model", "retrained", "method", "scheme"))
    seeds = len({r["seed"] for r in rows})
    lines = [f"Test accuracy (%) at each sparsity, mean over {seeds} seed(s) (– : the scheme "
             "has no step within 0.03 of that level; (n=k): only k seeds have a step at that "
             "exact level, as the bucket scheme's levels differ between seeds).", ""]
    for model in dict.fromkeys(r["model"] for r in rows):
        for retrained in (True, False):
            how = "re-trained after each step" if retrained else "no re-training"
            lines += [f"### {model}, {how}",
                      "", "| method | scheme | " + " | ".join(f"{a:.0%}" for a in TABLE_AMOUNTS)
                      + " |", "|---|---|" + "---:|" * len(TABLE_AMOUNTS)]
            for (m, re, method, scheme), curve in curves.items():
                if m != model or re != retrained:
                    continue
                cells = []
                for a in TABLE_AMOUNTS:
                    p = _at(curve, a)
                    cells.append("–" if not p else f"{p[1]:.2f}" if p[4] >= seeds
                                 else f"{p[1]:.2f} (n={p[4]})")
                lines.append(f"| {method} | {scheme} | " + " | ".join(cells) + " |")
            lines.append("")
    return "\n".join(lines)


def plot_ffn(rows: list[dict], out) -> None:
    """prune_ffn_one_shot.png: one-shot, mean and seed range per method, a panel per model
    and re-training; prune_ffn_all_schemes.png: a row per scheme, one line per (method, seed)
    (the levels an iterative or bucket scheme reaches differ between seeds)."""
    plt = _plt()
    models = list(dict.fromkeys(r["model"] for r in rows))
    panels = [(m, re) for m in models for re in (True, False)]
    methods = [m for m in METHOD_COLOURS if any(r["method"] == m for r in rows)]

    def title(model, retrained):
        return f"{model}, {'re-trained' if retrained else 'no re-training'}"

    curves = _curves([r for r in rows if r["scheme"] == "one-shot"],
                     ("model", "retrained", "method"))
    fig, axes = plt.subplots(len(models), 2, figsize=(11, 4 * len(models)), squeeze=False)
    for ax, (model, retrained) in zip(axes.flat, panels):
        for method in methods:
            if (model, retrained, method) not in curves:
                continue
            a = np.array(curves[model, retrained, method])
            colour = METHOD_COLOURS[method]
            ax.plot(a[:, 0] * 100, a[:, 1], "o-", ms=3, color=colour, label=method)
            ax.fill_between(a[:, 0] * 100, a[:, 2], a[:, 3], alpha=0.15, color=colour)
        ax.set_title(f"{title(model, retrained)}, one-shot")
        ax.set_xlabel("pruned weights (%)")
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(Path(out) / "prune_ffn_one_shot.png", dpi=110)
    plt.close(fig)

    schemes = [s for s in SCHEMES if any(r["scheme"] == s for r in rows)]
    fig, axes = plt.subplots(len(schemes), len(panels), figsize=(3.6 * len(panels),
                             2.8 * len(schemes) + 0.6), squeeze=False, sharex=True)
    for i, scheme in enumerate(schemes):
        for j, (model, retrained) in enumerate(panels):
            ax = axes[i][j]
            for method in methods:
                lines = defaultdict(list)
                for r in rows:
                    if (r["model"], r["retrained"], r["method"], r["scheme"]) == (
                            model, retrained, method, scheme):
                        lines[r["seed"]].append((r["amount"] * 100, r["test_accuracy"] * 100))
                for k, pts in enumerate(lines.values()):
                    x, y = zip(*sorted(pts))
                    ax.plot(x, y, "-", lw=1, alpha=0.75, color=METHOD_COLOURS[method],
                            label=method if (i, j, k) == (0, 0, 0) else None)
            if i == 0:
                ax.set_title(title(model, retrained), fontsize=9)
            if j == 0:
                ax.set_ylabel(f"{scheme}\ntest accuracy (%)")
            if i == len(schemes) - 1:
                ax.set_xlabel("pruned weights (%)")
            ax.grid(alpha=0.3)
    fig.legend(loc="upper center", ncol=len(methods), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.4 / fig.get_figheight()))
    fig.savefig(Path(out) / "prune_ffn_all_schemes.png", dpi=110)
    plt.close(fig)


def rnn_table(rows: list[dict]) -> str:
    amounts = sorted({round(r["amount"], 2) for r in rows})
    lines = ["Test accuracy (%) before → after one re-training epoch, magnitude pruning per "
             "layer, mean over seeds.", "",
             "| data | cell | target | " + " | ".join(f"{a:.0%}" for a in amounts) + " |",
             "|---|---|---|" + "---:|" * len(amounts)]
    groups: defaultdict[tuple, defaultdict[float, list[tuple[float, float]]]] = defaultdict(
        lambda: defaultdict(list))
    for r in rows:
        groups[(r["dataset"], r["cell"], r["target"])][round(r["amount"], 2)].append(
            (r["test_accuracy_before"] * 100, r["test_accuracy_after"] * 100))
    for (data, cell, target), d in groups.items():
        cells = []
        for a in amounts:
            v = np.array(d.get(a, []))
            cells.append(f"{v[:, 0].mean():.0f} → {v[:, 1].mean():.0f}" if len(v) else "–")
        lines.append(f"| {data} | {cell} | {target} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_rnn(rows: list[dict], out) -> None:
    plt = _plt()
    for data in dict.fromkeys(r["dataset"] for r in rows):
        cells = list(dict.fromkeys(r["cell"] for r in rows))
        fig, axes = plt.subplots(1, len(cells), figsize=(4.2 * len(cells), 3.8), squeeze=False)
        for ax, cell in zip(axes[0], cells):
            for target, colour in (("both", "tab:red"), ("i2h", "tab:blue"),
                                   ("h2h", "tab:green")):
                sel = [r for r in rows if r["dataset"] == data and r["cell"] == cell
                       and r["target"] == target]
                if not sel:
                    continue
                amounts = sorted({r["amount"] for r in sel})
                for key, style, label in (("test_accuracy_before", "--", "pruned"),
                                          ("test_accuracy_after", "-", "+1 epoch")):
                    acc = [np.mean([r[key] for r in sel if r["amount"] == a]) * 100
                           for a in amounts]
                    ax.plot(np.array(amounts) * 100, acc, style, marker="o", ms=3,
                            color=colour, label=f"{target}, {label}")
            ax.set_title(f"{cell} on {data}")
            ax.set_xlabel("pruned weights per layer (%)")
            ax.set_ylabel("test accuracy (%)")
            ax.set_ylim(40, 102)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=6)
        fig.tight_layout()
        fig.savefig(Path(out) / f"prune_rnn_{data}.png", dpi=110)
        plt.close(fig)
