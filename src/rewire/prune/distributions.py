"""Per-layer sparsity for random sparse initialisation: uniform or Erdős–Rényi-Kernel.

    prune.layer_densities(model, 0.9, "erk")       # layer -> share of weights kept
    prune.random_sparse(model, 0.9, "erk", seed=0)  # random masks with exactly those counts

ERK (Evci et al. 2020, "Rigging the lottery", after Mocanu et al.'s Erdős–Rényi) gives a
layer of shape (d1, ..., dk) a density ``eps × (d1 + ... + dk) / (d1 × ... × dk)``, with
``eps`` chosen so that the kept weights total ``(1 - sparsity) ×`` all weights. As in RigL's
code, a layer whose density would exceed 1 becomes dense (those of the largest raw density
first) and ``eps`` is solved again for the others until every density is at most 1.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..seeds import derive
from ..sparse.masks import layer_param, prunable_weights, set_mask, sparsify

__all__ = ["DISTRIBUTIONS", "layer_densities", "layer_counts", "random_sparse"]

DISTRIBUTIONS = ("uniform", "erk")


def _shapes(model: nn.Module, layers: list[str] | None) -> dict[str, tuple[int, ...]]:
    names = list(prunable_weights(model)) if layers is None else list(layers)
    if not names:
        raise ValueError(f"{type(model).__name__} has no prunable weights")
    return {n: tuple(getattr(*layer_param(model, n)).shape) for n in names}


def layer_densities(model: nn.Module, sparsity: float, distribution: str = "uniform",
                    layers: list[str] | None = None) -> dict[str, float]:
    """The share of weights each layer keeps for an overall ``sparsity``.

    Args:
        model: any module with prunable weights.
        sparsity: overall share of zero weights over ``layers``, in [0, 1].
        distribution: ``"uniform"`` (every layer ``1 - sparsity``) or ``"erk"``.
        layers: the layer names (as in ``prunable_weights``); all of them by default.

    Returns:
        Layer name -> density in [0, 1]; sum(density × size) = (1 - sparsity) × total size.

    Raises:
        ValueError: ``sparsity`` out of [0, 1], an unknown distribution, or no layers.
        KeyError: an unknown layer name.

    Example:
        >>> net = nn.Sequential(nn.Linear(100, 50), nn.ReLU(), nn.Linear(50, 10))
        >>> {n: round(d, 3) for n, d in layer_densities(net, 0.9, "erk").items()}
        {'0.weight': 0.079, '2.weight': 0.314}
        >>> layer_densities(net, 0.5, "erk")["2.weight"]  # clamped: the layer is dense
        1.0
    """
    if isinstance(sparsity, bool) or not isinstance(sparsity, (int, float)) or not (
            0.0 <= sparsity <= 1.0):
        raise ValueError(f"sparsity must be in [0, 1], got {sparsity!r}")
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"distribution must be one of {', '.join(DISTRIBUTIONS)}, "
                         f"got {distribution!r}")
    shapes = _shapes(model, layers)
    if distribution == "uniform":
        return {n: 1.0 - sparsity for n in shapes}
    size = {n: math.prod(s) for n, s in shapes.items()}
    raw = {n: sum(s) / size[n] for n, s in shapes.items()}
    dense: set[str] = set()
    eps = 0.0
    while len(dense) < len(shapes):
        rest = [n for n in shapes if n not in dense]
        kept = (1.0 - sparsity) * sum(size.values()) - sum(size[n] for n in dense)
        eps = max(kept, 0.0) / sum(raw[n] * size[n] for n in rest)
        top = max(raw[n] for n in rest)
        if eps * top <= 1.0:
            break
        dense |= {n for n in rest if raw[n] == top}
    return {n: 1.0 if n in dense else eps * raw[n] for n in shapes}


def layer_counts(model: nn.Module, sparsity: float, distribution: str = "uniform",
                 layers: list[str] | None = None) -> dict[str, int]:
    """The number of weights each layer keeps: :func:`layer_densities` made integers.

    Each layer gets ``floor(density × size)``; the remainder up to ``round((1 - sparsity) ×
    total)`` goes one weight each to the layers of largest fractional part (ties by layer
    order), so the total is within rounding of the target and no layer exceeds its size.

    Args:
        model: any module with prunable weights.
        sparsity: overall share of zero weights, in [0, 1].
        distribution: ``"uniform"`` or ``"erk"``.
        layers: the layer names; all prunable layers by default.

    Returns:
        Layer name -> number of weights kept.

    Raises:
        ValueError: as :func:`layer_densities`.
        KeyError: an unknown layer name.

    Example:
        >>> net = nn.Sequential(nn.Linear(10, 3), nn.Linear(3, 3))
        >>> layer_counts(net, 0.5)
        {'0.weight': 15, '1.weight': 5}
    """
    density = layer_densities(model, sparsity, distribution, layers)
    size = {n: math.prod(s) for n, s in _shapes(model, list(density)).items()}
    exact = {n: min(density[n] * size[n], size[n]) for n in density}
    counts = {n: math.floor(v) for n, v in exact.items()}
    left = round((1.0 - sparsity) * sum(size.values())) - sum(counts.values())
    for n in sorted(density, key=lambda n: counts[n] - exact[n]):  # stable: layer order
        if left <= 0:
            break
        if counts[n] < size[n]:
            counts[n] += 1
            left -= 1
    return counts


def random_sparse(model: nn.Module, sparsity: float, distribution: str = "erk", seed: int = 0,
                  layers: list[str] | None = None) -> nn.Module:
    """Random masks with exactly :func:`layer_counts` weights kept per layer; in place.

    Each layer's kept positions are a uniform random subset drawn from its own stream
    (``derive(seed, "random_sparse", layer)``), so the same seed gives the same masks. Any
    existing mask is replaced; the weights themselves are not re-initialised.

    Args:
        model: any module with prunable weights.
        sparsity: overall share of zero weights, in [0, 1].
        distribution: ``"erk"`` or ``"uniform"``.
        seed: the seed of the random masks.
        layers: the layer names; all prunable layers by default.

    Returns:
        ``model``, masked.

    Raises:
        ValueError: as :func:`layer_densities`.
        KeyError: an unknown layer name.

    Example:
        >>> net = random_sparse(nn.Sequential(nn.Linear(10, 3), nn.Linear(3, 3)), 0.5)
        >>> int((net[0].weight != 0).sum() + (net[1].weight != 0).sum())
        20
    """
    counts = layer_counts(model, sparsity, distribution, layers)
    sparsify(model, list(counts))
    for name, k in counts.items():
        shape = getattr(*layer_param(model, name)).shape
        gen = torch.Generator().manual_seed(derive(seed, "random_sparse", name))
        keep = torch.zeros(math.prod(shape), dtype=torch.bool)
        keep[torch.randperm(keep.numel(), generator=gen)[:k]] = True
        set_mask(model, name, keep.view(shape))
    return model
