"""Genotypes: CNN architectures as labelled DAGs (deepstruct section 4.4, after Irwin-Harris).

A genotype is a networkx ``DiGraph`` with integer vertex ids. Each vertex carries ``op``, one
of :data:`OPS`; convolution vertices also carry ``channels`` (their output channel count).
There is exactly one ``input`` and one ``output`` vertex, and every vertex lies on a path
from the input to the output.

How a genotype computes (see :mod:`rewire.nas.compile`):

- a fixed stem turns the image into the input vertex's features: conv 3x3 with
  :data:`STEM_CHANNELS` channels at full resolution (+ BatchNorm + ReLU), then a 2x2 max pool
  (:data:`STEM_POOL`), so a 32x32 CIFAR image enters the DAG as 32 x 16 x 16. The expensive
  convolutions then never run at 32x32, which keeps a candidate cheap on a CPU;
- a vertex first merges its inputs: ``concat`` concatenates them along channels, every other
  vertex sums them (zero-padding the narrower ones to the widest, ResNet's parameter-free
  shortcut). Inputs of different resolution are average-pooled down to the smallest first,
  so every DAG is consistent in space by construction;
- then it applies its operation: ``conv3`` / ``conv5`` / ``conv7`` are a same-padding stride-1
  convolution to ``channels`` channels + BatchNorm + ReLU; ``maxpool`` / ``avgpool`` are 3x3
  stride-2 pools that *halve* the resolution (the only reductions inside the DAG);
  ``sum``, ``concat``, ``skip`` and ``output`` pass the merge on;
- a head: global average pooling of the output vertex, then a Linear layer.

A pool on a 1x1 map cannot reduce it: with the stem's 16x16, at most four pools lie on any
path (:func:`max_pools`). Random and mutated convolutions draw their width from
:data:`CHANNEL_CHOICES` times ``2 ** min(reductions, 2)`` (the usual "double the channels
when halving the resolution").

Example:
    >>> g = make_genotype({0: "input", 1: ("conv3", 32), 2: "maxpool", 3: "output"},
    ...                   [(0, 1), (1, 2), (2, 3)])
    >>> check(g)
    >>> depth(g), shapes(g)[3]
    (4, (32, 8, 8))
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from ..extras import require
from ..files import read_json, write_json

if TYPE_CHECKING:
    import networkx as nx
else:
    nx = require("networkx", "rewire.nas")

__all__ = ["Genotype", "OPS", "CONVS", "POOLS", "KERNEL", "STEM_CHANNELS", "STEM_POOL",
           "IN_SHAPE", "DEPTH", "RANDOM_SEARCH_DEPTH", "CHANNEL_CHOICES", "MAX_CHANNELS",
           "OP_WEIGHTS", "FORMAT_VERSION", "make_genotype", "check", "shapes", "depth",
           "reductions", "max_pools", "draw_channels", "to_json", "from_json", "save", "load",
           "genotype_hash", "random_genotype", "draw"]

Genotype: TypeAlias = nx.DiGraph
Shape = tuple[int, int, int]

CONVS = ("conv3", "conv5", "conv7")
POOLS = ("maxpool", "avgpool")
OPS = ("input", "output", *CONVS, *POOLS, "sum", "concat", "skip")
KERNEL = {"conv3": 3, "conv5": 5, "conv7": 7}
STEM_CHANNELS = 32  # the stem conv's width: the input vertex's channels
STEM_POOL = 2  # the stem's max-pool factor: a 32x32 image enters the DAG at 16x16
IN_SHAPE = (3, 32, 32)  # CIFAR-10
DEPTH = (6, 12)  # the paper's depth bounds of the genetic search (vertices on a longest path)
RANDOM_SEARCH_DEPTH = (10, 36)  # ... and of its random search
CHANNEL_CHOICES = (16, 32, 64)  # widths at the stem's resolution, doubled per reduction (x4 max)
MAX_CHANNELS = 1024  # the widest any vertex may be (a conv's channels, a concat's sum)
# how often random_genotype draws each inner operation
OP_WEIGHTS = {"conv3": 0.25, "conv5": 0.15, "conv7": 0.1, "maxpool": 0.1, "avgpool": 0.1,
              "sum": 0.1, "concat": 0.1, "skip": 0.1}
FORMAT = "rewire.nas.genotype"
FORMAT_VERSION = 1


def make_genotype(vertices: Mapping[int, str | tuple[str, int]],
                  edges: Iterable[tuple[int, int]]) -> Genotype:
    """A genotype from ``{id: op}`` (``(op, channels)`` for a convolution) and edges.

    Args:
        vertices: vertex id -> operation name, or ``(conv op, channels)``.
        edges: ``(from, to)`` pairs.

    Returns:
        The DiGraph (not checked: call :func:`check`).

    Example:
        >>> g = make_genotype({0: "input", 1: ("conv5", 16), 2: "output"}, [(0, 1), (1, 2)])
        >>> g.nodes[1]
        {'op': 'conv5', 'channels': 16}
    """
    g = nx.DiGraph()
    for v, spec in vertices.items():
        if isinstance(spec, tuple):
            g.add_node(v, op=spec[0], channels=spec[1])
        else:
            g.add_node(v, op=spec)
    g.add_edges_from(edges)
    return g


def _order(g: Genotype) -> list[int]:
    """Topological order, ties broken by vertex id: the same for the same graph."""
    return list(nx.lexicographical_topological_sort(g))


def _io(g: Genotype, op: str) -> int:
    found = [v for v, o in g.nodes(data="op") if o == op]
    if len(found) != 1:
        raise ValueError(f"a genotype needs exactly one {op} vertex, found {len(found)}"
                         + (f": {sorted(found)}" if found else ""))
    return found[0]


def _structure(g: Genotype) -> None:
    """Type, ids, operations, one input / output, no cycle, no dangling vertex."""
    if not isinstance(g, nx.DiGraph):
        raise ValueError(f"a genotype is a networkx DiGraph, got {type(g).__name__}")
    for v, op in g.nodes(data="op"):
        if not isinstance(v, int) or isinstance(v, bool):
            raise ValueError(f"vertex ids must be integers, got {v!r}")
        if op not in OPS:
            raise ValueError(f"unknown operation {op!r} at vertex {v} (known: {', '.join(OPS)})")
    src, dst = _io(g, "input"), _io(g, "output")
    if not nx.is_directed_acyclic_graph(g):
        cycle = nx.find_cycle(g)
        raise ValueError(f"the genotype has a cycle: "
                         f"{' -> '.join(str(u) for u, _ in cycle)} -> {cycle[0][0]}")
    if g.in_degree(src):
        raise ValueError(f"dangling vertex: the input vertex {src} has incoming edges")
    if g.out_degree(dst):
        raise ValueError(f"dangling vertex: the output vertex {dst} has outgoing edges")
    reach, back = nx.descendants(g, src) | {src}, nx.ancestors(g, dst) | {dst}
    for v in sorted(g):
        if v not in reach:
            raise ValueError(f"dangling vertex {v} ({g.nodes[v]['op']}): not reachable from "
                             f"the input")
        if v not in back:
            raise ValueError(f"dangling vertex {v} ({g.nodes[v]['op']}): does not reach the "
                             f"output")


def _channels(g: Genotype) -> None:
    for v, data in sorted(g.nodes(data=True)):
        c = data.get("channels")
        if data["op"] in CONVS:
            if not isinstance(c, int | np.integer) or isinstance(c, bool) \
                    or not 1 <= c <= MAX_CHANNELS:
                raise ValueError(f"bad channel count {c!r} at vertex {v} ({data['op']}): "
                                 f"expected an integer in 1..{MAX_CHANNELS}")
        elif c is not None:
            raise ValueError(f"bad channel count at vertex {v}: a {data['op']} vertex takes "
                             f"none (only {', '.join(CONVS)} do)")


def _in_shape(in_shape: Iterable[int]) -> Shape:
    s = tuple(in_shape)
    if len(s) != 3 or not all(isinstance(x, int) and x >= 1 for x in s) \
            or min(s[1:]) < STEM_POOL:
        raise ValueError(f"impossible shape: the input shape must be (channels, height, "
                         f"width) with height and width >= {STEM_POOL}, got {s}")
    return s[0], s[1], s[2]


def _propagate(g: Genotype, in_shape: Shape) -> dict[int, Shape]:
    """Each vertex's output shape (C, H, W); raises on an impossible shape or width."""
    out: dict[int, Shape] = {}
    for v in _order(g):
        op = g.nodes[v]["op"]
        if op == "input":
            out[v] = (STEM_CHANNELS, in_shape[1] // STEM_POOL, in_shape[2] // STEM_POOL)
            continue
        ins = [out[u] for u in sorted(g.predecessors(v))]
        h, w = min(s[1] for s in ins), min(s[2] for s in ins)
        c = sum(s[0] for s in ins) if op == "concat" else max(s[0] for s in ins)
        if c > MAX_CHANNELS:
            raise ValueError(f"bad channel count: vertex {v} ({op}) would have {c} channels "
                             f"(at most {MAX_CHANNELS})")
        if op in CONVS:
            c = g.nodes[v]["channels"]
        elif op in POOLS:
            if h < 2 and w < 2:
                raise ValueError(f"impossible shape: vertex {v} ({op}) would downsample a "
                                 f"1x1 feature map (too many pools for input {in_shape})")
            h, w = (h + 1) // 2, (w + 1) // 2
        out[v] = (c, h, w)
    return out


def check(genotype: Genotype, in_shape: Iterable[int] = IN_SHAPE,
          depth: tuple[int, int] | None = None) -> None:
    """Raise a one-line ValueError unless ``genotype`` is a buildable genotype.

    Args:
        genotype: the DAG to check.
        in_shape: the image shape (C, H, W) it will be built for.
        depth: optional ``(min, max)`` bounds on :func:`depth`.

    Raises:
        ValueError: not a DiGraph, non-integer ids, unknown operations, not exactly one input
            and one output, cycles, dangling vertices, bad channel counts, impossible shapes
            (a pool on a 1x1 map), a depth outside the bounds.

    Example:
        >>> g = make_genotype({0: "input", 1: "conv4", 2: "output"}, [(0, 1), (1, 2)])
        >>> check(g)
        Traceback (most recent call last):
        ...
        ValueError: unknown operation 'conv4' at vertex 1 (known: input, output, conv3, conv5, conv7, maxpool, avgpool, sum, concat, skip)
    """  # noqa: E501
    _structure(genotype)
    _channels(genotype)
    _propagate(genotype, _in_shape(in_shape))
    if depth is not None:
        d = _longest(genotype)
        if not depth[0] <= d <= depth[1]:
            raise ValueError(f"depth {d} is outside the bounds {depth[0]}..{depth[1]}")


def shapes(genotype: Genotype, in_shape: Iterable[int] = IN_SHAPE) -> dict[int, Shape]:
    """Vertex -> the (channels, height, width) of its output, after :func:`check`.

    Args:
        genotype: the genotype.
        in_shape: the image shape (C, H, W) it is built for; the input vertex's output is the
            stem's, ``STEM_CHANNELS`` channels at ``1 / STEM_POOL`` of the resolution.

    Returns:
        A dict from every vertex to its output shape.

    Raises:
        ValueError: the genotype fails :func:`check`.

    Example:
        >>> g = make_genotype({0: "input", 1: ("conv3", 8), 2: "maxpool", 3: "output"},
        ...                   [(0, 1), (1, 2), (2, 3)])
        >>> shapes(g, (1, 8, 8))
        {0: (32, 4, 4), 1: (8, 4, 4), 2: (8, 2, 2), 3: (8, 2, 2)}
    """
    check(genotype, in_shape)
    return _propagate(genotype, _in_shape(in_shape))


def _longest(g: Genotype) -> int:
    return int(nx.dag_longest_path_length(g)) + 1


def depth(genotype: Genotype) -> int:
    """The number of vertices on a longest path from the input to the output.

    Args:
        genotype: a directed acyclic genotype (not otherwise checked).

    Returns:
        The number of vertices on a longest path (the input and output included).

    Example:
        >>> depth(make_genotype({0: "input", 1: "skip", 2: "output"}, [(0, 1), (1, 2), (0, 2)]))
        3
    """
    return _longest(genotype)


def max_pools(in_shape: Iterable[int] = IN_SHAPE) -> int:
    """How many pools a path may hold for images of ``in_shape`` (4 for 32x32).

    Raises:
        ValueError: an impossible input shape.
    """
    _, h, w = _in_shape(in_shape)
    m, n = max(h, w) // STEM_POOL, 0
    while m >= 2:
        m, n = (m + 1) // 2, n + 1
    return n


def reductions(genotype: Genotype) -> dict[int, int]:
    """Vertex -> the most pools on a path from the input to it, itself included."""
    out: dict[int, int] = {}
    for v in _order(genotype):
        before = max((out[u] for u in genotype.predecessors(v)), default=0)
        out[v] = before + (genotype.nodes[v]["op"] in POOLS)
    return out


def draw_channels(rng: np.random.Generator, reduced: int) -> int:
    """A random conv width for a vertex after ``reduced`` pools: a :data:`CHANNEL_CHOICES`
    value times ``2 ** min(reduced, 2)``."""
    return int(rng.choice(CHANNEL_CHOICES)) * 2 ** min(reduced, 2)


def to_json(genotype: Genotype) -> dict[str, Any]:
    """The genotype as a JSON-able dict (vertices and edges sorted, format and version).

    Args:
        genotype: the genotype (not checked; :func:`save` checks it).

    Returns:
        ``{"format", "version", "vertices", "edges"}``: vertices as ``{"id", "op"}`` (plus
            ``"channels"`` for a convolution) by id, edges as sorted ``[from, to]`` pairs.

    Example:
        >>> g = make_genotype({0: "input", 1: ("conv3", 8), 2: "output"}, [(0, 1), (1, 2)])
        >>> d = to_json(g); d["vertices"][1], d["edges"]
        ({'id': 1, 'op': 'conv3', 'channels': 8}, [[0, 1], [1, 2]])
        >>> genotype_hash(from_json(d)) == genotype_hash(g)
        True
    """
    vertices = []
    for v, data in sorted(genotype.nodes(data=True)):
        rec: dict[str, Any] = {"id": int(v), "op": data["op"]}
        if "channels" in data:
            rec["channels"] = int(data["channels"])
        vertices.append(rec)
    return {"format": FORMAT, "version": FORMAT_VERSION, "vertices": vertices,
            "edges": sorted([int(u), int(v)] for u, v in genotype.edges)}


def from_json(obj: Mapping[str, Any], in_shape: Iterable[int] = IN_SHAPE) -> Genotype:
    """The genotype of a :func:`to_json` dict, checked.

    Args:
        obj: a dict as :func:`to_json` writes it.
        in_shape: the image shape (C, H, W) the genotype must be buildable for.

    Returns:
        The genotype.

    Raises:
        ValueError: not this format or version, malformed, or the genotype fails
            :func:`check`.

    Example:
        >>> from_json({"format": "rewire.nas.genotype", "version": 2})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: not a genotype of format rewire.nas.genotype version 1 (... version 2)
    """
    if obj.get("format") != FORMAT or obj.get("version") != FORMAT_VERSION:
        raise ValueError(f"not a genotype of format {FORMAT} version {FORMAT_VERSION} "
                         f"(format {obj.get('format')!r}, version {obj.get('version')!r})")
    try:
        g = nx.DiGraph()
        for rec in obj["vertices"]:
            extra = {"channels": rec["channels"]} if "channels" in rec else {}
            g.add_node(rec["id"], op=rec["op"], **extra)
        for u, v in obj["edges"]:
            if u not in g or v not in g:
                raise ValueError(f"edge {u} -> {v} names an unknown vertex")
            g.add_edge(u, v)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"malformed genotype JSON: {type(exc).__name__} {exc}") from None
    check(g, in_shape)
    return g


