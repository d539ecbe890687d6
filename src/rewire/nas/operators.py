"""Genetic operators on genotypes (deepstruct section 4.4): two mutations, three crossovers,
tournament and rank selection.

Every operator takes a numpy ``Generator`` first, never changes its arguments and returns
new genotypes that pass :func:`~rewire.nas.genotype.check` for ``in_shape`` with a depth
within ``depth``. A draw that would break a rule (a depth out of bounds, a pool on a 1x1 map,
a concat wider than :data:`~rewire.nas.genotype.MAX_CHANNELS`) is redrawn, up to ``tries``
times; after that the operator returns copies of its parents unchanged. The parents must
satisfy the same rules (ValueError otherwise).

- :func:`mutate_op`: a random inner vertex gets another operation (a new conv gets a width
  drawn for its resolution, a former conv loses its width).
- :func:`mutate_insert`: a random edge ``u -> v`` is replaced by a depth-2 subgraph: two new
  vertices in series ``u -> a -> b -> v`` or, half the time, a residual diamond that also has
  ``u -> b`` with ``b`` a sum or concat.
- :func:`crossover_path`: sub-paths of the parents' longest *segments* (maximal runs of
  inner vertices with one input and one output each) are swapped: windows of the shorter
  segment's length, so both children keep their parent's depth.
- :func:`crossover_bridge`: a random bridge (an edge on every input -> output path) is drawn
  in each parent; each child keeps its parent's part before the bridge and takes the other
  parent's part after its bridge.
- :func:`crossover_layers`: the convolutions of the two parents, each in topological order,
  are matched by position; both children keep their parent's graph with every matched conv's
  width set to the pair's average (rounded up).

Example:
    >>> import numpy as np
    >>> from rewire.nas.genotype import check, random_genotype
    >>> rng = np.random.default_rng(0)
    >>> a, b = random_genotype(rng), random_genotype(rng)
    >>> c, d = crossover_bridge(rng, a, b)
    >>> check(mutate_insert(rng, c), depth=(6, 12))
    >>> tournament(rng, [0.1, 0.9, 0.5], k=2, size=3)
    [1, 1]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from .genotype import (
    CONVS,
    DEPTH,
    IN_SHAPE,
    OPS,
    Genotype,
    _order,
    check,
    draw_channels,
    nx,
    reductions,
)

__all__ = ["mutate_op", "mutate_insert", "crossover_path", "crossover_bridge",
           "crossover_layers", "tournament", "rank_selection", "MUTATIONS", "CROSSOVERS"]

INNER = [op for op in OPS if op not in ("input", "output")]


def _valid(g: Genotype, depth: tuple[int, int], in_shape: Iterable[int]) -> bool:
    try:
        check(g, in_shape, depth)
    except ValueError:
        return False
    return True


def _inner(g: Genotype) -> list[int]:
    return sorted(v for v, op in g.nodes(data="op") if op not in ("input", "output"))


def _set_op(rng: np.random.Generator, g: Genotype, v: int, op: str, reduced: int) -> None:
    g.nodes[v]["op"] = op
    if op in CONVS:
        g.nodes[v]["channels"] = draw_channels(rng, reduced)
    else:
        g.nodes[v].pop("channels", None)


def _retry(rng: np.random.Generator, parents: tuple[Genotype, ...], depth: tuple[int, int],
           in_shape: Iterable[int], tries: int,
           draw: Callable[[], tuple[Genotype, ...] | None]) -> tuple[Genotype, ...]:
    shape = tuple(in_shape)
    for p in parents:
        check(p, shape, depth)
    for _ in range(tries):
        out = draw()
        if out is not None and all(_valid(g, depth, shape) for g in out):
            return out
    return tuple(p.copy() for p in parents)


def mutate_op(rng: np.random.Generator, genotype: Genotype, depth: tuple[int, int] = DEPTH,
              in_shape: Iterable[int] = IN_SHAPE, tries: int = 10) -> Genotype:
    """Remap a random inner vertex to another operation.

    Args:
        rng: the random stream.
        genotype: the parent (unchanged).
        depth: ``(min, max)`` depth bounds the result keeps.
        in_shape: the image shape the result must be buildable for.
        tries: redraws before giving up and returning a copy of the parent.

    Returns:
        The mutated copy (or a plain copy: no inner vertex, or no valid draw).

    Raises:
        ValueError: the parent fails :func:`~rewire.nas.genotype.check` with these bounds.
    """
    def draw() -> tuple[Genotype, ...] | None:
        inner = _inner(genotype)
        if not inner:
            return None
        g = genotype.copy()
        v = inner[int(rng.integers(len(inner)))]
        op = str(rng.choice([o for o in INNER if o != g.nodes[v]["op"]]))
        red = reductions(g)
        before = max(red[u] for u in g.predecessors(v))
        _set_op(rng, g, v, op, before)
        return (g,)

    return _retry(rng, (genotype,), depth, in_shape, tries, draw)[0]


def mutate_insert(rng: np.random.Generator, genotype: Genotype,
                  depth: tuple[int, int] = DEPTH, in_shape: Iterable[int] = IN_SHAPE,
                  tries: int = 10) -> Genotype:
    """Replace a random edge ``u -> v`` by a depth-2 subgraph of two new vertices ``a``,
    ``b``: ``u -> a -> b -> v``, plus ``u -> b`` (a residual diamond, ``b`` a sum or concat)
    half the time. Operations of new vertices are drawn uniformly.

    Args:
        rng: the random stream.
        genotype: the parent (unchanged).
        depth: ``(min, max)`` depth bounds the result keeps.
        in_shape: the image shape the result must be buildable for.
        tries: redraws before giving up and returning a copy of the parent.

    Returns:
        The mutated copy, two vertices larger (or a plain copy: no valid draw).

    Raises:
        ValueError: the parent fails :func:`~rewire.nas.genotype.check` with these bounds.

    Example:
        >>> from rewire.nas.genotype import make_genotype
        >>> g = make_genotype({0: "input", 1: ("conv3", 16), 2: "skip", 3: "output"},
        ...                   [(0, 1), (1, 2), (2, 3)])
        >>> child = mutate_insert(np.random.default_rng(0), g, depth=(3, 12))
        >>> g.number_of_nodes(), child.number_of_nodes()
        (4, 6)
    """
    def draw() -> tuple[Genotype, ...] | None:
        g = genotype.copy()
        edges = sorted(g.edges)
        u, v = edges[int(rng.integers(len(edges)))]
        a, b = max(g) + 1, max(g) + 2
        red = reductions(g)[u]
        diamond = rng.random() < 0.5
        g.add_nodes_from([a, b])
        _set_op(rng, g, a, str(rng.choice(INNER)), red)
        op_b = str(rng.choice(["sum", "concat"] if diamond else INNER))
        _set_op(rng, g, b, op_b, red + (g.nodes[a]["op"] in ("maxpool", "avgpool")))
        g.remove_edge(u, v)
        g.add_edges_from([(u, a), (a, b), (b, v)] + ([(u, b)] if diamond else []))
        return (g,)

    return _retry(rng, (genotype,), depth, in_shape, tries, draw)[0]


def _relabel(g: Genotype) -> Genotype:
    """Ids 0..n-1 in topological order (ties by old id)."""
    return nx.relabel_nodes(g, {v: i for i, v in enumerate(_order(g))}, copy=True)


def _segments(g: Genotype) -> list[list[int]]:
    """Maximal runs of inner vertices with exactly one input and one output, in order."""
    def simple(v: int) -> bool:
        return g.nodes[v]["op"] not in ("input", "output") and g.in_degree(v) == 1 \
            and g.out_degree(v) == 1

    runs = []
    for v in _order(g):
        if simple(v) and not simple(next(iter(g.predecessors(v)))):
            run = [v]
            while simple(nxt := next(iter(g.successors(run[-1])))):
                run.append(nxt)
            runs.append(run)
    return runs


def _longest_segment(rng: np.random.Generator, g: Genotype) -> list[int] | None:
    runs = _segments(g)
    if not runs:
        return None
    top = max(len(r) for r in runs)
    best = [r for r in runs if len(r) == top]
    return best[int(rng.integers(len(best)))]


def _window(rng: np.random.Generator, run: list[int], n: int) -> list[int]:
    start = int(rng.integers(len(run) - n + 1))
    return run[start:start + n]


def _splice(g: Genotype, run: list[int], donor: Genotype, new: list[int]) -> Genotype:
    """``g`` with segment ``run`` replaced by a copy of ``donor``'s segment ``new``."""
    out = g.copy()
    before, after = next(iter(g.predecessors(run[0]))), next(iter(g.successors(run[-1])))
    out.remove_nodes_from(run)
    ids = list(range(max(out) + 1, max(out) + 1 + len(new)))
    for i, v in zip(ids, new):
        out.add_node(i, **donor.nodes[v])
    out.add_edges_from(zip([before, *ids], [*ids, after]))
    return _relabel(out)


