"""Random-graph structural priors (deepstruct, section 4.3), from networkx generators."""

from __future__ import annotations

import networkx as nx
import numpy as np

from .convert import orient

__all__ = ["GENERATORS", "random_prior", "watts_strogatz", "barabasi_albert"]


def watts_strogatz(n: int, k: int, p: float, seed: int) -> nx.Graph:
    """A connected small-world graph (ring of n nodes, k neighbours, rewiring p)."""
    return nx.connected_watts_strogatz_graph(n, k, p, tries=1000, seed=seed)


def barabasi_albert(n: int, m: int, seed: int) -> nx.Graph:
    """A scale-free graph: n nodes, each new node attaches to m existing ones (connected)."""
    return nx.barabasi_albert_graph(n, m, seed=seed)


GENERATORS = ("watts-strogatz", "barabasi-albert")


def random_prior(generator: str, seed: int, nodes: tuple[int, int] = (20, 60)) -> nx.DiGraph:
    """One seeded random DAG prior: size and generator parameters drawn from ``seed``,
    the undirected graph oriented by a seeded node order."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(nodes[0], nodes[1] + 1))
    if generator == "watts-strogatz":
        k = 2 * int(rng.integers(1, 4))  # 2, 4 or 6 ring neighbours
        p = float(rng.uniform(0.05, 0.9))
        g = watts_strogatz(n, k, p, seed)
    elif generator == "barabasi-albert":
        m = int(rng.integers(1, 5))
        g = barabasi_albert(n, m, seed)
    else:
        raise ValueError(f"unknown graph generator {generator!r}; expected one of "
                         f"{', '.join(GENERATORS)}")
    return orient(g, seed)
