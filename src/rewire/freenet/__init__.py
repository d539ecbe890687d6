"""FreeNets: layer-free DAG networks over k neurons, evolved by co-activation (paper 003)."""

from .coactivation import CoactivationStats, coactivation, graph_update
from .dag import propagate, propagate_levels, propagate_reference, topological_levels
from .evolve import EvolveConfig, free_evolve
from .model import FreeNet, check_graph, count_params, dense_graph, fcnn, matched_width

__all__ = ["CoactivationStats", "coactivation", "graph_update", "propagate", "propagate_levels",
           "propagate_reference", "topological_levels", "EvolveConfig", "free_evolve", "FreeNet",
           "check_graph", "count_params", "dense_graph", "fcnn", "matched_width"]
