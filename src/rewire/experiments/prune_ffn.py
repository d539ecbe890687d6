"""deepstruct Figure 2a: five pruning methods × schemes on MNIST feed-forward nets.

For every (model, seed) a dense base net is trained once (stage ``base``). Every task of
stage ``runs`` then starts from that base and runs one (method, scheme) path, with or without
one re-training epoch after each pruning step, recording test accuracy at each sparsity
reached. One-shot pruning prunes the base afresh to each level of the grid. The engine
(:mod:`rewire.experiments.engine`) runs both stages; re-running the command resumes.
"""

from __future__ import annotations

import copy
from dataclasses import asdict
from pathlib import Path

import torch

from .. import prune
from ..configs import PruneFFNConfig
from ..data import load_dataset
from ..files import atomic_torch_save
from ..models import create_model
from ..runs import write_summary
from ..seeds import derive
from ..sparse import sparsity
from ..train import evaluate, fit
from .engine import Stage, Sweep, Task, run_sweep, sibling

__all__ = ["PruneFFNConfig", "run_prune_ffn", "prune_ffn_sweep", "summarize_prune_ffn",
           "ONE_SHOT_GRID"]

ONE_SHOT_GRID = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98]


def _base_name(model: str, seed: int) -> str:
    return f"{model}_seed{seed}"


def _base(folder: str, cfg: dict, model: str, seed: int) -> dict:
    """Train the dense base net into ``folder/model.pt``; returns its test and validation
    accuracy (the summary reports the nets every pruning run starts from)."""
    f = Path(folder)
    c = PruneFFNConfig(**cfg)
    data = load_dataset(c.dataset, c.data_dir)
    torch.manual_seed(seed)
    net = create_model(model, data.input_shape, data.num_classes)
    fit(net, data.train, data.val, epochs=c.base_epochs, lr=c.lr, batch_size=c.batch_size,
        optimizer=c.optimizer, weight_decay=c.weight_decay, keep_best=True, seed=seed,
        checkpoint=f / "checkpoint.pt", log=f / "metrics.jsonl", progress=False,
        stage=f"base {model}")
    atomic_torch_save(net.state_dict(), f / "model.pt")
    return {"model": model, "seed": seed, "test_accuracy": evaluate(net, data.test)["accuracy"],
            "val_accuracy": evaluate(net, data.val)["accuracy"]}


def _task(folder: str, cfg: dict, model: str, seed: int, method: str, scheme: str,
          retrained: bool) -> list[dict]:
    c = PruneFFNConfig(**cfg)
    data = load_dataset(c.dataset, c.data_dir)
    fresh = create_model(model, data.input_shape, data.num_classes)
    base = sibling(folder, "base", _base_name(model, seed)) / "model.pt"
    fresh.load_state_dict(torch.load(base, weights_only=True))
    obd_data = (data.train.x[: c.obd_examples], data.train.y[: c.obd_examples])
    rows: list[dict] = []
    common = {"model": model, "method": method, "scheme": scheme, "retrained": retrained,
              "seed": seed}

    def record(net, amount: float) -> None:
        if retrained:
            fit(net, data.train, epochs=c.retrain_epochs, lr=c.lr, batch_size=c.batch_size,
                optimizer=c.optimizer, weight_decay=c.weight_decay,
                seed=derive(seed, "retrain", len(rows)), progress=False, stage="retrain")
        rows.append({**common, "amount": round(amount, 6),
                     "sparsity": round(float(sparsity(net)), 6),
                     "test_accuracy": evaluate(net, data.test)["accuracy"],
                     "val_accuracy": evaluate(net, data.val)["accuracy"]})

    if scheme == "one-shot":
        for amount in ONE_SHOT_GRID:
            net = copy.deepcopy(fresh)
            m, scope = prune.make_method(method, seed, obd_data)
            prune.apply_pruning(net, m, amount, scope)
            record(net, amount)
    else:
        net = copy.deepcopy(fresh)
        m, scope = prune.make_method(method, seed, obd_data)
        sch = prune.make_scheme(scheme, c.amount, c.steps, c.rate, c.bucket)
        prune.prune_with_scheme(net, m, sch, scope, after_step=lambda a: record(net, a))
    return rows


def prune_ffn_sweep(cfg: PruneFFNConfig) -> Sweep:
    """Base nets, then one task per (seed, model, retrained, method, scheme)."""
    c = asdict(cfg)
    base = Stage("base", _base, [Task(_base_name(m, s), {"cfg": c, "model": m, "seed": s})
                                 for m in cfg.models for s in cfg.seeds], "base nets")
    runs = Stage("runs", _task, [
        Task(f"{m}_{me}_{sc}_{'re' if r else 'no'}_seed{s}",
             {"cfg": c, "model": m, "seed": s, "method": me, "scheme": sc, "retrained": r})
        for s in cfg.seeds for m in cfg.models for r in (True, False)
        for me in cfg.methods for sc in cfg.schemes], "pruning runs")
    return Sweep("prune-ffn", cfg, [base, runs], lambda results, out: summarize_prune_ffn(
        [r for rows in results[1] for r in rows], out, results[0]))


def run_prune_ffn(cfg: PruneFFNConfig, out, workers: int = 1,
                  ray_address: str | None = None) -> dict:
    unknown = [m for m in cfg.methods if m not in prune.METHODS]
    if unknown:
        raise ValueError(f"unknown pruning method {unknown[0]!r}; expected one of "
                         f"{', '.join(prune.METHODS)}")
    for name in cfg.schemes:
        prune.make_scheme(name, cfg.amount, cfg.steps, cfg.rate, cfg.bucket)
    load_dataset(cfg.dataset, cfg.data_dir)  # fetch once, and fail before any folder
    return run_sweep(prune_ffn_sweep(cfg), out, workers, ray_address)


def summarize_prune_ffn(rows: list[dict], out, base: list[dict] | None = None) -> dict:
    """results.json: ``rows`` (one per pruned net) and ``base`` (the dense nets they start
    from); table.md and the plots."""
    from .prune_plots import ffn_table, plot_ffn

    summary = {"rows": rows, **({"base": base} if base else {})}
    write_summary(out, summary, ffn_table(rows))
    plot_ffn(rows, out)
    return summary
