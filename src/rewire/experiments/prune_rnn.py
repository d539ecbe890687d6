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
import json
from dataclasses import asdict
from pathlib import Path

import torch

from .. import prune
from ..configs import TARGETS, PruneRNNConfig, identity
from ..data import load_dataset
from ..models import create_model
from ..runs import RunFolder, write_json, write_summary
from ..sparse.masks import prunable_weights
from ..train import evaluate, fit
from ..seeds import derive
from .executor import run_tasks

__all__ = ["PruneRNNConfig", "run_prune_rnn", "summarize_prune_rnn", "TARGETS",
           "target_layers"]



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


def _base(cfg: dict, dataset: str, cell: str, seed: int, path: str) -> str:
    p = Path(path)
    if p.is_file():
        return path
    c = PruneRNNConfig(**cfg)
    data = load_dataset(dataset, c.data_dir)
    torch.manual_seed(seed)
    net = create_model("reber-rnn", data.input_shape, 2, cell=cell)
    fit(net, data.train, data.val, epochs=c.base_epochs, lr=c.lr, batch_size=c.batch_size,
        clip_grad_norm=c.clip, keep_best=True, patience=4, seed=seed,
        checkpoint=p.with_suffix(".ckpt"), log=p.with_suffix(".jsonl"), progress=False,
        stage=f"base {cell}")
    torch.save(net.state_dict(), p)
    return path


def _task(cfg: dict, dataset: str, cell: str, seed: int, target: str, base: str,
          out: str) -> list[dict]:
    done = Path(out) / "rows.json"
    if done.is_file():
        return json.loads(done.read_text())
    c = PruneRNNConfig(**cfg)
    data = load_dataset(dataset, c.data_dir)
    fresh = create_model("reber-rnn", data.input_shape, 2, cell=cell)
    fresh.load_state_dict(torch.load(base, weights_only=True))
    base_acc = evaluate(fresh, data.test)["accuracy"]
    rows, net = [], fresh  # iterative: this one net goes through every level
    for amount in sorted(c.amounts) if c.iterative else c.amounts:
        if not c.iterative:
            net = copy.deepcopy(fresh)  # every level from the base
        prune.magnitude(net, amount, scope="layer", layers=target_layers(net, target))
        before = evaluate(net, data.test)["accuracy"]
        fit(net, data.train, epochs=c.retrain_epochs, lr=c.lr, batch_size=c.batch_size,
            clip_grad_norm=c.clip, seed=derive(seed, "retrain", round(amount * 1e6)), progress=False,
            stage="retrain")
        rows.append({"dataset": dataset, "cell": cell, "target": target, "amount": amount,
                     "seed": seed, "base_test_accuracy": base_acc,
                     "test_accuracy_before": before,
                     "test_accuracy_after": evaluate(net, data.test)["accuracy"]})
    write_json(done, rows)
    return rows


def run_prune_rnn(cfg: PruneRNNConfig, out, workers: int = 1,
                  ray_address: str | None = None) -> dict:
    out = Path(out)
    RunFolder(out, {"experiment": "prune-rnn", **identity(cfg)}, defaults=ADDED_OPTIONS)
    for t in cfg.targets:
        if t not in TARGETS:
            raise ValueError(f"unknown target {t!r}; expected one of {', '.join(TARGETS)}")
    for a in cfg.amounts:
        prune.check_amount(a)
    for d in cfg.datasets:
        load_dataset(d, cfg.data_dir)
    c = asdict(cfg)
    bases = {(d, cell, s): str(out / "base" / f"{d}_{cell}_seed{s}.pt")
             for d in cfg.datasets for cell in cfg.cells for s in cfg.seeds}
    run_tasks(_base, [{"cfg": c, "dataset": d, "cell": cell, "seed": s, "path": p}
                      for (d, cell, s), p in bases.items()], workers,
              ray_address=ray_address, desc="base RNNs")
    tasks = [{"cfg": c, "dataset": d, "cell": cell, "seed": s, "target": t,
              "base": bases[d, cell, s], "out": str(out / "runs" / f"{d}_{cell}_{t}_seed{s}")}
             for d in cfg.datasets for s in cfg.seeds for cell in cfg.cells
             for t in cfg.targets]
    results = run_tasks(_task, tasks, workers, ray_address=ray_address, desc="RNN pruning")
    return summarize_prune_rnn([r for rows in results for r in rows], out)


def summarize_prune_rnn(rows: list[dict], out) -> dict:
    from .prune_plots import plot_rnn, rnn_table

    summary = {"rows": rows}
    write_summary(out, summary, rnn_table(rows))
    plot_rnn(rows, out)
    return summary
