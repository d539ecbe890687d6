"""FreeNets Table 2 and Figures 4-7: FreeEvolve against the parameter-matched FCNN.

One run (:func:`run_freenet`) trains FreeNet(k) with FreeEvolve and the matched FCNN on the
same data, budget and seed, into ``OUT/freenet/`` and ``OUT/fcnn/``, and writes
``OUT/results.json`` and the plots. The table (:func:`run_table`) runs one such folder per
(dataset, k, seed) through the executor and summarises them. Re-running resumes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path
from typing import cast

import numpy as np
import torch

from ..configs import PAPER_KS, FreeNetRun, FreeNetTableRun, identity
from ..data import Split, Splits, load_dataset
from ..freenet import EvolveConfig, FreeNet, count_params, fcnn, free_evolve, matched_width
from ..freenet.evolve import read_updates
from ..freenet.inference import LiveFreeNet
from ..runs import RunFolder, write_summary
from ..train import evaluate, fit
from .engine import Stage, Sweep, Task, run_sweep
from .reports import paper

__all__ = ["FreeNetRun", "run_freenet", "run_table", "table_sweep", "summarize_table",
           "PAPER_TABLE2", "PAPER_KS"]

PAPER_TABLE2 = {  # FreeNets Table 2 (test accuracy %, FreeEvolve / FCNN), from paper.json
    d: (v["freeevolve"], v["fcnn"]) for d, v in paper("table2")["test_percent"].items()}


def evolve_config(cfg: FreeNetRun) -> EvolveConfig:
    return EvolveConfig(epochs=cfg.epochs, epsilon=cfg.epsilon, iterations=cfg.iterations,
                        update_every=cfg.update_every, stats_examples=cfg.stats_examples,
                        lr=cfg.lr, batch_size=cfg.batch_size, weight_decay=cfg.weight_decay,
                        seed=cfg.seed, device=cfg.device)


# Options added while the first Table 2 run was under way: runs without them still resume.
LATER_OPTIONS = {"dropout": 0.0, "weight_decay": 0.0}


def run_freenet(cfg: FreeNetRun, out=None, progress: bool = True) -> dict:
    """Train FreeNet(k) by FreeEvolve and the matched FCNN; returns the results record."""
    out = Path(out or cast(str, cfg.out))  # --out is required
    run = RunFolder(out, {"experiment": "freenet", **identity(cfg)}, LATER_OPTIONS)
    if run.file("results.json").is_file():
        return json.loads(run.file("results.json").read_text())
    data = load_dataset(cfg.dataset, cfg.data_dir)
    if cfg.standardize:
        data = standardized(data)
    d_in = int(np.prod(data.input_shape))
    torch.manual_seed(cfg.seed)
    net = FreeNet(d_in, cfg.k, data.num_classes, dropout=cfg.dropout)
    dense_params = count_params(net)
    history = free_evolve(net, data.train, data.val, evolve_config(cfg), out / "freenet",
                          progress=progress)
    test_accuracy = evaluate(net, data.test, device=cfg.device)["accuracy"]
    net.cpu()
    live = LiveFreeNet.from_model(net)
    res = {
        "dataset": cfg.dataset, "k": cfg.k, "seed": cfg.seed, "epsilon": cfg.epsilon,
        "epochs": cfg.epochs, **({"data_note": data.note} if data.note else {}),
        "freenet_test_accuracy": test_accuracy,
        "freenet_val_accuracy": max(r["val_accuracy"] for r in history),
        "freenet_params": dense_params, "freenet_live_params": count_params(net),
        "live_edges": net.live_edges, "dense_edges": cfg.k * (cfg.k - 1) // 2,
        "depth": len(net.levels()), "graph_updates": len(read_updates(out / "freenet" /
                                                                      "updates.jsonl")),
        "inference_macs": live.macs(), "dense_macs": live.dense_macs(),
    }
    torch.save({"state_dict": net.state_dict(), "in_features": d_in, "k": cfg.k,
                "num_classes": data.num_classes}, out / "freenet" / "model.pt")
    if cfg.baseline == "fcnn":
        width = matched_width(d_in, data.num_classes, dense_params)
        torch.manual_seed(cfg.seed)
        base = fcnn(d_in, width, data.num_classes, dropout=cfg.dropout)
        hist = fit(base, data.train, data.val, epochs=cfg.epochs, lr=cfg.lr,
                   batch_size=cfg.batch_size, weight_decay=cfg.weight_decay, keep_best=True,
                   seed=cfg.seed, checkpoint=out / "fcnn" / "checkpoint.pt",
                   log=out / "fcnn" / "metrics.jsonl", stage="fcnn", progress=progress,
                   device=cfg.device)
        res.update(fcnn_test_accuracy=evaluate(base, data.test, device=cfg.device)["accuracy"],
                   fcnn_val_accuracy=max(r["val_accuracy"] for r in hist),
                   fcnn_params=count_params(base), fcnn_width=width)
    run.write_results(res)
    from .freenet_plots import plot_run

    plot_run(out)
    return res


def standardized(data: Splits) -> Splits:
    """Every split shifted and scaled by the mean and std of the training pixels."""
    mean, std = data.train.x.mean(), data.train.x.std()

    def f(s: Split) -> Split:
        return Split((s.x - mean) / std, s.y)

    return replace(data, train=f(data.train), val=f(data.val), test=f(data.test))


def _table_task(folder: str, cfg: dict) -> dict:
    return run_freenet(FreeNetRun(**cfg), folder, progress=False)


def table_sweep(cfg: FreeNetTableRun) -> Sweep:
    """One FreeNet run folder per (seed, dataset, k): a whole table per seed first."""
    tasks = [Task(f"{d}_k{k}_seed{s}", {"cfg": asdict(cfg.run(d, k, s))})
             for s in cfg.seeds for d in cfg.datasets for k in cfg.ks]
    return Sweep("freenet-table", cfg, [Stage("runs", _table_task, tasks, "FreeNet runs")],
                 lambda results, out: summarize_table(results[0], out), LATER_OPTIONS)


def run_table(cfg: FreeNetTableRun, out=None) -> dict:
    """Every (dataset, k, seed) as its own run folder under ``OUT/runs``; then the summary."""
    for d in cfg.datasets:
        load_dataset(d, cfg.data_dir, download=cfg.download)  # fetch once, up front
    return run_sweep(table_sweep(cfg), out or cfg.out, cfg.workers, cfg.ray_address)


def summarize_table(results: list[dict], out) -> dict:
    """results.json rows (one per model), table.md and accuracy_vs_k.png."""
    from .freenet_plots import markdown_table, plot_table

    rows = []
    for r in results:
        common = {"dataset": r["dataset"], "k": r["k"], "seed": r["seed"]}
        rows.append({**common, "model": "freenet", "test_accuracy": r["freenet_test_accuracy"],
                     "val_accuracy": r["freenet_val_accuracy"], "params": r["freenet_params"],
                     "live_params": r["freenet_live_params"], "live_edges": r["live_edges"]})
        if "fcnn_test_accuracy" in r:
            rows.append({**common, "model": "fcnn", "test_accuracy": r["fcnn_test_accuracy"],
                         "val_accuracy": r["fcnn_val_accuracy"], "params": r["fcnn_params"],
                         "width": r["fcnn_width"]})
    summary = {"rows": rows}
    write_summary(out, summary, markdown_table(rows))
    plot_table(rows, Path(out) / "accuracy_vs_k.png")
    return summary
