"""Networks as graphs: model -> DiGraph, layer indexing, orienting undirected graphs.

A sparse network's structure is a DAG: neurons (or channels) are nodes and live weights are
edges (deepstruct, section 2). Conversely a DAG becomes a network by embedding it between an
input and an output layer, each node a neuron in the layer given by its longest path from a
source (the paper's recursion ``ind(v) = max(ind(s) for s -> v, default -1) + 1``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np
import torch
from torch import nn

from ..extras import require
from ..sparse.masks import prunable_weights
from .levels import level_index, topological_levels

if TYPE_CHECKING:
    import networkx as nx
else:
    nx = require("networkx", "rewire.graphs")

__all__ = ["model_to_graph", "layer_index", "check_dag", "orient", "layers_of", "DagLayout",
           "dag_layout"]


def check_dag(graph: nx.DiGraph) -> nx.DiGraph:
    """Raise ValueError unless ``graph`` is a non-empty directed acyclic graph.

    Args:
        graph: the graph to check.

    Returns:
        The same ``graph``, so a call can wrap an argument.

    Raises:
        ValueError: if ``graph`` is not a ``networkx.DiGraph`` (an undirected graph included:
            orient it with :func:`orient`), has no nodes, or has a cycle (the message names
            one).

    Example:
        >>> g = nx.DiGraph([(0, 1), (1, 2)])
        >>> check_dag(g) is g
        True
        >>> check_dag(nx.DiGraph([(0, 1), (1, 0)]))
        Traceback (most recent call last):
        ...
        ValueError: the graph has a cycle: 0 -> 1 -> 0
    """
    if not isinstance(graph, nx.DiGraph):
        raise ValueError(f"expected a networkx DiGraph, got {type(graph).__name__} "
                         "(orient an undirected graph with rewire.graphs.orient)")
    if graph.number_of_nodes() == 0:
        raise ValueError("the graph has no nodes")
    if not nx.is_directed_acyclic_graph(graph):
        cycle = nx.find_cycle(graph)
        raise ValueError(f"the graph has a cycle: {' -> '.join(str(u) for u, _ in cycle)} -> "
                         f"{cycle[0][0]}")
    return graph


def layer_index(graph: nx.DiGraph) -> dict:
    """Node -> layer, the length of the longest path from a source; linear time.

    Args:
        graph: a directed acyclic graph.

    Returns:
        A dict mapping every node to its layer: 0 for a source, otherwise one more than the
            highest layer of its predecessors.

    Raises:
        ValueError: if ``graph`` is not a non-empty DAG (see :func:`check_dag`).

    Example:
        >>> layer_index(nx.DiGraph([(0, 1), (0, 2), (1, 3), (2, 3)]))
        {0: 0, 1: 1, 2: 1, 3: 2}
    """
    check_dag(graph)
    return level_index(nx.topological_sort(graph), graph.predecessors)


def layers_of(graph: nx.DiGraph) -> list[list]:
    """Nodes grouped by :func:`layer_index`, each group sorted.

    Args:
        graph: a directed acyclic graph (its nodes must be mutually comparable to sort).

    Returns:
        One list per layer, layer 0 (the sources) first.

    Raises:
        ValueError: if ``graph`` is not a non-empty DAG (see :func:`check_dag`).

    Example:
        >>> layers_of(nx.DiGraph([(0, 1), (0, 2), (1, 3), (2, 3)]))
        [[0], [1, 2], [3]]
    """
    check_dag(graph)
    return [sorted(g) for g in topological_levels(nx.topological_sort(graph),
                                                  graph.predecessors)]


def orient(graph: nx.Graph, seed: int = 0) -> nx.DiGraph:
    """A DAG from an undirected graph: a seeded random node order, every edge pointing from
    the earlier node to the later one. Same graph and seed, same DAG.

    Args:
        graph: an undirected graph with sortable nodes (a directed one is read through its
            edges, each re-oriented by the same rule).
        seed: seed of the random node order.

    Returns:
        A new ``DiGraph`` with the same nodes (in sorted order) and one directed edge per
            edge of ``graph``; it is acyclic by construction.

    Example:
        >>> dag = orient(nx.path_graph(4), seed=0)
        >>> sorted(dag.edges), nx.is_directed_acyclic_graph(dag)
        ([(1, 0), (1, 2), (2, 3)], True)
    """
    order = np.random.default_rng(seed).permutation(graph.number_of_nodes())
    rank = {v: int(order[i]) for i, v in enumerate(sorted(graph.nodes))}
    dag = nx.DiGraph()
    dag.add_nodes_from(sorted(graph.nodes))
    dag.add_edges_from((u, v) if rank[u] < rank[v] else (v, u) for u, v in graph.edges)
    return dag


def _live(w: torch.Tensor) -> torch.Tensor:
    """(out, in) boolean connectivity of a weight: a kernel or gate block is live if any
    entry is nonzero."""
    w = w.detach()
    if w.ndim > 2:
        w = w.flatten(2).abs().sum(2)
    return w != 0


def model_to_graph(model: nn.Module) -> nx.DiGraph:
    """Neurons (Linear) or channels (Conv) as nodes ``(layer, unit)``, live weights as edges.

    Layers are taken in definition order as a chain: layer i's inputs are layer i-1's
    outputs. A Linear after a Conv reads flattened channels: its input unit u belongs to
    channel ``u // (in_features / channels)``. Recurrent layers contribute their
    input-to-hidden weights (gates collapsed per unit); hidden-to-hidden weights are not part
    of the DAG (deepstruct, section 2).

    Args:
        model: a module with prunable weights (``Linear``, ``Conv``, recurrent layers),
            masked or not; a weight entry (or kernel) that is exactly zero is no edge.

    Returns:
        A ``DiGraph`` whose nodes ``(layer, unit)`` carry a ``layer`` attribute; layer 0
            holds the first weight's inputs, layer i + 1 the outputs of the i-th weight.

    Raises:
        ValueError: if ``model`` has no prunable weights, or a layer's input count is not a
            multiple of the previous layer's unit count.

    Example:
        >>> g = model_to_graph(nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1)))
        >>> g.number_of_nodes(), g.number_of_edges(), sorted(g.predecessors((2, 0)))
        (6, 8, [(1, 0), (1, 1)])
    """
    weights = [(n, getattr(m, p)) for n, (m, p) in prunable_weights(model).items()
               if "weight_hh" not in p]
    if not weights:
        raise ValueError(f"{type(model).__name__} has no prunable weights to make a graph of")
    g = nx.DiGraph()
    prev_units = None
    for layer, (name, w) in enumerate(weights):
        live = _live(w)
        out_units, in_units = live.shape
        if "weight_ih" in name:  # gates stacked along dim 0
            module = cast(nn.RNNBase, prunable_weights(model)[name][0])
            gates = out_units // module.hidden_size
            live = live.view(gates, module.hidden_size, in_units).any(0)
            out_units = module.hidden_size
        if prev_units is not None and in_units != prev_units:
            if in_units % prev_units:
                raise ValueError(f"{name}: {in_units} inputs do not follow from the previous "
                                 f"layer's {prev_units} units")
            live = live.view(out_units, prev_units, in_units // prev_units).any(2)
            in_units = prev_units
        g.add_nodes_from(((layer, i) for i in range(in_units)), layer=layer)
        g.add_nodes_from(((layer + 1, j) for j in range(out_units)), layer=layer + 1)
        dst, src = live.nonzero(as_tuple=True)
        g.add_edges_from(((layer, int(i)), (layer + 1, int(j))) for j, i in zip(dst, src))
        prev_units = out_units
    return g


@dataclass
class DagLayout:
    """A DAG laid out as a layered sparse network.

    Layer l holds the nodes ``groups[l]``; the units of all layers are concatenated in layer
    order, layer l starting at ``offsets[l]``. ``masks[0]`` (units of layer 0 × 1) says which
    sources read the network input; ``masks[l]`` for l ≥ 1 (units of layer l × ``offsets[l]``)
    has a True for each edge from an earlier unit (skip-layer connections included).
    ``outputs`` are the positions of the units the output layer reads (the sinks).
    Built by :func:`dag_layout`.

    Args:
        groups: the DAG's nodes, one list per layer (see :func:`layers_of`).
        offsets: position of each layer's first unit in the concatenation of all layers.
        masks: ``masks[0]`` the input connectivity of layer 0, ``masks[l]`` the connectivity
            of layer l from all earlier units (boolean tensors, shapes as above).
        outputs: positions of the units the output layer reads.
    """

    groups: list[list]
    offsets: list[int]
    masks: list[torch.Tensor]
    outputs: list[int]


def dag_layout(dag: nx.DiGraph, inputs=None, outputs=None) -> DagLayout:
    """Embed ``dag`` between an input and an output layer (deepstruct Fig 6b).

    ``inputs``: nodes fed by the input (default: every source); ``outputs``: nodes read by
    the output layer (default: every sink). Raises ValueError for a cyclic graph or when no
    output can be reached from an input.

    Args:
        dag: a directed acyclic graph with sortable nodes.
        inputs (Iterable | None): nodes fed by the network input, each a source; ``None``
            for every source.
        outputs (Iterable | None): nodes the output layer reads; ``None`` for every sink.

    Returns:
        The layout: layers from :func:`layers_of` and the boolean masks of their
            connections.

    Raises:
        ValueError: if ``dag`` is not a non-empty DAG, ``inputs`` or ``outputs`` is empty or
            names a node not in the graph, an input node has an incoming edge, or no output
            can be reached from an input.

    Example:
        >>> lay = dag_layout(nx.DiGraph([(0, 1), (0, 2), (1, 3), (2, 3)]))
        >>> lay.groups, lay.offsets, lay.outputs
        ([[0], [1, 2], [3]], [0, 1, 3], [3])
        >>> lay.masks[2].tolist()  # node 3 reads units 1 and 2, not the source
        [[False, True, True]]
    """
    groups = layers_of(dag)
    inputs = [v for v in dag if dag.in_degree(v) == 0] if inputs is None else list(inputs)
    outputs = [v for v in dag if dag.out_degree(v) == 0] if outputs is None else list(outputs)
    for name, nodes in (("input", inputs), ("output", outputs)):
        missing = [v for v in nodes if v not in dag]
        if missing or not nodes:
            raise ValueError(f"{name} nodes {missing or '(none)'} are not in the graph")
    bad = [v for v in inputs if dag.in_degree(v) != 0]
    if bad:
        raise ValueError(f"input nodes must be sources (no incoming edge): {bad}")
    reached = set(inputs).union(*(nx.descendants(dag, v) for v in inputs))
    if not reached & set(outputs):
        raise ValueError("the graph has no path from input to output")
    position = {v: (li, i) for li, g in enumerate(groups) for i, v in enumerate(g)}
    offsets, total = [], 0
    for g in groups:
        offsets.append(total)
        total += len(g)
    fed = set(inputs)
    masks = [torch.tensor([[v in fed] for v in groups[0]])]
    for li in range(1, len(groups)):
        m = torch.zeros(len(groups[li]), offsets[li], dtype=torch.bool)
        for i, v in enumerate(groups[li]):
            for s in dag.predecessors(v):
                sl, si = position[s]
                m[i, offsets[sl] + si] = True
        masks.append(m)
    return DagLayout(groups, offsets, masks,
                     [offsets[position[v][0]] + position[v][1] for v in outputs])
