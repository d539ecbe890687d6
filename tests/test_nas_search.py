"""The genetic / random search, prediction inside it, resuming, and the nas commands."""

import json

import numpy as np
import pytest

from rewire.nas.genotype import genotype_hash, make_genotype, save
from rewire.nas.search import SearchConfig, search


def _fitness(g) -> float:
    """A deterministic stand-in for training: depends on the genotype only."""
    h = int(genotype_hash(g)[:8], 16)
    return 0.3 + 0.01 * g.number_of_nodes() + 0.002 * (h % 100) / 100


class Trainer:
    def __init__(self, fail_after: int | None = None, cache: dict | None = None):
        self.cache = {} if cache is None else cache
        self.calls = 0
        self.fail_after = fail_after

    def __call__(self, genotypes):
        out = []
        for g in genotypes:
            h = genotype_hash(g)
            if h not in self.cache:
                if self.fail_after is not None and self.calls >= self.fail_after:
                    raise KeyboardInterrupt
                self.calls += 1
                self.cache[h] = {"fitness": _fitness(g), "test_accuracy": _fitness(g) - 0.01}
            out.append(self.cache[h])
        return out


CFG = dict(population=8, candidates=40, min_trained=10)


def test_same_seed_same_candidates_and_offspring_are_new():
    a = search(SearchConfig(**CFG, seed=3), Trainer())
    b = search(SearchConfig(**CFG, seed=3), Trainer())
    assert [r["hash"] for r in a] == [r["hash"] for r in b]
    assert [r["fitness"] for r in a] == [r["fitness"] for r in b]
    assert len(a) == 40 and {r["generation"] for r in a} == set(range(5))
    # every candidate is a training: offspring are never clones of genotypes met before
    assert sum(r["new_training"] for r in a) == len({r["hash"] for r in a}) >= 38
    c = search(SearchConfig(**CFG, seed=4), Trainer())
    assert [r["hash"] for r in a] != [r["hash"] for r in c]


def test_a_killed_search_resumes_to_the_same_rows():
    full = search(SearchConfig(**CFG, estimation=0.5, seed=1), Trainer())
    cache: dict = {}
    with pytest.raises(KeyboardInterrupt):
        search(SearchConfig(**CFG, estimation=0.5, seed=1), Trainer(fail_after=17, cache=cache))
    assert len(cache) == 17
    again = search(SearchConfig(**CFG, estimation=0.5, seed=1), Trainer(cache=cache))
    assert json.dumps(again, sort_keys=True) == json.dumps(full, sort_keys=True)


def test_prediction_saves_trainings_and_keeps_the_predicted_worst_untrained():
    rows = search(SearchConfig(**CFG, estimation=0.5, seed=0), Trainer())
    trained = sum(r["trained"] for r in rows)
    # generations 0 and 1 (16 candidates) train all: the predictor needs 10 rows; after it,
    # half of each generation is predicted
    assert trained == 16 + 3 * 4
    for g in (2, 3, 4):
        gen = [r for r in rows if r["generation"] == g]
        kept = [r["predicted"] for r in gen if r["trained"]]
        skipped = [r["predicted"] for r in gen if not r["trained"]]
        assert min(kept) >= max(skipped)
        assert all(r["fitness"] == r["predicted"] for r in gen if not r["trained"])
    # the stand-in fitness grows with the vertex count: the structural predictor ranks
    online = [r for r in rows if r["trained"] and r["predicted"] is not None]
    from rewire.predict import kendall_tau

    assert kendall_tau([r["predicted"] for r in online], [r["fitness"] for r in online]) > 0.3


def test_genetic_search_climbs_the_stand_in_fitness():
    rows = search(SearchConfig(**CFG, seed=2), Trainer())
    first = max(r["fitness"] for r in rows if r["generation"] == 0)
    assert max(r["fitness"] for r in rows) > first
    rnd = search(SearchConfig(**CFG, strategy="random", seed=2), Trainer())
    assert all(10 <= r["depth"] <= 36 for r in rnd)


