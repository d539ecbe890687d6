"""Recurrent sequence classifiers (deepstruct section 4.2/4.3).

``ReberRNN``: characters as ASCII codes -> Embedding(128, embed) -> a stack of recurrent
layers (tanh / ReLU RNN, LSTM or GRU) -> a linear head on the last real time step.

``GraphRNN``: a DAG embedded as a sparse recurrent network (``GraphNet``: as a sparse MLP).
Every node is one recurrent unit in the layer given by its longest path from a source;
layer 0 (the sources) reads the embedded input, a unit in a later layer reads exactly the
units with an edge into it, from any earlier layer (skip-layer connections), through its
input-to-hidden weights (masked; gates share the mask); hidden-to-hidden weights are dense
inside each layer; the head reads the sinks. Sequences are right-padded with 0; padding
never reaches the output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import torch
from torch import nn

from ..registry import Registry
from ..sparse.masks import set_mask, sparsify
from .registry import register_model

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["ReberRNN", "GraphRNN", "GraphNet", "CELLS", "recurrent_layer"]

CELLS = Registry("cell")
for _name, _make in [
    ("tanh", lambda i, h, n: nn.RNN(i, h, n, nonlinearity="tanh", batch_first=True)),
    ("relu", lambda i, h, n: nn.RNN(i, h, n, nonlinearity="relu", batch_first=True)),
    ("lstm", lambda i, h, n: nn.LSTM(i, h, n, batch_first=True)),
    ("gru", lambda i, h, n: nn.GRU(i, h, n, batch_first=True)),
]:
    CELLS.register(_name, _make)


def recurrent_layer(cell: str, input_size: int, hidden: int, layers: int = 1) -> nn.Module:
    return CELLS.build(cell, input_size, hidden, layers)


def _trim(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Drop all-padding columns; return (x, index of each sequence's last real step)."""
    lengths = (x != 0).sum(1).clamp_min(1)
    return x[:, : int(lengths.max())], lengths - 1


class ReberRNN(nn.Module):
    """A stacked recurrent classifier of character sequences (deepstruct section 4.2).

    Input: int64 ASCII codes, ``(batch, time)``, right-padded with 0; the head reads each
    sequence's last nonzero step. Registered as ``"reber-rnn"``.

    Args:
        cell: The recurrent cell, one of ``CELLS``: ``"tanh"``, ``"relu"``, ``"lstm"`` or
            ``"gru"``.
        hidden: The hidden size of every recurrent layer.
        layers: The number of stacked recurrent layers.
        embed: The size of the character embedding.
        num_classes: The number of outputs.
        vocab: The number of character codes (0 is padding).

    Raises:
        ValueError: If ``cell`` is not in ``CELLS``.

    Example:
        >>> m = ReberRNN(cell="gru", hidden=8, layers=1)
        >>> m(torch.tensor([[66, 84, 69], [66, 80, 0]])).shape
        torch.Size([2, 2])
    """

    def __init__(self, cell: str = "lstm", hidden: int = 50, layers: int = 3, embed: int = 16,
                 num_classes: int = 2, vocab: int = 128):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed, padding_idx=0)
        self.rnn = recurrent_layer(cell, embed, hidden, layers)
        self.head = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, last = _trim(x)
        out, _ = self.rnn(self.embedding(x))
        return self.head(out[torch.arange(len(out)), last])


