import pytest
import torch
from torch import nn

from rewire.data import load_dataset
from rewire.models import create_model
from rewire.prune import magnitude
from rewire.search import (
    DeltaEvaluator,
    ForwardEvaluator,
    apply_swap,
    make_evaluator,
    max_neighbours,
    nth_neighbour,
    sample_swaps,
)
from rewire.sparse import random_wiring, read_wiring, ternarize, write_wiring
from rewire.train import predict

# moves per layer checked against a full forward pass: the fast suite, and under -m slow
FAST, SLOW = 120, 2000


def _wiring(sparsity=0.8, seed=0, shape=(1, 8, 8)):
    torch.manual_seed(seed)
    m = ternarize(create_model("aann-mnist-cnn", shape))
    magnitude(m, sparsity)
    return m, read_wiring(m)


def _random(name, shape, classes, sparsity, seed=0, **options):
    m = ternarize(create_model(name, shape, classes, **options))
    write_wiring(m, random_wiring(m, sparsity, seed))
    return m


def _pixels(n, shape, classes, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randint(0, 256, (n, *shape), generator=g) / 255.0,
            torch.randint(0, classes, (n,), generator=g))


def test_paper_example_swap():
    w = torch.tensor([1, 0, -1, 0, 1, -1], dtype=torch.int8)
    assert apply_swap(w.clone(), torch.tensor([0, 1])).tolist() == [0, 1, -1, 0, 1, -1]
    with pytest.raises(ValueError, match="nonzero weight onto a zero"):
        apply_swap(w.clone(), torch.tensor([1, 3]))


@pytest.mark.parametrize("k", [1, 7, 40, 900])
def test_sampled_swaps_are_distinct_valid_and_keep_the_family(k):
    _, wiring = _wiring()
    g = torch.Generator().manual_seed(0)
    for layer, w in wiring.items():
        k_layer = min(k, max_neighbours(w))
        swaps = sample_swaps(w, k_layer, g)
        assert len({tuple(s) for s in swaps.tolist()}) == k_layer
        flat = w.flatten()
        assert torch.all(flat[swaps[:, 0]] != 0) and torch.all(flat[swaps[:, 1]] == 0)
        for s in swaps[:20]:
            moved = wiring.clone()
            apply_swap(moved[layer], s)
            assert moved.same_family(wiring)


def test_sampling_is_reproducible_by_seed():
    _, w = _wiring()
    a = sample_swaps(w["conv2.weight"], 50, torch.Generator().manual_seed(3))
    b = sample_swaps(w["conv2.weight"], 50, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_nth_neighbours_are_at_distance_n_in_the_family():
    _, w = _wiring()
    g = torch.Generator().manual_seed(0)
    for n in (1, 2, 5, 20):
        for _ in range(10):
            nb = nth_neighbour(w, "fc.weight", n, g)
            assert nb.same_family(w)
            # distance n: n weights left their places, n zeros were filled
            a, b = w["fc.weight"].flatten(), nb["fc.weight"].flatten()
            assert int(((a != 0) & (b == 0)).sum()) == n
            assert int(((a == 0) & (b != 0)).sum()) == n


def test_neighbourhood_larger_than_the_layer_allows():
    _, w = _wiring()
    total = max_neighbours(w["conv1.weight"])
    with pytest.raises(ValueError, match=f"larger than the {total} distinct"):
        sample_swaps(w["conv1.weight"], total + 1, torch.Generator())


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def test_full_path_matches_the_float32_model(digits):
    model, w = _wiring(0.9)
    ev = make_evaluator(model, digits.val.x, digits.val.y)
    assert isinstance(ev, DeltaEvaluator) and ev.arith.exact
    ref = predict(model, digits.val.x).argmax(1)
    assert (ev.logits.argmax(1) == ref).float().mean() > 0.99
    assert torch.equal(ev.full_logits(w), ev.logits)


def check_delta(ev, moves, seed=7, layers=None):
    """Random swaps per layer: delta logits == full-forward logits exactly, same scores
    from the batched path; returns the number of moves checked."""
    checked = 0
    g = torch.Generator().manual_seed(seed)
    for layer in layers or ev.layers:
        k = min(moves, max_neighbours(ev.w[layer]))
        swaps = sample_swaps(ev.w[layer].cpu(), k, g)
        scored = ev.score_swaps(layer, swaps)
        base = ev.wiring()
        for i, s in enumerate(swaps):
            nb = base.clone()
            apply_swap(nb[layer], s)
            full = ev.full_logits(nb)
            assert torch.equal(ev.neighbour_logits(layer, s), full), (layer, i)
            acc, hinge = ev.scores(full)
            assert scored["accuracy"][i] == acc and scored["hinge"][i] == hinge, (layer, i)
            checked += 1
    return checked


def _models():
    """(name, model, x, y) for every architecture the delta evaluator must get exactly."""
    x8, y8 = _pixels(96, (1, 8, 8), 10, seed=1)
    xc, yc = _pixels(24, (1, 96, 96), 3, seed=2)
    x3, y3 = _pixels(48, (3, 12, 12), 4, seed=3)
    user = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(),
                         nn.Conv2d(8, 6, 1), nn.Hardtanh(), nn.AvgPool2d(2), nn.Flatten(),
                         nn.Linear(6 * 9, 20, bias=False), nn.Hardtanh(0, 1),
                         nn.Linear(20, 4, bias=False))
    user = ternarize(user)
    write_wiring(user, random_wiring(user, 0.7, 1))
    return [
        ("aann-cnn", _random("aann-mnist-cnn", (1, 8, 8), 10, 0.85, seed=1), x8, y8),
        ("car-cnn", _random("car-cnn", (1, 96, 96), 3, 0.9), xc, yc),
        ("lenet-300-100", _random("lenet-300-100", (1, 8, 8), 10, 0.9, bias=False), x8, y8),
        ("user-sequential", user, x3, y3),
    ]


