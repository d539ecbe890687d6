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
    ncam: torch.Tensor  # k×k, float64
    ncim: torch.Tensor  # k×k, float64
    n: int


def check_epsilon(epsilon: float) -> float:
    if not 0.0 < epsilon < 1.0:
        raise ValueError(f"epsilon must lie in (0, 1), got {epsilon}")
    return float(epsilon)


@torch.no_grad()
def coactivation(model, x: torch.Tensor, batch_size: int = 4096) -> CoactivationStats:
    """Stream ``x`` through ``model.activations`` and accumulate NCAM and NCIM."""
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
    """
    threshold = 1.0 - check_epsilon(epsilon)
    g = graph.to(torch.bool)
    lower = torch.ones_like(g).tril(-1)
    aug = (stats.ncam > threshold) & ~g & lower
    prune = (stats.ncim > threshold) & g & lower
    new = (g & ~prune) | (aug & ~prune)
    return new, aug, prune
