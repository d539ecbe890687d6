"""deepstruct Figure 7 and Table 1: random-graph structural priors for sparse RNNs on Reber.

For every generator (Watts–Strogatz, Barabási–Albert) and graph seed one random graph is
drawn and oriented into a DAG (the same graph for every cell type), embedded as a
:class:`rewire.models.GraphRNN`, trained briefly, and tested. Every row carries the graph's
properties (:func:`rewire.graphs.graph_features`), so the summary can correlate properties
with accuracy (Table 1) and predict accuracy from structure (:mod:`rewire.predict`).

A graph's accuracy after a short training is one noisy draw: the first ``noise_graphs``
graphs of each generator are trained again with ``noise_seeds`` other training seeds, and
the summary reports how much of the accuracy variance between graphs is training noise, and
so the best R² any predictor from structure alone could reach (``noise``).
"""

from __future__ import annotations

import functools
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from ..configs import PriorsConfig
from ..data import Split, load_dataset
from ..graphs import FEATURES, graph_features, random_prior
from ..models import CELLS, GraphRNN
from ..predict import REGRESSORS, pearson_table, prediction_r2
from ..runs import write_summary
from ..seeds import derive
from ..train import evaluate, fit
from .engine import Stage, Sweep, Task, run_sweep
from .reports import paper

__all__ = ["PriorsConfig", "run_priors", "priors_sweep", "summarize_priors", "PREDICT_FEATURES"]

# Every property of the flat record except the redundant variances' square roots.
PREDICT_FEATURES = FEATURES + ["sinks", "eccentricity_mean", "degree_mean", "closeness_mean",
                               "node_betweenness_mean", "edge_betweenness_mean"]


ADDED_OPTIONS = {"noise_graphs": 5, "noise_seeds": 3}  # runs started before they existed

_load = functools.cache(load_dataset)  # a worker reads its data once, not once per training


def _task(folder: str, cfg: dict, generator: str, seed: int, cell: str,
          repeat: int = 0) -> dict:
    """Train the graph of ``seed`` once; ``repeat`` r > 0 trains it again with training seed
    ``derive(seed, "repeat", r)`` (initialisation and batch order) on the same graph."""
    c = PriorsConfig(**cfg)
    data = _load(c.dataset, c.data_dir)
    train = Split(data.train.x[: c.train_examples], data.train.y[: c.train_examples])
    dag = random_prior(generator, seed, c.nodes)
    train_seed = derive(seed, "repeat", repeat) if repeat else seed
    torch.manual_seed(train_seed)
    net = GraphRNN(dag, cell)
    hist = fit(net, train, data.val, epochs=c.epochs, lr=c.lr, batch_size=c.batch_size,
               clip_grad_norm=c.clip, keep_best=True, seed=train_seed, progress=False,
               stage=f"prior {cell}")
    row = {"dataset": c.dataset, "generator": generator, "graph_seed": seed, "cell": cell,
           "train_seed": train_seed,
           "test_accuracy": evaluate(net, data.test)["accuracy"],
           "val_accuracy": max(r["val_accuracy"] for r in hist),
           "params": sum(p.numel() for p in net.parameters()),
           **graph_features(dag)}
    return row


def priors_sweep(cfg: PriorsConfig) -> Sweep:
    """One task per (graph, generator, cell), then the repeated trainings of the first
    ``noise_graphs`` graphs."""
    c = asdict(cfg)
    tasks = [Task(f"{g}_{s:03d}_{cell}", {"cfg": c, "generator": g, "seed": s, "cell": cell})
             for s in range(cfg.graphs) for g in cfg.generators for cell in cfg.cells]
    tasks += [Task(f"{t.name}_r{r}", {**t.args, "repeat": r}) for t in tasks
              if t.args["seed"] < cfg.noise_graphs for r in range(1, cfg.noise_seeds + 1)]
    return Sweep("priors", cfg, [Stage("runs", _task, tasks, "prior RNNs")],
                 lambda results, out: summarize_priors(results[0], out), ADDED_OPTIONS)


def run_priors(cfg: PriorsConfig, out, workers: int = 1, ray_address: str | None = None) -> dict:
    for g in cfg.generators:
        random_prior(g, 0, cfg.nodes)  # validates the generator name
    load_dataset(cfg.dataset, cfg.data_dir)  # fetch once, and fail before any folder
    return run_sweep(priors_sweep(cfg), out, workers, ray_address)


def summarize_priors(rows: list[dict], out) -> dict:
    """results.json with rows (one per graph and cell), ``repeat_rows`` (the same graphs
    trained again), ``pearson`` {cell: {property: r}}, ``r2`` {cell: {regressor: mean
    held-out R² over repeated splits}}, ``r2_std`` (its spread over the splits),
    ``r2_one_split`` (the first split alone) and ``noise`` {cell: training-noise record};
    table.md; accuracy by generator (Fig 7)."""
    out = Path(out)
    repeats = [r for r in rows if r.get("train_seed", r["graph_seed"]) != r["graph_seed"]]
    rows = [r for r in rows if r.get("train_seed", r["graph_seed"]) == r["graph_seed"]]
    present = {r["cell"] for r in rows}
    cells = [c for c in CELLS if c in present]  # the paper's order: tanh, relu, lstm, gru
    pearson, r2 = {}, {}
    for cell in cells:
        sel = [r for r in rows if r["cell"] == cell]
        if len(sel) >= 3:
            pearson[cell] = pearson_table(sel, FEATURES)
        if len(sel) >= 10:
            r2[cell] = prediction_r2(sel, PREDICT_FEATURES)
    summary = {"rows": rows, "repeat_rows": repeats, "noise": training_noise(rows, repeats),
               "pearson": pearson,
               **{key: {c: {g: v[stat] for g, v in d.items()} for c, d in r2.items()}
                  for key, stat in [("r2", "mean"), ("r2_std", "std"),
                                    ("r2_one_split", "first")]}}
    write_summary(out, summary, priors_tables(summary))
    plot_priors(rows, out / "accuracy_by_generator.png")
    return summary


