import copy

import pytest
import torch
import torch.nn.utils.prune as torch_prune
from torch import nn

from rewire import prune
from rewire.data import load_dataset
from rewire.models import create_model
from rewire.prune import GradualPruning, Magnitude, gradual_amount, magnitude
from rewire.sparse import masks, sparsify, sparsity, sparsity_report
from rewire.train import fit


def _mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(30, 20), nn.ReLU(), nn.Linear(20, 10), nn.ReLU(),
                         nn.Linear(10, 4))


@pytest.mark.parametrize("amount", [0.0, 0.1, 0.5, 0.9, 0.95])
def test_layer_scope_prunes_exactly_round_amount_per_layer(amount):
    model = create_model("aann-mnist-cnn", (1, 28, 28))
    magnitude(model, amount)
    for row in sparsity_report(model):
        assert row["zero"] == round(amount * row["weights"]), row


def test_layer_scope_keeps_the_largest_magnitudes():
    model = _mlp()
    w = model[0].weight.detach().clone()
    magnitude(model, 0.75)
    mask = masks(model)["0.weight"]
    assert w.abs()[mask].min() >= w.abs()[~mask].max()


def test_global_scope_matches_torch_global_unstructured_l1():
    ours, ref = _mlp(), _mlp()
    magnitude(ours, 0.8, scope="global")
    params = [(m, "weight") for m in ref if isinstance(m, nn.Linear)]
    torch_prune.global_unstructured(params, torch_prune.L1Unstructured, amount=0.8)
    for (name, mask), (m, _) in zip(masks(ours).items(), params, strict=False):
        assert torch.equal(mask, m.weight_mask.bool()), name


def test_pruning_is_monotone():
    model = _mlp()
    magnitude(model, 0.5)
    first = {k: v.clone() for k, v in masks(model).items()}
    magnitude(model, 0.8)
    for k, v in masks(model).items():
        assert not torch.any(v & ~first[k])


def test_gradual_amount_schedule():
    assert gradual_amount(0, 100, 0.9) == 0.0
    assert gradual_amount(100, 100, 0.9) == pytest.approx(0.9)
    vals = [gradual_amount(s, 100, 0.9) for s in range(101)]
    assert all(b >= a for a, b in zip(vals, vals[1:], strict=False))
    # cubic: half the steps reach 1 - 0.5^3 of the target
    assert gradual_amount(50, 100, 0.8) == pytest.approx(0.8 * (1 - 0.5**3))
    assert gradual_amount(50, 100, 0.8, exponent=1) == pytest.approx(0.4)


def test_gradual_pruning_reaches_exact_target_through_fit():
    data = load_dataset("digits")
    model = sparsify(create_model("aann-mnist-cnn", data.input_shape))
    hook = GradualPruning(model, Magnitude(), 0.9, every=5)
    fit(model, data.train, epochs=2, step_hook=hook, progress=False)
    assert hook.amounts[-1] == 0.9
    assert all(b >= a for a, b in zip(hook.amounts, hook.amounts[1:], strict=False))
    assert len(hook.amounts) > 3
    for row in sparsity_report(model):
        assert row["zero"] == round(0.9 * row["weights"])


@pytest.mark.parametrize("amount", [-0.1, 1.01, 1.5, True])
def test_amount_outside_range_is_an_error(amount):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        magnitude(_mlp(), amount)


def test_amount_one_prunes_everything():
    model = magnitude(_mlp(), 1.0, scope="global")
    assert all(not m.any() for m in masks(model).values())


def test_a_model_without_weights_is_an_error():
    with pytest.raises(ValueError, match="no prunable weights"):
        magnitude(nn.Sequential(nn.ReLU(), nn.Flatten()), 0.5)


def _live_counts(model):
    return {k: int(v.sum()) for k, v in masks(model).items()}


def test_class_uniform_is_per_layer_and_class_blinded_is_one_threshold():
    a, b = _mlp(), _mlp()
    magnitude(a, 0.6, scope="layer")
    magnitude(b, 0.6, scope="global")
    sizes = {"0.weight": 600, "2.weight": 200, "4.weight": 40}
    assert _live_counts(a) == {k: n - round(0.6 * n) for k, n in sizes.items()}
    assert sum(_live_counts(b).values()) == 840 - round(0.6 * 840)
    assert _live_counts(b) != _live_counts(a)


def test_class_distributed_ranks_magnitude_over_layer_std():
    model = _mlp()
    with torch.no_grad():
        model[0].weight.mul_(10.0)  # a layer of large weights: blinded would spare it
    w = {n: model[i].weight.detach().clone() for i, n in
         ((0, "0.weight"), (2, "2.weight"), (4, "4.weight"))}
    prune.class_distributed(model, 0.5)
    scaled = torch.cat([(w[n].abs() / w[n].std()).flatten() for n in w])
    kept = torch.cat([masks(model)[n].flatten() for n in w])
    assert scaled[kept].min() >= scaled[~kept].max()
    # scaling by the std makes the choice scale-free: a 10x layer loses the same share
    blinded = magnitude(_mlp_scaled(), 0.5, scope="global")
    assert masks(blinded)["0.weight"].float().mean() > masks(model)["0.weight"].float().mean()


