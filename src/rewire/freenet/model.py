"""FreeNet(k): encoder -> a DAG over k neurons with ReLU -> decoder, and its matched FCNN.

The neural connectivity graph ``graph`` is a k×k boolean buffer, ``graph[i, j]`` the edge
j -> i, strictly lower triangular (neuron i may only read earlier neurons). The DAG weights
live in a full k×k parameter; the effective weight is ``dag_weight * graph``, so a pruned
edge gets no gradient and its effective weight stays exactly zero. Its latent value in
``dag_weight`` still moves (Adam's momentum from before the pruning, weight decay), and a
re-added edge comes back with the latent value it has by then.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .dag import fused, propagate, topological_levels

__all__ = ["FreeNet", "fcnn", "count_params", "matched_width", "check_graph", "dense_graph"]


def dense_graph(k: int) -> torch.Tensor:
    """The FreeNets initialisation: every edge j -> i with j < i."""
    if k < 1:
        raise ValueError(f"a FreeNet needs k >= 1 neurons, got k={k}")
    return torch.ones(k, k, dtype=torch.bool).tril(-1)


def check_graph(graph: torch.Tensor, k: int | None = None) -> torch.Tensor:
    """Validate a connectivity graph; returns it as a boolean tensor.

    Raises ValueError for a non-square matrix, a wrong size, self-loops or any edge on or above
    the diagonal (the index order is the computation order, so those are cycles or edges from
    a later neuron to an earlier one).
    """
    g = torch.as_tensor(graph)
    if g.ndim != 2 or g.shape[0] != g.shape[1]:
        raise ValueError(f"the connectivity graph must be a square matrix, got shape "
                         f"{tuple(g.shape)}")
    if k is not None and g.shape[0] != k:
        raise ValueError(f"the connectivity graph is {g.shape[0]}×{g.shape[0]}, expected {k}×{k}")
    g = g != 0
    bad = g.triu().nonzero()
    if len(bad):
        i, j = bad[0].tolist()
        kind = "a self-loop" if i == j else "an edge from a later neuron to an earlier one"
        raise ValueError(f"the connectivity graph must be a DAG in index order (strictly lower "
                         f"triangular): entry [{i}, {j}] is {kind} ({len(bad)} such entries)")
    return g


class FreeNet(nn.Module):
    """A layer-free network over ``k`` neurons (FreeNets, section 3).

    Neuron i computes ``h_i = relu(enc_i(x) + sum_j graph[i, j] * W[i, j] * h_j)``; the decoder
    reads all k neurons. Xavier-uniform weights everywhere, uniform biases (torch default).

    Example:
        >>> net = FreeNet(64, 10, 5)
        >>> net(torch.rand(3, 1, 8, 8)).shape
        torch.Size([3, 5])
        >>> int(net.graph.sum())  # dense: k(k-1)/2 edges
        45
    """

    graph: torch.Tensor

    def __init__(self, in_features: int, k: int, num_classes: int,
                 graph: torch.Tensor | None = None, dropout: float = 0.0):
        super().__init__()
        if k < 1:
            raise ValueError(f"a FreeNet needs k >= 1 neurons, got k={k}")
        self.k = k
        self.encoder = nn.Linear(in_features, k)
        self.dag_weight = nn.Parameter(torch.empty(k, k))
        self.decoder = nn.Linear(k, num_classes)
        self.dropout = nn.Dropout(dropout)  # on the neurons the decoder reads, training only
        self.register_buffer("graph", check_graph(dense_graph(k) if graph is None else graph, k))
        for w in (self.encoder.weight, self.dag_weight, self.decoder.weight):
            nn.init.xavier_uniform_(w)
        self._levels: tuple[torch.Tensor, list[torch.Tensor]] | None = None

    def set_graph(self, graph: torch.Tensor) -> None:
        """Replace the connectivity graph (validated); weights off the graph are kept."""
        self.graph.copy_(check_graph(graph, self.k))

    @property
    def live_edges(self) -> int:
        return int(self.graph.sum())

    def levels(self) -> list[torch.Tensor]:
        """Topological levels of the current graph (cached until the graph changes)."""
        if self._levels is None or not torch.equal(self._levels[0], self.graph):
            self._levels = (self.graph.clone(), topological_levels(self.graph))
        return self._levels[1]

    def activations(self, x: torch.Tensor) -> torch.Tensor:
        """The k neuron activations (after ReLU), shape (batch, k)."""
        e = self.encoder(x.flatten(1))
        w = self.dag_weight * self.graph
        levels = None if fused(e) else self.levels()
        return propagate(e, w, levels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.dropout(self.activations(x)))


def fcnn(in_features: int, width: int, num_classes: int, dropout: float = 0.0) -> nn.Sequential:
    """The layered baseline: input -> ``width`` ReLU neurons -> classes, Xavier weights."""
    net = nn.Sequential(nn.Flatten(), nn.Linear(in_features, width), nn.ReLU(),
                        nn.Dropout(dropout), nn.Linear(width, num_classes))
    for m in net:
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
    return net


def count_params(model: nn.Module) -> int:
    """Trainable parameters that take part in the function: a FreeNet counts live edges only."""
    if isinstance(model, FreeNet):
        return (model.encoder.weight.numel() + model.encoder.bias.numel() + model.live_edges
                + model.decoder.weight.numel() + model.decoder.bias.numel())
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def matched_width(in_features: int, num_classes: int, params: int) -> int:
    """Width of the FCNN whose parameter count is closest to ``params`` (ties: wider)."""
    per_neuron = in_features + 1 + num_classes
    lo = max(1, math.floor((params - num_classes) / per_neuron))
    return min((lo, lo + 1), key=lambda w: (abs(w * per_neuron + num_classes - params), -w))
