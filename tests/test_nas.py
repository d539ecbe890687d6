"""The genetic architecture search space (rewire.nas): genotypes, compilation, operators,
features. Property tests run over thousands of seeded random genotypes; only a few dozen
are built and run (the exhaustive build check is marked slow)."""

import json
import math

import networkx as nx
import numpy as np
import pytest
import torch
from torch import nn

from rewire.nas import (
    BASELINE_FEATURES,
    CROSSOVERS,
    DEPTH,
    FEATURES,
    MUTATIONS,
    RANDOM_SEARCH_DEPTH,
    build,
    check,
    count_params,
    crossover_bridge,
    crossover_layers,
    crossover_path,
    depth,
    draw,
    flops,
    from_json,
    genotype_features,
    genotype_hash,
    load,
    make_genotype,
    mutate_insert,
    mutate_op,
    random_genotype,
    rank_selection,
    save,
    shapes,
    to_json,
    tournament,
)

N = 2000


@pytest.fixture(scope="module")
def population():
    rng = np.random.default_rng(2024)
    return [random_genotype(rng) for _ in range(N)]


def _chain(*ops):
    """input -> ops... -> output; a conv op is ("conv3", channels)."""
    vertices = {0: "input", **{i + 1: op for i, op in enumerate(ops)}, len(ops) + 1: "output"}
    return make_genotype(vertices, [(i, i + 1) for i in range(len(ops) + 1)])


def _relabelled(g, rng):
    """The same genotype with shuffled ids, inserted in a shuffled order."""
    ids = rng.permutation(1000)[: g.number_of_nodes()]
    names = dict(zip(sorted(g), (int(i) for i in ids)))
    out = nx.DiGraph()
    for v in rng.permutation(sorted(g)):
        out.add_node(names[int(v)], **g.nodes[int(v)])
    edges = sorted(g.edges)
    for i in rng.permutation(len(edges)):
        u, v = edges[i]
        out.add_edge(names[u], names[v])
    return out


def _same(a, b):
    return to_json(a) == to_json(b)


# --- random genotypes, JSON, hash -------------------------------------------------------

def test_random_genotypes_are_acyclic_buildable_and_within_depth_bounds(population):
    depths = set()
    for g in population:
        check(g, depth=DEPTH)
        assert nx.is_directed_acyclic_graph(g)
        assert DEPTH[0] <= depth(g) <= DEPTH[1]
        depths.add(depth(g))
    assert depths == set(range(DEPTH[0], DEPTH[1] + 1))  # every depth is drawn
    rng = np.random.default_rng(1)
    for _ in range(100):
        g = random_genotype(rng, RANDOM_SEARCH_DEPTH)
        check(g, depth=RANDOM_SEARCH_DEPTH)


def test_random_genotypes_fit_other_input_shapes():
    from rewire.nas.genotype import max_pools, reductions

    assert [max_pools(s) for s in [(3, 32, 32), (1, 28, 28), (3, 8, 8), (3, 2, 3)]] == \
        [4, 4, 2, 0]
    rng = np.random.default_rng(4)
    for shape in [(1, 28, 28), (3, 8, 8), (3, 2, 2)]:
        for _ in range(50):
            g = random_genotype(rng, (8, 12), shape)
            check(g, shape, (8, 12))
            assert max(reductions(g).values()) <= max_pools(shape)
    assert build(g, shape)(torch.randn(2, *shape)).shape == (2, 10)


def test_random_genotypes_are_diverse_and_reproducible(population):
    assert len({genotype_hash(g) for g in population[:500]}) == 500
    again = random_genotype(np.random.default_rng(2024))
    assert _same(again, population[0])


def test_json_round_trip_and_hash_stability(population):
    rng = np.random.default_rng(7)
    for g in population:
        text = json.dumps(to_json(g))
        back = from_json(json.loads(text))
        assert _same(back, g)
        h = genotype_hash(g)
        assert genotype_hash(back) == h
        assert genotype_hash(_relabelled(g, rng)) == h


def test_the_hash_is_pinned_and_sees_operations_and_widths():
    g = _chain(("conv3", 32), "maxpool", ("conv5", 64))
    assert genotype_hash(g) == (
        "9bd154301f83b3eb4562e4000500e645b03428277880e05050bad11863651f09")
    assert genotype_hash(_chain(("conv3", 32), "avgpool", ("conv5", 64))) != genotype_hash(g)
    assert genotype_hash(_chain(("conv3", 48), "maxpool", ("conv5", 64))) != genotype_hash(g)
    assert genotype_hash(_chain(("conv5", 64), "maxpool", ("conv3", 32))) != genotype_hash(g)


