"""Structured (channel) pruning with the model rebuilt smaller, N:M masks, and per-layer
sparsity distributions (uniform, ERK) for random sparse initialisation."""

import copy
import math

import pytest
import torch
from torch import nn

from rewire import prune
from rewire.models import create_model
from rewire.sparse import get_mask, is_ternary, masks, ternarize


def _cnn() -> nn.Sequential:
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 6, 3, padding=1), nn.BatchNorm2d(6), nn.Hardtanh(), nn.Flatten(),
        nn.Dropout(0.5), nn.Linear(6 * 4 * 4, 10), nn.BatchNorm1d(10), nn.ReLU(),
        nn.Linear(10, 4))
    for bn in (net[1], net[5], net[10]):  # statistics and affine terms that matter
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.weight.data.uniform_(0.5, 2)
        bn.bias.data.uniform_(-1, 1)
    return net.eval()


def _same(a: nn.Module, b: nn.Module, shape: tuple[int, ...]) -> None:
    x = torch.randn(5, *shape)
    with torch.no_grad():
        assert torch.allclose(a.eval()(x), b.eval()(x), atol=1e-5)


def test_shrink_gives_the_masked_models_outputs_with_fewer_channels():
    net, x = _cnn(), torch.randn(3, 3, 8, 8)
    masked = prune.mask_channels(copy.deepcopy(net), 0.5, x)
    small = prune.shrink(masked, x)
    assert [small[i].weight.shape for i in (0, 4, 9, 12)] == [
        (4, 3, 3, 3), (3, 4, 3, 3), (5, 48), (4, 5)]
    assert [small[i].num_features for i in (1, 5, 10)] == [4, 3, 5]
    _same(small, masked, (3, 8, 8))
    direct = prune.channels(net, 0.5, x)
    _same(direct, masked, (3, 8, 8))
    assert not masks(direct) and not masks(net)  # no masks before, none after; net untouched
    assert net[0].weight.shape == (8, 3, 3, 3)


def test_kept_channels_are_those_of_largest_norm():
    net = nn.Sequential(nn.Linear(4, 2), nn.ReLU(), nn.Linear(2, 1))
    net[0].weight.data = torch.tensor([[1.0, 1, 1, 1], [3, 0, 0, 0]])  # l1 4 / 3, l2 2 / 3
    scores = prune.channel_scores(net, norm="l2")
    assert scores["0.weight"].tolist() == [2.0, 3.0] and scores["2.weight"].shape == (1,)
    x = torch.randn(2, 4)
    assert prune.channels(net, 0.5, x)[0].weight.tolist() == [[1.0, 1, 1, 1]]
    assert prune.channels(net, 0.5, x, norm="l2")[0].weight.tolist() == [[3.0, 0, 0, 0]]
    with pytest.raises(ValueError, match="norm"):
        prune.channels(net, 0.5, x, norm="l0")


@pytest.mark.parametrize("amount, kept", [(0.0, 10), (0.29, 8), (0.3, 7), (0.99, 1), (1.0, 1)])
def test_counts_are_rounded_down_and_keep_one(amount, kept):
    net = nn.Sequential(nn.Linear(3, 10), nn.Tanh(), nn.Linear(10, 2))
    small = prune.channels(net, amount, torch.randn(2, 3))
    assert small[0].out_features == small[2].in_features == kept
    assert small[2].out_features == 2  # the classes are never pruned


def test_registered_models_and_ternary_layers():
    lenet = create_model("lenet-300-100", (1, 28, 28))
    small = prune.channels(lenet, 0.5, torch.rand(2, 1, 28, 28))
    assert [small[i].out_features for i in (1, 3, 5)] == [150, 50, 10]
    assert not hasattr(small, "rewire_spec")  # no longer the registered architecture
    cnn = ternarize(create_model("aann-mnist-cnn", (1, 8, 8)))  # fc reads x.flatten(1)
    prune.magnitude(cnn, 0.3)
    x = torch.rand(3, 1, 8, 8)
    masked = prune.mask_channels(copy.deepcopy(cnn), 0.5, x)
    small = prune.shrink(masked, x)
    assert (small.conv1.out_channels, small.conv2.out_channels, small.fc.in_features) == (
        8, 16, 64)
    assert is_ternary(small) and get_mask(small, "fc.weight").shape == (10, 64)
    _same(small, masked, (1, 8, 8))
    car = create_model("car-cnn", (1, 96, 96), 3)  # fc1 reads x.flatten(1) of 64 x 3 x 3
    small = prune.channels(car, 0.4, torch.rand(2, 1, 96, 96))
    assert (small.conv2.out_channels, small.fc1.in_features, small.fc2.weight.shape) == (
        39, 39 * 9, (3, 60))
    _same(small, prune.mask_channels(car, 0.4, torch.rand(2, 1, 96, 96)), (1, 96, 96))


class _Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.act = nn.Linear(4, 4), nn.Linear(4, 2), nn.ReLU()

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)) + x)


@pytest.mark.parametrize("net, why", [
    (_Residual(), "chain"),
    (nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4), nn.Linear(4, 2)), "channel-wise"),
    (nn.Sequential(nn.Linear(4, 4), nn.Softmax(1), nn.Linear(4, 2)), "channel-wise"),
    (nn.Sequential(nn.Unflatten(1, (4, 1, 1)), nn.Conv2d(4, 4, 1, groups=2), nn.Conv2d(4, 2, 1),
                   nn.Flatten()), "ungrouped"),
])
def test_models_that_are_not_chains_are_refused(net, why):
    with pytest.raises(ValueError, match=why) as err:
        prune.channels(net, 0.5, torch.randn(2, 4))
    assert "\n" not in str(err.value)