def save(genotype: Genotype, path: str | os.PathLike,
         in_shape: Iterable[int] = IN_SHAPE) -> None:
    """Write the genotype to a small JSON file (atomically), after :func:`check`.

    The content is :func:`to_json`'s; missing parent folders are created.

    Args:
        genotype: the genotype to write.
        path: the file to write (replaced if it exists).
        in_shape: the image shape (C, H, W) the genotype must be buildable for.

    Raises:
        ValueError: the genotype fails :func:`check` for ``in_shape``.
        OSError: the file cannot be written.

    Example:
        >>> import pathlib, tempfile
        >>> g = make_genotype({0: "input", 1: ("conv3", 8), 2: "output"}, [(0, 1), (1, 2)])
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "g.json"
        >>> save(g, path)
        >>> genotype_hash(load(path)) == genotype_hash(g)
        True
    """
    check(genotype, in_shape)
    write_json(path, to_json(genotype))


def load(path: str | os.PathLike, in_shape: Iterable[int] = IN_SHAPE) -> Genotype:
    """Read a genotype written by :func:`save` (checked for ``in_shape``).

    Args:
        path: the JSON file.
        in_shape: the image shape (C, H, W) the genotype must be buildable for.

    Returns:
        The genotype.

    Raises:
        ValueError: no such file, not valid JSON, or :func:`from_json` refuses it.

    Example:
        >>> load("no/such/genotype.json")
        Traceback (most recent call last):
        ...
        ValueError: no/such/genotype.json: no such genotype file
    """
    if not os.path.isfile(path):
        raise ValueError(f"{path}: no such genotype file")
    try:
        obj = read_json(path)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: not a genotype file")
    return from_json(obj, in_shape)


