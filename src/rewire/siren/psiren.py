"""p-SIREN (AANN Algorithm 1): make a p-sparse ternary network.

1. train a dense network for n1 epochs;
2. sparsify it gradually by weight magnitude over n2 epochs, up to sparsity p (per layer by
   default, one global threshold as an option), training as it goes;
3. fine-tune the sparse network for n3 epochs with the masks fixed;
4. ternarize: weights become sign(w) on the mask ({-1, 0, +1}, no scale), then train for n4
   epochs with a straight-through estimator; the masks stay fixed, only signs move.

Each step is a call of the common training loop with its own checkpoint in the run folder, so
an interrupted run resumes inside the step it was in. Selection (best epoch) uses the
validation split; test accuracy is only reported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from ..configs import PRESETS, SirenConfig, TrainOptions
from ..data import Splits, load_dataset
from ..models import create_model
from ..progress import say
from ..prune import GradualPruning, Magnitude
from ..sparse import is_ternary, sparsify, sparsity, sparsity_report, ternarize
from ..train import evaluate, fit

__all__ = ["SirenConfig", "run_psiren", "train_dense", "PRESETS"]


def _accuracies(model, data: Splits, device: str) -> dict[str, float]:
    return {"val_accuracy": evaluate(model, data.val, device=device)["accuracy"],
            "test_accuracy": evaluate(model, data.test, device=device)["accuracy"]}


def _epochs(cfg: TrainOptions) -> tuple[int, ...]:
    """``cfg.epochs``: never None once the config is checked (its preset fills it in)."""
    return cast("tuple[int, ...]", cfg.epochs)


def _build(cfg: SirenConfig, data: Splits):
    torch.manual_seed(cfg.seed)
    model = create_model(cfg.model, data.input_shape, data.num_classes, **cfg.model_options)
    return sparsify(model)  # all-ones masks: one state_dict layout for every step


def train_dense(cfg: SirenConfig, checkpoint, data: Splits | None = None, log=None,
                progress: bool = False):
    """Step 1 alone: train the dense network into ``checkpoint`` (resumable); returns it.

    The model is ``cfg.model`` with all-ones masks (the state-dict layout of every step),
    seeded by ``cfg.seed``, trained for ``cfg.epochs[0]`` epochs at ``cfg.lr``; it keeps the
    weights of its best validation epoch.

    Args:
        cfg: the run's settings.
        checkpoint (str | Path | None): checkpoint file, written after every epoch and
            resumed from if it exists; ``None``: none.
        data: the dataset splits, when the caller has them loaded already (``None``: load
            ``cfg.dataset``).
        log (str | Path | None): JSON-lines file that gets one line per epoch.
        progress: progress bars / lines on stderr.

    Returns:
        (nn.Module): the trained dense model, on ``cfg.device``.

    Raises:
        ValueError: for a device that does not exist here, or a data file that is missing
            (and cannot be downloaded) or corrupt (:class:`~rewire.data.DataError`).

    Example:
        >>> model = train_dense(SirenConfig(dataset="digits", epochs=(1, 0, 0, 0), limit=100),
        ...                     None)
        >>> sum(p.numel() for p in model.parameters()) > 0
        True
    """
    data = data or load_dataset(cfg.dataset, cfg.data_dir, download=cfg.download, limit=cfg.limit)
    model = _build(cfg, data)
    fit(model, data.train, data.val, epochs=_epochs(cfg)[0], lr=cfg.lr, keep_best=True,
        stage="dense", checkpoint=checkpoint, batch_size=cfg.batch_size, seed=cfg.seed,
        log=log, progress=progress, device=cfg.device)
    return model


def run_psiren(cfg: SirenConfig, data: Splits | None = None,
               workdir: str | Path | None = None,
               dense_checkpoint: str | Path | None = None, log: str | Path | None = None,
               progress: bool = False) -> tuple[nn.Module, dict]:
    """Run p-SIREN; returns the ternary model and its results (no files but checkpoints).

    Args:
        cfg: the run's settings (dataset, model, sparsity, epochs of the four steps, ...).
        data: the dataset splits, when the caller has them loaded already.
        workdir: folder for the checkpoints of the four steps; a re-run resumes from them
            (None: no checkpoints).
        dense_checkpoint: checkpoint file of step 1, shared between runs that differ only in
            sparsity (the sweep trains the dense network once per seed).
        log: JSON-lines file that gets one line per epoch.
        progress: progress bars / lines and a line per step on stderr.

    Returns:
        The ternary model (on the CPU) and a dict of results: ``experiment``, ``dataset``,
            ``seed``, ``target_sparsity``, the final ``sparsity``, ``test_accuracy`` and
            ``val_accuracy``, ``steps`` (accuracies and sparsity after each of ``dense``,
            ``sparsified``, ``finetuned``, ``ternarized``, ``ternary``), ``layers`` (the
            per-layer sparsity report), ``epochs``, and ``data_note`` when the splits carry
            one.

    Example:
        >>> from rewire.sparse import is_ternary
        >>> model, r = run_psiren(SirenConfig(dataset="digits", sparsity=0.5,
        ...                                   epochs=(1, 1, 0, 1), limit=200))
        >>> is_ternary(model), round(r["sparsity"], 2)
        (True, 0.5)
    """
    data = data or load_dataset(cfg.dataset, cfg.data_dir, download=cfg.download, limit=cfg.limit)
    _, n2, n3, n4 = _epochs(cfg)
    ckpt = (lambda name: Path(workdir) / name) if workdir is not None else (lambda name: None)
    common: dict[str, Any] = dict(batch_size=cfg.batch_size, seed=cfg.seed, log=log,
                                  progress=progress, device=cfg.device)
    steps: dict[str, dict] = {}

    def report(name: str) -> None:
        steps[name] = {**_accuracies(model, data, cfg.device), "sparsity": sparsity(model)}
        s = steps[name]
        say(f"[{name}] val {s['val_accuracy']:.4f} test {s['test_accuracy']:.4f} "
            f"sparsity {s['sparsity']:.4f}", progress)

    model = train_dense(cfg, dense_checkpoint or ckpt("step1_dense.pt"), data, log=log,
                        progress=progress)
    report("dense")
    pruner = GradualPruning(model, Magnitude(), cfg.sparsity, cfg.scope, exponent=cfg.exponent)
    if n2 == 0:
        pruner(0, 1)  # one-shot when no gradual epochs are asked for
    fit(model, data.train, data.val, epochs=n2, lr=cfg.lr, step_hook=pruner, stage="sparsify",
        checkpoint=ckpt("step2_sparsify.pt"), **common)
    report("sparsified")
    fit(model, data.train, data.val, epochs=n3, lr=cfg.lr, keep_best=True, stage="finetune",
        checkpoint=ckpt("step3_finetune.pt"), **common)
    report("finetuned")
    ternarize(model)
    report("ternarized")
    fit(model, data.train, data.val, epochs=n4, lr=cast(float, cfg.ternary_lr), keep_best=True,
        stage="ternary", checkpoint=ckpt("step4_ternary.pt"), **common)
    report("ternary")
    assert is_ternary(model)
    model.cpu()  # results, files and searches read a CPU model
    final = steps["ternary"]
    return model, {
        "experiment": "psiren", "dataset": cfg.dataset, "seed": cfg.seed,
        "target_sparsity": cfg.sparsity, "sparsity": final["sparsity"],
        "test_accuracy": final["test_accuracy"], "val_accuracy": final["val_accuracy"],
        "steps": steps, "layers": sparsity_report(model), "epochs": list(_epochs(cfg)),
        **({"data_note": data.note} if data.note else {}),
    }
