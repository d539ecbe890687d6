import json

from rewire.configs import SweepRun
from rewire.experiments.psiren_sweep import run_psiren_sweep


def test_sweep_shares_dense_training_and_resumes(tmp_path):
    out = tmp_path / "sweep"
    cfg = SweepRun(dataset="digits", epochs=(2, 1, 1, 2), sparsities=[0.5, 0.9], seeds=[0, 1],
                   out=str(out))
    s = run_psiren_sweep(cfg)
    saved = json.loads((out / "results.json").read_text())
    assert saved["dataset"] == "digits"
    assert [(r["sparsity"], r["seed"]) for r in saved["rows"]] == [
        (0.5, 0), (0.5, 1), (0.9, 0), (0.9, 1)]
    for r in saved["rows"]:
        assert 0.0 <= r["test_accuracy"] <= 1.0
        assert abs(r["measured_sparsity"] - r["sparsity"]) < 1e-3
    # one dense network per seed, shared by every sparsity level of that seed
    assert sorted(p.name for p in (out / "dense").iterdir()) == ["seed0", "seed1"]
    assert (out / "dense" / "seed0" / "dense.pt").is_file()
    dense = {(r["seed"]): r["dense_test_accuracy"] for r in saved["rows"]}
    for r in saved["rows"]:
        assert r["dense_test_accuracy"] == dense[r["seed"]]
    assert (out / "accuracy_vs_sparsity.png").stat().st_size > 10_000
    assert "| 0.90 | 2 |" in (out / "table.md").read_text()
    # a second call finds every run finished and returns the same numbers
    again = run_psiren_sweep(cfg)
    assert again["rows"] == s["rows"]