def _digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode()).hexdigest()


def genotype_hash(genotype: Genotype) -> str:
    """A stable hex digest of the genotype's content, independent of vertex ids and of
    insertion order: isomorphic genotypes (same operations and widths) hash alike.

    Vertices are coloured by colour refinement (Weisfeiler-Lehman on the directed graph, with
    predecessor and successor colours), the digest covers the sorted colours of vertices and
    edges. Distinct genotypes could only collide where refinement cannot tell them apart.

    Args:
        genotype: the genotype (not checked).

    Returns:
        A 64-character hex SHA-256 digest.

    Example:
        >>> a = make_genotype({0: "input", 1: "skip", 2: "output"}, [(0, 1), (1, 2)])
        >>> b = make_genotype({2: "output", 7: "skip", 5: "input"}, [(7, 2), (5, 7)])
        >>> genotype_hash(a) == genotype_hash(b), genotype_hash(a)[:12]
        (True, '1debec5099b6')
    """
    g = genotype
    colour = {v: _digest(d["op"], int(d.get("channels", 0))) for v, d in g.nodes(data=True)}
    for _ in range(g.number_of_nodes()):
        new = {v: _digest(colour[v], sorted(colour[u] for u in g.predecessors(v)),
                          sorted(colour[u] for u in g.successors(v))) for v in g}
        if len(set(new.values())) == len(set(colour.values())):
            colour = new
            break
        colour = new
    return _digest(FORMAT_VERSION, sorted(colour.values()),
                   sorted([colour[u], colour[v]] for u, v in g.edges))


