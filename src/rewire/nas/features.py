"""Graph features of a genotype for architectural performance prediction (deepstruct 4.4).

Three groups, as in the paper's meta-dataset, plus two baselines:

- layer masses: a vertex's width (its output channels) and its *mass*, the width times the
  summed widths of its inputs (over every vertex but the input): mean and std;
- path lengths per operation group (``conv`` = conv3/5/7, ``maxpool``, ``avgpool``, ``sum``,
  ``concat``, ``skip``): for each vertex of the group, the shortest and the longest path from
  the input to it and the expected length of a random walk from it back to the input (each
  step to a uniformly drawn input vertex); mean and std over the group's vertices (0.0 for
  an absent group): 6 x 3 x 2 = 36 features, and the group's vertex count;
- graph properties: depth, vertices, edges, and mean / std of eccentricity, closeness,
  edge betweenness and degree (from :func:`rewire.graphs.graph_features`, on the undirected
  graph) and of the average neighbour degree;
- baselines, kept apart in :data:`BASELINE_FEATURES`: parameters and multiply-accumulates.

Example:
    >>> import numpy as np
    >>> from rewire.nas.genotype import random_genotype
    >>> rec = genotype_features(random_genotype(np.random.default_rng(0)))
    >>> list(rec) == FEATURES, len(FEATURES)
    (True, 61)
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..graphs.features import graph_features
from .compile import count_params, flops
from .genotype import CONVS, IN_SHAPE, Genotype, _order, nx, shapes

__all__ = ["genotype_features", "FEATURES", "STRUCTURE_FEATURES", "BASELINE_FEATURES",
           "GROUPS"]

GROUPS = ("conv", "maxpool", "avgpool", "sum", "concat", "skip")
_PATHS = ("shortest", "longest", "walk")
_GRAPH = ("eccentricity", "closeness", "edge_betweenness", "degree", "neighbour_degree")
STRUCTURE_FEATURES = (
    ["width_mean", "width_std", "mass_mean", "mass_std"]
    + [f"{p}_{g}_{s}" for g in GROUPS for p in _PATHS for s in ("mean", "std")]
    + [f"count_{g}" for g in GROUPS]
    + ["depth", "vertices", "edges"]
    + [f"{name}_{s}" for name in _GRAPH for s in ("mean", "std")])
BASELINE_FEATURES = ["params", "flops"]
FEATURES = STRUCTURE_FEATURES + BASELINE_FEATURES


def _group(op: str) -> str:
    return "conv" if op in CONVS else op


def _mean_std(values: Iterable[float]) -> tuple[float, float]:
    v = np.asarray(list(values), dtype=np.float64)
    return (float(v.mean()), float(v.std())) if len(v) else (0.0, 0.0)


def _paths(g: Genotype) -> dict[str, dict[int, float]]:
    """Per vertex: shortest / longest path length from the input, expected backward walk."""
    order = _order(g)
    shortest = nx.single_source_shortest_path_length(g, order[0])
    longest: dict[int, float] = {}
    walk: dict[int, float] = {}
    for v in order:
        preds = list(g.predecessors(v))
        longest[v] = max((longest[u] + 1 for u in preds), default=0)
        walk[v] = 1 + float(np.mean([walk[u] for u in preds])) if preds else 0.0
    return {"shortest": {v: float(d) for v, d in shortest.items()}, "longest": longest,
            "walk": walk}


def genotype_features(genotype: Genotype, in_shape: Iterable[int] = IN_SHAPE,
                      classes: int = 10) -> dict[str, float]:
    """The flat feature record of a genotype, keys in the order of :data:`FEATURES`.

    Args:
        genotype: the genotype.
        in_shape: the image shape (C, H, W), for widths, params and flops.
        classes: the number of outputs, for params and flops.

    Returns:
        Feature name -> value.

    Raises:
        ValueError: the genotype fails :func:`~rewire.nas.genotype.check`.
    """
    shape = shapes(genotype, in_shape)
    g = genotype
    width = {v: shape[v][0] for v in g}
    inner = [v for v in g if g.in_degree(v)]
    rec: dict[str, float] = {}
    rec["width_mean"], rec["width_std"] = _mean_std(width[v] for v in inner)
    rec["mass_mean"], rec["mass_std"] = _mean_std(
        width[v] * sum(width[u] for u in g.predecessors(v)) for v in inner)
    paths = _paths(g)
    members = {name: [v for v, op in g.nodes(data="op") if _group(op) == name]
               for name in GROUPS}
    for name in GROUPS:
        for p in _PATHS:
            rec[f"{p}_{name}_mean"], rec[f"{p}_{name}_std"] = _mean_std(
                paths[p][v] for v in members[name])
    for name in GROUPS:
        rec[f"count_{name}"] = float(len(members[name]))
    rec["depth"] = float(max(paths["longest"].values()) + 1)
    rec["vertices"], rec["edges"] = float(g.number_of_nodes()), float(g.number_of_edges())
    graph = graph_features(g)
    for name in _GRAPH[:-1]:
        rec[f"{name}_mean"], rec[f"{name}_std"] = graph[f"{name}_mean"], graph[f"{name}_std"]
    rec["neighbour_degree_mean"], rec["neighbour_degree_std"] = _mean_std(
        nx.average_neighbor_degree(g.to_undirected()).values())
    rec["params"] = float(count_params(g, in_shape, classes))
    rec["flops"] = float(flops(g, in_shape, classes))
    return {k: rec[k] for k in FEATURES}
