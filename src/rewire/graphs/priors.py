"""Random-graph structural priors (deepstruct, section 4.3), from networkx generators."""

from __future__ import annotations

import numpy as np

from ..registry import Registry
from .convert import nx, orient

__all__ = ["GENERATORS", "random_prior", "watts_strogatz", "barabasi_albert"]


def watts_strogatz(n: int, k: int, p: float, seed: int) -> nx.Graph:
    """A connected small-world graph (ring of n nodes, k neighbours, rewiring p).

    networkx's ``connected_watts_strogatz_graph``, retried up to 1000 times until connected.

    Args:
        n: number of nodes.
        k: each node is joined to its ``k`` nearest ring neighbours (``k // 2`` on each side)
            before rewiring.
        p: probability of rewiring each edge.
        seed: seed of the random generator.

    Returns:
        An undirected ``networkx.Graph`` on nodes ``0 .. n - 1``.

    Raises:
        networkx.NetworkXError: if ``k > n``, or no connected graph was drawn in 1000 tries
            (``k = 0``, for one).

    Example:
        >>> g = watts_strogatz(10, 4, 0.1, seed=0)
        >>> g.number_of_nodes(), g.number_of_edges(), nx.is_connected(g)
        (10, 20, True)
    """
    return nx.connected_watts_strogatz_graph(n, k, p, tries=1000, seed=seed)


def barabasi_albert(n: int, m: int, seed: int) -> nx.Graph:
    """A scale-free graph: n nodes, each new node attaches to m existing ones (connected).

    networkx's ``barabasi_albert_graph`` (preferential attachment).

    Args:
        n: number of nodes.
        m: edges from each new node to existing nodes.
        seed: seed of the random generator.

    Returns:
        An undirected ``networkx.Graph`` on nodes ``0 .. n - 1``.

    Raises:
        networkx.NetworkXError: unless ``1 <= m < n``.

    Example:
        >>> g = barabasi_albert(10, 2, seed=0)
        >>> g.number_of_nodes(), g.number_of_edges()
        (10, 16)
    """
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
    the undirected graph oriented by a seeded node order.

    Args:
        generator: name in :data:`GENERATORS` (``"watts-strogatz"`` draws k in {2, 4, 6}
            and p in [0.05, 0.9); ``"barabasi-albert"`` draws m in 1..4).
        seed: seeds the size, the generator's parameters, the graph and its orientation.
        nodes: inclusive range ``(low, high)`` of the number of nodes.

    Returns:
        A directed acyclic graph (see :func:`orient`).

    Raises:
        ValueError: if ``generator`` is not registered.

    Example:
        >>> dag = random_prior("barabasi-albert", seed=1, nodes=(8, 8))
        >>> dag.number_of_nodes(), nx.is_directed_acyclic_graph(dag)
        (8, True)
    """
    make = GENERATORS[generator]
    rng = np.random.default_rng(seed)
    n = int(rng.integers(nodes[0], nodes[1] + 1))
    return orient(make(n, rng, seed), seed)
