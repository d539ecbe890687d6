import pytest
import torch

from rewire.data import Split, load_dataset
from rewire.models import create_model
from rewire.search.sense import SenseConfig, layer_for_step, run_sense
from rewire.sparse import random_wiring

SMALL = {"conv1.weight": 4, "conv2.weight": 8, "fc.weight": 64}


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def start():
    return random_wiring(create_model("aann-mnist-cnn", (1, 8, 8)), 0.8, seed=0)


def test_random_wiring_has_exact_sparsity_per_layer(start):
    for w in start.values():
        assert int((w == 0).sum()) == round(0.8 * w.numel())
        assert set(w.unique().tolist()) == {-1, 0, 1}


def test_schedules():
    assert {layer_for_step("fc", s, 0) for s in range(30)} == {"fc.weight"}
    rr = [layer_for_step("round-robin", s, 0, block=2) for s in range(6)]
    assert rr == ["conv1.weight"] * 2 + ["conv2.weight"] * 2 + ["fc.weight"] * 2
    r3 = [layer_for_step("random3", s, 5) for s in range(30)]
    assert all(r3[i] == r3[i - i % 3] for i in range(30))  # blocks of three
    assert len(set(r3)) == 3
    assert r3 == [layer_for_step("random3", s, 5) for s in range(30)]


def test_sense_climbs_and_keeps_the_family(digits, start):
    r = run_sense(SenseConfig(steps=40, neighbours=SMALL, accept_top=1), start, digits.val,
                  digits.test, progress=False)
    assert r["wiring"].same_family(start)
    assert r["final_val_accuracy"] > r["start_val_accuracy"] + 0.1
    hinge = [h["val_hinge"] for h in r["history"]]
    assert all(b >= a for a, b in zip(hinge, hinge[1:]))  # SENSE never steps down
    assert r["neighbours_scored"] == sum(SMALL[h["layer"]] for h in r["history"])


def test_test_labels_never_steer_the_search(digits, start):
    shuffled = Split(digits.test.x, digits.test.y[torch.randperm(len(digits.test))])
    cfg = SenseConfig(steps=15, neighbours=SMALL)
    a = run_sense(cfg, start, digits.val, digits.test, progress=False)
    b = run_sense(cfg, start, digits.val, shuffled, progress=False)
    assert [h["val_accuracy"] for h in a["history"]] == [h["val_accuracy"] for h in b["history"]]
    assert all(torch.equal(a["wiring"][k], b["wiring"][k]) for k in start)


def test_resume_makes_the_same_moves(digits, start, tmp_path):
    cfg = SenseConfig(steps=12, neighbours=SMALL)
    whole = run_sense(cfg, start, digits.val, digits.test, progress=False)
    ckpt = tmp_path / "sense.pt"
    run_sense(SenseConfig(steps=5, neighbours=SMALL), start, digits.val, digits.test,
              checkpoint=ckpt, progress=False)
    resumed = run_sense(cfg, start, digits.val, digits.test, checkpoint=ckpt, progress=False)
    assert [h["val_hinge"] for h in resumed["history"]] == [
        h["val_hinge"] for h in whole["history"]]
    assert all(torch.equal(whole["wiring"][k], resumed["wiring"][k]) for k in start)


def test_annealing_may_step_down_but_stays_in_the_family(digits, start):
    r = run_sense(SenseConfig(steps=30, neighbours=SMALL, method="anneal", temperature=0.5,
                              cooling=1.0), start, digits.val, digits.test, progress=False)
    hinge = [h["val_hinge"] for h in r["history"]]
    assert any(b < a for a, b in zip(hinge, hinge[1:]))
    assert r["wiring"].same_family(start)


def test_bad_configurations(start, digits):
    with pytest.raises(KeyError, match="no layer 'conv3.weight'"):
        SenseConfig(neighbours={"conv3.weight": 3})
    with pytest.raises(ValueError, match="schedule"):
        SenseConfig(schedule="zigzag")
    too_many = {**SMALL, "conv1.weight": 10**9}
    with pytest.raises(ValueError, match="larger than the .* neighbours the layer allows"):
        run_sense(SenseConfig(neighbours=too_many), start, digits.val, digits.test)


def test_accepting_several_moves_per_neighbourhood_climbs_faster(digits, start):
    one = run_sense(SenseConfig(steps=40, neighbours=SMALL, accept_top=1), start, digits.val,
                    digits.test, progress=False)
    four = run_sense(SenseConfig(steps=40, neighbours=SMALL, accept_top=4), start, digits.val,
                     digits.test, progress=False)
    assert four["accepted_moves"] > one["accepted_moves"]
    assert four["final_val_accuracy"] > one["final_val_accuracy"]
    assert four["wiring"].same_family(start)
    hinge = [h["val_hinge"] for h in four["history"]]
    assert all(b >= a for a, b in zip(hinge, hinge[1:]))  # every extra move improves too
    assert max(h["moves"] for h in four["history"]) <= 4


def test_ensemble_snapshots_do_not_depend_on_the_step_budget(digits, start):
    r = run_sense(SenseConfig(steps=10**6, max_seconds=3, neighbours=SMALL, snapshot_every=5,
                              ensemble=3), start, digits.val, digits.test, progress=False)
    assert len(r["history"]) >= 10 and r["ensemble_size"] == 3
