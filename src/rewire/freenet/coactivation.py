"""Neural co-activation statistics and the FreeEvolve graph update (FreeNets Table 1, Alg. 2).

S ∈ {0,1}^{k×n} records which neurons fire (ReLU output > 0) on each of n examples.
NCAM = S·Sᵀ/n (share of examples on which i and j fire together) and NCIM = S̄·S̄ᵀ/n (share
on which both are silent). They are accumulated batch by batch, so S is never held whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import torch

__all__ = ["CoactivationStats", "coactivation", "graph_update", "check_epsilon"]


@dataclass
class CoactivationStats:
    """Co-activation statistics of k neurons over n examples, from :func:`coactivation`.

    Args:
        ncam: k×k float64, the share of examples on which neurons i and j both fire
            (the diagonal: how often each fires).
        ncim: k×k float64, the share of examples on which both are silent.
        n: the number of examples.
    """

    ncam: torch.Tensor  # k×k, float64
    ncim: torch.Tensor  # k×k, float64
    n: int


def check_epsilon(epsilon: float) -> float:
    if not 0.0 < epsilon < 1.0:
        raise ValueError(f"epsilon must lie in (0, 1), got {epsilon}")
    return float(epsilon)


@torch.no_grad()
def coactivation(model, x: torch.Tensor, batch_size: int = 4096) -> CoactivationStats:
    """Stream ``x`` through ``model.activations`` and accumulate NCAM and NCIM.

    Runs without gradients and in eval mode (no dropout); the model's training mode is
    restored afterwards. A neuron fires on an example when its activation is > 0.

    Args:
        model (torch.nn.Module): a module with ``activations(x) -> (batch, k)``, such as a
            :class:`~rewire.freenet.FreeNet`.
        x: the examples (not empty), on the model's device.
        batch_size: examples per forward pass.

    Returns:
        The statistics over all of ``x``.

    Example:
        >>> from rewire.freenet import FreeNet
        >>> stats = coactivation(FreeNet(4, 3, 2), torch.rand(5, 4))
        >>> stats.n, stats.ncam.shape, bool(((stats.ncam + stats.ncim) <= 1).all())
        (5, torch.Size([3, 3]), True)
    """
    was_training = model.training
    model.eval()
    on: torch.Tensor | None = None
    off: torch.Tensor | None = None
    for i in range(0, len(x), batch_size):
        s = (model.activations(x[i : i + batch_size]) > 0).to(torch.float64)
        a, b = s.T @ s, (1.0 - s).T @ (1.0 - s)
        on, off = (a, b) if on is None or off is None else (on + a, off + b)
    model.train(was_training)
    n = len(x)  # x is not empty: on and off are tensors
    return CoactivationStats(cast(torch.Tensor, on) / n, cast(torch.Tensor, off) / n, n)


def graph_update(graph: torch.Tensor, stats: CoactivationStats, epsilon: float):
    """One FreeEvolve update: returns ``(new_graph, aug, prune)``.

    Aug = (NCAM > 1-ε) ∧ ¬G and Prune = (NCIM > 1-ε) ∧ G, both on the strictly lower
    triangle (``graph[i, j]`` is the edge j -> i, j < i); G' = (G ∧ ¬Prune) ∨ (Aug ∧ ¬Prune).

    Args:
        graph: k×k connectivity (nonzero is an edge); it is not modified.
        stats: the co-activation statistics of the same k neurons.
        epsilon: ε in (0, 1): edges are added between neurons that fire together, and
            removed between neurons silent together, on more than 1 - ε of the examples.

    Returns:
        (tuple[torch.Tensor, torch.Tensor, torch.Tensor]): three k×k boolean tensors: the
            new graph, the edges added (``aug``) and the edges removed (``prune``).

    Raises:
        ValueError: if ``epsilon`` is not in (0, 1).

    Example:
        >>> on = torch.ones(2, 2, dtype=torch.float64)
        >>> new, aug, prune = graph_update(torch.zeros(2, 2), CoactivationStats(on, 0 * on, 8),
        ...                                epsilon=0.25)
        >>> new.tolist(), int(aug.sum()), int(prune.sum())
        ([[False, False], [True, False]], 1, 0)
    """
    threshold = 1.0 - check_epsilon(epsilon)
    g = graph.to(torch.bool)
    lower = torch.ones_like(g).tril(-1)
    aug = (stats.ncam > threshold) & ~g & lower
    prune = (stats.ncim > threshold) & g & lower
    new = (g & ~prune) | (aug & ~prune)
    return new, aug, prune
