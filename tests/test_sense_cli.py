import json

import pytest
import torch

from rewire.cli import main
from rewire.models import create_model
from rewire.prune import magnitude
from rewire.sparse import ternarize

KEYS = {"init", "sparsity", "dataset", "start_val_accuracy", "final_val_accuracy",
        "start_test_accuracy", "final_test_accuracy", "neighbours_scored"}


def test_cli_sense_from_random_writes_results(tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["sense", "--dataset", "digits", "--init", "random", "--sparsity", "0.8",
                 "--steps", "30", "--neighbours", "conv1=4,conv2=8,fc=128",
                 "--out", str(out)]) == 0
    r = json.loads((out / "results.json").read_text())
    assert KEYS <= set(r) and r["init"] == "random"
    assert r["sparsity"] == pytest.approx(0.8, abs=1e-3)
    assert r["final_val_accuracy"] > r["start_val_accuracy"]
    assert r["start_counts"] == r["final_counts"]  # the family is kept
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 30
    assert (out / "climb.png").is_file() and (out / "model.rwt").is_file()
    assert "neighbours scored" in capsys.readouterr().out


def test_cli_sense_limit_holds_a_fixed_subset_of_the_training_images(tmp_path):
    runs = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert main(["sense", "--dataset", "digits", "--sparsity", "0.8", "--steps", "3",
                     "--neighbours", "4", "--batch", "0", "--limit", "300",
                     "--out", str(out)]) == 0
        runs.append(json.loads((out / "results.json").read_text()))
    assert runs[0]["train_images"] == 300  # validation stays the whole held-out tenth
    assert runs[0]["final_val_accuracy"] == runs[1]["final_val_accuracy"]  # same subset


def _saved_model(tmp_path, shape, name="m.pt"):
    m = ternarize(create_model("aann-mnist-cnn", shape))
    magnitude(m, 0.9)
    path = tmp_path / name
    torch.save({"spec": m.rewire_spec, "state_dict": m.state_dict()}, path)
    return path


def test_cli_sense_from_a_saved_model(tmp_path):
    path = _saved_model(tmp_path, (1, 8, 8))
    out = tmp_path / "s"
    assert main(["sense", "--init", str(path), "--steps", "3", "--neighbours", "4",
                 "--out", str(out)]) == 0
    r = json.loads((out / "results.json").read_text())
    assert r["sparsity"] == pytest.approx(0.9, abs=1e-3)


@pytest.mark.parametrize("args,message", [
    (["--neighbours", "conv3=5"], "no layer 'conv3'"),
    (["--model", "resnet-50"], "--model: unknown value 'resnet-50'"),
    (["--device", "cuda:7"], "cuda:7"),
    (["--device", "tpu"], "unknown device"),
    (["--neighbours", "conv1=100000"], "larger than the"),
    (["--schedule", "fc", "--criterion", "accuracy", "--sparsity", "1.5"],
     "--sparsity must be < 1.0"),
])
def test_cli_sense_errors(tmp_path, capsys, args, message):
    assert main(["sense", "--steps", "2", *args, "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "s").exists()  # nothing left behind


def test_start_model_of_another_architecture(tmp_path, capsys):
    path = _saved_model(tmp_path, (1, 28, 28))  # an MNIST-sized CNN, but digits are 8x8
    assert main(["sense", "--dataset", "digits", "--init", str(path), "--steps", "2",
                 "--out", str(tmp_path / "s")]) == 2
    assert "the data have (1, 8, 8)" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("model", ["car-cnn", "lenet-300-100"])
def test_cli_sense_climbs_other_registered_models(tmp_path, model, monkeypatch):
    """--model car-cnn / lenet-300-100 on small data: the delta evaluator, and a climb."""
    from rewire.data import Split, Splits

    g = torch.Generator().manual_seed(0)
    shape = (1, 96, 96) if model == "car-cnn" else (1, 8, 8)

    def split(n):
        x = torch.randint(0, 256, (n, *shape), generator=g) / 255.0
        f = x.flatten(1)
        y = (f[:, : f.shape[1] // 2].mean(1) > f[:, f.shape[1] // 2:].mean(1)).long()
        return Split(x, y)

    fake = Splits("toy", split(96), split(40), split(40), 3)
    monkeypatch.setattr("rewire.experiments.sense_run.load_dataset", lambda *a, **k: fake)
    out = tmp_path / "s"
    assert main(["sense", "--model", model, "--sparsity", "0.9", "--steps", "15",
                 "--neighbours", "16", "--batch", "0", "--out", str(out)]) == 0
    r = json.loads((out / "results.json").read_text())
    assert r["model"] == model and r["evaluator"] == "delta" and r["exact"]
    assert r["last_train_accuracy"] > r["start_train_accuracy"]
    assert r["start_counts"] == r["final_counts"]


def test_cli_sense_with_a_non_ternary_or_unswappable_model(tmp_path, capsys):
    m = create_model("aann-mnist-cnn", (1, 8, 8))  # float weights: not ternary
    path = tmp_path / "float.pt"
    torch.save({"spec": m.rewire_spec, "state_dict": ternarize(m).state_dict()}, path)
    assert main(["sense", "--init", str(path), "--steps", "2", "--out",
                 str(tmp_path / "s")]) == 2
    assert "no zero weight" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_cli_neighbours_views(tmp_path, capsys):
    path = _saved_model(tmp_path, (1, 8, 8))
    out = tmp_path / "nb"
    assert main(["neighbours", str(path), "--count", "40", "--out", str(out)]) == 0
    r = json.loads((out / "results.json").read_text())
    assert set(r["layers"]) == {"conv1.weight", "conv2.weight", "fc.weight"}
    for layer in r["layers"].values():
        assert layer["min"] <= r["original_accuracy"] + 0.2 and layer["neighbours"] == 40
        assert 0.0 <= layer["fraction_better"] <= 1.0
    for name in ["histograms", "embed_tsne", "embed_lle", "embed_isomap"]:
        assert (out / f"{name}.png").stat().st_size > 10_000
