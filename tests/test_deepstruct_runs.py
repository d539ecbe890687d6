"""The deepstruct experiments end to end on small data, and their command-line errors."""

import json

import pytest

from rewire.cli import main
from rewire.experiments.priors import PriorsConfig, run_priors
from rewire.experiments.prune_ffn import ONE_SHOT_GRID, PruneFFNConfig, run_prune_ffn
from rewire.seeds import derive


def test_prune_ffn_rows_and_ordering_on_digits(tmp_path):
    cfg = PruneFFNConfig(dataset="digits", models=["mlp-100"],
                         methods=["magnitude-blinded", "random"],
                         schemes=["one-shot", "iterative-relative"], seeds=[0], base_epochs=15)
    s = run_prune_ffn(cfg, tmp_path)
    rows = s["rows"]
    assert {"model", "method", "scheme", "amount", "retrained", "seed",
            "test_accuracy"} <= set(rows[0])
    one_shot = [r for r in rows if r["scheme"] == "one-shot"]
    assert sorted({r["amount"] for r in one_shot}) == ONE_SHOT_GRID
    for r in rows:
        assert r["sparsity"] == pytest.approx(r["amount"], abs=2e-3)

    def acc(method, amount, retrained=False):
        return next(r["test_accuracy"] for r in one_shot if r["method"] == method
                    and r["amount"] == amount and r["retrained"] == retrained)

    assert acc("magnitude-blinded", 0.5) > acc("random", 0.5) + 0.1
    assert (tmp_path / "table.md").is_file() and (tmp_path / "prune_ffn_one_shot.png").is_file()
    # a second call resumes: nothing is retrained, the same rows come back
    assert run_prune_ffn(cfg, tmp_path)["rows"] == rows


def test_priors_rows_carry_graph_properties(tmp_path, monkeypatch):
    cfg = PriorsConfig(dataset="reber", cells=["gru"], graphs=2, nodes=(8, 12),
                       train_examples=300, noise_graphs=1, noise_seeds=1)
    s = run_priors(cfg, tmp_path)
    assert len(s["rows"]) == 4
    # graph 0 of each generator trained again with another seed, kept out of the rows
    assert sorted((r["generator"], r["graph_seed"], r["train_seed"])
                  for r in s["repeat_rows"]) == [("barabasi-albert", 0, derive(0, "repeat", 1)),
                                                 ("watts-strogatz", 0, derive(0, "repeat", 1))]
    assert {r["train_seed"] for r in s["rows"]} == {0, 1}
    assert s["noise"]["gru"]["graphs"] == 2 and s["noise"]["gru"]["trainings_per_graph"] == 2
    r = s["rows"][0]
    assert {"generator", "graph_seed", "cell", "test_accuracy", "layers", "edges",
            "diameter", "edge_betweenness_var"} <= set(r)
    assert 8 <= r["nodes"] <= 12
    assert set(s["pearson"]["gru"]) >= {"nodes", "density"}
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["pearson"] == s["pearson"] and "r2" in saved


def test_training_noise_by_hand():
    from rewire.experiments.priors import training_noise

    def row(seed, acc, train_seed=None):
        return {"cell": "gru", "generator": "g", "graph_seed": seed, "test_accuracy": acc,
                "train_seed": seed if train_seed is None else train_seed}

    rows = [row(0, 0.80), row(1, 0.90), row(2, 1.00)]  # between-graph variance 0.01
    repeats = [row(0, 0.84, 10000), row(1, 0.86, 10001)]  # pairs (0.80, 0.84), (0.90, 0.86)
    n = training_noise(rows, repeats)["gru"]
    assert n["graphs"] == 2 and n["trainings_per_graph"] == 2
    assert n["between_graph_std"] == pytest.approx(0.1)
    assert n["within_graph_std"] == pytest.approx(0.0008 ** 0.5)  # var of a pair: d²/2
    assert n["r2_ceiling"] == pytest.approx(1 - 0.0008 / 0.01)
    # a failed training leaves out its graph: graph 1 (a failed repeat) and graph 3
    failed = training_noise(rows + [row(3, 0.5)], repeats + [row(1, 0.5, 20001)],
                            min_accuracy=0.6)["gru"]
    assert failed["graphs"] == 1 and failed["within_graph_std"] == pytest.approx(0.0008 ** 0.5)
    assert failed["between_graph_std"] == pytest.approx(0.1)  # graphs 0, 1, 2 first trainings


@pytest.mark.parametrize("args,message", [
    (["prune-ffn", "--dataset", "digits", "--methods", "taylor"], "--methods: unknown value"),
    (["prune-ffn", "--dataset", "digits", "--schemes", "gradual"], "--schemes: unknown value"),
    (["prune-rnn", "--amounts", "0.5,1.2"], "[0, 1]"),
    (["prune-rnn", "--targets", "h2o"], "--targets: unknown value 'h2o'"),
    (["priors", "--nodes", "9,3"], "--nodes must be a range"),
    (["priors", "--generators", "erdos"], "--generators: unknown value 'erdos'"),
])
def test_cli_errors(tmp_path, capsys, args, message):
    assert main([*args, "--out", str(tmp_path / "x")]) == 2
    assert message in capsys.readouterr().err


def test_predict_needs_rows(tmp_path, capsys):
    f = tmp_path / "r.json"
    f.write_text(json.dumps({"rows": []}))
    assert main(["predict", str(f), "--out", str(tmp_path / "p")]) == 2
    assert "no rows" in capsys.readouterr().err