@pytest.mark.parametrize("case", _models(), ids=lambda c: c[0])
def test_delta_equals_full_on_every_architecture(case):
    name, model, x, y = case
    ev = make_evaluator(model, x, y)
    assert isinstance(ev, DeltaEvaluator) and ev.arith.exact, ev.arith
    assert check_delta(ev, FAST) >= FAST * len(ev.layers) - 10


@pytest.mark.slow
@pytest.mark.parametrize("case", _models(), ids=lambda c: c[0])
def test_delta_equals_full_on_every_architecture_thousands_of_moves(case):
    name, model, x, y = case
    ev = make_evaluator(model, x, y)
    check_delta(ev, SLOW, seed=11)


def test_compiled_kernels_agree_with_the_torch_path_across_image_blocks():
    """More images than one kernel block (512), a partial last block, and an image slice."""
    from rewire.search import kernels

    if not kernels.available():
        pytest.skip("numba is not installed: the torch path is the only path")
    x, y = _pixels(1200, (1, 8, 8), 10, seed=5)
    model = _random("aann-mnist-cnn", (1, 8, 8), 10, 0.85, seed=2)
    ev = make_evaluator(model, x, y)
    from rewire.search.chain import read_chain

    plain = DeltaEvaluator(read_chain(model, x[:8])[0], x, y, use_kernels=False)
    assert ev.kernels == {1: "flat", 0: "conv_flat"} and ev.compiled and not plain.kernels
    g = torch.Generator().manual_seed(1)
    for layer in ev.layers:
        swaps = sample_swaps(ev.w[layer].cpu(), 40, g)
        for sl in (None, slice(300, 1100)):
            a, b = ev.score_swaps(layer, swaps, sl), plain.score_swaps(layer, swaps, sl)
            assert torch.equal(a["accuracy"], b["accuracy"])
            assert torch.equal(a["hinge"], b["hinge"])
        for s in swaps[:3]:
            ev.accept(layer, s)
            plain.accept(layer, s)
        for t, u in zip(ev.z + ev.inp + [ev.logits], plain.z + plain.inp + [plain.logits]):
            assert torch.equal(t, u)
    assert check_delta(ev, 30) == 90


