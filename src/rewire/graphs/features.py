"""Graph properties of a structural prior as one flat record (deepstruct Table 1).

Directed quantities (layers, sources, sinks, density) come from the DAG; distance-based ones
(diameter, average shortest path, eccentricity, closeness, betweenness) from its undirected
version, where every pair of nodes in a connected graph has a finite distance (on the largest
connected component if the graph is not connected).
"""

from __future__ import annotations

import numpy as np

from .convert import check_dag, layer_index, nx

__all__ = ["graph_features", "FEATURES"]


def _stats(prefix: str, values) -> dict[str, float]:
    v = np.asarray(list(values), dtype=np.float64)
    return {f"{prefix}_mean": float(v.mean()), f"{prefix}_std": float(v.std()),
            f"{prefix}_var": float(v.var())}


def graph_features(dag: nx.DiGraph) -> dict[str, float]:
    """layers, nodes, edges, sources, sinks, diameter, density, average shortest path length,
    and mean / std / var of eccentricity, degree, closeness, node and edge betweenness.

    Args:
        dag: a directed acyclic graph; distance-based features use its undirected version
            (its largest connected component if it is not connected).

    Returns:
        A flat dict of floats: ``layers``, ``nodes``, ``edges``, ``sources``, ``sinks``,
            ``diameter``, ``density``, ``average_shortest_path_length``, then ``<name>_mean``,
            ``<name>_std`` and ``<name>_var`` for ``eccentricity``, ``degree``, ``closeness``,
            ``node_betweenness`` and ``edge_betweenness``. :data:`FEATURES` lists the paper's
            subset.

    Raises:
        ValueError: if ``dag`` is not a non-empty DAG (see :func:`check_dag`).

    Example:
        >>> f = graph_features(nx.DiGraph([(0, 1), (0, 2), (1, 3), (2, 3)]))
        >>> f["layers"], f["nodes"], f["edges"], f["sources"], f["diameter"]
        (3.0, 4.0, 4.0, 1.0, 2.0)
    """
    check_dag(dag)
    index = layer_index(dag)
    und = dag.to_undirected()
    if not nx.is_connected(und):
        und = und.subgraph(max(nx.connected_components(und), key=len)).copy()
    ecc = nx.eccentricity(und)
    rec = {
        "layers": max(index.values()) + 1,
        "nodes": dag.number_of_nodes(),
        "edges": dag.number_of_edges(),
        "sources": sum(1 for v in dag if dag.in_degree(v) == 0),
        "sinks": sum(1 for v in dag if dag.out_degree(v) == 0),
        "diameter": max(ecc.values()),
        "density": nx.density(dag),
        "average_shortest_path_length": nx.average_shortest_path_length(und)
        if und.number_of_nodes() > 1 else 0.0,
    }
    rec |= _stats("eccentricity", ecc.values())
    rec |= _stats("degree", (d for _, d in und.degree()))
    rec |= _stats("closeness", nx.closeness_centrality(und).values())
    rec |= _stats("node_betweenness", nx.betweenness_centrality(und).values())
    rec |= _stats("edge_betweenness", nx.edge_betweenness_centrality(und).values()
                  if und.number_of_edges() else [0.0])
    return {k: float(v) for k, v in rec.items()}


# The properties of the paper's Table 1, in its order (our names).
FEATURES = ["layers", "nodes", "edges", "sources", "diameter", "density",
            "average_shortest_path_length", "eccentricity_var", "degree_var", "closeness_var",
            "node_betweenness_var", "edge_betweenness_var"]
