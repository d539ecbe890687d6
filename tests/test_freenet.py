"""FreeNets: the DAG forward, co-activation statistics, the update table, FreeEvolve."""

import itertools

import pytest
import torch

from rewire.freenet import (
    EvolveConfig,
    FreeNet,
    coactivation,
    count_params,
    dense_graph,
    fcnn,
    free_evolve,
    graph_update,
    matched_width,
    propagate,
    propagate_levels,
    propagate_reference,
    topological_levels,
)
from rewire.freenet.inference import LiveFreeNet


class FixedActivations(torch.nn.Module):
    """A stand-in whose neuron activations are given, to check the statistics by hand."""

    def __init__(self, s):
        super().__init__()
        self.s = torch.as_tensor(s, dtype=torch.float32)

    def activations(self, idx):
        return self.s[idx.long().flatten()]


def random_dag(k, density, seed):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(k, k, generator=g) < density).tril(-1)


@pytest.mark.parametrize("density", [1.0, 0.3, 0.05])
def test_fast_paths_equal_the_per_neuron_loop(density):
    torch.manual_seed(0)
    k, n = 40, 17
    graph = random_dag(k, density, 1)
    w = (torch.randn(k, k) * 0.3 * graph).requires_grad_()
    e = torch.randn(n, k, requires_grad=True)
    gout = torch.randn(n, k)
    ref = propagate_reference(e, w)
    ref_grads = torch.autograd.grad(ref, (e, w), gout)
    for out in (propagate(e, w), propagate_levels(e, w, topological_levels(graph))):
        assert torch.allclose(out, ref, atol=1e-5)
        grads = torch.autograd.grad(out, (e, w), gout)
        assert torch.allclose(grads[0], ref_grads[0], atol=1e-5)
        # the fused path returns dL/dw on every entry; the graph mask is the caller's
        assert torch.allclose(grads[1] * graph, ref_grads[1] * graph, atol=1e-4)


def test_neuron_sees_exactly_its_wired_predecessors():
    graph = torch.zeros(3, 3, dtype=torch.bool)
    graph[2, 0] = True  # 0 -> 2 only
    w = torch.tensor([[0.0, 0, 0], [5.0, 0, 0], [2.0, 7.0, 0]]) * graph
    e = torch.tensor([[1.0, -1.0, 0.5]])
    h = propagate(e, w)
    assert h.tolist() == [[1.0, 0.0, 2.5]]  # relu(0.5 + 2*1), the 7 on 1 -> 2 is not wired


def test_topological_levels_are_longest_paths():
    g = torch.zeros(5, 5, dtype=torch.bool)
    g[1, 0] = g[2, 1] = g[4, 0] = True  # chain 0 -> 1 -> 2, 0 -> 4; 3 isolated
    levels = [t.tolist() for t in topological_levels(g)]
    assert levels == [[0, 3], [1, 4], [2]]
    assert len(topological_levels(dense_graph(6))) == 6


def test_masked_weights_get_no_gradient():
    torch.manual_seed(0)
    net = FreeNet(8, 10, 3)
    g = net.graph.clone()
    g[5, :3] = False
    g[9, 2] = False
    net.set_graph(g)
    net(torch.randn(64, 8)).square().sum().backward()
    grad = net.dag_weight.grad
    assert torch.all(grad[~net.graph] == 0)
    assert (grad[net.graph] != 0).float().mean() > 0.25


def test_coactivation_matches_a_hand_computation():
    s = [[1, 0, 1], [1, 1, 0], [0, 0, 0], [1, 1, 1]]
    model = FixedActivations(s)
    x = torch.arange(4.0)[:, None]
    stats = coactivation(model, x)
    ncam = torch.tensor([[3, 2, 2], [2, 2, 1], [2, 1, 2]], dtype=torch.float64) / 4
    ncim = torch.tensor([[1, 1, 1], [1, 2, 1], [1, 1, 2]], dtype=torch.float64) / 4
    assert torch.equal(stats.ncam, ncam)
    assert torch.equal(stats.ncim, ncim)
    streamed = coactivation(model, x, batch_size=1)
    assert torch.equal(streamed.ncam, ncam) and torch.equal(streamed.ncim, ncim)


