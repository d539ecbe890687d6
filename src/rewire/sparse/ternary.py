"""Ternary weights {-1, 0, +1} trained with a straight-through estimator.

``ternarize(model)`` stacks a :class:`Ternary` parametrization on top of each mask: the
forward pass uses ``sign(original * mask)`` (exactly -1, 0 or +1, no scale), the backward
pass treats sign as the identity so the latent float weights keep learning. With the mask
fixed, the zero pattern cannot change; only signs can flip.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

from .masks import Mask, param_list, prunable_weights, sparsify

__all__ = ["Ternary", "ternarize", "is_ternary"]


class Ternary(nn.Module):
    """Parametrization ``w -> sign(w)`` with a straight-through (identity) gradient.

    Takes no constructor arguments; ``ternarize`` stacks it on top of a layer's ``Mask``.

    Example:
        >>> Ternary()(torch.tensor([-0.5, 0.0, 2.0]))
        tensor([-1.,  0.,  1.])
    """

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return w + (torch.sign(w) - w).detach()


def _has_ternary(module: nn.Module, pname: str) -> bool:
    return parametrize.is_parametrized(module, pname) and any(
        isinstance(p, Ternary) for p in param_list(module, pname)
    )


def ternarize(model: nn.Module) -> nn.Module:
    """Make every masked weight ternary (adds masks first where missing); idempotent.

    Every prunable weight (see ``prunable_weights``) gets a mask (if it has none) and then a
    ``Ternary`` parametrization on top of it, in place.

    Args:
        model: The model to ternarize, in place.

    Returns:
        ``model`` itself.

    Example:
        >>> m = ternarize(nn.Linear(3, 2))
        >>> sorted(set(m.weight.abs().flatten().tolist()))
        [1.0]
    """
    sparsify(model)
    for module, pname in prunable_weights(model).values():
        if not _has_ternary(module, pname):
            assert isinstance(param_list(module, pname)[0], Mask)
            parametrize.register_parametrization(module, pname, Ternary())
    return model


def is_ternary(model: nn.Module) -> bool:
    """Whether every prunable weight of ``model`` is ternary.

    Args:
        model: The model to inspect.

    Returns:
        True if ``model`` has at least one prunable weight and all of them carry a
            ``Ternary`` parametrization; False for a model without prunable weights.

    Example:
        >>> m = nn.Sequential(nn.Linear(3, 2))
        >>> is_ternary(m), is_ternary(ternarize(m))
        (False, True)
    """
    layers = prunable_weights(model).values()
    return bool(layers) and all(_has_ternary(m, p) for m, p in layers)
