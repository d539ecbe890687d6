import pytest
import torch

from rewire.data import load_dataset
from rewire.models import create_model, load_model
from rewire.prune import magnitude
from rewire.sparse import (
    load_packed,
    pack_ternary,
    read_wiring,
    save_packed,
    ternarize,
    unpack_ternary,
)
from rewire.train import predict


@pytest.mark.parametrize("p_zero", [0.0, 0.5, 0.9, 0.99, 1.0])
def test_pack_round_trip(p_zero):
    g = torch.Generator().manual_seed(0)
    u = torch.rand(37, 11, generator=g)
    w = torch.where(u < p_zero, 0, torch.where(u < (1 + p_zero) / 2, -1, 1)).to(torch.int8)
    payload, entry = pack_ternary(w)
    assert torch.equal(unpack_ternary(payload, entry), w)


def test_pack_is_near_entropy_at_90_percent():
    g = torch.Generator().manual_seed(0)
    u = torch.rand(100_000, generator=g)
    w = torch.where(u < 0.9, 0, torch.where(u < 0.95, -1, 1)).to(torch.int8)
    payload, _ = pack_ternary(w)
    entropy_bits = -(0.9 * torch.log2(torch.tensor(0.9)) + 0.1 * torch.log2(torch.tensor(0.05)))
    assert len(payload) * 8 / w.numel() < float(entropy_bits) * 1.05


def test_model_round_trip_identical_predictions(tmp_path):
    data = load_dataset("digits")
    model = create_model("aann-mnist-cnn", data.input_shape, bias=True, scale=True)
    magnitude(model, 0.9)
    ternarize(model)
    sizes = save_packed(model, tmp_path / "m.rwt")
    loaded = load_model(tmp_path / "m.rwt")
    assert torch.equal(predict(model, data.test.x), predict(loaded, data.test.x))
    for name, w in read_wiring(model).items():
        assert torch.equal(read_wiring(loaded)[name], w)
    assert sizes["packed_bytes"] == (tmp_path / "m.rwt").stat().st_size
    assert sizes["float32_bytes"] > 10 * sizes["packed_bytes"]


def test_mnist_cnn_at_90_percent_is_40x_smaller(tmp_path):
    model = create_model("aann-mnist-cnn", (1, 28, 28))
    magnitude(model, 0.9)
    ternarize(model)
    sizes = save_packed(model, tmp_path / "m.rwt")
    assert sizes["float32_bytes"] / sizes["packed_bytes"] >= 40


def test_refuses_non_ternary_and_foreign_files(tmp_path):
    with pytest.raises(ValueError, match="ternary"):
        save_packed(create_model("aann-mnist-cnn", (1, 8, 8)), tmp_path / "x.rwt")
    (tmp_path / "y.rwt").write_bytes(b"PK\x03\x04junk")
    with pytest.raises(ValueError, match="not a rewire packed model"):
        load_model(tmp_path / "y.rwt")


def test_load_model_reads_both_saved_forms_without_pickle(tmp_path):
    from rewire.models import model_spec

    torch.manual_seed(0)
    model = ternarize(create_model("aann-mnist-cnn", (1, 8, 8), 10))
    magnitude(model, 0.8)
    torch.save({"spec": model_spec(model), "state_dict": model.state_dict()}, tmp_path / "m.pt")
    save_packed(model, tmp_path / "m.rwt")
    x = torch.randn(5, 1, 8, 8)
    for f in ("m.pt", "m.rwt"):
        assert torch.equal(predict(load_model(tmp_path / f), x), predict(model, x))
    torch.save({"weights": 1}, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="not a rewire model file"):
        load_model(tmp_path / "bad.pt")
    torch.save({"spec": model_spec(model), "state_dict": model.state_dict(),
                "code": __import__("pathlib").PurePosixPath("x")}, tmp_path / "unsafe.pt")
    with pytest.raises(ValueError, match="without running their code"):
        load_model(tmp_path / "unsafe.pt")


def test_truncated_or_empty_files_are_one_clear_error(tmp_path):
    model = ternarize(create_model("aann-mnist-cnn", (1, 8, 8), 10))
    magnitude(model, 0.8)
    save_packed(model, tmp_path / "m.rwt")
    blob = (tmp_path / "m.rwt").read_bytes()
    for name, data, message in [("cut.rwt", blob[:-7], "truncated or corrupt"),
                                ("head.rwt", blob[:30], "truncated or corrupt"),
                                ("empty.rwt", b"", "not a rewire packed model"),
                                ("empty.pt", b"", "not a readable torch file")]:
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match=message):
            load_model(tmp_path / name)
    with pytest.raises(ValueError, match="no such model file"):
        load_model(tmp_path / "missing.rwt")


def test_packed_counts_need_no_model(tmp_path):
    from rewire.sparse import packed_report, sparsity_report

    model = ternarize(create_model("aann-mnist-cnn", (1, 8, 8), 10))
    magnitude(model, 0.8)
    del model.rewire_spec  # a user's model: no spec stored
    save_packed(model, tmp_path / "user.rwt")
    assert packed_report(tmp_path / "user.rwt") == sparsity_report(model)
    with pytest.raises(ValueError, match="no architecture spec"):
        load_model(tmp_path / "user.rwt")
    fresh = ternarize(create_model("aann-mnist-cnn", (1, 8, 8), 10))
    assert sparsity_report(load_packed(tmp_path / "user.rwt", fresh)) == sparsity_report(model)