def crossover_path(rng: np.random.Generator, a: Genotype, b: Genotype,
                   depth: tuple[int, int] = DEPTH, in_shape: Iterable[int] = IN_SHAPE,
                   tries: int = 10) -> tuple[Genotype, Genotype]:
    """Swap sub-paths of the longest simple segments of two parents.

    A segment is a maximal run of inner vertices with one input and one output each; the
    longest of each parent is drawn (ties at random), and windows of the shorter one's length
    ``n``, at random offsets, are swapped: both children keep their parent's depth.

    Args:
        rng: the random stream.
        a: the first parent (unchanged).
        b: the second parent (unchanged).
        depth: ``(min, max)`` depth bounds the children keep.
        in_shape: the image shape the children must be buildable for.
        tries: redraws before giving up and returning copies of the parents.

    Returns:
        The two children (copies of the parents when a parent has no segment or no draw
            gives valid children).

    Raises:
        ValueError: a parent fails :func:`~rewire.nas.genotype.check` with these bounds.
    """
    def draw() -> tuple[Genotype, ...] | None:
        ra, rb = _longest_segment(rng, a), _longest_segment(rng, b)
        if ra is None or rb is None:
            return None
        n = min(len(ra), len(rb))
        wa, wb = _window(rng, ra, n), _window(rng, rb, n)
        return _splice(a, wa, b, wb), _splice(b, wb, a, wa)

    c, d = _retry(rng, (a, b), depth, in_shape, tries, draw)
    return c, d


