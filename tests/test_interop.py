"""Interop: baked plain weights, safetensors files, torch.nn.utils.prune, pruning ternary
layers by their latent weights, and the vectorised .rwt decoder."""

import sys

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils import prune as tprune

from rewire.models import create_model, load_model, model_spec
from rewire.prune import from_torch_prune, magnitude, to_torch_prune
from rewire.sparse import (
    MASK_PREFIX,
    bake,
    get_mask,
    is_ternary,
    load_safetensors,
    masks,
    pack_ternary,
    prunable_weights,
    read_wiring,
    save_safetensors,
    set_mask,
    sparsify,
    ternarize,
    unpack_ternary,
)

SHAPE = (1, 8, 8)


def _cnn(seed=0, **options):
    torch.manual_seed(seed)
    return create_model("aann-mnist-cnn", SHAPE, 10, **options)


def _x(n=6):
    return torch.rand(n, *SHAPE, generator=torch.Generator().manual_seed(1))


def _parametrized(model):
    return [name for name, m in model.named_modules() if parametrize.is_parametrized(m)]


# 1. bake


@pytest.mark.parametrize("name, options, inputs", [
    ("lenet-300-100", {}, "random"),
    ("aann-mnist-cnn", {}, "grid"),  # the pure AANN net: on a 1/4 grid every sum is exact
    ("aann-mnist-cnn", {"bias": True}, "random"),
])
def test_bake_ternary_round_trips_through_a_plain_state_dict(tmp_path, name, options, inputs):
    torch.manual_seed(0)
    model = ternarize(magnitude(create_model(name, SHAPE, 10, **options), 0.8))
    x = _x() if inputs == "random" else torch.randint(0, 5, (6, *SHAPE)) / 4
    logits = model(x)
    bake(model)
    assert _parametrized(model) == []
    torch.manual_seed(5)
    fresh = create_model(name, SHAPE, 10, **options)  # plain, of the same class, other weights
    assert set(model.state_dict()) == set(fresh.state_dict())  # the plain keys
    for layer, (module, pname) in prunable_weights(model).items():
        w = getattr(module, pname)
        assert isinstance(w, nn.Parameter)
        assert set(w.unique().tolist()) == {-1.0, 0.0, 1.0}
        assert int((w == 0).sum()) == round(0.8 * w.numel()), layer  # the exact pruned count
        assert w.stride() == getattr(fresh.get_submodule(layer.rpartition(".")[0]),
                                     pname).stride()  # a plain model's memory layout
    torch.save(model.state_dict(), tmp_path / "plain.pt")
    fresh.load_state_dict(torch.load(tmp_path / "plain.pt", weights_only=True))
    assert torch.equal(fresh(x), model(x))
    if inputs == "grid" or name != "aann-mnist-cnn":
        assert torch.equal(fresh(x), logits)
    else:  # the ternary CNN runs conv1 (1 input channel) on a weight of another layout
        assert torch.allclose(fresh(x), logits, rtol=0, atol=1e-5)


def test_bake_masked_float_model_keeps_effective_weights_and_drops_latents():
    model = magnitude(_cnn(), 0.6)
    effective = {n: getattr(m, p).detach().clone() for n, (m, p) in
                 prunable_weights(model).items()}
    pruned = ~get_mask(model, "fc.weight")
    assert (model.fc.parametrizations.weight.original[pruned] != 0).all()  # latents, pruned
    bake(model)
    assert _parametrized(model) == [] and masks(model) == {}
    for name, (module, pname) in prunable_weights(model).items():
        assert torch.equal(getattr(module, pname), effective[name])
    assert bake(nn.Linear(3, 2)).weight.shape == (2, 3)  # nothing to bake: unchanged


# 2. safetensors


def _file_tensors(path):
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}, f.metadata()


