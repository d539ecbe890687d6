"""The one training loop: epochs, optimiser, schedule, validation, early stopping, checkpoints.

Every algorithm that trains (p-SIREN's four steps, pruning with re-training, FreeEvolve, the
baselines, the NAS candidates) calls :func:`fit`. Batches are drawn from in-memory tensors
with a permutation seeded by ``(seed, epoch)``, so a run resumed from its checkpoint sees
exactly the batches an uninterrupted run would have seen. Data that do not fit in memory come
as a ``torch.utils.data.DataLoader`` (any iterable of ``(x, y)`` batches with a length); a
loader's own ``generator``, when it has one, is re-seeded by ``(seed, epoch)`` the same way.
``device`` moves the model and every batch (``"cuda"`` when a GPU is there).
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable, Iterable, Sized
from pathlib import Path
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from ..data import Split
from ..files import append_jsonl, atomic_torch_save, read_jsonl
from ..progress import Progress, say
from ..seeds import derive
from .augment import Augment
from .device import check_device

__all__ = ["fit", "evaluate", "predict", "make_optimizer", "Data", "SCHEDULES"]

StepHook = Callable[[int, int], None]
# a split in memory, or batches from a loader: any iterable of (x, y) with a length
Data = Split | Iterable[Any]
SCHEDULES = ("constant", "cosine", "onecycle")


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor | Iterable[Any], batch_size: int = 2000,
            device: str | torch.device | None = None) -> torch.Tensor:
    """Logits (on the CPU), computed in eval mode in batches.

    Args:
        model: The model; run in eval mode without gradients, its mode restored after.
        x: inputs, a tensor or a loader of ``(x, y)`` batches (or of inputs alone).
        batch_size: images per forward pass for a tensor.
        device: where the forward passes run; the model is moved there.

    Returns:
        The ``(N, classes)`` logits on the CPU.

    Raises:
        ValueError: a device this machine does not have.

    Example:
        >>> predict(nn.Linear(4, 3), torch.randn(5, 4), batch_size=2).shape
        torch.Size([5, 3])
    """
    dev = check_device(device) if device is not None else None
    if dev is not None:
        model.to(dev)
    was_training = model.training
    model.eval()
    chunks = ([x[i : i + batch_size] for i in range(0, len(x), batch_size)]
              if isinstance(x, torch.Tensor) else
              (b[0] if isinstance(b, (tuple, list)) else b for b in x))
    out = torch.cat([model(c if dev is None else c.to(dev)).cpu() for c in chunks])
    model.train(was_training)
    return out


def evaluate(model: nn.Module, split: Data, batch_size: int = 2000,
             device: str | torch.device | None = None, mirror: bool = False
             ) -> dict[str, float]:
    """Accuracy and mean cross-entropy of ``model`` on a split or a loader.

    Args:
        model: A classifier returning logits; run in eval mode (see ``predict``).
        split: a :class:`~rewire.data.Split` or a loader of ``(x, y)`` batches.
        batch_size: images per forward pass for a split.
        device: where the forward passes run; the model is moved there.
        mirror: test-time augmentation: every image is also classified left-right flipped
            (last axis) and the two softmax outputs are averaged.

    Returns:
        ``{"accuracy": ..., "loss": ...}``.

    Raises:
        ValueError: a device this machine does not have.

    Example:
        >>> m = nn.Linear(2, 2, bias=False)
        >>> _ = m.weight.data.copy_(torch.tensor([[2.0, 0.0], [0.0, 1.0]]))
        >>> evaluate(m, Split(torch.eye(2), torch.tensor([0, 0])))["accuracy"]
        0.5
        >>> evaluate(m, Split(torch.eye(2), torch.tensor([0, 0])), mirror=True)["accuracy"]
        1.0
    """
    outs, ys = [], []
    for x, y in [(split.x, split.y)] if isinstance(split, Split) else split:
        logits = predict(model, x, batch_size, device)
        if mirror:  # log of the averaged probabilities: argmax and cross-entropy read it so
            flipped = predict(model, x.flip(-1), batch_size, device)
            logits = torch.logaddexp(F.log_softmax(logits, 1), F.log_softmax(flipped, 1)) \
                - math.log(2)
        outs.append(logits)
        ys.append(y)
    logits, y = torch.cat(outs), torch.cat(ys)
    return {
        "accuracy": (logits.argmax(1) == y).float().mean().item(),
        "loss": F.cross_entropy(logits, y).item(),
    }


def make_optimizer(name: str, params, lr: float, weight_decay: float = 0.0):
    """The optimiser ``fit`` uses, by name.

    Args:
        name: ``"adam"`` (``torch.optim.Adam``) or ``"sgd"`` (``torch.optim.SGD`` with
            momentum 0.9).
        params (Iterable): The parameters (or parameter groups) to optimise.
        lr: The learning rate.
        weight_decay: The L2 penalty, as the torch optimiser applies it.

    Returns:
        (torch.optim.Optimizer): The optimiser.

    Raises:
        ValueError: If ``name`` is neither ``"adam"`` nor ``"sgd"``.

    Example:
        >>> make_optimizer("sgd", nn.Linear(2, 2).parameters(), lr=0.1).defaults["momentum"]
        0.9
    """
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; expected 'adam' or 'sgd'")


def _lr_factor(schedule: str, step: int, total: int) -> float:
    """The learning rate at ``step`` of ``total`` as a share of the peak ``lr``. One-cycle
    (Smith & Topurkoglu 2019, as torch's OneCycleLR with linear annealing off): 30% of the
    steps rise linearly from lr/25, the rest fall by a half cosine to lr/25e4."""
    if schedule == "constant":
        return 1.0
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * min(step, total) / max(total, 1)))
    if schedule == "onecycle":
        warm = max(int(0.3 * total), 1)
        if step < warm:
            return 1 / 25 + (1 - 1 / 25) * step / warm
        t = min(step - warm, total - warm) / max(total - warm, 1)
        low = 1 / 25e4
        return low + (1 - low) * 0.5 * (1.0 + math.cos(math.pi * t))
    raise ValueError(f"unknown schedule {schedule!r}; expected one of {', '.join(SCHEDULES)}")


def fit(
    model: nn.Module,
    train: Data,
    val: Data | None = None,
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
    device: str | torch.device | None = None,
    augment: Augment | None = None,
    label_smoothing: float = 0.0,
) -> list[dict]:
    """Train ``model`` on ``train`` for ``epochs`` epochs; returns one record per epoch.

    Args:
        model: The classifier to train, in place (it returns logits; the loss is
            cross-entropy); its trainable parameters are optimised.
        train: a :class:`~rewire.data.Split` in memory, or a loader of ``(x, y)`` batches.
        val: validation split or loader, evaluated after each epoch (never the test set).
        epochs: The number of epochs in all (a resumed run continues up to it).
        lr: The peak learning rate.
        batch_size: The batch size for a split (a loader brings its own batches).
        optimizer: ``"adam"`` or ``"sgd"`` (momentum 0.9); see ``make_optimizer``.
        weight_decay: The optimiser's weight decay.
        schedule: learning-rate schedule over all steps, ``"cosine"``, ``"constant"`` or
            ``"onecycle"`` (warm-up to ``lr`` over 30% of the steps, then cosine down).
        patience: stop when validation accuracy has not improved for this many epochs.
        keep_best: at the end, restore the weights of the best validation epoch.
        seed: Seeds the batch order and the augmentation of every epoch, from
            ``(seed, epoch)`` (not the model's initialisation).
        step_hook: called as ``hook(step, total_steps)`` before every optimiser step
            (gradual pruning uses it to update masks).
        clip_grad_norm: clip the gradient norm to this value before each step (RNNs).
        checkpoint: file written after every epoch; if it exists, training resumes from it.
        log: JSON-lines metrics log; one line per epoch is appended.
        stage: label written into every record (p-SIREN uses it for its four steps).
        progress: Show a progress bar and a line per epoch.
        device: where the model and the batches go (``"cpu"``, ``"cuda"``, ``"cuda:1"``).
        augment: ``augment(x, generator) -> x`` on every training batch (see
            :mod:`rewire.train.augment`), its generator seeded by ``(seed, epoch)``.
        label_smoothing: cross-entropy against labels smoothed by this much.

    Returns:
        One record per epoch: stage, epoch, train loss and accuracy, lr, validation
            accuracy and loss when ``val`` is given, seconds.

    Raises:
        ValueError: a negative epoch count, keep_best / patience without ``val``, an
            unknown optimizer, schedule or device, or a label smoothing outside [0, 1).

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
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; expected one of {', '.join(SCHEDULES)}")
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
    dev = check_device(device) if device is not None else None
    if dev is not None:
        model.to(dev)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = make_optimizer(optimizer, params, lr, weight_decay)
    if isinstance(train, Split) and dev is not None and dev.type != "cpu":
        train = Split(train.x.to(dev), train.y.to(dev))  # one copy, then index on the device
    steps_per_epoch = (math.ceil(len(train) / batch_size) if isinstance(train, Split)
                       else len(cast(Sized, train)))
    total = epochs * steps_per_epoch
    history: list[dict] = []
    best_acc, best_state, start = -1.0, None, 0
    ckpt = Path(checkpoint) if checkpoint else None
    if ckpt is not None and ckpt.is_file():
        state = torch.load(ckpt, weights_only=False, map_location=dev)
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
        batches = _epoch_batches(train, batch_size, seed, epoch)
        aug_gen = torch.Generator().manual_seed(derive(seed, "augment", epoch))
        loss_sum = correct = seen = 0.0
        bar = Progress(steps_per_epoch, f"{stage} epoch {epoch + 1}/{epochs} step",
                       enabled=progress)
        for b, (x, y) in enumerate(batches):
            step = epoch * steps_per_epoch + b
            if step_hook is not None:
                step_hook(step, total)
            for g in opt.param_groups:
                g["lr"] = lr * _lr_factor(schedule, step, total)
            if dev is not None:
                x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
            if augment is not None:
                x = augment(x, aug_gen)
            logits = model(x)
            loss = F.cross_entropy(logits, y, label_smoothing=label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if clip_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(params, clip_grad_norm)
            opt.step()
            step_loss = loss.item()  # one device sync per step
            loss_sum += step_loss * len(y)
            correct += (logits.argmax(1) == y).sum().item()
            seen += len(y)
            bar.update(loss=step_loss)
        bar.close()
        record = {"stage": stage, "epoch": epoch + 1, "train_loss": loss_sum / max(seen, 1),
                  "train_accuracy": correct / max(seen, 1), "lr": opt.param_groups[0]["lr"]}
        if val is not None:
            v = evaluate(model, val, device=dev)
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


def _epoch_batches(train: Data, batch_size: int, seed: int, epoch: int) -> Iterable[Any]:
    """The batches of one epoch: a split by a permutation seeded by ``(seed, epoch)``; a
    loader as it comes, its own generator (when it has one) re-seeded the same way."""
    if isinstance(train, Split):
        gen = torch.Generator().manual_seed(derive(seed, "epoch", epoch))
        perm = torch.randperm(len(train), generator=gen).to(train.x.device)
        return ((train.x[idx], train.y[idx]) for idx in perm.split(batch_size))
    loader_gen = getattr(train, "generator", None)
    if isinstance(loader_gen, torch.Generator):
        loader_gen.manual_seed(derive(seed, "loader", epoch))
    return train


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
