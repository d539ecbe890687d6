"""Random-graph structural priors (deepstruct, section 4.3), from networkx generators."""

from __future__ import annotations

import numpy as np

from ..registry import Registry
from .convert import nx, orient

__all__ = ["GENERATORS", "random_prior", "watts_strogatz", "barabasi_albert"]


def watts_strogatz(n: int, k: int, p: float, seed: int) -> nx.Graph:
    """A connected small-world graph (ring of n nodes, k neighbours, rewiring p)."""
    return nx.connected_watts_strogatz_graph(n, k, p, tries=1000, seed=seed)


def barabasi_albert(n: int, m: int, seed: int) -> nx.Graph:
    """A scale-free graph: n nodes, each new node attaches to m existing ones (connected)."""
    return nx.barabasi_albert_graph(n, m, seed=seed)


# name -> fn(n, rng, seed): an undirected graph of n nodes, its parameters drawn from rng
GENERATORS = Registry("graph generator")


@GENERATORS.register("watts-strogatz")
def _ws(n: int, rng: np.random.Generator, seed: int) -> nx.Graph:
    k = 2 * int(rng.integers(1, 4))  # 2, 4 or 6 ring neighbours
    p = float(rng.uniform(0.05, 0.9))
    return watts_strogatz(n, k, p, seed)


@GENERATORS.register("barabasi-albert")
def _ba(n: int, rng: np.random.Generator, seed: int) -> nx.Graph:
    return barabasi_albert(n, int(rng.integers(1, 5)), seed)


def random_prior(generator: str, seed: int, nodes: tuple[int, int] = (20, 60)) -> nx.DiGraph:
    """One seeded random DAG prior: size and generator parameters drawn from ``seed``,
    the undirected graph oriented by a seeded node order."""
    make = GENERATORS[generator]
    rng = np.random.default_rng(seed)
    n = int(rng.integers(nodes[0], nodes[1] + 1))
    return orient(make(n, rng, seed), seed)