def _draw_op(rng: np.random.Generator) -> str:
    names = list(OP_WEIGHTS)
    p = np.array([OP_WEIGHTS[n] for n in names])
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def _random_once(rng: np.random.Generator, d: int, pools: int) -> Genotype:
    """A backbone chain of ``d`` vertices plus branches that never lengthen it."""
    g = nx.DiGraph()
    g.add_node(0, op="input")
    for i in range(1, d - 1):
        g.add_node(i, op=_draw_op(rng))
    g.add_node(d - 1, op="output")
    g.add_edges_from((i, i + 1) for i in range(d - 1))
    for _ in range(int(rng.integers(0, d // 2 + 1))):  # branches: a vertex or an edge across
        i = int(rng.integers(0, d - 2))
        j = int(rng.integers(i + 2, d))
        if rng.random() < 0.6:
            w = g.number_of_nodes()
            g.add_node(w, op=_draw_op(rng))
            g.add_edges_from([(i, w), (w, j)])
        else:
            g.add_edge(i, j)
    red: dict[int, int] = {}
    for v in _order(g):  # drop pools that would downsample past 1x1, then give convs widths
        before = max((red[u] for u in g.predecessors(v)), default=0)
        if g.nodes[v]["op"] in POOLS and before >= pools:
            g.nodes[v]["op"] = str(rng.choice(CONVS))
        red[v] = before + (g.nodes[v]["op"] in POOLS)
        if g.nodes[v]["op"] in CONVS:
            g.nodes[v]["channels"] = draw_channels(rng, before)
    return g


def random_genotype(rng: np.random.Generator, depth: tuple[int, int] = DEPTH,
                    in_shape: Iterable[int] = IN_SHAPE) -> Genotype:
    """A random buildable genotype whose :func:`depth` lies within ``depth``.

    A chain of a uniformly drawn depth ``d``, inner operations drawn by :data:`OP_WEIGHTS`,
    plus up to ``d // 2`` branches (a new vertex, or a direct edge, from a chain vertex to one
    at least two steps later); pools beyond :func:`max_pools` on a path become convs.

    Args:
        rng: the random stream.
        depth: ``(min, max)`` vertices on a longest input -> output path, min >= 3.
        in_shape: the image shape the genotype must be buildable for.

    Returns:
        A genotype that passes :func:`check`.

    Raises:
        ValueError: bad depth bounds, or no buildable genotype found in 100 draws.

    Example:
        >>> g = random_genotype(np.random.default_rng(0))
        >>> check(g, depth=DEPTH); 6 <= depth(g) <= 12
        True
    """
    lo, hi = depth
    if not 3 <= lo <= hi:
        raise ValueError(f"depth bounds must satisfy 3 <= min <= max, got {depth}")
    pools = max_pools(in_shape)
    for _ in range(100):
        g = _random_once(rng, int(rng.integers(lo, hi + 1)), pools)
        try:
            check(g, in_shape, depth)
            return g
        except ValueError:
            continue
    raise ValueError(f"found no buildable genotype of depth {depth} for input {in_shape}")


COLOURS = {"input": "#bbbbbb", "output": "#bbbbbb", "conv3": "#8fbbda", "conv5": "#5a9bd4",
           "conv7": "#2a6fb0", "maxpool": "#f2a65a", "avgpool": "#f6c98b", "sum": "#9fd49f",
           "concat": "#c7a1d6", "skip": "#e8e8a0"}


def draw(genotype: Genotype, path: str | os.PathLike) -> None:
    """Draw the genotype top-down (by longest-path level) to a PNG file.

    Needs matplotlib (``pip install 'rewire[plots]'``). Vertices are labelled with their
    operation (and width) and coloured by operation; the file is written atomically.

    Args:
        genotype: the genotype to draw (checked for :data:`IN_SHAPE`).
        path: the PNG file to write.

    Raises:
        ValueError: the genotype fails :func:`check`.
        MissingExtra: matplotlib is not installed.
    """
    check(genotype)
    figure = require("matplotlib.figure", "rewire.nas.draw")
    agg = require("matplotlib.backends.backend_agg", "rewire.nas.draw")
    g = genotype.copy()
    for layer, vs in enumerate(nx.topological_generations(g)):
        for v in vs:
            g.nodes[v]["layer"] = layer
    pos = {v: (x, -y) for v, (x, y) in
           nx.multipartite_layout(g, subset_key="layer", align="horizontal").items()}
    labels = {v: d["op"] + (f"\n{d['channels']}" if "channels" in d else "")
              for v, d in g.nodes(data=True)}
    height = 1.0 + 0.8 * (max(nx.get_node_attributes(g, "layer").values()) + 1)
    fig = figure.Figure(figsize=(6, height))
    agg.FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    nx.draw_networkx(g, pos, ax=ax, labels=labels, node_size=1400, font_size=8,
                     node_color=[COLOURS[op] for _, op in g.nodes(data="op")],
                     arrowsize=12, node_shape="s")
    ax.set_axis_off()
    fig.tight_layout()
    tmp = f"{os.fspath(path)}.tmp.png"
    fig.savefig(tmp, dpi=100)
    os.replace(tmp, path)
