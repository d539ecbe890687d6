"""The one training loop: epochs, optimiser, schedule, validation, early stopping, checkpoints.

Every algorithm that trains (p-SIREN's four steps, pruning with re-training, FreeEvolve, the
baselines) calls :func:`fit`. Batches are drawn from in-memory tensors with a permutation
seeded by ``(seed, epoch)``, so a run resumed from its checkpoint sees exactly the batches an
uninterrupted run would have seen.
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..data import Split
from ..files import append_jsonl, atomic_torch_save, read_jsonl
from ..progress import Progress, say
from ..seeds import derive

__all__ = ["fit", "evaluate", "predict", "make_optimizer"]

StepHook = Callable[[int, int], None]


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 2000) -> torch.Tensor:
    """Logits for ``x``, computed in eval mode in batches."""
    was_training = model.training
    model.eval()
    out = torch.cat([model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
    model.train(was_training)
    return out


def evaluate(model: nn.Module, split: Split, batch_size: int = 2000) -> dict[str, float]:
    """Accuracy and mean cross-entropy of ``model`` on a split."""
    logits = predict(model, split.x, batch_size)
    return {
        "accuracy": (logits.argmax(1) == split.y).float().mean().item(),
        "loss": F.cross_entropy(logits, split.y).item(),
    }


def make_optimizer(name: str, params, lr: float, weight_decay: float = 0.0):
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; expected 'adam' or 'sgd'")


def _lr_factor(schedule: str, step: int, total: int) -> float:
    if schedule == "constant":
        return 1.0
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * min(step, total) / max(total, 1)))
    raise ValueError(f"unknown schedule {schedule!r}; expected 'constant' or 'cosine'")


def fit(
    model: nn.Module,
    train: Split,
    val: Split | None = None,
    *,
    epochs: int,
    lr: float = 1e-3,
    batch_size: int = 64,
    optimizer: str = "adam",
    weight_decay: float = 0.0,
    schedule: str = "cosine",
    patience: int | None = None,
    keep_best: bool = False,
    seed: int = 0,
    step_hook: StepHook | None = None,
    clip_grad_norm: float | None = None,
    checkpoint: str | os.PathLike | None = None,
    log: str | os.PathLike | None = None,
    stage: str = "train",
    progress: bool = True,
) -> list[dict]:
    """Train ``model`` on ``train`` for ``epochs`` epochs; returns one record per epoch.

    Args:
        val: validation split, evaluated after each epoch (never the test set).
        schedule: learning-rate schedule over all steps, ``"cosine"`` or ``"constant"``.
        patience: stop when validation accuracy has not improved for this many epochs.
        keep_best: at the end, restore the weights of the best validation epoch.
        step_hook: called as ``hook(step, total_steps)`` before every optimiser step
            (gradual pruning uses it to update masks).
        clip_grad_norm: clip the gradient norm to this value before each step (RNNs).
        checkpoint: file written after every epoch; if it exists, training resumes from it.
        log: JSON-lines metrics log; one line per epoch is appended.
        stage: label written into every record (p-SIREN uses it for its four steps).

    Example:
        >>> from rewire.data import load_dataset
        >>> from rewire.models import create_model
        >>> d = load_dataset("digits")
        >>> m = create_model("aann-mnist-cnn", d.input_shape)
        >>> hist = fit(m, d.train, d.val, epochs=1, progress=False)
        >>> 0 <= hist[-1]["val_accuracy"] <= 1
        True
    """
    if epochs < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    if (keep_best or patience) and val is None:
        raise ValueError("keep_best and patience need a validation split")
    params = [p for p in model.parameters() if p.requires_grad]
    opt = make_optimizer(optimizer, params, lr, weight_decay)
    steps_per_epoch = math.ceil(len(train) / batch_size)
    total = epochs * steps_per_epoch
    history: list[dict] = []
    best_acc, best_state, start = -1.0, None, 0
    ckpt = Path(checkpoint) if checkpoint else None
    if ckpt is not None and ckpt.is_file():
        state = torch.load(ckpt, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        history, best_acc, best_state = state["history"], state["best_acc"], state["best_state"]
        start = state["epoch"]
        _complete_log(log, stage, history)
        if progress and start < epochs:
            say(f"{stage}: resuming after epoch {start} of {epochs} ({ckpt})")
    stale = _stale_epochs(history)
    for epoch in range(start, epochs):
        if patience is not None and stale >= patience:
            break
        t0 = time.time()
        model.train()
        gen = torch.Generator().manual_seed(derive(seed, "epoch", epoch))
        perm = torch.randperm(len(train), generator=gen)
        loss_sum = correct = 0.0
        bar = Progress(steps_per_epoch, f"{stage} epoch {epoch + 1}/{epochs} step",
                       enabled=progress)
        for b in range(steps_per_epoch):
            step = epoch * steps_per_epoch + b
            if step_hook is not None:
                step_hook(step, total)
            for g in opt.param_groups:
                g["lr"] = lr * _lr_factor(schedule, step, total)
            idx = perm[b * batch_size : (b + 1) * batch_size]
            x, y = train.x[idx], train.y[idx]
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if clip_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(params, clip_grad_norm)
            opt.step()
            step_loss = loss.item()  # one device sync per step
            loss_sum += step_loss * len(y)
            correct += (logits.argmax(1) == y).sum().item()
            bar.update(loss=step_loss)
        bar.close()
        record = {"stage": stage, "epoch": epoch + 1, "train_loss": loss_sum / len(train),
                  "train_accuracy": correct / len(train), "lr": opt.param_groups[0]["lr"]}
        if val is not None:
            v = evaluate(model, val)
            record.update(val_accuracy=v["accuracy"], val_loss=v["loss"])
            if v["accuracy"] > best_acc:
                best_acc = v["accuracy"]
                best_state = copy.deepcopy(model.state_dict()) if keep_best else None
        record["seconds"] = time.time() - t0
        history.append(record)
        stale = _stale_epochs(history)
        if ckpt is not None:  # the checkpoint first: a kill between the two loses no epoch
            atomic_torch_save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                               "history": history, "best_acc": best_acc,
                               "best_state": best_state, "epoch": epoch + 1}, ckpt)
        if log is not None:
            append_jsonl(log, record)
        say(_describe(record), progress)
    if keep_best and best_state is not None:
        model.load_state_dict(best_state)
    return history


def _stale_epochs(history: list[dict]) -> int:
    """Epochs since the best validation accuracy so far."""
    accs = [r["val_accuracy"] for r in history if "val_accuracy" in r]
    if not accs:
        return 0
    return len(accs) - 1 - max(range(len(accs)), key=lambda i: (accs[i], -i))


def _describe(r: dict) -> str:
    s = (f"{r['stage']} epoch {r['epoch']}: loss {r['train_loss']:.4f} "
         f"train {r['train_accuracy']:.4f}")
    if "val_accuracy" in r:
        s += f" val {r['val_accuracy']:.4f}"
    return s + f" ({r['seconds']:.1f}s)"


def _complete_log(log, stage: str, history: list[dict]) -> None:
    """After a resume: the epochs the checkpoint holds but the log lost (a kill between the
    checkpoint and its log line) are appended, so every epoch has exactly one line."""
    if log is None:
        return
    logged = read_jsonl(log)
    have = {r["epoch"] for r in logged if r.get("stage") == stage}
    for record in history:
        if record["epoch"] not in have:
            append_jsonl(log, record)