def test_save_and_load_a_small_versioned_file(tmp_path, population):
    path = tmp_path / "g.json"
    save(population[3], path)
    assert path.stat().st_size < 4096
    assert json.loads(path.read_text())["version"] == 1
    assert _same(load(path), population[3])
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not JSON"):
        load(path)
    with pytest.raises(ValueError, match="version"):
        from_json({**to_json(population[3]), "version": 99})
    with pytest.raises(ValueError, match="malformed"):
        from_json({"format": "rewire.nas.genotype", "version": 1, "vertices": [{"id": 0}],
                   "edges": []})


def test_draw_writes_a_png(tmp_path, population):
    path = tmp_path / "g.png"
    draw(population[0], path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- check: one error class per test, each one line -------------------------------------

def _two_inputs():
    return make_genotype({0: "input", 1: "input", 2: "sum", 3: "output"},
                         [(0, 2), (1, 2), (2, 3)])


def _cycle():
    return make_genotype({0: "input", 1: "skip", 2: "sum", 3: "output"},
                         [(0, 1), (1, 2), (2, 1), (2, 3)])


def _unreachable():
    g = _chain("skip")
    g.add_node(9, op="skip")
    g.add_edge(9, 2)
    return g


def _dead_end():
    g = _chain("skip")
    g.add_node(9, op="skip")
    g.add_edge(1, 9)
    return g


def _too_wide_concat():
    vertices = {0: "input", 1: ("conv3", 600), 2: ("conv3", 600), 3: "concat", 4: "output"}
    return make_genotype(vertices, [(0, 1), (0, 2), (1, 3), (2, 3), (3, 4)])


CHECK_ERRORS = [
    ("not a DiGraph", lambda: nx.Graph(), "is a networkx DiGraph"),
    ("non-integer id", lambda: make_genotype({"a": "input"}, []), "must be integers"),
    ("unknown operation", lambda: _chain("conv4"), "unknown operation 'conv4' at vertex 1"),
    ("two inputs", _two_inputs, "exactly one input vertex, found 2"),
    ("no output", lambda: make_genotype({0: "input", 1: "skip"}, [(0, 1)]),
     "exactly one output vertex, found 0"),
    ("cycle", _cycle, "cycle: "),
    ("unreachable", _unreachable, "dangling vertex 9 \\(skip\\): not reachable from the input"),
    ("dead end", _dead_end, "dangling vertex 9 \\(skip\\): does not reach the output"),
    ("missing width", lambda: _chain("conv3"), "bad channel count None at vertex 1"),
    ("zero width", lambda: _chain(("conv3", 0)), "bad channel count 0 at vertex 1"),
    ("float width", lambda: _chain(("conv3", 8.0)), "bad channel count 8.0"),
    ("width on a pool", lambda: _chain(("maxpool", 8)), "a maxpool vertex takes none"),
    ("concat too wide", _too_wide_concat, "would have 1200 channels"),
    ("too many pools", lambda: _chain(*["maxpool"] * 5), "impossible shape: vertex 5"),
]


@pytest.mark.parametrize("make,match", [c[1:] for c in CHECK_ERRORS],
                         ids=[c[0] for c in CHECK_ERRORS])
def test_check_raises_one_line(make, match):
    with pytest.raises(ValueError, match=match) as info:
        check(make())
    assert "\n" not in str(info.value)


def test_check_raises_one_line_on_a_bad_input_shape_and_depth():
    g = _chain(("conv3", 8), "maxpool")
    for kwargs, match in [({"in_shape": (3, 1, 32)}, "impossible shape: the input shape"),
                          ({"in_shape": (3, 2, 2)}, "impossible shape: vertex 2"),
                          ({"depth": (6, 12)}, "depth 4 is outside the bounds 6..12")]:
        with pytest.raises(ValueError, match=match) as info:
            check(g, **kwargs)
        assert "\n" not in str(info.value)
    check(g, in_shape=(1, 8, 8), depth=(4, 4))


# --- build, params, flops -----------------------------------------------------------------

def _conv_linear_macs(net, x):
    """Multiply-accumulates of every Conv2d and Linear, measured by forward hooks."""
    total = []

    def hook(module, inputs, out):
        per_out = module.weight[0].numel() if isinstance(module, nn.Conv2d) \
            else module.in_features
        total.append(out[0].numel() * per_out)

    handles = [m.register_forward_hook(hook) for m in net.modules()
               if isinstance(m, nn.Conv2d | nn.Linear)]
    net(x[:1])
    for h in handles:
        h.remove()
    return sum(total)


def test_build_runs_a_few_dozen_genotypes(population):
    x = torch.randn(2, 3, 32, 32)
    for g in population[:24]:
        net = build(g, classes=10).eval()
        with torch.no_grad():
            assert net(x).shape == (2, 10)
        assert count_params(g) == sum(p.numel() for p in net.parameters())
        assert flops(g) == _conv_linear_macs(net, x)


def test_build_trains_and_honours_the_input_shape_and_classes():
    g = make_genotype({0: "input", 1: ("conv7", 8), 2: "maxpool", 3: ("conv3", 12),
                       4: "concat", 5: "avgpool", 6: "sum", 7: "output"},
                      [(0, 1), (1, 2), (2, 3), (2, 4), (3, 4), (0, 4), (4, 5), (5, 6),
                       (1, 6), (6, 7)])
    assert shapes(g)[4] == (52, 8, 8) and shapes(g)[6] == (52, 4, 4)
    net = build(g, in_shape=(1, 28, 28), classes=5)
    out = net(torch.randn(4, 1, 28, 28))
    assert out.shape == (4, 5)
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    assert count_params(g, (1, 28, 28), 5) == sum(p.numel() for p in net.parameters())
    assert flops(g, (1, 28, 28), 5) == _conv_linear_macs(net, torch.randn(1, 1, 28, 28))
    with pytest.raises(ValueError, match="impossible shape"):
        build(_chain(*["avgpool"] * 3), in_shape=(3, 8, 8))


@pytest.mark.slow
def test_build_every_genotype_exhaustively(population):
    x = torch.randn(2, 3, 32, 32)
    rng = np.random.default_rng(5)
    deep = [random_genotype(rng, RANDOM_SEARCH_DEPTH) for _ in range(200)]
    for g in population[:1000] + deep:
        net = build(g).eval()
        with torch.no_grad():
            assert net(x).shape == (2, 10)
        assert count_params(g) == sum(p.numel() for p in net.parameters())
        assert flops(g) == _conv_linear_macs(net, x)


# --- operators ----------------------------------------------------------------------------

def test_every_operator_returns_valid_new_genotypes(population):
    rng = np.random.default_rng(3)
    ops = [*MUTATIONS.values(), *CROSSOVERS.values()]
    changed = {op.__name__: 0 for op in ops}
    for i, g in enumerate(population):
        op = ops[i % len(ops)]
        before = [to_json(g)]
        if op in MUTATIONS.values():
            children = [op(rng, g)]
        else:
            other = population[(i + 1) % N]
            before.append(to_json(other))
            children = list(op(rng, g, other))
        for child in children:
            check(child, depth=DEPTH)
        assert [to_json(p) for p in ([g] if len(before) == 1 else [g, other])] == before
        changed[op.__name__] += genotype_hash(children[0]) != genotype_hash(g)
    # copies of the parents are the exception, except for the bridge crossover: about 40% of
    # the random genotypes have no bridge at all
    for name, n in changed.items():
        assert n > (0.3 if name == "crossover_bridge" else 0.8) * N / len(ops), (name, n)


def test_operators_keep_tight_and_random_search_depth_bounds():
    rng = np.random.default_rng(11)
    for bounds in [(6, 6), (8, 9), RANDOM_SEARCH_DEPTH]:
        pop = [random_genotype(rng, bounds) for _ in range(20)]
        for a, b in zip(pop, pop[1:]):
            check(mutate_op(rng, a, bounds), depth=bounds)
            check(mutate_insert(rng, a, bounds), depth=bounds)
            for cross in CROSSOVERS.values():
                for child in cross(rng, a, b, bounds):
                    check(child, depth=bounds)


def test_operators_refuse_invalid_parents():
    with pytest.raises(ValueError, match="depth 3 is outside"):
        mutate_op(np.random.default_rng(0), _chain("skip"))


def test_mutate_op_changes_one_operation():
    rng = np.random.default_rng(0)
    g = _chain(("conv3", 16), "skip", ("conv5", 32), "sum")
    for _ in range(20):
        m = mutate_op(rng, g)
        diff = [v for v in g if g.nodes[v]["op"] != m.nodes[v]["op"]]
        assert len(diff) == 1 and sorted(m.edges) == sorted(g.edges)
        v = diff[0]
        assert ("channels" in m.nodes[v]) == m.nodes[v]["op"].startswith("conv")


def test_mutate_insert_replaces_an_edge_by_a_depth_two_subgraph():
    rng = np.random.default_rng(0)
    g = _chain(("conv3", 16), "skip", "sum", "skip")
    shapes_seen = set()
    for _ in range(30):
        m = mutate_insert(rng, g, depth=(6, 8))
        assert m.number_of_nodes() == g.number_of_nodes() + 2 and depth(m) == 8
        new = sorted(set(m) - set(g))
        old_edges = set(g.edges) - set(m.edges)
        assert len(old_edges) == 1
        (u, v), (a, b) = old_edges.pop(), new
        assert {(u, a), (a, b), (b, v)} <= set(m.edges)
        diamond = m.has_edge(u, b)
        if diamond:
            assert m.nodes[b]["op"] in ("sum", "concat")
        shapes_seen.add(diamond)
    assert shapes_seen == {True, False}
    assert _same(mutate_insert(rng, g, depth=(6, 6)), g)  # no room: a copy


def test_crossover_path_swaps_equal_windows_of_the_longest_segments():
    rng = np.random.default_rng(0)
    a = _chain(("conv3", 16), ("conv3", 16), ("conv3", 16), ("conv3", 16))
    b = make_genotype({0: "input", 1: "skip", 2: ("conv7", 8), 3: "avgpool", 4: "sum",
                       5: "output"}, [(0, 1), (1, 2), (2, 3), (3, 4), (1, 4), (4, 5)])
    c, d = crossover_path(rng, a, b)
    assert depth(c) == depth(a) and depth(d) == depth(b)
    assert sorted(op for _, op in c.nodes(data="op")).count("conv3") == 2
    assert [d.nodes[v]["op"] for v in nx.topological_sort(d)] == [
        "input", "skip", "conv3", "conv3", "sum", "output"]


def test_crossover_bridge_swaps_the_tails():
    rng = np.random.default_rng(0)
    a = _chain(("conv3", 16), "maxpool", ("conv5", 16), "skip")
    b = _chain("avgpool", ("conv7", 64), "concat", "sum")
    c, d = crossover_bridge(rng, a, b)
    ca = [c.nodes[v]["op"] for v in nx.topological_sort(c)]
    cb = [d.nodes[v]["op"] for v in nx.topological_sort(d)]
    # both depths stay in 6..12 only when the bridges sit at the same position i
    i = next(i for i in range(1, 5) if ca[i + 1] != [a.nodes[v]["op"] for v in range(6)][i + 1])
    assert ca == [a.nodes[v]["op"] for v in range(i + 1)] + [b.nodes[v]["op"]
                                                             for v in range(i + 1, 6)]
    assert cb == [b.nodes[v]["op"] for v in range(i + 1)] + [a.nodes[v]["op"]
                                                             for v in range(i + 1, 6)]


def test_crossover_layers_averages_matched_widths():
    rng = np.random.default_rng(0)
    a = _chain(("conv3", 16), "maxpool", ("conv5", 64), ("conv3", 32))
    b = _chain(("conv7", 33), "skip", "avgpool", ("conv3", 128))
    c, d = crossover_layers(rng, a, b)
    assert [c.nodes[v].get("channels") for v in sorted(c)] == [None, 25, None, 96, 32, None]
    assert [d.nodes[v].get("channels") for v in sorted(d)] == [None, 25, None, None, 96, None]
    assert [c.nodes[v]["op"] for v in sorted(c)] == [a.nodes[v]["op"] for v in sorted(a)]


def test_tournament_and_rank_selection():
    rng = np.random.default_rng(0)
    fitness = [0.2, float("nan"), 0.9, 0.5]
    assert tournament(rng, fitness, k=5, size=4) == [2] * 5
    assert 1 not in tournament(rng, fitness, k=200, size=2)
    picks = np.bincount(rank_selection(rng, fitness, k=20000), minlength=4) / 20000
    assert np.allclose(picks, np.array([2, 1, 4, 3]) / 10, atol=0.02)
    with pytest.raises(ValueError):
        tournament(rng, [], k=1)
    with pytest.raises(ValueError):
        rank_selection(rng, [0.1], k=-1)


# --- features ------------------------------------------------------------------------------

def test_features_have_a_fixed_order_and_finite_values(population):
    for g in population[:40]:
        rec = genotype_features(g)
        assert list(rec) == FEATURES
        assert all(math.isfinite(v) for v in rec.values())
        assert rec["params"] == count_params(g) and rec["flops"] == flops(g)
    assert FEATURES[-2:] == BASELINE_FEATURES


def test_features_of_a_small_genotype():
    g = make_genotype({0: "input", 1: ("conv3", 16), 2: ("conv5", 8), 3: "sum", 4: "output"},
                      [(0, 1), (1, 2), (2, 3), (0, 3), (3, 4)])
    rec = genotype_features(g)
    assert rec["depth"] == 5 and rec["vertices"] == 5 and rec["edges"] == 5
    assert rec["count_conv"] == 2 and rec["count_maxpool"] == 0
    assert rec["shortest_conv_mean"] == 1.5 and rec["longest_conv_mean"] == 1.5
    assert rec["shortest_sum_mean"] == 1 and rec["longest_sum_mean"] == 3
    assert rec["walk_sum_mean"] == 2  # back to the input in 1 or 3 steps, half each
    assert rec["shortest_maxpool_mean"] == rec["shortest_maxpool_std"] == 0
    # widths 16, 8, 32 (sum of 8 and the input's 32), 32; masses 16*32, 8*16, 32*40, 32*32
    assert rec["width_mean"] == 22 and rec["mass_mean"] == (512 + 128 + 1280 + 1024) / 4
