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
    """The FreeNets initialisation: every edge j -> i with j < i.

    Args:
        k: the number of neurons.

    Returns:
        A k×k boolean tensor, True strictly below the diagonal (k(k-1)/2 edges).

    Raises:
        ValueError: if ``k < 1``.

    Example:
        >>> dense_graph(3).int()
        tensor([[0, 0, 0],
                [1, 0, 0],
                [1, 1, 0]], dtype=torch.int32)
    """
    if k < 1:
        raise ValueError(f"a FreeNet needs k >= 1 neurons, got k={k}")
    return torch.ones(k, k, dtype=torch.bool).tril(-1)


def check_graph(graph: torch.Tensor, k: int | None = None) -> torch.Tensor:
    """Validate a connectivity graph; returns it as a boolean tensor.

    Raises ValueError for a non-square matrix, a wrong size, self-loops or any edge on or above
    the diagonal (the index order is the computation order, so those are cycles or edges from
    a later neuron to an earlier one).

    Args:
        graph: a k×k matrix (anything ``torch.as_tensor`` takes); nonzero entries are edges,
            ``graph[i, j]`` the edge j -> i.
        k: the expected number of neurons; ``None`` accepts any size.

    Returns:
        The graph as a boolean tensor (``graph != 0``).

    Raises:
        ValueError: for a matrix that is not square, not k×k, or has an entry on or above
            the diagonal (the message names the first one).

    Example:
        >>> check_graph([[0, 0], [1, 0]])
        tensor([[False, False],
                [ True, False]])
        >>> check_graph([[0, 1], [0, 0]])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: ... entry [0, 1] is an edge from a later neuron to an earlier one (1 ...)
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

    Args:
        in_features: size of the flattened input.
        k: the number of DAG neurons.
        num_classes: the number of outputs.
        graph: the k×k connectivity graph (see :func:`check_graph`); ``None`` for the dense
            :func:`dense_graph`.
        dropout: dropout on the neurons the decoder reads (training only).

    Raises:
        ValueError: if ``k < 1`` or ``graph`` is not a valid k×k graph.

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
    """The layered baseline: input -> ``width`` ReLU neurons -> classes, Xavier weights.

    Args:
        in_features: size of the flattened input.
        width: the number of hidden ReLU neurons.
        num_classes: the number of outputs.
        dropout: dropout on the hidden neurons (training only).

    Returns:
        ``Sequential(Flatten, Linear, ReLU, Dropout, Linear)``; Xavier-uniform weights,
            torch's default biases.

    Example:
        >>> net = fcnn(4, 3, 2)
        >>> net(torch.rand(5, 2, 2)).shape, count_params(net)
        (torch.Size([5, 2]), 23)
    """
    net = nn.Sequential(nn.Flatten(), nn.Linear(in_features, width), nn.ReLU(),
                        nn.Dropout(dropout), nn.Linear(width, num_classes))
    for m in net:
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
    return net


def count_params(model: nn.Module) -> int:
    """Trainable parameters that take part in the function: a FreeNet counts live edges only.

    Args:
        model: a :class:`FreeNet` (encoder, live DAG edges, decoder) or any other module
            (all parameters with ``requires_grad``).

    Returns:
        The parameter count.

    Example:
        >>> net = FreeNet(4, 3, 2)  # encoder 4*3 + 3, 3 edges, decoder 3*2 + 2
        >>> count_params(net)
        26
        >>> net.set_graph(torch.zeros(3, 3))
        >>> count_params(net)
        23
    """
    if isinstance(model, FreeNet):
        return (model.encoder.weight.numel() + model.encoder.bias.numel() + model.live_edges
                + model.decoder.weight.numel() + model.decoder.bias.numel())
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def matched_width(in_features: int, num_classes: int, params: int) -> int:
    """Width of the FCNN whose parameter count is closest to ``params`` (ties: wider).

    An :func:`fcnn` of width w has ``w * (in_features + 1 + num_classes) + num_classes``
    parameters.

    Args:
        in_features: size of the flattened input.
        num_classes: the number of outputs.
        params: the parameter count to match (e.g. a FreeNet's :func:`count_params`).

    Returns:
        The width, at least 1.

    Example:
        >>> matched_width(4, 2, count_params(FreeNet(4, 3, 2)))  # 26 parameters
        3
    """
    per_neuron = in_features + 1 + num_classes
    lo = max(1, math.floor((params - num_classes) / per_neuron))
    return min((lo, lo + 1), key=lambda w: (abs(w * per_neuron + num_classes - params), -w))
