"""Pruning schedules: how the target sparsity grows over training."""

from __future__ import annotations

from torch import nn

from .methods import PruningMethod, apply_pruning, check_amount

__all__ = ["gradual_amount", "GradualPruning"]


def gradual_amount(step: int, total: int, final: float, initial: float = 0.0,
                   exponent: float = 3.0) -> float:
    """Sparsity at ``step`` of ``total``: ``final + (initial - final) * (1 - t)^exponent``.

    ``exponent=3`` is the cubic schedule of Zhu & Gupta (2017): prune fast while the network
    is redundant, slowly near the target. ``exponent=1`` is linear.

    Args:
        step: The current step; ``step / total`` is clipped to [0, 1].
        total: The step at which ``final`` is reached (below 1 counts as 1).
        final: The sparsity at the end.
        initial: The sparsity at step 0.
        exponent: The power of ``1 - t``.

    Returns:
        The target sparsity at ``step``.

    Example:
        >>> gradual_amount(0, 10, 0.8), gradual_amount(10, 10, 0.8)
        (0.0, 0.8)
        >>> gradual_amount(5, 10, 0.8, exponent=1)
        0.4
    """
    t = min(max(step / max(total, 1), 0.0), 1.0)
    return final + (initial - final) * (1.0 - t) ** exponent


class GradualPruning:
    """A step hook for :func:`rewire.train.fit` that raises sparsity to ``final`` gradually.

    Masks are recomputed every ``every`` steps; the target is reached at ``end`` (a fraction
    of the training steps, 1.0 by default) and the last update lands exactly on ``final``.

    Called as ``hook(step, total)`` (steps from 0 to ``total - 1``), it prunes at every
    ``every``-th step and at the last one, to ``gradual_amount(step + 1, end * total,
    final, 0, exponent)``; the amounts it pruned to are kept in ``amounts``.

    Args:
        model: The model to prune, in place (masks are added where missing).
        method: The selection method.
        final: The sparsity at the end, in [0, 1].
        scope: ``"layer"`` (the same share in every layer) or ``"global"``.
        every: Prune every ``every`` steps.
        exponent: The schedule's exponent (3: cubic, 1: linear).
        end: The fraction of the training steps at which ``final`` is reached.
        layers: Names of the layers to prune; ``None``: every prunable layer.

    Raises:
        ValueError: If ``final`` is not in [0, 1].

    Example:
        >>> from rewire.prune import Magnitude
        >>> hook = GradualPruning(nn.Linear(10, 10), Magnitude(), final=0.5, every=2)
        >>> for step in range(4):
        ...     hook(step, 4)
        >>> hook.amounts
        [0.2890625, 0.4921875, 0.5]
    """

    def __init__(self, model: nn.Module, method: PruningMethod, final: float,
                 scope: str = "layer", every: int = 50, exponent: float = 3.0,
                 end: float = 1.0, layers: list[str] | None = None):
        self.model, self.method, self.final = model, method, check_amount(final)
        self.scope, self.every, self.exponent, self.end = scope, every, exponent, end
        self.layers = layers
        self.amounts: list[float] = []

    def __call__(self, step: int, total: int) -> None:
        horizon = max(int(total * self.end), 1)
        last = step == total - 1
        if step % self.every and not last:
            return
        amount = gradual_amount(step + 1, horizon, self.final, 0.0, self.exponent)
        if last:
            amount = self.final
        apply_pruning(self.model, self.method, amount, self.scope, self.layers)
        self.amounts.append(amount)