def test_safetensors_masked_model_loads_back_with_the_same_masks(tmp_path):
    import json

    model = magnitude(_cnn(bias=True), 0.7)
    latent = model.fc.parametrizations.weight.original.detach().clone()
    x = _x()
    save_safetensors(model, tmp_path / "m.safetensors")
    # the model itself is untouched: still masked, latent weights kept
    assert torch.equal(model.fc.parametrizations.weight.original, latent)
    tensors, meta = _file_tensors(tmp_path / "m.safetensors")
    assert set(tensors) == set(_cnn(bias=True).state_dict())  # a plain state dict, no masks
    info = json.loads(meta["rewire"])
    assert info == {"spec": model_spec(model), "masked": ["conv1.weight", "conv2.weight",
                                                          "fc.weight"], "ternary": []}
    for loaded in (load_model(tmp_path / "m.safetensors"),
                   load_safetensors(tmp_path / "m.safetensors", _cnn(seed=3, bias=True)),
                   load_safetensors(tmp_path / "m.safetensors",
                                    magnitude(_cnn(seed=4, bias=True), 0.2))):  # other masks
        assert not is_ternary(loaded)
        assert masks(loaded).keys() == masks(model).keys()
        for name, mask in masks(model).items():
            assert torch.equal(masks(loaded)[name], mask), name
            assert int((~mask).sum()) == round(0.7 * mask.numel())
        assert torch.equal(loaded(x), model(x))
    # any safetensors reader loads it into the plain model, strictly
    from safetensors.torch import load_file

    plain = _cnn(seed=9, bias=True)
    plain.load_state_dict(load_file(tmp_path / "m.safetensors"))
    assert torch.equal(plain(x), bake(loaded)(x))


def test_safetensors_ternary_model_keeps_its_wiring(tmp_path):
    model = ternarize(magnitude(_cnn(), 0.9))
    save_safetensors(model, tmp_path / "t.safetensors")
    loaded = load_model(tmp_path / "t.safetensors")
    assert is_ternary(loaded)
    for name, w in read_wiring(model).items():
        assert torch.equal(read_wiring(loaded)[name], w)
        assert torch.equal(get_mask(loaded, name), get_mask(model, name))
    x = _x()
    assert torch.equal(loaded(x), model(x))


def test_safetensors_stores_a_mask_only_when_a_live_weight_is_zero(tmp_path):
    model = sparsify(nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)))
    set_mask(model, "0.weight", torch.tensor([[1, 0, 1, 1], [1, 1, 0, 1], [0, 1, 1, 1]]))
    with torch.no_grad():
        model[0].parametrizations.weight.original[0, 0] = 0.0  # live, but exactly zero
    save_safetensors(model, tmp_path / "u.safetensors", spec={"note": "a user model"})
    tensors, _ = _file_tensors(tmp_path / "u.safetensors")
    assert set(tensors) - set(nn.Sequential(nn.Linear(4, 3), nn.ReLU(),
                                            nn.Linear(3, 2)).state_dict()) == {
        MASK_PREFIX + "0.weight"}
    fresh = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    loaded = load_safetensors(tmp_path / "u.safetensors", fresh)
    assert loaded is fresh
    for name, mask in masks(model).items():
        assert torch.equal(masks(loaded)[name], mask)
    assert bool(get_mask(loaded, "0.weight")[0, 0])  # the zero weight is live again
    x = torch.randn(5, 4)
    assert torch.equal(loaded(x), model(x))
    # a spec that names no registered model: load_model says so; no model given: one line
    with pytest.raises(ValueError, match="no architecture spec"):
        load_model(tmp_path / "u.safetensors")
    with pytest.raises(ValueError, match="rewire.models.load_model"):
        load_safetensors(tmp_path / "u.safetensors")


