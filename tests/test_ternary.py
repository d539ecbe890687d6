import pytest
import torch
from torch import nn

from rewire.models import create_model
from rewire.prune import magnitude
from rewire.sparse import is_ternary, read_wiring, sparsity_report, ternarize, write_wiring


def _model():
    torch.manual_seed(1)
    return create_model("aann-mnist-cnn", (1, 8, 8))


def test_ternarize_gives_exact_minus_one_zero_plus_one():
    model = _model()
    magnitude(model, 0.7)
    ternarize(model)
    assert is_ternary(model)
    for rows in sparsity_report(model):
        assert rows["minus"] + rows["zero"] + rows["plus"] == rows["weights"]
    for _name, w in read_wiring(model).items():
        assert set(w.unique().tolist()) <= {-1, 0, 1}
    assert set(model.fc.weight.unique().tolist()) == {-1.0, 0.0, 1.0}


def test_straight_through_gradient_is_the_masked_gradient():
    lin = nn.Linear(6, 3, bias=False)
    magnitude(lin, 0.5)
    ternarize(lin)
    x = torch.randn(5, 6)
    lin(x).sum().backward()
    latent_grad = lin.parametrizations.weight.original.grad
    mask = lin.parametrizations.weight[0].mask
    # d(sum(W x))/dW = sum_b x_b, passed straight through sign, zeroed by the mask
    expected = x.sum(0).expand(3, 6) * mask
    assert torch.allclose(latent_grad, expected)


def test_training_keeps_masks_and_flips_only_signs():
    model = _model()
    magnitude(model, 0.8)
    ternarize(model)
    before = read_wiring(model)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(10):
        loss = model(torch.rand(16, 1, 8, 8)).logsumexp(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = read_wiring(model)
    for name in before:
        assert torch.equal(before[name] == 0, after[name] == 0)
    assert any(not torch.equal(before[n], after[n]) for n in before)


def test_wiring_round_trip_and_family():
    model = _model()
    magnitude(model, 0.9)
    ternarize(model)
    w = read_wiring(model)
    assert w.sparsity == pytest.approx(0.9, abs=1e-3)
    other = ternarize(create_model("aann-mnist-cnn", (1, 8, 8)))
    write_wiring(other, w)
    x = torch.rand(7, 1, 8, 8)
    assert torch.equal(model(x), other(x))
    assert read_wiring(other).same_family(w)
    flipped = w.clone()
    flipped["fc.weight"] = -flipped["fc.weight"]
    c, f = w.counts()["fc.weight"], flipped.counts()["fc.weight"]
    assert (f["minus"], f["zero"], f["plus"]) == (c["plus"], c["zero"], c["minus"])
    assert flipped.same_family(w) == (c["plus"] == c["minus"])


def test_write_wiring_rejects_bad_values_and_shapes():
    model = ternarize(_model())
    w = read_wiring(model)
    bad = w.clone()
    bad["fc.weight"] = bad["fc.weight"] * 2
    with pytest.raises(ValueError, match="outside"):
        write_wiring(model, bad)
    with pytest.raises(ValueError, match="shape"):
        write_wiring(model, {"fc.weight": torch.zeros(2, 2, dtype=torch.int8)})
    with pytest.raises(KeyError, match="layers"):
        write_wiring(model, {"nope.weight": torch.zeros(2, dtype=torch.int8)})

