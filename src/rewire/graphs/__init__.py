"""Graphs of sparse networks: conversion, layer indexing, random priors, features."""

from .convert import (
    DagLayout,
    check_dag,
    dag_layout,
    layer_index,
    layers_of,
    model_to_graph,
    orient,
)
from .features import FEATURES, graph_features
from .priors import GENERATORS, barabasi_albert, random_prior, watts_strogatz

__all__ = ["DagLayout", "FEATURES", "GENERATORS", "barabasi_albert", "check_dag", "dag_layout",
           "graph_features", "layer_index", "layers_of", "model_to_graph", "orient",
           "random_prior", "watts_strogatz"]