def test_bad_search_configs():
    with pytest.raises(ValueError, match="strategy"):
        SearchConfig(strategy="annealing")
    with pytest.raises(ValueError, match="candidates >= population"):
        SearchConfig(population=10, candidates=5)
    with pytest.raises(ValueError, match="estimation"):
        SearchConfig(estimation=1.0)


TINY = make_genotype({0: "input", 1: ("conv3", 16), 2: "maxpool", 3: ("conv3", 32),
                      4: "sum", 5: "output"}, [(0, 1), (1, 2), (2, 3), (2, 4), (3, 4), (4, 5)])


def test_nas_train_and_draw_on_digits(tmp_path, capsys):
    from rewire.cli import main

    path = tmp_path / "g.json"
    save(TINY, path)
    assert main(["nas", "train", str(path), "--dataset", "digits", "--epochs", "4",
                 "--lr", "0.05", "--pad", "0", "--out", str(tmp_path / "t")]) == 0
    r = json.loads((tmp_path / "t" / "results.json").read_text())
    assert r["val_accuracy"] > 0.5  # 10 classes
    assert r["genotype_hash"] == genotype_hash(TINY) and r["recipe"]["cutout"] == 0
    # a folder started before --cutout existed resumes (its config lacks the option)
    cfg = tmp_path / "t" / "config.json"
    old = json.loads(cfg.read_text())
    del old["cutout"]
    cfg.write_text(json.dumps(old))
    assert main(["nas", "train", str(path), "--dataset", "digits", "--epochs", "4",
                 "--lr", "0.05", "--pad", "0", "--out", str(tmp_path / "t")]) == 0
    assert json.loads((tmp_path / "t" / "results.json").read_text()) == r
    # mirroring is evaluation only: --no-mirror on the finished folder evaluates again
    # without training (same weights: its accuracies are the plain ones recorded before)
    lines = (tmp_path / "t" / "metrics.jsonl").read_text()
    assert r["recipe"]["mirror"] and "test_accuracy_plain" in r
    assert main(["nas", "train", str(path), "--dataset", "digits", "--epochs", "4",
                 "--lr", "0.05", "--pad", "0", "--no-mirror", "--out",
                 str(tmp_path / "t")]) == 0
    p = json.loads((tmp_path / "t" / "results.json").read_text())
    assert (p["val_accuracy"], p["test_accuracy"]) == (r["val_accuracy_plain"],
                                                       r["test_accuracy_plain"])
    assert "test_accuracy_plain" not in p and p["seconds"] == r["seconds"]
    assert (tmp_path / "t" / "metrics.jsonl").read_text() == lines
    assert main(["nas", "train", str(path), "--dataset", "digits", "--epochs", "4",
                 "--lr", "0.05", "--pad", "0", "--cutout", "4", "--out",
                 str(tmp_path / "c")]) == 0
    c = json.loads((tmp_path / "c" / "results.json").read_text())
    assert c["recipe"]["cutout"] == 4 and c["val_accuracy"] != r["val_accuracy"]
    assert main(["nas", "draw", str(path), "--out", str(tmp_path / "d")]) == 0
    info = json.loads((tmp_path / "d" / "genotype.json").read_text())
    assert info["depth"] == 6 and (tmp_path / "d" / "genotype.png").stat().st_size > 1000


