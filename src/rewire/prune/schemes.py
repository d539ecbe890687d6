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
    """A pruning scheme: the successive target sparsities on the way to ``amount``.

    The base class takes no constructor arguments; a subclass sets ``amount`` and implements
    ``targets``. ``prune_with_scheme`` prunes to each target in turn.
    """

    amount: float

    def targets(self, model, method, layers) -> Iterator[float]:
        """Successive target sparsities (the last one is ``amount``). A scheme that scored
        the weights to size a step leaves those scores in ``self.scores`` for the step.

        Args:
            model (nn.Module): The model being pruned (masked already).
            method (PruningMethod): The selection method, for a scheme that sizes its
                steps from the scores.
            layers (list[str]): The names of the layers being pruned.

        Yields:
            The target share of masked-out weights of each step, increasing.

        Raises:
            NotImplementedError: Always, in the base class.
        """
        raise NotImplementedError

    scores: dict | None = None


class OneShot(Scheme):
    """Prune once, straight to ``amount``.

    Args:
        amount: The final share of weights to mask out, in [0, 1].

    Raises:
        ValueError: If ``amount`` is not in [0, 1].

    Example:
        >>> list(OneShot(0.8).targets(None, None, None))
        [0.8]
    """

    def __init__(self, amount: float):
        self.amount = check_amount(amount)

    def targets(self, model, method, layers):
        yield self.amount


class IterativeFixed(Scheme):
    """Prune the same number of weights at every step: targets ``amount * i / steps``.

    Args:
        amount: The final share of weights to mask out, in [0, 1].
        steps: The number of steps, at least 1.

    Raises:
        ValueError: If ``amount`` is not in [0, 1] or ``steps`` is below 1.

    Example:
        >>> list(IterativeFixed(0.5, steps=4).targets(None, None, None))
        [0.125, 0.25, 0.375, 0.5]
    """

    def __init__(self, amount: float, steps: int = 10):
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        self.amount, self.steps = check_amount(amount), steps

    def targets(self, model, method, layers):
        for i in range(1, self.steps + 1):
            yield self.amount * i / self.steps


class IterativeRelative(Scheme):
    """Prune ``rate`` of the remaining weights at every step, the last step to ``amount``.

    Args:
        amount: The final share of weights to mask out, in [0, 1].
        rate: The share of the remaining weights each step removes, in (0, 1].

    Raises:
        ValueError: If ``amount`` is not in [0, 1] or ``rate`` is not in (0, 1].

    Example:
        >>> [round(t, 3) for t in IterativeRelative(0.5, rate=0.2).targets(None, None, None)]
        [0.2, 0.36, 0.488, 0.5]
    """

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
    """Each step removes the lowest-scoring live weights whose scores sum to at most
    ``bucket`` times the sum of all live scores (at least one weight), until ``amount``.

    The method scores the weights once per step; those scores then choose the step's weights.

    Args:
        amount: The final share of weights to mask out, in [0, 1].
        bucket: The fraction of the live scores' sum a step may remove, in (0, 1].

    Raises:
        ValueError: If ``amount`` is not in [0, 1] or ``bucket`` is not in (0, 1].

    Example:
        >>> from rewire.prune import Magnitude
        >>> reached = prune_with_scheme(nn.Linear(10, 10), Magnitude(), Bucket(0.5, 0.1))
        >>> reached[-1], len(reached) > 1
        (0.5, True)
    """

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
    """A scheme of :data:`SCHEMES` by name.

    Args:
        name: ``"one-shot"``, ``"iterative-fixed"``, ``"iterative-relative"`` or
            ``"bucket"``.
        amount: The final share of weights to mask out, in [0, 1].
        steps: The number of steps of ``"iterative-fixed"`` (ignored by the others).
        rate: The per-step share of ``"iterative-relative"`` (ignored by the others).
        bucket: The score fraction of ``"bucket"`` (ignored by the others).

    Returns:
        The scheme.

    Raises:
        ValueError: If ``name`` is not a registered scheme, or a parameter the scheme uses
            is out of range.

    Example:
        >>> list(make_scheme("iterative-fixed", 0.5, steps=2).targets(None, None, None))
        [0.25, 0.5]
    """
    return SCHEMES.build(name, amount, steps, rate, bucket)


def prune_with_scheme(model: nn.Module, method: PruningMethod, scheme: Scheme,
                      scope: str = "global", layers: list[str] | None = None,
                      after_step: Callable[[float], None] | None = None) -> list[float]:
    """Apply ``scheme``; returns the sparsity reached after each step.

    Args:
        model: The model to prune, in place (masks are added where missing).
        method: The selection method applied at every step.
        scheme: The scheme giving the successive targets.
        scope: ``"global"`` (one ranking over all layers) or ``"layer"`` (the same share in
            every layer), at every step.
        layers: Names of the layers to prune; ``None``: every prunable layer.
        after_step: Called with each step's target after that step (re-train or evaluate
            there).

    Returns:
        The target share of masked-out weights of each step, in order; the last is
            ``scheme.amount``.

    Raises:
        ValueError: If ``scope`` is invalid or ``model`` has no prunable weights.
        KeyError: If a name in ``layers`` is not a prunable layer of ``model``.

    Example:
        >>> from rewire.prune import Magnitude
        >>> seen = []
        >>> prune_with_scheme(nn.Linear(8, 8), Magnitude(), IterativeFixed(0.5, steps=2),
        ...                   after_step=seen.append)
        [0.25, 0.5]
        >>> seen
        [0.25, 0.5]
    """
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