def test_safetensors_errors_are_one_line(tmp_path, monkeypatch):
    model = magnitude(_cnn(), 0.5)
    save_safetensors(model, tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match="do not fit"):
        load_safetensors(tmp_path / "m.safetensors", create_model("mlp-100", SHAPE, 10))
    blob = (tmp_path / "m.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(blob[:100])
    with pytest.raises(ValueError, match="not a readable safetensors file"):
        load_model(tmp_path / "cut.safetensors")
    with pytest.raises(ValueError, match="no such model file"):
        load_safetensors(tmp_path / "missing.safetensors", model)
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.torch", None)
    for call in (lambda: save_safetensors(model, tmp_path / "x.safetensors"),
                 lambda: load_model(tmp_path / "m.safetensors")):
        with pytest.raises(ImportError, match=r"needs safetensors.*pip install 'rewire\[io\]'"
                           ) as err:
            call()
        assert "\n" not in str(err.value)


# 3. torch.nn.utils.prune


def test_from_torch_prune_gives_identical_masks_and_logits():
    torch.manual_seed(0)
    # (torch's l1_unstructured cannot prune a channels_last weight, as the AANN CNN's)
    model = nn.Sequential(nn.Conv2d(1, 6, 3), nn.ReLU(), nn.Conv2d(6, 4, 3), nn.ReLU(),
                          nn.Flatten(), nn.Linear(64, 10))
    layers = {"0.weight": model[0], "2.weight": model[2], "5.weight": model[5]}
    for module in layers.values():
        tprune.l1_unstructured(module, "weight", amount=0.6)
    tprune.random_unstructured(model[5], "bias", amount=0.5)  # not a rewire layer: kept
    x = _x()
    logits = model(x)
    torch_masks = {n: m.weight_mask.clone() for n, m in layers.items()}
    origs = {n: m.weight_orig.detach().clone() for n, m in layers.items()}
    effective = {n: m.weight.detach().clone() for n, m in layers.items()}
    from_torch_prune(model)
    assert torch.equal(model(x), logits)
    assert set(masks(model)) == set(layers)
    for name, module in layers.items():
        assert not hasattr(module, "weight_orig") and not hasattr(module, "weight_mask")
        assert torch.equal(get_mask(model, name), torch_masks[name].bool())
        assert int((~get_mask(model, name)).sum()) == round(0.6 * module.weight.numel())
        assert torch.equal(module.parametrizations.weight.original, origs[name])
        assert torch.equal(module.weight, effective[name])
    assert hasattr(model[5], "bias_mask")
    # and back: the same weight_mask and weight_orig, the same logits
    to_torch_prune(model)
    assert _parametrized(model) == []
    for name, module in layers.items():
        assert torch.equal(module.weight_mask, torch_masks[name])
        assert torch.equal(module.weight_orig, origs[name])
    assert torch.equal(model(x), logits)
    # rewire pruning continues from the imported masks: pruned stay pruned
    from_torch_prune(model)
    magnitude(model, 0.8)
    for name in layers:
        assert not (get_mask(model, name) & ~torch_masks[name].bool()).any()


def test_torch_prune_on_a_recurrent_layer_and_ternary_refused():
    torch.manual_seed(0)
    gru = nn.GRU(3, 4)
    tprune.l1_unstructured(gru, "weight_hh_l0", amount=0.5)
    x = torch.randn(5, 2, 3)
    out, _ = gru(x)
    mask = gru.weight_hh_l0_mask.clone()
    from_torch_prune(gru)
    assert torch.equal(get_mask(gru, "weight_hh_l0"), mask.bool())
    assert torch.equal(gru(x)[0], out)
    with pytest.raises(ValueError, match="ternary layers conv1.weight, conv2.weight, fc"):
        to_torch_prune(ternarize(_cnn()))


# 4. magnitude pruning of ternary layers ranks latent weights


def test_magnitude_on_ternary_prunes_the_smallest_latent_weights():
    torch.manual_seed(0)
    net = ternarize(nn.Sequential(nn.Linear(12, 10, bias=False), nn.Linear(10, 4, bias=False)))
    g = torch.Generator().manual_seed(3)
    latents = {}
    for name, (module, _) in prunable_weights(net).items():
        w = module.parametrizations.weight.original
        with torch.no_grad():
            w.copy_(torch.randn(w.shape, generator=g))
        latents[name] = w.detach().clone()
    magnitude(net, 0.5)  # per layer: 60 of 120, 20 of 40
    for name, latent in latents.items():
        pruned = ~get_mask(net, name).flatten()
        n = round(0.5 * latent.numel())
        smallest = torch.zeros_like(pruned)
        smallest[latent.abs().flatten().argsort()[:n]] = True
        assert torch.equal(pruned, smallest), name
        assert not pruned[:n].all()  # not a positional block
        assert latent.abs().flatten()[pruned].max() < latent.abs().flatten()[~pruned].min()
    # a second, global round ranks the live latents of both layers together
    before = {n: get_mask(net, n).clone() for n in latents}
    magnitude(net, 0.75, scope="global")
    after = {n: get_mask(net, n) for n in latents}
    live = torch.cat([latents[n].abs()[after[n]] for n in latents])
    new = torch.cat([latents[n].abs()[before[n] & ~after[n]] for n in latents])
    assert len(live) == 40 and len(new) == 40 and live.min() > new.max()
    assert all(not (after[n] & ~before[n]).any() for n in latents)  # pruned stay pruned


def test_magnitude_on_float_masked_layers_is_unchanged():
    from rewire.prune import Magnitude

    model = magnitude(_cnn(), 0.5)
    scores = Magnitude().scores(model, list(prunable_weights(model)))
    for name, (module, pname) in prunable_weights(model).items():
        assert torch.equal(scores[name], getattr(module, pname).detach().abs())


# 5. the vectorised .rwt decoder


def _reference_unpack(payload, entry):
    """The per-codeword decoder the format was first read with."""
    bits = "".join(f"{b:08b}" for b in payload)
    k, out, pos, index = entry["k"], np.zeros(int(np.prod(entry["shape"])), np.int8), 0, -1
    for _ in range(entry["nnz"]):
        end = bits.index("0", pos)
        gap = ((end - pos) << k) | (int(bits[end + 1 : end + 1 + k], 2) if k else 0)
        index += gap + 1
        out[index] = 1 if bits[end + 1 + k] == "1" else -1
        pos = end + k + 2
    return torch.from_numpy(out).view(entry["shape"])


def test_decoder_reads_hand_made_codewords():
    w = torch.tensor([0, 0, -1, 0, 1, 1, 0, 0, 0, 0, 0, 0, -1], dtype=torch.int8)
    # gaps 2, 1, 0, 6; k=1: 1|0|0|0 0|1|1 0|0|1 111|0|0|0 ; k=0: 11|0|0 1|0|1 0|1 111111|0|0
    for k, payload in [(1, bytes([0b10000110, 0b01111000])),
                       (0, bytes([0b11001010, 0b11111110, 0b00000000]))]:
        entry = {"shape": [13], "nnz": 4, "k": k, "nbytes": len(payload)}
        assert torch.equal(unpack_ternary(payload, entry), w)


@pytest.mark.parametrize("pattern", ["all-minus", "all-plus", "alternating", "third-minus",
                                     "random-0", "random-50", "random-90", "random-99",
                                     "one-at-end", "empty"])
def test_decoder_matches_the_reference_and_round_trips(pattern):
    g = torch.Generator().manual_seed(0)
    n = 3000
    if pattern.startswith("random"):
        p = int(pattern.split("-")[1]) / 100
        u = torch.rand(n, generator=g)
        w = torch.where(u < p, 0, torch.where(u < (1 + p) / 2, -1, 1))
    else:
        w = {"all-minus": -torch.ones(n), "all-plus": torch.ones(n),
             "alternating": torch.tensor([1, -1] * (n // 2)),
             "third-minus": torch.tensor([0, 0, -1] * (n // 3)),
             "one-at-end": torch.cat([torch.zeros(n - 1), torch.tensor([-1])]),
             "empty": torch.zeros(n)}[pattern]
    w = w.to(torch.int8).view(30, 100)
    payload, entry = pack_ternary(w)
    assert torch.equal(unpack_ternary(payload, entry), w)
    assert torch.equal(_reference_unpack(payload, entry), w)
    flat = w.flatten()
    nz = np.flatnonzero(flat.numpy())
    gaps = np.diff(np.concatenate([[-1], nz])) - 1
    for k in range(5):  # written by hand with any Rice parameter, it decodes the same
        bits = "".join("1" * (gap >> k) + "0" + format(gap, "020b")[20 - k :]
                       + ("1" if flat[i] > 0 else "0") for gap, i in zip(gaps, nz))
        bits += "0" * (-len(bits) % 8)
        blob = bytes(int(bits[j : j + 8], 2) for j in range(0, len(bits), 8))
        e = {"shape": [n], "nnz": len(nz), "k": k, "nbytes": len(blob)}
        assert torch.equal(unpack_ternary(blob, e), flat)


def test_decoder_refuses_payloads_short_of_codewords():
    w = torch.tensor([1, 0, -1, 0, 0, 1, 1, -1] * 8, dtype=torch.int8)
    payload, entry = pack_ternary(w)
    with pytest.raises((ValueError, IndexError)):
        unpack_ternary(payload[: len(payload) // 2], entry)
    with pytest.raises(ValueError, match="cannot fit"):
        unpack_ternary(payload, {**entry, "nnz": 10**12})
    with pytest.raises(IndexError):  # codewords pointing past the tensor
        unpack_ternary(payload, {**entry, "shape": [48]})
