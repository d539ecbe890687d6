"""deepstruct Figures 2b, 3 and 5: pruning recurrent nets on the Reber grammar.

For every (dataset, cell, seed) a base ReberRNN (embedding, three recurrent layers of 50,
linear head) is trained once. Each task prunes a copy of that base: the input-to-hidden
weights ("i2h"), the hidden-to-hidden weights ("h2h") or both, by magnitude per layer (the
threshold is the p-th percentile of |w| in each layer, as in the paper), at one amount; it
records test accuracy before and after one re-training epoch. By default each amount starts
from the base, so "before" is the base pruned to exactly that level. With ``iterative`` the
levels run in order on one net: each prunes the net re-trained at the previous level (the
paper calls its Figure 5 "iterative magnitude percentage pruning"; both readings fit its text).
"""

from __future__ import annotations

import copy
from dataclasses import asdict
from pathlib import Path

import torch

from .. import prune
from ..configs import TARGETS, PruneRNNConfig
from ..data import load_dataset
from ..files import atomic_torch_save
from ..models import create_model
from ..runs import write_summary
from ..seeds import derive
from ..sparse.masks import prunable_weights
from ..train import evaluate, fit
from .engine import Stage, Sweep, Task, run_sweep, sibling

__all__ = ["PruneRNNConfig", "run_prune_rnn", "summarize_prune_rnn", "prune_rnn_sweep",
           "TARGETS", "target_layers"]


def target_layers(model, target: str) -> list[str]:
    """The recurrent weights a target names: ``weight_ih_l*``, ``weight_hh_l*`` or both."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; expected one of {', '.join(TARGETS)}")
    keys = {"i2h": ("weight_ih",), "h2h": ("weight_hh",), "both": ("weight_ih", "weight_hh")}
    layers = [n for n in prunable_weights(model) if any(k in n for k in keys[target])]
    if not layers:
        raise ValueError(f"{type(model).__name__} has no recurrent {target} weights")
    return layers


ADDED_OPTIONS = {"iterative": False}  # runs started before it existed


def _base_name(dataset: str, cell: str, seed: int) -> str:
    return f"{dataset}_{cell}_seed{seed}"


def _base(folder: str, cfg: dict, dataset: str, cell: str, seed: int) -> str:
    """Train the base RNN into ``folder/model.pt``."""
    f = Path(folder)
    c = PruneRNNConfig(**cfg)
    data = load_dataset(dataset, c.data_dir)
    torch.manual_seed(seed)
    net = create_model("reber-rnn", data.input_shape, 2, cell=cell)
    fit(net, data.train, data.val, epochs=c.base_epochs, lr=c.lr, batch_size=c.batch_size,
        clip_grad_norm=c.clip, keep_best=True, patience=4, seed=seed,
        checkpoint=f / "checkpoint.pt", log=f / "metrics.jsonl", progress=False,
        stage=f"base {cell}")
    atomic_torch_save(net.state_dict(), f / "model.pt")
    return _base_name(dataset, cell, seed)


def _task(folder: str, cfg: dict, dataset: str, cell: str, seed: int,
          target: str) -> list[dict]:
    c = PruneRNNConfig(**cfg)
    data = load_dataset(dataset, c.data_dir)
    fresh = create_model("reber-rnn", data.input_shape, 2, cell=cell)
    base = sibling(folder, "base", _base_name(dataset, cell, seed)) / "model.pt"
    fresh.load_state_dict(torch.load(base, weights_only=True))
    base_acc = evaluate(fresh, data.test)["accuracy"]
    rows, net = [], fresh  # iterative: this one net goes through every level
    for amount in sorted(c.amounts) if c.iterative else c.amounts:
        if not c.iterative:
            net = copy.deepcopy(fresh)  # every level from the base
        prune.magnitude(net, amount, scope="layer", layers=target_layers(net, target))
        before = evaluate(net, data.test)["accuracy"]
        fit(net, data.train, epochs=c.retrain_epochs, lr=c.lr, batch_size=c.batch_size,
            clip_grad_norm=c.clip, seed=derive(seed, "retrain", round(amount * 1e6)),
            progress=False, stage="retrain")
        rows.append({"dataset": dataset, "cell": cell, "target": target, "amount": amount,
                     "seed": seed, "base_test_accuracy": base_acc,
                     "test_accuracy_before": before,
                     "test_accuracy_after": evaluate(net, data.test)["accuracy"]})
    return rows


def prune_rnn_sweep(cfg: PruneRNNConfig) -> Sweep:
    """Base RNNs, then one task per (dataset, seed, cell, target)."""
    c = asdict(cfg)
    base = Stage("base", _base, [
        Task(_base_name(d, cell, s), {"cfg": c, "dataset": d, "cell": cell, "seed": s})
        for d in cfg.datasets for cell in cfg.cells for s in cfg.seeds], "base RNNs")
    runs = Stage("runs", _task, [
        Task(f"{d}_{cell}_{t}_seed{s}",
             {"cfg": c, "dataset": d, "cell": cell, "seed": s, "target": t})
        for d in cfg.datasets for s in cfg.seeds for cell in cfg.cells
        for t in cfg.targets], "RNN pruning")
    return Sweep("prune-rnn", cfg, [base, runs], lambda results, out: summarize_prune_rnn(
        [r for rows in results[1] for r in rows], out), ADDED_OPTIONS)


def run_prune_rnn(cfg: PruneRNNConfig, out, workers: int = 1,
                  ray_address: str | None = None) -> dict:
    for t in cfg.targets:
        if t not in TARGETS:
            raise ValueError(f"unknown target {t!r}; expected one of {', '.join(TARGETS)}")
    for a in cfg.amounts:
        prune.check_amount(a)
    for d in cfg.datasets:
        load_dataset(d, cfg.data_dir)  # fetch once, and fail before any folder
    return run_sweep(prune_rnn_sweep(cfg), out, workers, ray_address)


def summarize_prune_rnn(rows: list[dict], out) -> dict:
    from .prune_plots import plot_rnn, rnn_table

    summary = {"rows": rows}
    write_summary(out, summary, rnn_table(rows))
    plot_rnn(rows, out)
    return summary