# Table 1: (neuron 1 fires, neuron 2 fires, edge 1 -> 2) -> edge after the update
TABLE1 = {
    (0, 0, 0): 0,  # do not augment
    (0, 0, 1): 0,  # prune: both inactive
    (0, 1, 0): 0,  # do not augment
    (0, 1, 1): 1,  # do not prune
    (1, 0, 0): 0,  # do not augment
    (1, 0, 1): 1,  # do not prune
    (1, 1, 0): 1,  # add
    (1, 1, 1): 1,  # nothing to do
}


@pytest.mark.parametrize("a1,a2,edge", list(itertools.product([0, 1], repeat=3)))
def test_update_table_row_by_row(a1, a2, edge):
    stats = coactivation(FixedActivations([[a1, a2]] * 5), torch.zeros(5, 1))
    graph = torch.zeros(2, 2, dtype=torch.bool)
    graph[1, 0] = bool(edge)  # neuron 1 (index 0) comes first
    new, aug, prune = graph_update(graph, stats, epsilon=0.25)
    assert int(new[1, 0]) == TABLE1[(a1, a2, edge)]
    assert int(aug[1, 0]) == int(a1 and a2 and not edge)
    assert int(prune[1, 0]) == int(not a1 and not a2 and edge)
    assert not new.triu().any()


def test_update_never_leaves_the_lower_triangle():
    torch.manual_seed(0)
    k = 12
    s = (torch.rand(50, k) < 0.9).float()  # mostly co-active: augments everywhere
    stats = coactivation(FixedActivations(s), torch.arange(50.0)[:, None])
    new, aug, _ = graph_update(torch.zeros(k, k, dtype=torch.bool), stats, 0.5)
    assert aug.any() and not new.triu().any()


@pytest.mark.parametrize("eps", [0.0, 1.0, -0.1, 1.5])
def test_epsilon_outside_unit_interval_is_refused(eps):
    with pytest.raises(ValueError, match="epsilon"):
        EvolveConfig(epsilon=eps)
    stats = coactivation(FixedActivations([[1, 1]]), torch.zeros(1, 1))
    with pytest.raises(ValueError, match="epsilon"):
        graph_update(dense_graph(2), stats, eps)


def test_bad_graphs_and_sizes_are_refused():
    with pytest.raises(ValueError, match="k >= 1"):
        FreeNet(4, 0, 2)
    cyclic = dense_graph(4)
    cyclic[0, 3] = True  # 3 -> 0 while 0 -> ... -> 3: a cycle in index order
    with pytest.raises(ValueError, match=r"strictly lower triangular.*\[0, 3\]"):
        FreeNet(4, 4, 2, graph=cyclic)
    loop = dense_graph(4)
    loop[2, 2] = True
    with pytest.raises(ValueError, match="self-loop"):
        FreeNet(4, 4, 2).set_graph(loop)
    with pytest.raises(ValueError, match="expected 4×4"):
        FreeNet(4, 4, 2).set_graph(dense_graph(5))


def test_matched_fcnn_has_the_closest_parameter_count():
    net = FreeNet(784, 100, 10)
    p = count_params(net)
    assert p == 784 * 100 + 100 + 100 * 99 // 2 + 100 * 10 + 10
    w = matched_width(784, 10, p)
    diffs = {v: abs(count_params(fcnn(784, v, 10)) - p) for v in (w - 1, w, w + 1)}
    assert min(diffs, key=diffs.get) == w
    assert w > 100


