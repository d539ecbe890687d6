"""Training a genotype: the short recipe that scores candidates and the long one that
retrains the winner, both through the common training loop.

Inputs are standardised per channel with the training split's mean and std; batches are
augmented by random flips and translations (:func:`rewire.train.flip_translate`, for
colour images), the loss uses label smoothing, the learning rate follows one cycle. A
candidate's fitness is its validation accuracy after the short recipe; the test split is
evaluated and recorded for reporting only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch

from ..data import Split, Splits
from ..train import cutout, evaluate, fit, flip_translate
from .compile import build, count_params, flops
from .genotype import Genotype

__all__ = ["Recipe", "CANDIDATE", "RETRAIN", "standardize", "train_genotype"]


@dataclass(frozen=True)
class Recipe:
    """How a genotype is trained.

    Attributes:
        epochs: passes over the training images.
        train_images: the first this many images of the (shuffled once) training split;
            0 uses all.
        batch_size, lr, optimizer, weight_decay: as in :func:`rewire.train.fit`.
        label_smoothing: cross-entropy against smoothed labels.
        pad: largest translation in pixels (0: none); images are also flipped left-right
            when ``flip``.
        cutout: side of the square zeroed in every image after flips and translations
            (:func:`rewire.train.cutout`; 0: none).
        mirror: evaluation only: validation and test images are also classified mirrored
            and the two softmax outputs averaged (``evaluate(..., mirror=True)``); the
            record keeps the plain accuracies beside them. The trained weights do not depend
            on it.
    """

    epochs: int = 3
    train_images: int = 0
    batch_size: int = 128
    lr: float = 0.05
    optimizer: str = "sgd"
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    pad: int = 4
    flip: bool = True
    cutout: int = 0
    mirror: bool = False


CANDIDATE = Recipe(epochs=3, train_images=4500)  # a few epochs on half the training split
# the winner: all training images; 60 epochs beat 30 on validation, and mirroring added 1.5
# points of validation accuracy over four 60-epoch retrainings (results/nas-cifar10-subset)
RETRAIN = Recipe(epochs=60, mirror=True)


def standardize(data: Splits) -> Splits:
    """Every split shifted and scaled per channel by the training images' mean and std."""
    mean = data.train.x.mean((0, 2, 3), keepdim=True)
    std = data.train.x.std((0, 2, 3), keepdim=True).clamp_min(1e-6)
    train, val, test = (Split((s.x - mean) / std, s.y) for s in (data.train, data.val,
                                                                  data.test))
    return Splits(data.name, train, val, test, data.num_classes, data.note)


def _augment(recipe: Recipe):
    shift = flip_translate(recipe.pad, recipe.flip) if recipe.pad or recipe.flip else None
    if not recipe.cutout:
        return shift
    cut = cutout(recipe.cutout)
    if shift is None:
        return cut
    return lambda x, generator: cut(shift(x, generator), generator)


def train_genotype(genotype: Genotype, data: Splits, recipe: Recipe, seed: int = 0,
                   device: str | None = None, checkpoint=None, log=None,
                   progress: bool = False) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Build ``genotype`` for ``data``, train it by ``recipe``; returns the model and its
    record: ``fitness`` (= validation accuracy at the end), validation and test accuracy,
    parameters, multiply-accumulates, seconds.

    Args:
        genotype: a checked genotype.
        data: standardised splits (see :func:`standardize`).
        recipe: the training recipe.
        seed: initial weights and batch order.
        device: where it trains.
        checkpoint, log: as in :func:`rewire.train.fit` (a retrain resumes from its
            checkpoint).

    Raises:
        ValueError: a genotype that cannot be built for the data's image shape.
    """
    shape = tuple(data.train.x.shape[1:])
    torch.manual_seed(seed)
    model = build(genotype, shape, data.num_classes)
    train = data.train
    if recipe.train_images and recipe.train_images < len(train):
        train = Split(train.x[: recipe.train_images], train.y[: recipe.train_images])
    augment = _augment(recipe)
    history = fit(model, train, data.val, epochs=recipe.epochs, lr=recipe.lr,
        batch_size=recipe.batch_size, optimizer=recipe.optimizer,
        weight_decay=recipe.weight_decay, schedule="onecycle", seed=seed, augment=augment,
        label_smoothing=recipe.label_smoothing, device=device, checkpoint=checkpoint,
        log=log, stage="nas", progress=progress)
    val, test = (evaluate(model, s, device=device)["accuracy"] for s in (data.val, data.test))
    record: dict[str, Any] = {}
    if recipe.mirror:
        record = {"val_accuracy_plain": val, "test_accuracy_plain": test}
        val, test = (evaluate(model, s, device=device, mirror=True)["accuracy"]
                     for s in (data.val, data.test))
    record = {"fitness": val, "val_accuracy": val, "test_accuracy": test, **record,
              "params": count_params(genotype, shape, data.num_classes),
              "flops": flops(genotype, shape, data.num_classes),
              "seconds": sum(h["seconds"] for h in history), "recipe": asdict(recipe)}
    return model.cpu(), record
