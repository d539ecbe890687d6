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
    """
    t = min(max(step / max(total, 1), 0.0), 1.0)
    return final + (initial - final) * (1.0 - t) ** exponent


class GradualPruning:
    """A step hook for :func:`rewire.train.fit` that raises sparsity to ``final`` gradually.

    Masks are recomputed every ``every`` steps; the target is reached at ``end`` (a fraction
    of the training steps, 1.0 by default) and the last update lands exactly on ``final``.
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
