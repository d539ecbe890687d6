"""Recurrent sequence classifiers (deepstruct section 4.2/4.3).

``ReberRNN``: characters as ASCII codes -> Embedding(128, embed) -> a stack of recurrent
layers (tanh / ReLU RNN, LSTM or GRU) -> a linear head on the last real time step.

``GraphRNN``: a DAG embedded as a sparse recurrent network. Every node is one recurrent unit
in the layer given by its longest path from a source; layer 0 (the sources) reads the
embedded input, a unit in a later layer reads exactly the units with an edge into it, from
any earlier layer (skip-layer connections), through its input-to-hidden weights (masked;
gates share the mask); hidden-to-hidden weights are dense inside each layer; the head reads
the sinks. Sequences are right-padded with 0; padding never reaches the output.
"""

from __future__ import annotations

import networkx as nx
import torch
from torch import nn

from ..graphs.convert import check_dag, layers_of
from ..sparse.masks import set_mask, sparsify
from .registry import register_model

__all__ = ["ReberRNN", "GraphRNN", "CELLS", "recurrent_layer"]

CELLS = ("tanh", "relu", "lstm", "gru")


def recurrent_layer(cell: str, input_size: int, hidden: int, layers: int = 1) -> nn.Module:
    if cell in ("tanh", "relu"):
        return nn.RNN(input_size, hidden, layers, nonlinearity=cell, batch_first=True)
    if cell == "lstm":
        return nn.LSTM(input_size, hidden, layers, batch_first=True)
    if cell == "gru":
        return nn.GRU(input_size, hidden, layers, batch_first=True)
    raise ValueError(f"unknown cell {cell!r}; expected one of {', '.join(CELLS)}")


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
    def __init__(self, dag: nx.DiGraph, cell: str = "lstm", embed: int = 16,
                 num_classes: int = 2, vocab: int = 128):
        super().__init__()
        check_dag(dag)
        self.groups = layers_of(dag)
        position = {v: (li, i) for li, g in enumerate(self.groups) for i, v in enumerate(g)}
        sinks = [v for v in dag if dag.out_degree(v) == 0]
        if not sinks or not self.groups[0]:
            raise ValueError("the graph has no path from input (sources) to output (sinks)")
        self.embedding = nn.Embedding(vocab, embed, padding_idx=0)
        offsets, total = [], 0  # where each layer's units sit in the concatenated outputs
        for g in self.groups:
            offsets.append(total)
            total += len(g)
        self.layers = nn.ModuleList()
        for li, g in enumerate(self.groups):
            width = embed if li == 0 else offsets[li]
            self.layers.append(recurrent_layer(cell, width, len(g)))
        sparsify(self, [f"layers.{li}.weight_ih_l0" for li in range(1, len(self.groups))])
        for li in range(1, len(self.groups)):
            mask = torch.zeros(len(self.groups[li]), offsets[li], dtype=torch.bool)
            for i, v in enumerate(self.groups[li]):
                for s in dag.predecessors(v):
                    sl, si = position[s]
                    mask[i, offsets[sl] + si] = True
            gates = self.layers[li].weight_ih_l0.shape[0] // len(self.groups[li])
            set_mask(self, f"layers.{li}.weight_ih_l0", mask.repeat(gates, 1))
        self.register_buffer("sink_index", torch.tensor(
            [offsets[position[v][0]] + position[v][1] for v in sinks]))
        self.head = nn.Linear(len(sinks), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, last = _trim(x)
        inp = self.embedding(x)
        outs = []
        for li, layer in enumerate(self.layers):
            out, _ = layer(inp if li == 0 else torch.cat(outs, 2))
            outs.append(out)
        h = torch.cat(outs, 2)[torch.arange(len(x)), last]
        return self.head(h[:, self.sink_index])


@register_model("reber-rnn")
def _reber(input_shape, num_classes, cell: str = "lstm", hidden: int = 50, layers: int = 3,
           embed: int = 16):
    return ReberRNN(cell, hidden, layers, embed, num_classes)