def _groups(mask: torch.Tensor, m: int) -> torch.Tensor:
    """Groups of m consecutive input channels (NVIDIA ASP: channels-last filters)."""
    return (mask.permute(0, 2, 3, 1) if mask.dim() == 4 else mask).reshape(-1, m)


@pytest.mark.parametrize("n, m", [(2, 4), (1, 4), (3, 8)])
def test_n_m_keeps_the_n_largest_of_every_group(n, m):
    net = nn.Sequential(nn.Conv2d(8, 4, 3), nn.Flatten(), nn.Linear(16, 8))
    prune.n_m(net, n, m)
    for name, layer in (("0.weight", net[0]), ("2.weight", net[2])):
        mask = get_mask(net, name)
        assert (_groups(mask, m).sum(1) == n).all()
        assert 1 - float(mask.float().mean()) == 1 - n / m  # sparsity
        w = _groups(layer.parametrizations.weight.original.detach().abs(), m)
        kept = _groups(mask, m)
        low = w.masked_fill(~kept, math.inf).min(1).values
        high = w.masked_fill(kept, -math.inf).max(1).values
        assert (low >= high).all()


def test_n_m_on_ternary_and_pruned_layers_and_bad_sizes():
    net = ternarize(nn.Sequential(nn.Linear(8, 3)))
    latent = net[0].parametrizations.weight.original.detach().abs()
    prune.n_m(net, 2, 4)
    top = torch.sort(latent.view(-1, 4), dim=1, descending=True, stable=True).indices[:, :2]
    want = torch.zeros(6, 4, dtype=torch.bool).scatter_(1, top, True).view(3, 8)
    assert torch.equal(get_mask(net, "0.weight"), want)
    pruned = prune.magnitude(nn.Linear(8, 4), 0.75)
    before = get_mask(pruned, "weight").clone()
    prune.n_m(pruned, 2, 4)
    assert not (get_mask(pruned, "weight") & ~before).any()  # pruned weights stay pruned
    odd = nn.Sequential(nn.Linear(8, 6), nn.Linear(6, 2))
    with pytest.raises(ValueError, match="not a multiple of m=4"):
        prune.n_m(odd)
    assert not masks(odd)  # checked before anything changed
    prune.n_m(odd, layers=["0.weight"])
    with pytest.raises(ValueError, match="n:m"):
        prune.n_m(odd, 3, 2)


def test_uniform_densities_and_counts():
    lenet = create_model("lenet-300-100", (1, 28, 28))
    dens = prune.layer_densities(lenet, 0.8)
    assert len(set(dens.values())) == 1 and len(dens) == 3
    assert dens["1.weight"] == pytest.approx(0.2)
    counts = prune.layer_counts(lenet, 0.8, "uniform")
    sizes = {"1.weight": 784 * 300, "3.weight": 300 * 100, "5.weight": 100 * 10}
    for n, k in counts.items():
        assert abs(k / sizes[n] - 0.2) < 1 / sizes[n]
    assert abs(sum(counts.values()) - 0.2 * sum(sizes.values())) <= 0.5


def test_erk_favours_small_layers_and_clamps_them_dense():
    lenet = create_model("lenet-300-100", (1, 28, 28))
    sizes = {"1.weight": 784 * 300, "3.weight": 300 * 100, "5.weight": 100 * 10}
    d = prune.layer_densities(lenet, 0.9, "erk")
    assert d["1.weight"] < d["3.weight"] < d["5.weight"] == 1.0  # the 100 x 10 layer: dense
    assert d["3.weight"] / d["1.weight"] == pytest.approx((400 / 30000) / (1084 / 235200))
    total = sum(d[n] * sizes[n] for n in sizes)
    assert total == pytest.approx(0.1 * sum(sizes.values()))
    d = prune.layer_densities(lenet, 0.5, "erk")  # two rounds of clamping
    assert d["3.weight"] == d["5.weight"] == 1.0 and d["1.weight"] < 0.5
    assert sum(d[n] * sizes[n] for n in sizes) == pytest.approx(0.5 * sum(sizes.values()))
    assert set(prune.layer_densities(lenet, 0.0, "erk").values()) == {1.0}
    assert set(prune.layer_densities(lenet, 1.0, "erk").values()) == {0.0}
    conv = nn.Sequential(nn.Conv2d(16, 32, 3), nn.Conv2d(32, 64, 3))
    d = prune.layer_densities(conv, 0.95, "erk")  # the kernel dims count
    raw = [(32 + 16 + 3 + 3) / (32 * 16 * 9), (64 + 32 + 3 + 3) / (64 * 32 * 9)]
    assert d["0.weight"] / d["1.weight"] == pytest.approx(raw[0] / raw[1])
    with pytest.raises(ValueError, match="distribution"):
        prune.layer_densities(lenet, 0.5, "snip")
    with pytest.raises(ValueError, match="sparsity"):
        prune.layer_densities(lenet, 1.5)


def test_random_sparse_has_exact_counts_and_is_seeded():
    net = create_model("lenet-300-100", (1, 28, 28))
    prune.random_sparse(net, 0.9, "erk", seed=3)
    counts = prune.layer_counts(net, 0.9, "erk")
    got = {n: int(m.sum()) for n, m in masks(net).items()}
    assert got == counts and counts["5.weight"] == 1000
    assert abs(sum(got.values()) - 0.1 * 266200) <= 0.5
    again = prune.random_sparse(create_model("lenet-300-100", (1, 28, 28)), 0.9, seed=3)
    other = prune.random_sparse(create_model("lenet-300-100", (1, 28, 28)), 0.9, seed=4)
    assert all(torch.equal(m, masks(again)[n]) for n, m in masks(net).items())
    assert not torch.equal(masks(other)["1.weight"], masks(net)["1.weight"])
