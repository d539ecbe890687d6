"""deepstruct Figure 2a: five pruning methods × schemes on MNIST feed-forward nets.

For every (model, seed) a dense base net is trained once (``OUT/base/``). Every task then
starts from that base and runs one (method, scheme) path, with or without one re-training
epoch after each pruning step, recording test accuracy at each sparsity reached. One-shot
pruning prunes the base afresh to each level of the grid. Tasks are run folders under
``OUT/runs``; a finished one is skipped, so re-running the command resumes.
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict
from pathlib import Path

import torch

from .. import prune
from ..configs import PruneFFNConfig, identity
from ..data import load_dataset
from ..files import atomic_torch_save, read_json
from ..models import create_model
from ..runs import RunFolder, write_json, write_summary
from ..sparse import sparsity
from ..train import evaluate, fit
from ..seeds import derive
from .executor import run_tasks

__all__ = ["PruneFFNConfig", "run_prune_ffn", "summarize_prune_ffn", "ONE_SHOT_GRID"]

ONE_SHOT_GRID = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98]


def _base(cfg: dict, model: str, seed: int, path: str) -> dict:
    """Train (or find) the dense base net; returns its test and validation accuracy, kept
    beside it (``.json``) so the summary reports the nets every pruning run starts from."""
    p = Path(path)
    c = PruneFFNConfig(**cfg)
    if p.with_suffix(".json").is_file():
        return read_json(p.with_suffix(".json"))
    data = load_dataset(c.dataset, c.data_dir)
    torch.manual_seed(seed)
    net = create_model(model, data.input_shape, data.num_classes)
    if p.is_file():
        net.load_state_dict(torch.load(p, weights_only=True))
    else:
        fit(net, data.train, data.val, epochs=c.base_epochs, lr=c.lr, batch_size=c.batch_size,
            optimizer=c.optimizer, weight_decay=c.weight_decay, keep_best=True, seed=seed,
            checkpoint=p.with_suffix(".ckpt"), log=p.with_suffix(".jsonl"), progress=False,
            stage=f"base {model}")
        atomic_torch_save(net.state_dict(), p)
    record = {"model": model, "seed": seed, "test_accuracy": evaluate(net, data.test)["accuracy"],
              "val_accuracy": evaluate(net, data.val)["accuracy"]}
    write_json(p.with_suffix(".json"), record)
    return record


def _task(cfg: dict, model: str, seed: int, method: str, scheme: str, retrained: bool,
          base: str, out: str) -> list[dict]:
    done = Path(out) / "rows.json"
    if done.is_file():
        return json.loads(done.read_text())
    c = PruneFFNConfig(**cfg)
    data = load_dataset(c.dataset, c.data_dir)
    fresh = create_model(model, data.input_shape, data.num_classes)
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
    write_json(done, rows)
    return rows


def run_prune_ffn(cfg: PruneFFNConfig, out, workers: int = 1,
                  ray_address: str | None = None) -> dict:
    out = Path(out)
    RunFolder(out, {"experiment": "prune-ffn", **identity(cfg)})
    load_dataset(cfg.dataset, cfg.data_dir)  # fetch once
    unknown = [m for m in cfg.methods if m not in prune.METHODS]
    if unknown:
        raise ValueError(f"unknown pruning method {unknown[0]!r}; expected one of "
                         f"{', '.join(prune.METHODS)}")
    for name in cfg.schemes:
        prune.make_scheme(name, cfg.amount, cfg.steps, cfg.rate, cfg.bucket)
    c = asdict(cfg)
    bases = {(m, s): str(out / "base" / f"{m}_seed{s}.pt") for m in cfg.models
             for s in cfg.seeds}
    base = run_tasks(_base, [{"cfg": c, "model": m, "seed": s, "path": p}
                             for (m, s), p in bases.items()], workers, ray_address=ray_address,
                     desc="base nets")
    tasks = [{"cfg": c, "model": m, "seed": s, "method": me, "scheme": sc, "retrained": r,
              "base": bases[m, s],
              "out": str(out / "runs" / f"{m}_{me}_{sc}_{'re' if r else 'no'}_seed{s}")}
             for s in cfg.seeds for m in cfg.models for r in (True, False)
             for me in cfg.methods for sc in cfg.schemes]
    results = run_tasks(_task, tasks, workers, ray_address=ray_address, desc="pruning runs")
    return summarize_prune_ffn([r for rows in results for r in rows], out, base)


def summarize_prune_ffn(rows: list[dict], out, base: list[dict] | None = None) -> dict:
    """results.json: ``rows`` (one per pruned net) and ``base`` (the dense nets they start
    from); table.md and the plots."""
    from .prune_plots import ffn_table, plot_ffn

    summary = {"rows": rows, **({"base": base} if base else {})}
    write_summary(out, summary, ffn_table(rows))
    plot_ffn(rows, out)
    return summary