def _mlp_scaled():
    m = _mlp()
    with torch.no_grad():
        m[0].weight.mul_(10.0)
    return m


def test_random_is_seeded_and_exact():
    a = prune.random(_mlp(), 0.7, seed=3)
    b = prune.random(_mlp(), 0.7, seed=3)
    c = prune.random(_mlp(), 0.7, seed=4)
    assert all(torch.equal(masks(a)[k], masks(b)[k]) for k in masks(a))
    assert any(not torch.equal(masks(a)[k], masks(c)[k]) for k in masks(a))
    assert sum(_live_counts(a).values()) == 840 - round(0.7 * 840)


def test_obd_hessian_diagonal_matches_the_exact_one_on_a_quadratic():
    # loss = 0.5 * sum(h * w^2) has Hessian diag(h): Hutchinson is exact for diagonal H
    torch.manual_seed(0)
    lin = nn.Linear(6, 1, bias=False)
    h = torch.rand(1, 6) + 0.1

    def loss(out, _):
        return 0.5 * (h * lin.parametrizations.weight.original ** 2).sum() + 0 * out.sum()

    method = prune.OptimalBrainDamage(torch.zeros(1, 6), None, samples=2, loss=loss)
    sparsify(lin)
    s = method.scores(lin, ["weight"])["weight"]
    assert torch.allclose(s, 0.5 * h * lin.weight.detach() ** 2, atol=1e-6)


def test_obd_prunes_least_salient_weights_on_real_data():
    data = load_dataset("digits")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    fit(model, data.train, epochs=5, progress=False)
    x, y = data.train.x[:500], data.train.y[:500]
    acc = {}
    for name in ("obd", "random"):
        m = copy.deepcopy(model)
        method, scope = prune.make_method(name, seed=0, data=(x, y))
        prune.apply_pruning(m, method, 0.8, scope)
        acc[name] = (m(data.val.x).argmax(1) == data.val.y).float().mean().item()
    assert acc["obd"] > acc["random"] + 0.2


@pytest.mark.parametrize("name,expected", [
    ("one-shot", [0.8]),
    ("iterative-fixed", [0.2, 0.4, 0.6, 0.8]),
    ("iterative-relative", [0.5, 0.75, 0.8]),
])
def test_scheme_targets(name, expected):
    scheme = prune.make_scheme(name, 0.8, steps=4, rate=0.5)
    model = _mlp()
    seen = []
    reached = prune.prune_with_scheme(model, prune.Magnitude(), scheme,
                                      after_step=lambda a: seen.append(sparsity(model)))
    assert reached == pytest.approx(expected)
    assert seen == pytest.approx([round(a * 840) / 840 for a in expected])


def test_bucket_scheme_takes_bigger_steps_where_scores_are_small():
    model = _mlp()
    steps = []
    prune.prune_with_scheme(model, prune.Magnitude(), prune.Bucket(0.9, bucket=0.05),
                            after_step=lambda a: steps.append(round(a * 840)))
    sizes = [b - a for a, b in zip([0] + steps, steps)]
    assert steps[-1] == round(0.9 * 840)
    assert sizes[0] > sizes[-2]  # the smallest magnitudes go first and fast
    assert all(s >= 1 for s in sizes)


def test_bad_scheme_is_an_error():
    with pytest.raises(ValueError, match="unknown pruning scheme"):
        prune.make_scheme("gradual", 0.5)
    with pytest.raises(ValueError, match="unknown pruning method"):
        prune.make_method("taylor")


def test_bad_scope_is_an_error():
    with pytest.raises(ValueError, match="scope"):
        magnitude(_mlp(), 0.5, scope="row")


def test_naming_a_layer_without_weights_is_an_error():
    model = nn.Sequential(nn.Linear(3, 3), nn.ReLU())
    with pytest.raises(KeyError, match="no prunable layer .*1.weight.*the model has 0.weight"):
        magnitude(model, 0.5, layers=["1.weight"])


def test_bucket_scores_once_per_step():
    """The scores that size a bucket step are the ones that choose its weights: one
    scoring per step (random scores drew twice before, OBD estimated twice)."""
    from rewire.models import create_model
    from rewire.prune import Bucket, RandomScores, prune_with_scheme

    class Counting(RandomScores):
        calls = 0

        def scores(self, model, layers):
            Counting.calls += 1
            return super().scores(model, layers)

    model = create_model("mlp-100", (1, 8, 8))
    reached = prune_with_scheme(model, Counting(0), Bucket(0.9, 0.05), "global")
    assert reached[-1] == 0.9 and Counting.calls == len(reached)
