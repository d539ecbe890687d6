"""CarRacing: the env's discrete action semantics, the expert, the seed guard, the driving
policy of a network and the expert experiment, on tiny budgets."""

import json

import numpy as np
import pytest
import torch

gym = pytest.importorskip("gymnasium", reason="the car extra is not installed "
                          "(pip install 'rewire[car]')")
pytest.importorskip("Box2D", reason="Box2D is not installed (pip install 'rewire[car]')")

from rewire.car import (  # noqa: E402
    ACTIONS,
    EVAL_SEEDS,
    THREE_ACTIONS,
    TUNING_SEEDS,
    Expert,
    NetworkPolicy,
    check_seeds,
    make_env,
    run_episode,
)


def _turn(action: int) -> float:
    """Hull angle change (counter-clockwise positive) from 15 steps of ``action`` at speed."""
    env = make_env()
    env.reset(seed=0)
    for _ in range(60):
        env.step(3)
    a0 = env.unwrapped.car.hull.angle
    for _ in range(15):
        env.step(action)
    return env.unwrapped.car.hull.angle - a0


def test_discrete_action_1_steers_right_and_2_left():
    assert ACTIONS[1] == "right" and _turn(1) < -0.3  # clockwise: a right turn
    assert ACTIONS[2] == "left" and _turn(2) > 0.3
    assert [ACTIONS[a] for a in THREE_ACTIONS] == ["left", "right", "gas"]


class Constant:
    def __init__(self, action):
        self.action = action

    def reset(self, env):
        pass

    def act(self, env, frame):
        assert frame.shape == (96, 96) and frame.dtype == np.uint8
        return self.action


def test_the_expert_follows_the_track_where_a_straight_line_leaves_it():
    seed = TUNING_SEEDS[0]
    expert = run_episode(Expert(), seed, max_steps=300)
    gas_only = run_episode(Constant(3), seed, max_steps=300)
    assert expert.steps == 300 and not expert.lap
    assert expert.tiles >= 70 and expert.tiles > gas_only.tiles + 15
    assert expert.total_return > 200 > gas_only.total_return


def test_evaluation_seeds_never_overlap_training_seeds():
    check_seeds(range(1000), EVAL_SEEDS)
    check_seeds(TUNING_SEEDS, EVAL_SEEDS)
    with pytest.raises(ValueError, match="3 evaluation track seeds are also training seeds"):
        check_seeds(range(10), [8, 9, 10, 11, 7])


def test_a_network_drives_through_its_three_outputs():
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(96 * 96, 3))
    with torch.no_grad():
        net[1].weight.zero_()
        net[1].bias.copy_(torch.tensor([0.0, 0.0, 1.0]))  # always "gas"
    ep = run_episode(NetworkPolicy(net), EVAL_SEEDS[0], max_steps=120)
    assert ep.steps == 120 and ep.tiles >= 10
    with pytest.raises(ValueError, match="3 or 5 outputs, this one has 4"):
        NetworkPolicy(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(96 * 96, 4)))


def test_expert_command_reports_both_action_sets(tmp_path):
    from rewire.cli import main

    out = tmp_path / "expert"
    assert main(["car", "expert", "--seeds", "2", "--seeds-from", str(TUNING_SEEDS[5]),
                 "--max-steps", "60", "--out", str(out)]) == 0
    r = json.loads((out / "results.json").read_text())
    for s in (r, r["three_action"]):
        assert len(s["returns"]) == 2 and s["min_return"] == min(s["returns"])
        assert s["mean_return"] == pytest.approx(np.mean(s["returns"]))
        assert [e["seed"] for e in s["per_seed"]] == [TUNING_SEEDS[5], TUNING_SEEDS[6]]
    assert (out / "returns.png").stat().st_size > 10_000