def test_live_inference_equals_the_model_and_counts_macs():
    torch.manual_seed(0)
    net = FreeNet(20, 15, 4, graph=random_dag(15, 0.2, 3))
    live = LiveFreeNet.from_model(net)
    x = torch.rand(9, 20)
    assert torch.allclose(live(x), net(x), atol=1e-5)
    assert live.live_edges == net.live_edges
    assert live.dense_macs() - live.macs() == 15 * 14 // 2 - net.live_edges


def test_free_evolve_on_digits_keeps_a_dag_and_learns(tmp_path, digits):
    torch.manual_seed(0)
    net = FreeNet(64, 30, 10)
    cfg = EvolveConfig(epochs=20, epsilon=0.25, lr=3e-3, batch_size=32, stats_examples=0)
    hist = free_evolve(net, digits.train, digits.val, cfg, tmp_path, progress=False)
    assert not net.graph.triu().any()
    assert net.live_edges < 30 * 29 // 2  # dead pairs were pruned
    assert max(r["val_accuracy"] for r in hist) > 0.9
    lines = (tmp_path / "updates.jsonl").read_text().splitlines()
    assert len(lines) >= 1 and (tmp_path / "coactivation.npz").is_file()


def test_every_layered_net_is_a_freenet_subgraph():
    from rewire.experiments.freenet_theorem import embed_layered, layer_splits, layered_net

    assert layer_splits(5) == [[5], [3, 2], [2, 2, 1]]
    torch.manual_seed(0)
    x = torch.randn(50, 1)
    for widths in ([6], [3, 3], [2, 2, 2]):
        net = layered_net(widths)
        for dense in (False, True):
            free = embed_layered(net, dense=dense)
            assert free.k == 6
            assert torch.allclose(free(x), net(x), atol=1e-6)
        assert embed_layered(net, dense=False).live_edges == sum(
            a * b for a, b in zip(widths, widths[1:]))


def test_cli_freenet_writes_both_models_and_resumes(tmp_path, capsys):
    import json

    from rewire.cli import main

    out = tmp_path / "fn"
    args = ["freenet", "--dataset", "digits", "--k", "12", "--epochs", "4", "--dropout", "0.1",
            "--out", str(out)]
    assert main(args) == 0
    r = json.loads((out / "results.json").read_text())
    for key in ("freenet_test_accuracy", "fcnn_test_accuracy", "freenet_params", "fcnn_params",
                "live_edges"):
        assert key in r
    assert r["freenet_params"] == 64 * 12 + 12 + 66 + 12 * 10 + 10
    assert abs(r["fcnn_params"] - r["freenet_params"]) <= 64 + 1 + 10
    assert r["live_edges"] <= 66 and r["inference_macs"] <= r["dense_macs"]
    for f in ("validation.png", "updates.png", "coactivation_kde.png"):
        assert (out / f).is_file()
    assert main(args) == 0  # finished: returns the stored results
    assert main([*args[:-2], "--dropout", "0.3", "--out", str(out)]) == 2
    assert "another config" in capsys.readouterr().err


@pytest.mark.parametrize("args,message", [
    (["--epsilon", "1.5"], "--epsilon must be < 1.0"),
    (["--epsilon", "0"], "epsilon must lie in (0, 1)"),
    (["--k", "0"], "k must be >= 1"),
])
def test_cli_freenet_errors(tmp_path, capsys, args, message):
    from rewire.cli import main

    assert main(["freenet", *args, "--out", str(tmp_path / "x")]) == 2
    assert message in capsys.readouterr().err


def test_without_numba_the_forward_falls_back_to_levels(monkeypatch):
    from rewire.freenet import dag

    monkeypatch.setattr(dag, "numba_available", lambda: False)
    torch.manual_seed(0)
    net = FreeNet(6, 9, 3, graph=random_dag(9, 0.5, 0))
    x = torch.randn(4, 6)
    e, w = net.encoder(x), net.dag_weight * net.graph
    assert torch.allclose(net.activations(x), propagate_reference(e, w), atol=1e-6)
    with pytest.raises(ValueError, match="topological levels"):
        dag.propagate(e, w)
