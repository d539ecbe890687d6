"""N:M semi-structured masks: ``n`` weights kept in every group of ``m`` consecutive inputs.

    prune.n_m(model, n=2, m=4)   # the 2:4 pattern of sparse tensor cores

Groups run along the input dimension of each output row. A convolution's groups follow
NVIDIA's ASP (``apex.contrib.sparsity``): at each kernel position of a filter, ``m``
consecutive input channels form a group (the filter flattened in channels-last order,
kh x kw x in_channels), so ``in_channels`` must be a multiple of ``m``.
"""

from __future__ import annotations

import torch
from torch import nn

from ..sparse.masks import get_mask, layer_param, prunable_weights, set_mask, sparsify
from .methods import _magnitude_weight

__all__ = ["n_m", "nm_groups"]


def nm_groups(t: torch.Tensor, m: int) -> torch.Tensor:
    """A weight-shaped tensor as its groups of ``m`` consecutive inputs, one group a row.

    Args:
        t: a weight (out, in, ...) or a mask of that shape.
        m: the group size; ``in`` must be a multiple of it.

    Returns:
        A (groups, m) tensor: for a convolution the inputs are the channels at one kernel
            position of one filter.

    Example:
        >>> nm_groups(torch.arange(8).view(1, 8), 4).tolist()
        [[0, 1, 2, 3], [4, 5, 6, 7]]
    """
    return t.movedim(1, -1).reshape(-1, m)


def n_m(model: nn.Module, n: int = 2, m: int = 4, layers: list[str] | None = None
        ) -> nn.Module:
    """Keep the ``n`` largest |w| in every group of ``m`` consecutive inputs; in place.

    The effective weight is ranked (the latent one in a ternary layer, as magnitude pruning
    does), ties broken by position. Weights already pruned stay pruned, so a group that had
    more than ``m - n`` zeros keeps fewer than ``n``; on an unpruned layer the sparsity is
    exactly ``1 - n / m``.

    Args:
        model: any module with prunable weights.
        n: weights kept per group, 0 <= n <= m.
        m: the group size.
        layers: the layer names (as in ``prunable_weights``); all of them by default.

    Returns:
        ``model``, masked.

    Raises:
        ValueError: bad ``n`` / ``m``, or a layer whose input size is not a multiple of
            ``m`` (checked for all layers before any is changed).
        KeyError: an unknown layer name.

    Example:
        >>> net = n_m(nn.Linear(8, 2), 2, 4)
        >>> nm_groups(get_mask(net, "weight"), 4).sum(1).tolist()
        [2, 2, 2, 2]
    """
    if any(isinstance(v, bool) or not isinstance(v, int) for v in (n, m)) or not 0 <= n <= m \
            or m < 1:
        raise ValueError(f"n:m needs integers 0 <= n <= m, m >= 1, got {n!r}:{m!r}")
    names = list(prunable_weights(model)) if layers is None else list(layers)
    for name in names:
        module, pname = layer_param(model, name)
        size = getattr(module, pname).shape[1]
        if size % m:
            raise ValueError(f"layer {name!r}: input size {size} is not a multiple of m={m} "
                             "(pass layers= to skip it)")
    sparsify(model, names)
    for name in names:
        old = get_mask(model, name)
        w = _magnitude_weight(*layer_param(model, name)).abs().masked_fill(~old, -torch.inf)
        groups = nm_groups(w, m)
        top = torch.sort(groups, dim=1, descending=True, stable=True).indices[:, :n]
        keep = torch.zeros_like(groups, dtype=torch.bool).scatter_(1, top, True)
        shape = w.movedim(1, -1).shape
        set_mask(model, name, keep.view(shape).movedim(-1, 1) & old)
    return model
