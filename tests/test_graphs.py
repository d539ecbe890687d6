"""Graphs of sparse networks: conversion, layer indexing, priors, features, GraphRNN."""

import networkx as nx
import numpy as np
import pytest
import torch
from torch import nn

from rewire.graphs import (
    FEATURES,
    graph_features,
    layer_index,
    layers_of,
    model_to_graph,
    orient,
    random_prior,
)
from rewire.models import GraphRNN
from rewire.predict import pearson_table, prediction_r2
from rewire.prune import magnitude
from rewire.sparse import get_mask


def test_model_to_graph_has_live_weights_as_edges():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    magnitude(net, 0.5, scope="layer")
    g = model_to_graph(net)
    assert g.number_of_nodes() == 4 + 3 + 2
    live = int(get_mask(net, "0.weight").sum() + get_mask(net, "2.weight").sum())
    assert g.number_of_edges() == live
    m = get_mask(net, "0.weight")
    assert all(g.has_edge((0, i), (1, j)) == bool(m[j, i]) for i in range(4) for j in range(3))
    assert set(layer_index(g).values()) <= {0, 1, 2}


def test_model_to_graph_uses_channels_for_convolutions_and_gates_for_rnns():
    conv = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 2 * 2, 5))
    g = model_to_graph(conv)
    assert g.number_of_edges() == 1 * 4 + 4 * 5  # channel to channel, channel to unit
    lstm = nn.LSTM(3, 6, num_layers=2)
    g = model_to_graph(lstm)
    assert g.number_of_nodes() == 3 + 6 + 6
    assert g.number_of_edges() == 3 * 6 + 6 * 6  # hidden-to-hidden weights are not edges


def test_layer_index_is_the_longest_path_recursion():
    g = nx.DiGraph([(0, 1), (1, 2), (0, 2), (3, 2), (2, 4)])
    assert layer_index(g) == {0: 0, 3: 0, 1: 1, 2: 2, 4: 3}
    assert layers_of(g) == [[0, 3], [1], [2], [4]]


def test_cyclic_and_undirected_graphs_are_refused():
    with pytest.raises(ValueError, match="cycle: 0 -> 1 -> 2 -> 0"):
        layer_index(nx.DiGraph([(0, 1), (1, 2), (2, 0)]))
    with pytest.raises(ValueError, match="orient"):
        layer_index(nx.path_graph(3))
    with pytest.raises(ValueError, match="no nodes"):
        layer_index(nx.DiGraph())


def test_orient_is_a_reproducible_dag_with_every_edge():
    und = nx.connected_watts_strogatz_graph(30, 4, 0.3, seed=1)
    a, b, c = orient(und, 5), orient(und, 5), orient(und, 6)
    assert nx.is_directed_acyclic_graph(a)
    assert sorted(a.edges) == sorted(b.edges) and sorted(a.edges) != sorted(c.edges)
    assert a.to_undirected().number_of_edges() == und.number_of_edges()


@pytest.mark.parametrize("gen", ["watts-strogatz", "barabasi-albert"])
def test_random_priors_are_connected_dags(gen):
    for seed in range(5):
        g = random_prior(gen, seed, (20, 40))
        assert 20 <= g.number_of_nodes() <= 40
        assert nx.is_directed_acyclic_graph(g)
        assert nx.is_connected(g.to_undirected())
    with pytest.raises(ValueError, match="unknown graph generator"):
        random_prior("erdos", 0)


def test_graph_features_by_hand():
    # a diamond 0 -> {1, 2} -> 3
    g = nx.DiGraph([(0, 1), (0, 2), (1, 3), (2, 3)])
    f = graph_features(g)
    assert set(FEATURES) <= set(f)
    assert (f["layers"], f["nodes"], f["edges"], f["sources"], f["sinks"]) == (3, 4, 4, 1, 1)
    assert f["diameter"] == 2 and f["density"] == pytest.approx(4 / 12)
    assert f["average_shortest_path_length"] == pytest.approx((4 * 1 + 2 * 2) / 6)
    assert f["degree_var"] == 0.0 and f["eccentricity_var"] == 0.0