class GraphRNN(nn.Module):
    """A DAG embedded as a sparse recurrent network (deepstruct section 4.3).

    One recurrent unit per node, grouped in layers by ``rewire.graphs.dag_layout``; each
    layer's input-to-hidden weights are masked to the DAG's edges (all gates share the mask),
    hidden-to-hidden weights are dense inside a layer, and a linear head reads the output
    nodes at each sequence's last real step. Input as for ``ReberRNN``.

    Args:
        dag (nx.DiGraph): A directed acyclic graph with sortable nodes.
        cell: The recurrent cell, one of ``CELLS``.
        embed: The size of the character embedding the input nodes read.
        num_classes: The number of outputs.
        vocab: The number of character codes (0 is padding).
        inputs (Iterable | None): The nodes that read the input, each a source; ``None``
            for every source.
        outputs (Iterable | None): The nodes the head reads; ``None`` for every sink.

    Raises:
        ValueError: If ``cell`` is not in ``CELLS``, or ``dag`` cannot be laid out (see
            ``rewire.graphs.dag_layout``: a cycle, unknown input or output nodes, no path
            from input to output).

    Example:
        >>> import networkx as nx
        >>> m = GraphRNN(nx.DiGraph([(0, 1), (0, 2), (1, 3), (2, 3)]), cell="gru", embed=4)
        >>> m(torch.tensor([[66, 84, 0]])).shape
        torch.Size([1, 2])
    """

    output_index: torch.Tensor

    def __init__(self, dag: nx.DiGraph, cell: str = "lstm", embed: int = 16,
                 num_classes: int = 2, vocab: int = 128, inputs=None, outputs=None):
        super().__init__()
        from ..graphs.convert import dag_layout

        layout = dag_layout(dag, inputs, outputs)
        self.groups = layout.groups
        self.embedding = nn.Embedding(vocab, embed, padding_idx=0)
        self.layers = nn.ModuleList(
            recurrent_layer(cell, embed if li == 0 else layout.offsets[li], len(g))
            for li, g in enumerate(self.groups))
        names = [f"layers.{li}.weight_ih_l0" for li in range(len(self.groups))]
        sparsify(self, names)
        for li, (name, mask) in enumerate(zip(names, layout.masks)):
            if li == 0:
                mask = mask.expand(-1, embed)
            w_ih = cast(torch.Tensor, self.layers[li].weight_ih_l0)
            gates = w_ih.shape[0] // len(self.groups[li])
            set_mask(self, name, mask.repeat(gates, 1))  # the gates share the mask
        self.register_buffer("output_index", torch.tensor(layout.outputs))
        self.head = nn.Linear(len(layout.outputs), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, last = _trim(x)
        inp = self.embedding(x)
        outs: list[torch.Tensor] = []
        for li, layer in enumerate(self.layers):
            out, _ = layer(inp if li == 0 else torch.cat(outs, 2))
            outs.append(out)
        h = torch.cat(outs, 2)[torch.arange(len(x)), last]
        return self.head(h[:, self.output_index])


class GraphNet(nn.Module):
    """The feed-forward version (deepstruct Fig 6b): a DAG as a sparse MLP with skip-layer
    connections, one neuron per node, masked Linear layers, the output layer on the sinks.

    The input is flattened; the nodes are grouped in layers by ``rewire.graphs.dag_layout``.

    Args:
        dag (nx.DiGraph): A directed acyclic graph with sortable nodes.
        in_features: The number of inputs after flattening; every input node reads all.
        num_classes: The number of outputs.
        activation: The activation class, instantiated once and applied to every node.
        inputs (Iterable | None): The nodes that read the input, each a source; ``None``
            for every source.
        outputs (Iterable | None): The nodes the output layer reads; ``None`` for every
            sink.

    Raises:
        ValueError: If ``dag`` cannot be laid out (see ``rewire.graphs.dag_layout``).

    Example:
        >>> import networkx as nx
        >>> m = GraphNet(nx.DiGraph([(0, 1), (0, 2), (1, 3), (2, 3)]), 4, num_classes=3)
        >>> m(torch.randn(5, 4)).shape
        torch.Size([5, 3])
    """

    output_index: torch.Tensor

    def __init__(self, dag: nx.DiGraph, in_features: int, num_classes: int,
                 activation: type[nn.Module] = nn.ReLU, inputs=None, outputs=None):
        super().__init__()
        from ..graphs.convert import dag_layout

        layout = dag_layout(dag, inputs, outputs)
        self.groups = layout.groups
        self.layers = nn.ModuleList(
            nn.Linear(in_features if li == 0 else layout.offsets[li], len(g))
            for li, g in enumerate(self.groups))
        self.act = activation()
        names = [f"layers.{li}.weight" for li in range(len(self.groups))]
        sparsify(self, names)
        for li, (name, mask) in enumerate(zip(names, layout.masks)):
            set_mask(self, name, mask.expand(-1, in_features) if li == 0 else mask)
        self.register_buffer("output_index", torch.tensor(layout.outputs))
        self.head = nn.Linear(len(layout.outputs), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)
        outs: list[torch.Tensor] = []
        for li, layer in enumerate(self.layers):
            outs.append(self.act(layer(x if li == 0 else torch.cat(outs, 1))))
        return self.head(torch.cat(outs, 1)[:, self.output_index])


@register_model("reber-rnn")
def _reber(input_shape, num_classes, cell: str = "lstm", hidden: int = 50, layers: int = 3,
           embed: int = 16):
    return ReberRNN(cell, hidden, layers, embed, num_classes)
