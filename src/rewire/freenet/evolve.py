"""FreeEvolve (FreeNets Algorithm 1): train the weights, update the graph, repeat.

One training run through :func:`rewire.train.fit` (one optimiser, one learning-rate schedule,
the same budget as the baseline); every ``update_every`` epochs the co-activation statistics
of the training data decide which edges to prune and add. Updates stop when the graph stops
changing or after ``iterations`` updates; training then runs to the end of the budget on the
final graph. Pruned weights stay in the parameter, masked, so an edge can come back.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..data import Split
from ..train import check_device, fit
from .coactivation import check_epsilon, coactivation, graph_update
from .model import FreeNet

__all__ = ["EvolveConfig", "free_evolve", "read_updates", "lower_triangle"]


@dataclass
class EvolveConfig:
    """Settings of one :func:`free_evolve` run.

    Args:
        epochs: training epochs in all (graph updates happen within them).
        epsilon: ε in (0, 1) of the graph update (see
            :func:`~rewire.freenet.graph_update`).
        iterations: the most graph updates.
        update_every: epochs between graph updates.
        stats_examples: training examples behind NCAM / NCIM, a seeded random subset
            (0: all).
        lr: learning rate.
        batch_size: training batch size.
        weight_decay: the optimiser's weight decay.
        seed: seeds the training and the statistics subset.
        device: where the FreeNet trains and its co-activations are counted.

    Raises:
        ValueError: if ``epsilon`` is not in (0, 1), ``iterations`` or ``epochs`` is
            negative, or ``update_every`` is below 1.

    Example:
        >>> EvolveConfig(epochs=5).update_every
        1
        >>> EvolveConfig(epsilon=1.5)
        Traceback (most recent call last):
        ...
        ValueError: epsilon must lie in (0, 1), got 1.5
    """

    epochs: int = 20
    epsilon: float = 0.25
    iterations: int = 20  # most graph updates
    update_every: int = 1  # epochs between updates
    stats_examples: int = 10_000  # training examples behind NCAM/NCIM (0: all)
    lr: float = 2e-3
    batch_size: int = 128
    weight_decay: float = 0.0
    seed: int = 0
    device: str = "cpu"  # where the FreeNet trains and its co-activations are counted

    def __post_init__(self):
        check_epsilon(self.epsilon)
        if self.iterations < 0 or self.update_every < 1 or self.epochs < 0:
            raise ValueError("iterations must be >= 0, update_every >= 1 and epochs >= 0")


def _stats_subset(train: Split, n: int, seed: int) -> torch.Tensor:
    if not n or n >= len(train):
        return train.x
    gen = torch.Generator().manual_seed(seed)
    return train.x[torch.randperm(len(train), generator=gen)[:n]]


def read_updates(path) -> list[dict]:
    p = Path(path)
    return [json.loads(line) for line in p.read_text().splitlines()] if p.is_file() else []


def lower_triangle(m: torch.Tensor) -> np.ndarray:
    """The entries below the diagonal (one per neuron pair j < i), row-major."""
    k = m.shape[0]
    i, j = torch.tril_indices(k, k, -1)
    return m[i, j].cpu().numpy()


def free_evolve(model: FreeNet, train: Split, val: Split, cfg: EvolveConfig,
                out: str | Path, progress: bool = True) -> list[dict]:
    """Run FreeEvolve; writes into ``out``: ``updates.jsonl`` (one line per graph update),
    ``coactivation.npz`` (NCAM/NCIM over neuron pairs at the start and the end),
    ``checkpoint.pt`` and ``metrics.jsonl``. Returns the training history. The model is
    moved to ``cfg.device`` and stays there.

    A fresh run also writes ``coactivation_start.npz`` (the statistics before training).
    The graph is updated in place (``model.set_graph``) every ``cfg.update_every`` epochs
    until it stops changing or ``cfg.iterations`` updates are done; at the end the model
    holds the weights of its best validation epoch. An ``out`` with a checkpoint resumes.

    Args:
        model: the FreeNet to evolve, trained in place.
        train: the training split (also the source of the co-activation statistics).
        val: the validation split (picks the best epoch).
        cfg: the run's settings.
        out: the run directory, created if missing.
        progress: show a progress bar.

    Returns:
        One record per epoch, as :func:`rewire.train.fit` returns them.

    Raises:
        ValueError: if ``cfg.device`` does not exist here.
    """
    dev = check_device(cfg.device)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    updates_file, npz = out / "updates.jsonl", out / "coactivation.npz"
    model.to(dev)
    xs = _stats_subset(train, cfg.stats_examples, cfg.seed).to(dev)
    if not npz.is_file() and not (out / "checkpoint.pt").is_file():
        start = coactivation(model, xs)
        np.savez(out / "coactivation_start.npz", ncam=lower_triangle(start.ncam.float()),
                 ncim=lower_triangle(start.ncim.float()))
    steps_per_epoch = math.ceil(len(train) / cfg.batch_size)
    done = read_updates(updates_file)

    def hook(step: int, total: int) -> None:
        epoch, within = divmod(step, steps_per_epoch)
        if within or epoch == 0 or epoch % cfg.update_every:
            return
        if len(done) >= cfg.iterations or (done and done[-1]["converged"]):
            return
        stats = coactivation(model, xs)
        new, aug, prune = graph_update(model.graph, stats, cfg.epsilon)
        added = int((new & ~model.graph).sum())
        removed = int((model.graph & ~new).sum())
        model.set_graph(new)
        rec = {"iteration": len(done) + 1, "epoch": epoch, "pruned": removed, "added": added,
               "prune_candidates": int(prune.sum()), "augment_candidates": int(aug.sum()),
               "live_edges": model.live_edges, "depth": len(model.levels()),
               "converged": added == 0 and removed == 0}
        done.append(rec)
        with open(updates_file, "a") as f:
            f.write(json.dumps(rec) + "\n")

    history = fit(model, train, val, epochs=cfg.epochs, lr=cfg.lr, batch_size=cfg.batch_size,
                  weight_decay=cfg.weight_decay, keep_best=True, seed=cfg.seed, step_hook=hook,
                  checkpoint=out / "checkpoint.pt", log=out / "metrics.jsonl",
                  stage="freeevolve", progress=progress, device=dev)
    end = coactivation(model, xs)
    np.savez(npz, ncam=lower_triangle(end.ncam.float()), ncim=lower_triangle(end.ncim.float()))
    return history