def _bridges(g: Genotype) -> list[tuple[int, int]]:
    """Edges whose removal disconnects the input from the output, sorted."""
    order = _order(g)
    src, dst = order[0], order[-1]
    out = []
    for u, v in sorted(g.edges):
        view = nx.restricted_view(g, [], [(u, v)])
        if not nx.has_path(view, src, dst):
            out.append((u, v))
    return out


def _graft(head: Genotype, bridge: tuple[int, int], tail: Genotype,
           tail_bridge: tuple[int, int]) -> Genotype:
    """``head``'s part before its bridge, joined to ``tail``'s part from its bridge on."""
    u = bridge[0]
    keep = nx.ancestors(head, u) | {u}  # everything not after the bridge
    start = tail_bridge[1]
    part = tail.subgraph(nx.descendants(tail, start) | {start})
    out = head.subgraph(keep).copy()
    shift = max(out) + 1 - min(part)
    out = nx.union(out, nx.relabel_nodes(part, {w: w + shift for w in part}, copy=True))
    out.add_edge(u, start + shift)
    return _relabel(out)


def crossover_bridge(rng: np.random.Generator, a: Genotype, b: Genotype,
                     depth: tuple[int, int] = DEPTH, in_shape: Iterable[int] = IN_SHAPE,
                     tries: int = 10) -> tuple[Genotype, Genotype]:
    """Draw a bridge in each parent and swap what follows them.

    Each child is its parent up to the bridge's source, then the other parent from its
    bridge's target on. A pair of bridges that both leave the input, or both enter the
    output, is not drawn (the children would be copies of the parents).

    Args:
        rng: the random stream.
        a: the first parent (unchanged).
        b: the second parent (unchanged).
        depth: ``(min, max)`` depth bounds the children keep.
        in_shape: the image shape the children must be buildable for.
        tries: redraws before giving up and returning copies of the parents.

    Returns:
        The two children, their vertices renumbered 0..n-1 in topological order (copies of
            the parents when no pair of bridges gives valid children).

    Raises:
        ValueError: a parent fails :func:`~rewire.nas.genotype.check` with these bounds.

    Example:
        >>> from rewire.nas.genotype import make_genotype
        >>> a = make_genotype({0: "input", 1: ("conv3", 16), 2: ("conv5", 64), 3: "output"},
        ...                   [(0, 1), (1, 2), (2, 3)])
        >>> b = make_genotype({0: "input", 1: ("conv3", 32), 2: "maxpool", 3: "output"},
        ...                   [(0, 1), (1, 2), (2, 3)])
        >>> c, d = crossover_bridge(np.random.default_rng(1), a, b, depth=(3, 12))
        >>> [c.nodes[v]["op"] for v in sorted(c)], [d.nodes[v]["op"] for v in sorted(d)]
        (['input', 'conv3', 'maxpool', 'output'], ['input', 'conv3', 'conv5', 'output'])
    """
    (ia, *_, oa), (ib, *_, ob) = _order(a), _order(b)
    pairs = [(ea, eb) for ea in _bridges(a) for eb in _bridges(b)
             if not (ea[0] == ia and eb[0] == ib) and not (ea[1] == oa and eb[1] == ob)]

    def draw() -> tuple[Genotype, ...] | None:
        if not pairs:
            return None
        ea, eb = pairs[int(rng.integers(len(pairs)))]
        return _graft(a, ea, b, eb), _graft(b, eb, a, ea)

    c, d = _retry(rng, (a, b), depth, in_shape, tries, draw)
    return c, d


