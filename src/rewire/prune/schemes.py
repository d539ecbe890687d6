"""Pruning schemes: how often a selection method is applied, and how much each time.

deepstruct's four schemes (paper 004, section 2):

- ``OneShot(amount)``: prune once.
- ``IterativeFixed(amount, steps)``: the same number of weights every step.
- ``IterativeRelative(amount, rate)``: ``rate`` of the weights that remain, every step.
- ``Bucket(amount, bucket)``: each step removes the lowest-scoring live weights whose scores
  sum to at most ``bucket`` × (the sum of all live scores), at least one weight, so steps are
  large where scores are small; the fraction makes it independent of each method's scale.

:func:`prune_with_scheme` runs a scheme on a model, calling ``after_step(amount)`` after every
step: re-train there (through :func:`rewire.train.fit`) and/or evaluate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
from torch import nn

from ..registry import Registry
from ..sparse.masks import get_mask, prunable_weights, sparsify
from .methods import PruningMethod, apply_pruning, check_amount

__all__ = ["Scheme", "OneShot", "IterativeFixed", "IterativeRelative", "Bucket",
           "prune_with_scheme", "make_scheme", "SCHEMES"]


class Scheme:
    amount: float

    def targets(self, model, method, layers) -> Iterator[float]:
        """Successive target sparsities (the last one is ``amount``). A scheme that scored
        the weights to size a step leaves those scores in ``self.scores`` for the step."""
        raise NotImplementedError

    scores: dict | None = None


class OneShot(Scheme):
    def __init__(self, amount: float):
        self.amount = check_amount(amount)

    def targets(self, model, method, layers):
        yield self.amount


class IterativeFixed(Scheme):
    def __init__(self, amount: float, steps: int = 10):
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        self.amount, self.steps = check_amount(amount), steps

    def targets(self, model, method, layers):
        for i in range(1, self.steps + 1):
            yield self.amount * i / self.steps


class IterativeRelative(Scheme):
    def __init__(self, amount: float, rate: float = 0.2):
        if not 0.0 < rate <= 1.0:
            raise ValueError(f"rate must be in (0, 1], got {rate}")
        self.amount, self.rate = check_amount(amount), rate

    def targets(self, model, method, layers):
        density = 1.0
        while True:
            density *= 1.0 - self.rate
            if 1.0 - density >= self.amount - 1e-9:
                yield self.amount
                return
            yield 1.0 - density


class Bucket(Scheme):
    def __init__(self, amount: float, bucket: float = 0.05):
        if not 0.0 < bucket <= 1.0:
            raise ValueError(f"bucket must be a fraction in (0, 1], got {bucket}")
        self.amount, self.bucket = check_amount(amount), bucket

    def targets(self, model, method, layers):
        while True:
            scores = self.scores = method.scores(model, layers)  # once per step
            live = torch.cat([scores[n][get_mask(model, n)].flatten() for n in layers])
            total = sum(scores[n].numel() for n in layers)
            pruned = total - live.numel()
            ordered = torch.sort(live).values.double()
            fill = torch.cumsum(ordered, 0)
            n = max(1, int((fill <= self.bucket * fill[-1]).sum())) if len(live) else 1
            target = min(self.amount, (pruned + n) / total)
            yield target
            if target >= self.amount:
                return


# name -> fn(amount, steps, rate, bucket) -> Scheme
SCHEMES = Registry("pruning scheme")
SCHEMES.register("one-shot", lambda amount, steps, rate, bucket: OneShot(amount))
SCHEMES.register("iterative-fixed", lambda amount, steps, rate, bucket:
                 IterativeFixed(amount, steps))
SCHEMES.register("iterative-relative", lambda amount, steps, rate, bucket:
                 IterativeRelative(amount, rate))
SCHEMES.register("bucket", lambda amount, steps, rate, bucket: Bucket(amount, bucket))


def make_scheme(name: str, amount: float, steps: int = 10, rate: float = 0.2,
                bucket: float = 0.05) -> Scheme:
    return SCHEMES.build(name, amount, steps, rate, bucket)


def prune_with_scheme(model: nn.Module, method: PruningMethod, scheme: Scheme,
                      scope: str = "global", layers: list[str] | None = None,
                      after_step: Callable[[float], None] | None = None) -> list[float]:
    """Apply ``scheme``; returns the sparsity reached after each step."""
    sparsify(model, layers)
    layers = layers if layers is not None else list(prunable_weights(model))
    reached = []
    for target in scheme.targets(model, method, layers):
        apply_pruning(model, method, target, scope, layers, scores=scheme.scores)
        scheme.scores = None
        reached.append(target)
        if after_step is not None:
            after_step(target)
    return reached
