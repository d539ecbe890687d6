"""The one topological-level function: level(v) = 1 + the highest level of v's inputs, 0 for
a source (the longest path from a source; networkx calls the groups topological
generations). It needs neither networkx nor torch, so FreeNets' adjacency matrices and
networkx graphs share it.

Example:
    >>> preds = {0: [], 1: [0], 2: [0], 3: [1, 2], 4: []}
    >>> topological_levels(range(5), preds.__getitem__)
    [[0, 4], [1, 2], [3]]
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable

__all__ = ["topological_levels", "level_index"]


def level_index(order: Iterable[Hashable], predecessors: Callable) -> dict:
    """Node -> level, for nodes given in a topological ``order``; linear in the edges."""
    index: dict = {}
    for v in order:
        index[v] = max((index[u] for u in predecessors(v)), default=-1) + 1
    return index


def topological_levels(order: Iterable[Hashable], predecessors: Callable) -> list[list]:
    """Nodes grouped by :func:`level_index`, each group in ``order``."""
    index = level_index(order, predecessors)
    out: list[list] = [[] for _ in range(max(index.values(), default=-1) + 1)]
    for v, i in index.items():
        out[i].append(v)
    return out