def test_multi_channel_inputs_score_every_input_channel_exactly():
    """A conv1 swap on input channels 1 and 2 of a 3-channel image (a former defect)."""
    x, y = _pixels(40, (3, 8, 8), 10)
    model = _random("aann-mnist-cnn", (3, 8, 8), 10, 0.8)
    ev = make_evaluator(model, x, y)
    w = ev.w["conv1.weight"].cpu()
    swaps = sample_swaps(w, 300, torch.Generator().manual_seed(0))
    ci = lambda idx: (idx // 25) % 3  # noqa: E731
    swaps = swaps[(ci(swaps[:, 0]) > 0) | (ci(swaps[:, 1]) > 0)][:60]
    assert len(swaps) >= 50
    scored = ev.score_swaps("conv1.weight", swaps)
    for i, s in enumerate(swaps):
        nb = ev.wiring()
        apply_swap(nb["conv1.weight"], s)
        acc, hinge = ev.scores(ev.full_logits(nb))
        assert scored["accuracy"][i] == acc and scored["hinge"][i] == hinge


def test_kernel_size_one_and_accept_keep_caches_exact():
    x, y = _pixels(30, (2, 6, 6), 5)
    net = ternarize(nn.Sequential(nn.Conv2d(2, 4, 1), nn.Hardtanh(), nn.MaxPool2d(2),
                                  nn.Conv2d(4, 4, 1, bias=False), nn.Flatten(),
                                  nn.Linear(36, 5, bias=False)))
    with torch.no_grad():
        net[0].bias.zero_()
    write_wiring(net, random_wiring(net, 0.5, 0))
    ev = make_evaluator(net, x, y)
    g = torch.Generator().manual_seed(0)
    for step in range(30):
        layer = ev.layers[step % 3]
        ev.accept(layer, sample_swaps(ev.w[layer].cpu(), 1, g)[0])
    fresh = make_evaluator(ternarize(_with(net, ev.wiring())), x, y)
    assert torch.equal(ev.logits, fresh.logits)
    for a, b in zip(ev.z + ev.inp, fresh.z + fresh.inp):
        assert torch.equal(a, b)


def _with(model, wiring):
    from rewire.search import with_wiring

    return with_wiring(model, wiring)


def test_accepting_moves_keeps_caches_exact(digits):
    model, w = _wiring(0.8, seed=2)
    ev = make_evaluator(model, digits.val.x, digits.val.y)
    g = torch.Generator().manual_seed(0)
    for step in range(30):
        layer = ev.layers[step % 3]
        swaps = sample_swaps(ev.w[layer], 8, g)
        scores = ev.score_swaps(layer, swaps)
        best = int(scores["hinge"].argmax())
        ev.accept(layer, swaps[best])
        assert ev.hinge == pytest.approx(float(scores["hinge"][best]), abs=0)
    fresh = make_evaluator(_with(model, ev.wiring()), digits.val.x, digits.val.y)
    for a, b in zip(ev.z + ev.inp + [ev.logits], fresh.z + fresh.inp + [fresh.logits]):
        assert torch.equal(a, b)
    assert ev.wiring().same_family(w)


def test_a_failed_accept_leaves_the_evaluator_unchanged(digits):
    model, _ = _wiring(0.8, seed=2)
    ev = make_evaluator(model, digits.val.x, digits.val.y)
    before = ([t.clone() for t in ev.z + ev.inp], ev.logits.clone(), ev.wiring())
    w = ev.w["conv2.weight"].view(-1)
    zero = int((w == 0).nonzero()[0])
    with pytest.raises(ValueError, match="nonzero weight onto a zero"):
        ev.accept("conv2.weight", torch.tensor([zero, zero]))
    assert all(torch.equal(a, b) for a, b in zip(before[0], ev.z + ev.inp))
    assert torch.equal(before[1], ev.logits)
    assert all(torch.equal(before[2][k], v) for k, v in ev.wiring().items())


def test_last_layer_with_no_image_near_the_margin():
    """A strong network on a clean split: no image lies in the margin band (former crash)."""
    x = torch.zeros(20, 4)
    x[torch.arange(20), torch.arange(20) % 4] = 1.0
    y = torch.arange(20) % 4
    net = ternarize(nn.Sequential(nn.Linear(4, 8, bias=False), nn.Linear(8, 4, bias=False)))
    w1 = torch.zeros(8, 4, dtype=torch.int8)
    w1[torch.arange(4), torch.arange(4)] = 1
    w2 = torch.zeros(4, 8, dtype=torch.int8)
    w2[torch.arange(4), torch.arange(4)] = 1
    write_wiring(net, {"0.weight": w1, "1.weight": w2})
    ev = make_evaluator(net, x, y, kappa=0.1)
    assert ev.accuracy == 1.0
    swaps = torch.tensor([[int((w2.flatten() != 0).nonzero()[0]),
                           int((w2.flatten() == 0).nonzero()[-1])]])
    acc = ev.score_swaps("1.weight", swaps)["accuracy"]
    nb = ev.wiring()
    apply_swap(nb["1.weight"], swaps[0])
    assert float(acc[0]) == float(ev.scores(ev.full_logits(nb))[0])


def test_write_wiring_of_evaluator_state_gives_the_same_model_accuracy(digits):
    model, w = _wiring(0.9, seed=4)
    ev = make_evaluator(model, digits.test.x, digits.test.y)
    write_wiring(model, ev.wiring())
    acc = (predict(model, digits.test.x).argmax(1) == digits.test.y).double().mean()
    assert abs(float(acc) - ev.accuracy) < 0.01


def test_delta_equals_full_on_real_mnist_in_integer_float32(shared_data):
    d = load_dataset("mnist", shared_data, download=False)
    model, _ = _wiring(0.9, seed=3, shape=(1, 28, 28))
    ev = make_evaluator(model, d.val.x[:400], d.val.y[:400])
    assert ev.scale == 255 and ev.dtype == torch.float32
    check_delta(ev, 30)


def test_inputs_off_any_grid_are_computed_in_float64_and_said_inexact():
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(150, 1, 8, 8, generator=g), torch.randint(0, 10, (150,), generator=g)
    ev = make_evaluator(_wiring(0.8)[0], x, y)
    assert ev.scale == 1 and ev.dtype == torch.float64 and not ev.arith.exact
    assert "grid" in ev.arith.reason


def test_models_the_chain_does_not_cover_fall_back_to_full_forward_passes():
    x, y = _pixels(24, (3, 8, 8), 4)
    net = ternarize(nn.Sequential(nn.Conv2d(3, 6, 3, padding=1, bias=False), nn.BatchNorm2d(6),
                                  nn.ReLU(), nn.Flatten(), nn.Linear(6 * 64, 4, bias=False)))
    write_wiring(net, random_wiring(net, 0.7, 1))
    said = []
    ev = make_evaluator(net, x, y, log=said.append)
    assert isinstance(ev, ForwardEvaluator) and len(said) == 1 and "BatchNorm2d" in said[0]
    assert check_delta(ev, 20) == 40
    # the caller's model is untouched (a deep copy shares torch's generated class)
    net.eval()(x[:2])
    assert isinstance(make_evaluator(net, x, y, log=said.append), ForwardEvaluator)


class _Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(16, 16, bias=False), nn.Linear(16, 3, bias=False)

    def forward(self, x):
        h = x.flatten(1)
        return self.fc2(h + torch.relu(self.fc1(h)))


def test_a_skip_connection_is_detected_by_replay():
    x, y = _pixels(16, (1, 4, 4), 3)
    net = ternarize(_Residual())
    write_wiring(net, random_wiring(net, 0.6, 0))
    said = []
    assert isinstance(make_evaluator(net, x, y, log=said.append), ForwardEvaluator)
    assert "do not reproduce" in said[0]


def test_bad_models_and_devices_get_one_clear_error(digits):
    model, _ = _wiring(0.8)
    with pytest.raises(ValueError, match="not -1, 0 or \\+1"):
        make_evaluator(create_model("aann-mnist-cnn", (1, 8, 8)), digits.val.x, digits.val.y)
    dense = ternarize(create_model("aann-mnist-cnn", (1, 8, 8)))
    with pytest.raises(ValueError, match="no zero weight"):
        make_evaluator(dense, digits.val.x, digits.val.y)
    with pytest.raises(ValueError, match="unknown device|no CUDA"):
        make_evaluator(model, digits.val.x, digits.val.y, device="cuda:7")
    with pytest.raises(ValueError, match="unknown device"):
        make_evaluator(model, digits.val.x, digits.val.y, device="gpu0")
    ev = make_evaluator(model, digits.val.x, digits.val.y)
    with pytest.raises(KeyError, match="no layer 'conv3.weight'"):
        ev.score_swaps("conv3.weight", torch.zeros(1, 2, dtype=torch.long))


def test_an_unparametrized_ternary_model_is_not_changed_by_the_search():
    """A plain float32 model whose weights are already -1 / 0 / +1 (no ternarize): the
    evaluator keeps its own weights, so SENSE neither crashes on its second evaluator nor
    rewrites the caller's model (found by a docstring review)."""
    from torch import nn

    from rewire.data import load_dataset
    from rewire.search import SenseConfig, run_sense

    data = load_dataset("digits")
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, bias=False), nn.Hardtanh(), nn.Flatten(),
                        nn.Linear(4 * 6 * 6, 10, bias=False))
    with torch.no_grad():
        for m in (net[0], net[3]):
            w = torch.randint(-1, 2, m.weight.shape).float()
            m.weight.copy_(w)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    r = run_sense(SenseConfig(steps=10, seed=0), net, data.train, data.val, data.test)
    assert r["accepted_moves"] > 0
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