@pytest.mark.parametrize("text, message", [
    ('{"format": "rewire.nas.genotype", "version": 1, "vertices": [{"id": 0, "op": "input"}, '
     '{"id": 1, "op": "conv9", "channels": 16}, {"id": 2, "op": "output"}], '
     '"edges": [[0, 1], [1, 2]]}', "conv9"),
    ('{"format": "rewire.nas.genotype", "version": 1, "vertices": [{"id": 0, "op": "input"}, '
     '{"id": 1, "op": "conv3", "channels": 16}, {"id": 2, "op": "output"}], '
     '"edges": [[0, 1], [1, 2], [2, 1]]}', "cycle"),
    ("not json", "json"),
])
def test_bad_genotype_files_are_one_line_exit_2_and_leave_nothing(tmp_path, capsys, text,
                                                                   message):
    from rewire.cli import main

    path = tmp_path / "bad.json"
    path.write_text(text)
    out = tmp_path / "run"
    assert main(["nas", "train", str(path), "--dataset", "digits", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err.lower()
    assert not out.exists()


def test_nas_search_end_to_end_on_digits(tmp_path):
    """The whole command on the embedded digits: searches, summary, plots, winner retrained;
    a second run of the same command reads everything back."""
    from rewire.cli import main

    args = ["nas", "search", "--dataset", "digits", "--population", "4", "--candidates", "8",
            "--seeds", "0", "--epochs", "1", "--train-images", "300", "--min-trained", "4",
            "--pad", "0", "--retrain-epochs", "2", "--retrain-seeds", "0",
            "--retrain-cutout", "3", "--out", str(tmp_path / "s")]
    assert main(args) == 0
    res = json.loads((tmp_path / "s" / "results.json").read_text())
    s = res["summary"]
    assert {"genetic_best", "random_best", "trainings_saved", "tau_features", "tau_params",
            "best_retrained_test_accuracy"} <= set(s)
    assert len(res["rows"]) == 4 * 8
    recipe = s["retrains"][0]["recipe"]  # the retraining's own epochs and cutout
    assert (recipe["epochs"], recipe["cutout"], recipe["train_images"]) == (2, 3, 0)
    assert 0 < s["trainings_saved"] < 1
    for f in ("fitness.png", "predictor.png", "best_genotype.png", "best_genotype.json"):
        assert (tmp_path / "s" / f).is_file()
    assert main(args) == 0
    assert json.loads((tmp_path / "s" / "results.json").read_text())["summary"] == s
    assert np.isfinite(s["tau_features"])


def test_nas_search_without_retraining(tmp_path):
    """``--retrain-epochs 0`` stops after the searches: no retraining folder, no retrained
    accuracy in the summary (never a zero-epoch 'retrain' of an untrained network)."""
    from rewire.cli import main

    out = tmp_path / "s"
    assert main(["nas", "search", "--dataset", "digits", "--population", "2", "--candidates",
                 "2", "--seeds", "0", "--strategies", "random", "--estimations", "0",
                 "--epochs", "1", "--train-images", "100", "--min-trained", "2", "--pad", "0",
                 "--retrain-epochs", "0", "--out", str(out)]) == 0
    s = json.loads((out / "results.json").read_text())["summary"]
    assert s["retrains"] == [] and "best_retrained_test_accuracy" not in s
    assert not list(out.glob("retrain-*"))


def test_nas_report_checks_only_the_winners_retrainings(tmp_path):
    """Sub-folders retrained by `rewire nas train`: the winner's recipe under two seeds is
    checked against the target; another genotype's retraining is listed and named, never
    counted."""
    from rewire.experiments.reports.nas import _longer

    def sub(name, h, val, test, cutout):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps({
            "genotype_hash": h, "val_accuracy": val, "test_accuracy": test, "seconds": 600,
            "recipe": {"epochs": 60, "cutout": cutout}}))

    sub("a", "w" * 64, 0.81, 0.805, 16)
    sub("b", "w" * 64, 0.80, 0.799, 16)
    sub("c", "o" * 64, 0.85, 0.85, 16)
    spec = {"commands": {".": "search", "a": "train a", "b": "train b", "c": "train c"}}
    text = _longer(tmp_path, spec, "w" * 64)
    assert "(genotype oooooooo, not the winner)" in text
    assert "test 80.5%, 79.9%" in text and "**met**" in text
    sub("d", "w" * 64, 0.80, 0.78, 16)  # a third seed 2.5 points below the first
    spec["commands"]["d"] = "train d"
    text = _longer(tmp_path, spec, "w" * 64)
    assert "**missed**" in text and "mean 79.5%, sd 1.3, range 78.0-80.5%" in text
    assert "Mirror-averaged" not in text  # no folder recorded plain accuracies
    r = json.loads((tmp_path / "d" / "results.json").read_text())
    r["val_accuracy_plain"], r["test_accuracy_plain"] = 0.775, 0.77
    (tmp_path / "d" / "results.json").write_text(json.dumps(r))
    text = _longer(tmp_path, spec, "w" * 64)
    assert "validation: +2.5 (`d`); mean +2.5 points" in text
    assert "(without mirroring 77.5% / 77.0%)" in text
