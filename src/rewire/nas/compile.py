"""Compile a genotype to a torch module; its parameter and multiply-accumulate counts.

The network (see :mod:`rewire.nas.genotype` for the rules): stem (conv 3x3 to
:data:`~rewire.nas.genotype.STEM_CHANNELS` + BatchNorm + ReLU at full resolution, 2x2 max
pool) -> the DAG, each vertex merging its inputs (concat, or a zero-padded sum; larger maps
average-pooled to the smallest) then applying its operation -> global average pool -> Linear.
Convolutions have no bias (BatchNorm follows them).

Example:
    >>> import torch
    >>> from rewire.nas.genotype import make_genotype
    >>> g = make_genotype({0: "input", 1: ("conv3", 16), 2: "avgpool", 3: "sum", 4: "output"},
    ...                   [(0, 1), (1, 2), (0, 3), (2, 3), (3, 4)])
    >>> net = build(g, classes=10)
    >>> net(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 10])
    >>> count_params(g) == sum(p.numel() for p in net.parameters()), flops(g)
    (True, 2064704)
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from .genotype import (
    CONVS,
    IN_SHAPE,
    KERNEL,
    STEM_CHANNELS,
    STEM_POOL,
    Genotype,
    Shape,
    _in_shape,
    _order,
    shapes,
)

__all__ = ["GenotypeNet", "build", "count_params", "flops"]


def _merged(genotype: Genotype, shape: dict[int, Shape], v: int) -> Shape:
    """The (C, H, W) of vertex ``v``'s merged inputs, before its operation."""
    ins = [shape[u] for u in sorted(genotype.predecessors(v))]
    op = genotype.nodes[v]["op"]
    c = sum(s[0] for s in ins) if op == "concat" else max(s[0] for s in ins)
    return c, min(s[1] for s in ins), min(s[2] for s in ins)


def _op_module(op: str, c_in: int, c_out: int) -> nn.Module:
    if op in CONVS:
        k = KERNEL[op]
        return nn.Sequential(nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False),
                             nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))
    if op == "maxpool":
        return nn.MaxPool2d(3, stride=2, padding=1)
    if op == "avgpool":
        return nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
    return nn.Identity()


