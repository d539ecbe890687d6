import pytest
import torch

from rewire.data import load_dataset
from rewire.models import create_model
from rewire.prune import magnitude
from rewire.search import AANNEvaluator, apply_swap, max_neighbours, nth_neighbour, sample_swaps
from rewire.search.evaluator import LAYERS
from rewire.sparse import read_wiring, ternarize, write_wiring
from rewire.train import predict


def _wiring(sparsity=0.8, seed=0, shape=(1, 8, 8)):
    torch.manual_seed(seed)
    m = ternarize(create_model("aann-mnist-cnn", shape))
    magnitude(m, sparsity)
    return m, read_wiring(m)


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


def test_nth_neighbours_stay_in_the_family():
    _, w = _wiring()
    g = torch.Generator().manual_seed(0)
    for n in (1, 2, 5):
        nb = nth_neighbour(w, "fc.weight", n, g)
        assert nb.same_family(w)
        changed = int((nb["fc.weight"] != w["fc.weight"]).sum())
        assert 1 <= changed <= 2 * n


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
    ev = AANNEvaluator(w, digits.val.x, digits.val.y)
    ref = predict(model, digits.val.x).argmax(1)
    assert (ev.logits.argmax(1) == ref).float().mean() > 0.99
    assert torch.equal(ev.full_logits(w), ev.logits)


def _check_delta(ev, layer, moves, seed=7):
    """Random swaps in ``layer``: delta logits == full-forward logits exactly, same scores."""
    swaps = sample_swaps(ev.w[layer], moves, torch.Generator().manual_seed(seed))
    scored = ev.score_swaps(layer, swaps)
    for i, s in enumerate(swaps):
        nb = ev.wiring()
        apply_swap(nb[layer], s)
        full = ev.full_logits(nb)
        assert torch.equal(ev.neighbour_logits(layer, s), full)
        acc, hinge = ev.scores(full)
        assert scored["accuracy"][i] == acc and scored["hinge"][i] == hinge


@pytest.mark.parametrize("layer,moves", [("fc.weight", 2000), ("conv2.weight", 600),
                                         ("conv1.weight", 400)])
def test_delta_path_equals_full_path_bit_for_bit(digits, layer, moves):
    """Thousands of random swaps: delta logits == full-forward logits exactly."""
    _, w = _wiring(0.85, seed=1)
    _check_delta(AANNEvaluator(w, digits.val.x, digits.val.y), layer, moves)


def test_accepting_moves_keeps_caches_exact(digits):
    _, w = _wiring(0.8, seed=2)
    ev = AANNEvaluator(w, digits.val.x, digits.val.y)
    g = torch.Generator().manual_seed(0)
    for step in range(30):
        layer = LAYERS[step % 3]
        swaps = sample_swaps(ev.w[layer], 8, g)
        scores = ev.score_swaps(layer, swaps)
        best = int(scores["hinge"].argmax())
        ev.accept(layer, swaps[best])
        assert ev.hinge == pytest.approx(float(scores["hinge"][best]), abs=0)
    fresh = AANNEvaluator(ev.wiring(), digits.val.x, digits.val.y)
    for name in ("z1", "p1", "z2", "f", "logits"):
        assert torch.equal(getattr(ev, name), getattr(fresh, name)), name
    assert ev.wiring().same_family(w)


def test_evaluator_rejects_other_architectures(digits):
    with pytest.raises(ValueError, match="AANN CNN"):
        AANNEvaluator({"fc.weight": torch.zeros(10, 64, dtype=torch.int8)}, digits.val.x,
                      digits.val.y)
    _, w = _wiring(shape=(1, 28, 28))
    with pytest.raises(ValueError, match="fc takes 1568 inputs"):
        AANNEvaluator(w, digits.val.x, digits.val.y)
    ev = AANNEvaluator(_wiring()[1], digits.val.x, digits.val.y)
    with pytest.raises(KeyError, match="no layer 'conv3.weight'"):
        ev.score_swaps("conv3.weight", torch.zeros(1, 2, dtype=torch.long))


def test_write_wiring_of_evaluator_state_gives_the_same_model_accuracy(digits):
    model, w = _wiring(0.9, seed=4)
    ev = AANNEvaluator(w, digits.test.x, digits.test.y)
    write_wiring(model, ev.wiring())
    acc = (predict(model, digits.test.x).argmax(1) == digits.test.y).double().mean()
    assert abs(float(acc) - ev.accuracy) < 0.01


def test_delta_equals_full_on_real_mnist_in_integer_float32(shared_data):
    d = load_dataset("mnist", shared_data, download=False)
    _, w = _wiring(0.9, seed=3, shape=(1, 28, 28))
    ev = AANNEvaluator(w, d.val.x[:400], d.val.y[:400])
    assert ev.scale == 255 and ev.dtype == torch.float32
    for layer in LAYERS:
        _check_delta(ev, layer, 60)


def test_inputs_off_any_grid_use_exact_float64():
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(150, 1, 8, 8, generator=g), torch.randint(0, 10, (150,), generator=g)
    ev = AANNEvaluator(_wiring(0.8)[1], x, y)
    assert ev.scale == 1 and ev.dtype == torch.float64
    for layer in LAYERS:
        _check_delta(ev, layer, 40)
