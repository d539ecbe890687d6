import pytest
import torch
from torch import nn

from rewire.sparse import get_mask, masks, prunable_weights, set_mask, sparsify, sparsity


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.rnn = nn.LSTM(3, 5, num_layers=2)
        self.fc = nn.Linear(8, 3)


def test_prunable_weights_cover_linear_conv_and_recurrent():
    names = list(prunable_weights(Net()))
    assert names == ["conv.weight", "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.weight_ih_l1",
                     "rnn.weight_hh_l1", "fc.weight"]
    # still found after the weights are parametrized
    assert list(prunable_weights(sparsify(Net()))) == names


def test_pruned_weights_get_no_gradient_and_never_revive():
    torch.manual_seed(0)
    model = sparsify(nn.Sequential(nn.Linear(10, 20), nn.Tanh(), nn.Linear(20, 3)))
    mask = torch.rand(20, 10) > 0.7
    set_mask(model, "0.weight", mask)
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    for _ in range(20):
        x = torch.randn(32, 10)
        loss = model(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        grad = model[0].parametrizations.weight.original.grad
        assert torch.all(grad[~mask] == 0)
        opt.step()
    w = model[0].weight
    assert torch.all(w[~mask] == 0)
    assert torch.all(w[mask] != 0)


def test_masks_survive_state_dict_round_trip():
    a = sparsify(Net())
    set_mask(a, "rnn.weight_hh_l1", torch.rand(20, 5) > 0.5)
    b = sparsify(Net())
    b.load_state_dict(a.state_dict())
    assert torch.equal(get_mask(b, "rnn.weight_hh_l1"), get_mask(a, "rnn.weight_hh_l1"))
    assert torch.equal(b.rnn.weight_hh_l1, a.rnn.weight_hh_l1)


def test_lstm_forward_uses_masked_weights():
    net = sparsify(Net())
    for name in masks(net):
        if name.startswith("rnn"):
            set_mask(net, name, torch.zeros_like(get_mask(net, name)))
    out, _ = net.rnn(torch.randn(4, 2, 3))
    # with all recurrent weights pruned only the biases act: the same output for any input
    out2, _ = net.rnn(torch.randn(4, 2, 3))
    assert torch.allclose(out, out2)


def test_sparsity_counts_zero_weights():
    m = sparsify(nn.Linear(10, 10, bias=False))
    mask = torch.ones(10, 10, dtype=torch.bool)
    mask[:3] = False
    set_mask(m, "weight", mask)
    assert sparsity(m) == pytest.approx(0.3)


def test_errors_name_the_problem():
    m = sparsify(nn.Linear(4, 2))
    with pytest.raises(ValueError, match="shape"):
        set_mask(m, "weight", torch.ones(3, 3))
    with pytest.raises(KeyError, match="no prunable layer 'fc.weight'"):
        get_mask(m, "fc.weight")
    with pytest.raises(ValueError, match="no mask"):
        get_mask(nn.Linear(2, 2), "weight")