class GenotypeNet(nn.Module):
    """The network of a checked genotype; use :func:`build`.

    Args:
        genotype: the genotype (checked here).
        in_shape: the image shape (C, H, W).
        classes: the number of outputs.

    Raises:
        ValueError: the genotype fails :func:`~rewire.nas.genotype.check` for ``in_shape``,
            or ``classes`` is below 1.
    """

    def __init__(self, genotype: Genotype, in_shape: Iterable[int] = IN_SHAPE,
                 classes: int = 10) -> None:
        super().__init__()
        if classes < 1:
            raise ValueError(f"classes must be >= 1, got {classes}")
        shape = shapes(genotype, in_shape)
        c_in = _in_shape(in_shape)[0]
        self.stem = nn.Sequential(nn.Conv2d(c_in, STEM_CHANNELS, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(STEM_CHANNELS), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(STEM_POOL))
        order = _order(genotype)
        self.input, self.output = order[0], order[-1]
        self.order = order[1:]
        self.inputs = {v: sorted(genotype.predecessors(v)) for v in self.order}
        self.concat = {v for v in self.order if genotype.nodes[v]["op"] == "concat"}
        self.merged = {v: _merged(genotype, shape, v) for v in self.order}
        self.ops = nn.ModuleDict({str(v): _op_module(genotype.nodes[v]["op"],
                                                     self.merged[v][0], shape[v][0])
                                  for v in self.order})
        last = {u: i for i, v in enumerate(self.order) for u in self.inputs[v]}
        self.free = [[u for u, j in last.items() if j == i] for i in range(len(self.order))]
        self.head = nn.Linear(shape[self.output][0], classes)

    def _merge(self, v: int, xs: list[torch.Tensor]) -> torch.Tensor:
        c, h, w = self.merged[v]
        xs = [x if x.shape[-2:] == (h, w) else F.adaptive_avg_pool2d(x, (h, w)) for x in xs]
        if v in self.concat:
            return xs[0] if len(xs) == 1 else torch.cat(xs, dim=1)
        out = xs[0] if xs[0].shape[1] == c else F.pad(xs[0], (0, 0, 0, 0, 0, c - xs[0].shape[1]))
        for x in xs[1:]:
            out = out + (x if x.shape[1] == c else F.pad(x, (0, 0, 0, 0, 0, c - x.shape[1])))
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = {self.input: self.stem(x)}
        for i, v in enumerate(self.order):
            feats[v] = self.ops[str(v)](self._merge(v, [feats[u] for u in self.inputs[v]]))
            for u in self.free[i]:
                del feats[u]
        return self.head(feats[self.output].mean(dim=(2, 3)))


def build(genotype: Genotype, in_shape: Iterable[int] = IN_SHAPE,
          classes: int = 10) -> GenotypeNet:
    """Compile ``genotype`` to a torch module mapping (N, *in_shape) to (N, classes) logits.

    Args:
        genotype: the genotype.
        in_shape: the image shape (C, H, W).
        classes: the number of outputs.

    Returns:
        The module (freshly initialised by torch's defaults).

    Raises:
        ValueError: the genotype fails :func:`~rewire.nas.genotype.check` for ``in_shape``,
            or ``classes`` is below 1.
    """
    return GenotypeNet(genotype, in_shape, classes)


def _conv_terms(genotype: Genotype, in_shape: Iterable[int]) -> tuple[list[tuple[int, int, int,
                                                                                 int]], Shape]:
    """(c_in, c_out, kernel, pixels) of every convolution, stem included; the output shape."""
    s = _in_shape(in_shape)
    shape = shapes(genotype, s)
    terms = [(s[0], STEM_CHANNELS, 3, s[1] * s[2])]
    out = s
    for v in _order(genotype):
        op = genotype.nodes[v]["op"]
        if op in CONVS:
            c_in, h, w = _merged(genotype, shape, v)
            terms.append((c_in, shape[v][0], KERNEL[op], h * w))
        if op == "output":
            out = shape[v]
    return terms, out


def count_params(genotype: Genotype, in_shape: Iterable[int] = IN_SHAPE,
                 classes: int = 10) -> int:
    """The number of parameters of :func:`build` ``(genotype, in_shape, classes)``, counted
    from the shapes alone (conv weights, BatchNorm scale and shift, the Linear head).

    Args:
        genotype: the genotype.
        in_shape: the image shape (C, H, W).
        classes: the number of outputs.

    Returns:
        The parameter count, without building the module.

    Raises:
        ValueError: the genotype fails :func:`~rewire.nas.genotype.check`.

    Example:
        >>> from rewire.nas.genotype import make_genotype
        >>> g = make_genotype({0: "input", 1: ("conv3", 8), 2: "output"}, [(0, 1), (1, 2)])
        >>> count_params(g, (1, 8, 8), classes=2)  # stem 9*32 + 64, conv 9*32*8 + 16, head 18
        2690
    """
    terms, out = _conv_terms(genotype, in_shape)
    convs = sum(ci * co * k * k + 2 * co for ci, co, k, _ in terms)
    return convs + out[0] * classes + classes


def flops(genotype: Genotype, in_shape: Iterable[int] = IN_SHAPE, classes: int = 10) -> int:
    """Multiply-accumulates of one image's forward pass: the convolutions (stem included)
    and the Linear head; pooling, BatchNorm, ReLU and additions are not counted.

    Args:
        genotype: the genotype.
        in_shape: the image shape (C, H, W).
        classes: the number of outputs.

    Returns:
        The multiply-accumulate count for one image.

    Raises:
        ValueError: the genotype fails :func:`~rewire.nas.genotype.check`.

    Example:
        >>> from rewire.nas.genotype import make_genotype
        >>> g = make_genotype({0: "input", 1: ("conv3", 8), 2: "output"}, [(0, 1), (1, 2)])
        >>> flops(g, (1, 8, 8), classes=2)  # stem 1*32*9*64, conv 32*8*9*16, head 8*2
        55312
    """
    terms, out = _conv_terms(genotype, in_shape)
    return sum(ci * co * k * k * px for ci, co, k, px in terms) + out[0] * classes