def test_graph_rnn_follows_the_graph():
    g = nx.DiGraph([(0, 2), (1, 2), (0, 3), (2, 4), (3, 4)])  # layers [0,1], [2,3], [4]
    for cell in ("tanh", "relu", "lstm", "gru"):
        torch.manual_seed(0)
        net = GraphRNN(g, cell, embed=5)
        assert [len(x) for x in net.groups] == [2, 2, 1]
        gates = {"tanh": 1, "relu": 1, "lstm": 4, "gru": 3}[cell]
        m1 = get_mask(net, "layers.1.weight_ih_l0")  # units 2, 3 read layer 0 = (0, 1)
        assert m1.shape == (2 * gates, 2)
        assert m1[:2].tolist() == [[True, True], [True, False]]
        m2 = get_mask(net, "layers.2.weight_ih_l0")  # unit 4 reads (0, 1, 2, 3): 2 and 3
        assert m2[:1].tolist() == [[False, False, True, True]]
        x = torch.randint(1, 128, (6, 9))
        x[:3, 5:] = 0  # padding after the end never changes the output
        out = net(x)
        assert out.shape == (6, 2)
        assert torch.allclose(net(x[:3, :5]), out[:3], atol=1e-6)
        # masked input-to-hidden weights get no gradient
        out.sum().backward()
        grad = net.layers[2].parametrizations.weight_ih_l0.original.grad
        assert torch.all(grad[~m2] == 0)


def test_prediction_recovers_a_structural_signal():
    rows = []
    for seed in range(40):
        f = graph_features(random_prior("barabasi-albert", seed, (10, 40)))
        rows.append({**f, "test_accuracy": 0.5 + 0.01 * f["nodes"] + 0.001 * (seed % 3)})
    r = pearson_table(rows, ["nodes", "edges"])
    assert r["nodes"] > 0.99
    r2 = prediction_r2(rows, ["nodes", "edges", "density"], repeats=3)
    assert r2["bayesian-ridge"]["mean"] > 0.9 and r2["random-forest"]["mean"] > 0.5
    assert r2["bayesian-ridge"]["first"] == prediction_r2(
        rows, ["nodes", "edges", "density"], repeats=1, regressors=["bayesian-ridge"]
    )["bayesian-ridge"]["mean"]
    noise = [{**r, "test_accuracy": float(v)}
             for r, v in zip(rows, np.random.default_rng(0).random(len(rows)))]
    assert prediction_r2(noise, ["nodes", "edges"], repeats=3)["bayesian-ridge"]["mean"] < 0.2
    with pytest.raises(ValueError, match="lack the columns"):
        pearson_table(rows, ["girth"])


def test_graph_net_is_the_dag_as_a_sparse_mlp_with_skip_connections():
    from rewire.models import GraphNet

    g = nx.DiGraph([(0, 2), (1, 2), (0, 3), (2, 4), (3, 4), (0, 4)])  # 0 -> 4 skips a layer
    torch.manual_seed(0)
    net = GraphNet(g, in_features=7, num_classes=3)
    assert get_mask(net, "layers.2.weight").tolist() == [[True, False, True, True]]
    x = torch.randn(5, 7)
    # by hand: every unit is relu(w . (its predecessors) + b)
    h = {}
    l0, l1, l2 = net.layers
    w0, w1, w2 = (m.weight.detach() for m in net.layers)
    for i, v in enumerate([0, 1]):
        h[v] = torch.relu(x @ w0[i] + l0.bias[i])
    for i, v in enumerate([2, 3]):
        h[v] = torch.relu(torch.stack([h[0], h[1]], 1) @ w1[i] + l1.bias[i])
    h[4] = torch.relu(torch.stack([h[0], h[1], h[2], h[3]], 1) @ w2[0] + l2.bias[0])
    assert torch.allclose(net(x), net.head(h[4][:, None]), atol=1e-5)


def test_no_path_from_input_to_output_is_refused():
    from rewire.graphs import dag_layout

    g = nx.DiGraph([(0, 1), (2, 3)])
    with pytest.raises(ValueError, match="no path from input to output"):
        dag_layout(g, inputs=[0], outputs=[3])
    with pytest.raises(ValueError, match="must be sources"):
        dag_layout(g, inputs=[1])
    layout = dag_layout(g, inputs=[0])  # source 2 is not fed: its row of the input mask is off
    assert layout.masks[0].flatten().tolist() == [True, False]


def test_the_one_level_function_matches_networkx_generations():
    """graphs.layers_of (networkx graphs) and freenet's levels (adjacency tensors) are the
    same function, and both give networkx's topological generations."""
    import networkx as nx
    import torch

    from rewire.freenet import topological_levels
    from rewire.graphs import layers_of, orient

    for seed in range(30):
        dag = orient(nx.gnp_random_graph(25, 0.15, seed=seed), seed)
        want = [sorted(g) for g in nx.topological_generations(dag)]
        assert layers_of(dag) == want
        adj = torch.zeros(25, 25)
        rank = {v: i for i, v in enumerate(nx.topological_sort(dag))}
        for u, v in dag.edges:
            adj[rank[v], rank[u]] = 1  # graph[i, j]: the edge j -> i, lower triangular
        got = [sorted(int(i) for i in g) for g in topological_levels(adj)]
        by_rank = nx.relabel_nodes(dag, rank)
        assert got == [sorted(g) for g in nx.topological_generations(by_rank)]