def crossover_layers(rng: np.random.Generator, a: Genotype, b: Genotype,
                     depth: tuple[int, int] = DEPTH, in_shape: Iterable[int] = IN_SHAPE,
                     tries: int = 1) -> tuple[Genotype, Genotype]:
    """Average the widths of matching convolutions: the i-th conv of ``a`` (topological
    order, ties by id) matches the i-th conv of ``b``; each child is its parent with every
    matched width set to ``ceil((width_a + width_b) / 2)``. Deterministic (``rng`` is
    unused; one try).

    Args:
        rng: the random stream.
        a: the first parent (unchanged).
        b: the second parent (unchanged).
        depth: ``(min, max)`` depth bounds the children keep.
        in_shape: the image shape the children must be buildable for.
        tries: redraws before giving up and returning copies of the parents.

    Returns:
        The two children (copies of the parents if a child would not be valid, e.g. a
            concat grown too wide).

    Raises:
        ValueError: a parent fails :func:`~rewire.nas.genotype.check` with these bounds.

    Example:
        >>> from rewire.nas.genotype import make_genotype
        >>> a = make_genotype({0: "input", 1: ("conv3", 16), 2: ("conv5", 64), 3: "output"},
        ...                   [(0, 1), (1, 2), (2, 3)])
        >>> b = make_genotype({0: "input", 1: ("conv3", 32), 2: "maxpool", 3: "output"},
        ...                   [(0, 1), (1, 2), (2, 3)])
        >>> c, d = crossover_layers(np.random.default_rng(0), a, b, depth=(3, 12))
        >>> c.nodes[1]["channels"], c.nodes[2]["channels"], d.nodes[1]["channels"]
        (24, 64, 24)
    """
    def draw() -> tuple[Genotype, ...] | None:
        ca = [v for v in _order(a) if a.nodes[v]["op"] in CONVS]
        cb = [v for v in _order(b) if b.nodes[v]["op"] in CONVS]
        c, d = a.copy(), b.copy()
        for u, v in zip(ca, cb):
            mean = (int(a.nodes[u]["channels"]) + int(b.nodes[v]["channels"]) + 1) // 2
            c.nodes[u]["channels"] = d.nodes[v]["channels"] = mean
        return c, d

    c, d = _retry(rng, (a, b), depth, in_shape, tries, draw)
    return c, d


def _fitness(fitness: Sequence[float], k: int) -> np.ndarray:
    f = np.asarray(fitness, dtype=np.float64)
    if f.ndim != 1 or len(f) == 0 or k < 0:
        raise ValueError(f"need a non-empty list of fitness values and k >= 0, got "
                         f"{len(f)} values and k={k}")
    return np.where(np.isnan(f), -np.inf, f)


def tournament(rng: np.random.Generator, fitness: Sequence[float], k: int,
               size: int = 3) -> list[int]:
    """Indices of ``k`` winners, each the fittest of ``size`` distinct random individuals
    (ties to the lower index; NaN counts as the worst).

    Args:
        rng: the random stream.
        fitness: one value per individual, higher is better.
        k: how many to select (with repetition across tournaments).
        size: the tournament size (capped at the population size).

    Returns:
        ``k`` indices into ``fitness``.

    Raises:
        ValueError: empty ``fitness``, ``k < 0`` or ``size < 1``.
    """
    f = _fitness(fitness, k)
    if size < 1:
        raise ValueError(f"tournament size must be >= 1, got {size}")
    out = []
    for _ in range(k):
        pool = np.sort(rng.choice(len(f), size=min(size, len(f)), replace=False))
        out.append(int(pool[np.argmax(f[pool])]))
    return out


def rank_selection(rng: np.random.Generator, fitness: Sequence[float], k: int) -> list[int]:
    """Indices of ``k`` individuals drawn with replacement, with probability proportional to
    their rank (the worst 1, the best n; ties by index; NaN counts as the worst).

    Args:
        rng: the random stream.
        fitness: one value per individual, higher is better.
        k: how many to select.

    Returns:
        ``k`` indices into ``fitness``.

    Raises:
        ValueError: empty ``fitness`` or ``k < 0``.

    Example:
        >>> rank_selection(np.random.default_rng(0), [0.3, 0.1, 0.2], k=4)
        [1, 0, 0, 0]
    """
    f = _fitness(fitness, k)
    rank = np.empty(len(f))
    rank[np.argsort(f, kind="stable")] = np.arange(1, len(f) + 1)
    return [int(i) for i in rng.choice(len(f), size=k, p=rank / rank.sum())]


MUTATIONS = {"op": mutate_op, "insert": mutate_insert}
CROSSOVERS = {"path": crossover_path, "bridge": crossover_bridge, "layers": crossover_layers}
