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
    connections, one neuron per node, masked Linear layers, the output layer on the sinks."""

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
