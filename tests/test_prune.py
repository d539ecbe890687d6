import pytest
import torch
import torch.nn.utils.prune as torch_prune
from torch import nn

from rewire.data import load_dataset
from rewire.models import create_model
from rewire.prune import GradualPruning, Magnitude, gradual_amount, magnitude
from rewire.sparse import masks, sparsify, sparsity_report
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


@pytest.mark.parametrize("amount", [-0.1, 1.0, 1.5])
def test_amount_outside_range_is_an_error(amount):
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        magnitude(_mlp(), amount)


def test_bad_scope_is_an_error():
    with pytest.raises(ValueError, match="scope"):
        magnitude(_mlp(), 0.5, scope="row")