def test_recorded_demonstrations_load_split_by_whole_episodes(tmp_path):
    from rewire.cli import main
    from rewire.data import load_dataset
    from rewire.data.sources import DataError

    out = tmp_path / "demos"
    assert main(["car", "record", "--episodes", "3", "--seeds-from", "7", "--max-steps", "40",
                 "--out", str(out)]) == 0
    d = load_dataset("carracing", out)
    assert d.input_shape == (1, 96, 96) and d.num_classes == 3
    assert (len(d.train), len(d.val), len(d.test)) == (40, 40, 40)  # seeds 7, 8, 9
    assert "split by whole episodes" in d.note
    assert 0.0 <= float(d.train.x.min()) and float(d.train.x.max()) <= 1.0
    assert set(d.train.y.tolist()) <= {0, 1, 2}
    index = json.loads((out / "index.json").read_text())
    assert [e["split"] for e in index["episodes"]] == ["train", "val", "test"]
    assert index["classes"] == ["left", "right", "gas"]
    f = out / index["episodes"][1]["file"]
    f.write_bytes(f.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(DataError, match="corrupt"):
        load_dataset("carracing", out)
    with pytest.raises(DataError, match="no demonstrations"):
        load_dataset("carracing", tmp_path / "nowhere")


def test_drive_a_saved_network_with_video_and_refuse_its_training_tracks(tmp_path):
    from rewire.cli import main
    from rewire.models import create_model
    from rewire.sparse import ternarize

    net = ternarize(create_model("car-cnn", (1, 96, 96), 3))
    path = tmp_path / "model.pt"
    torch.save({"spec": net.rewire_spec, "state_dict": net.state_dict()}, path)
    out, gif = tmp_path / "drive", tmp_path / "drive.gif"
    assert main(["car", "drive", str(path), "--seeds", "2", "--max-steps", "30",
                 "--video", str(gif), "--out", str(out)]) == 0
    r = json.loads((out / "results.json").read_text())
    assert [e["seed"] for e in r["per_seed"]] == [EVAL_SEEDS[0], EVAL_SEEDS[1]]
    assert all(e["steps"] == 30 for e in r["per_seed"])
    assert gif.read_bytes()[:6] == b"GIF89a"
    demos = tmp_path / "demos"
    (demos / "episodes").mkdir(parents=True)
    (demos / "index.json").write_text(json.dumps(
        {"classes": ["left", "right", "gas"], "episodes": [{"seed": EVAL_SEEDS[1]}]}))
    assert main(["car", "drive", str(path), "--seeds", "2", "--demos", str(demos),
                 "--out", str(tmp_path / "again")]) == 2
    assert not (tmp_path / "again").exists()
    mlp = ternarize(create_model("mlp-100", (1, 28, 28), 10))
    torch.save({"spec": mlp.rewire_spec, "state_dict": mlp.state_dict()}, tmp_path / "mlp.pt")
    assert main(["car", "drive", str(tmp_path / "mlp.pt"), "--out",
                 str(tmp_path / "mlp")]) == 2


def test_a_dagger_episode_keeps_the_drivers_path_and_the_experts_labels(tmp_path):
    from rewire.car import record_episode

    entry = record_episode(EVAL_SEEDS[0] - 1, tmp_path / "e.npz", max_steps=50,
                           driver=Constant(3))  # the learner only accelerates
    assert entry["driver"] == "Constant" and entry["frames"] == 50
    with np.load(tmp_path / "e.npz") as z:
        labels = z["actions"]
    assert len(labels) == 50 and set(labels.tolist()) <= {0, 1, 2}


def test_car_pipeline_record_train_with_dagger_then_drive(tmp_path):
    """The whole pipeline on a tiny budget: 5-action demonstrations, p-SIREN to 90%, one
    DAgger round driven by the ternary network, a drive on evaluation tracks, and the
    DAgger tracks refused as evaluation tracks."""
    from rewire.cli import main
    from rewire.models import load_model
    from rewire.sparse import is_ternary, sparsity

    demos, out = tmp_path / "demos", tmp_path / "train"
    assert main(["car", "record", "--episodes", "3", "--seeds-from", "7", "--max-steps", "40",
                 "--actions", "5", "--out", str(demos)]) == 0
    args = ["car", "train", str(demos), "--epochs", "1,1,0,1", "--rounds", "1",
            "--episodes", "2", "--max-steps", "30", "--out", str(out)]
    assert main(args) == 0
    r = json.loads((out / "results.json").read_text())
    assert [x["train_frames"] for x in r["rounds"]] == [40, 100]  # 40 + 2 x 30 DAgger frames
    assert r["dagger_seeds"] == [2000, 2001] and r["target_sparsity"] == 0.9
    assert "driven_mean_return" in r["rounds"][0]
    model = load_model(out / "model.pt")
    assert is_ternary(model) and abs(sparsity(model) - 0.9) < 1e-3
    assert model.fc2.out_features == 5  # as many outputs as the demonstrations have actions
    before = (out / "model.pt").read_bytes()
    assert main(args) == 0 and (out / "model.pt").read_bytes() == before  # resumes: done
    assert main([*args, "--rounds", "2"]) == 0  # one more round continues the run
    r = json.loads((out / "results.json").read_text())
    assert [x["train_frames"] for x in r["rounds"]] == [40, 100, 160]
    assert r["dagger_seeds"] == [2000, 2001, 2002, 2003]
    assert main(["car", "drive", str(out / "model.pt"), "--seeds", "1", "--max-steps", "20",
                 "--out", str(tmp_path / "drive")]) == 0
    assert main(["car", "drive", str(out / "model.pt"), "--seeds-from", "2001", "--seeds",
                 "1", "--out", str(tmp_path / "bad")]) == 2
    assert not (tmp_path / "bad").exists()


def test_sweep_on_the_car_task_drives_each_model(tmp_path):
    """rewire sweep --dataset carracing --drive N: each (sparsity, seed) model drives N
    evaluation tracks; its row gets mean and min return, the table and plot a return
    column."""
    from rewire.cli import main

    demos, out = tmp_path / "demos", tmp_path / "sweep"
    assert main(["car", "record", "--episodes", "3", "--seeds-from", "7", "--max-steps", "40",
                 "--out", str(demos)]) == 0
    assert main(["sweep", "--dataset", "carracing", "--model", "car-cnn", "--data-dir",
                 str(demos), "--sparsities", "0.5,0.9", "--seeds", "0", "--epochs", "1,1,0,1",
                 "--drive", "2", "--drive-steps", "15", "--out", str(out)]) == 0
    r = json.loads((out / "results.json").read_text())
    assert [row["sparsity"] for row in r["rows"]] == [0.5, 0.9]
    for row in r["rows"]:
        name = f"p{row['sparsity']:.2f}_seed0"
        returns = [json.loads((out / "drive" / f"{name}_track{t}" / "result.json")
                              .read_text())["result"]["total_return"]
                   for t in (100000, 100001)]
        assert row["tracks"] == 2 and row["min_return"] == min(returns)
        assert row["mean_return"] == pytest.approx(sum(returns) / 2)
    assert "mean return" in (out / "table.md").read_text()
    assert main(["sweep", "--dataset", "digits", "--drive", "2", "--out",
                 str(tmp_path / "bad")]) == 2 and not (tmp_path / "bad").exists()