def training_noise(rows: list[dict], repeats: list[dict], min_accuracy: float = 0.0) -> dict:
    """Per cell: the std of test accuracy between graphs (one training each), the std
    between trainings of the same graph (pooled over the repeated graphs), and the R²
    ceiling 1 - within/between variance: the share of the between-graph variance that is
    not training noise, so the most a predictor from structure alone can explain.
    ``min_accuracy`` leaves out failed trainings: graphs whose first training, and repeated
    graphs any of whose trainings, scored below it."""
    out = {}
    for cell in dict.fromkeys(r["cell"] for r in repeats):
        first = {(r["generator"], r["graph_seed"]): r["test_accuracy"] for r in rows
                 if r["cell"] == cell and r["test_accuracy"] >= min_accuracy}
        groups: dict = {}
        for r in repeats:
            if r["cell"] == cell:
                groups.setdefault((r["generator"], r["graph_seed"]), []).append(
                    r["test_accuracy"])
        accs = [[first[k], *v] for k, v in groups.items()
                if k in first and min(v) >= min_accuracy]
        if not accs or len(first) < 3:
            continue
        within = float(np.mean([np.var(a, ddof=1) for a in accs]))
        between = float(np.var(list(first.values()), ddof=1))
        out[cell] = {"graphs": len(accs), "trainings_per_graph": len(accs[0]),
                     "between_graph_std": between ** 0.5, "within_graph_std": within ** 0.5,
                     "r2_ceiling": 1 - within / between if between > 0 else None}
    return out


# The paper's Table 1 (Pearson r per property; tanh, relu, lstm, gru) and its R² of section
# 4.3 (Bayesian ridge, random forest, AdaBoost per cell type), from paper.json.
PAPER_PEARSON = {f: tuple(v) for f, v in paper("table1")["pearson"].items()}
PAPER_R2 = {c: tuple(v) for c, v in paper("r2-4.3")["r2"].items()}


def priors_tables(summary: dict) -> str:
    cells = list(summary["pearson"])
    lines = ["## Pearson correlation of graph properties with test accuracy (Table 1)", "",
             "| property | " + " | ".join(cells) + " | paper (tanh / relu / lstm / gru) |",
             "|---|" + "---:|" * len(cells) + "---|"]
    for f in FEATURES:
        vals = [summary["pearson"][c].get(f) for c in cells]
        paper = PAPER_PEARSON.get(f)
        lines.append(f"| {f} | " + " | ".join("–" if v is None else f"{v:.2f}" for v in vals)
                     + f" | {' / '.join(f'{p:.2f}' for p in paper) if paper else ''} |")
    lines += ["", "## R² of structural performance prediction", "",
              "Held-out 30%: mean ± std over 10 random splits; in brackets the first split "
              "alone (one split, as the paper reports).", "",
              "| cell | " + " | ".join(REGRESSORS) + " | paper (" + " / ".join(REGRESSORS) + ") |",
              "|---|" + "---:|" * len(REGRESSORS) + "---|"]
    for c, d in summary["r2"].items():
        sd, one = summary["r2_std"][c], summary["r2_one_split"][c]
        paper = PAPER_R2.get(c)
        lines.append(f"| {c} | " + " | ".join(f"{d[r]:.2f} ± {sd[r]:.2f} ({one[r]:.2f})"
                                               for r in REGRESSORS)
                     + f" | {' / '.join(f'{p:.2f}' for p in paper) if paper else ''} |")
    if summary.get("noise"):
        lines += ["", "## Training noise: the ceiling on any structural prediction", "",
                  "The first graphs of each generator trained again with other seeds. "
                  "Ceiling = 1 − (within-graph variance) / (between-graph variance).", "",
                  "| cell | graphs × trainings | accuracy std between graphs | "
                  "std between trainings of one graph | R² ceiling |", "|---|---:|---:|---:|---:|"]
        for c, d in summary["noise"].items():
            ceil = "–" if d["r2_ceiling"] is None else f"{d['r2_ceiling']:.2f}"
            lines.append(f"| {c} | {d['graphs']} × {d['trainings_per_graph']} | "
                         f"{d['between_graph_std'] * 100:.2f} | "
                         f"{d['within_graph_std'] * 100:.2f} | {ceil} |")
    n = {c: sum(1 for r in summary["rows"] if r["cell"] == c) for c in cells}
    lines += ["", "Graphs per cell type: " + ", ".join(f"{c} {v}" for c, v in n.items()), ""]
    return "\n".join(lines)


def plot_priors(rows: list[dict], path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = list(dict.fromkeys(r["cell"] for r in rows))
    gens = list(dict.fromkeys(r["generator"] for r in rows))
    fig, axes = plt.subplots(1, len(cells), figsize=(3.6 * len(cells), 3.6), squeeze=False)
    for ax, cell in zip(axes[0], cells):
        data = [[r["test_accuracy"] * 100 for r in rows if r["cell"] == cell
                 and r["generator"] == g] for g in gens]
        ax.boxplot(data, tick_labels=[g.replace("-", "–\n") for g in gens])
        ax.set_title(cell)
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
