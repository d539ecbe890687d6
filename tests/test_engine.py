"""The experiment engine: stages in order, task identity by hash, resume after a kill."""

import json

import pytest

from rewire.experiments.engine import Stage, Sweep, Task, run_sweep, sibling, square, task_hash

CALLS: list[str] = []
KILL_AT = {"x": -1}


def cube_of_square(folder: str, x: int) -> int:
    """Reads its square from the first stage; raises (a kill) at ``x == KILL_AT["x"]``."""
    if x == KILL_AT["x"]:
        raise KeyboardInterrupt
    CALLS.append(folder)
    sq = json.loads((sibling(folder, "squares", f"x{x}") / "result.json").read_text())
    return sq["result"] * x


def sweep(n: int = 5, offset: int = 0) -> Sweep:
    squares = Stage("squares", square, [Task(f"x{i}", {"x": i + offset}) for i in range(n)])
    cubes = Stage("cubes", cube_of_square,
                  [Task(f"x{i}", {"x": i}) for i in range(n)])
    return Sweep("demo", {"n": n}, [squares, cubes],
                 lambda res, out: {"squares": res[0], "cubes": res[1]})


def test_stages_run_in_order_and_results_keep_task_order(tmp_path):
    assert run_sweep(sweep(), tmp_path, progress=False) == {
        "squares": [0, 1, 4, 9, 16], "cubes": [0, 1, 8, 27, 64]}
    assert json.loads((tmp_path / "config.json").read_text())["experiment"] == "demo"
    assert json.loads((tmp_path / "timing.json").read_text())["sessions"] == 1


def test_local_workers_give_what_one_process_gives(tmp_path):
    stage = Stage("squares", square, [Task(f"x{i}", {"x": i}) for i in range(6)])
    one = run_sweep(Sweep("d", {}, [stage], lambda r, o: r), tmp_path / "a", progress=False)
    two = run_sweep(Sweep("d", {}, [stage], lambda r, o: r), tmp_path / "b", workers=2,
                    progress=False)
    assert one == two == [[0, 1, 4, 9, 16, 25]]


def test_a_killed_sweep_resumes_without_redoing_finished_tasks(tmp_path, capsys):
    CALLS.clear()
    KILL_AT["x"] = 3
    with pytest.raises(KeyboardInterrupt):
        run_sweep(sweep(), tmp_path, progress=False)
    assert len(CALLS) == 3  # x0, x1, x2 finished and were written before the kill
    CALLS.clear()
    KILL_AT["x"] = -1
    resumed = run_sweep(sweep(), tmp_path, progress=True)
    assert [c.rsplit("/", 1)[1] for c in CALLS] == ["x3", "x4"]
    assert "cubes: resuming, 3 of 5 tasks done" in capsys.readouterr().err
    assert resumed == run_sweep(sweep(), tmp_path / "fresh", progress=False)
    assert json.loads((tmp_path / "timing.json").read_text())["sessions"] == 2


def test_a_task_folder_of_another_config_is_refused(tmp_path):
    run_sweep(sweep(), tmp_path, progress=False)
    (tmp_path / "results.json").write_text("{}")  # the sweep's own identity still matches
    with pytest.raises(ValueError, match="squares/x0 holds a task of another config"):
        run_sweep(sweep(offset=1), tmp_path, progress=False)


def test_task_identity_ignores_run_time_options_only():
    base = {"cfg": {"lr": 0.1, "data_dir": "a", "workers": 1}, "seed": 0}
    assert task_hash(base) == task_hash({"seed": 0, "cfg": {"workers": 4, "lr": 0.1}})
    assert task_hash(base) != task_hash({**base, "seed": 1})


def test_two_tasks_of_one_name_are_an_error(tmp_path):
    stage = Stage("s", square, [Task("a", {"x": 1}), Task("a", {"x": 2})])
    with pytest.raises(ValueError, match="names two tasks alike"):
        run_sweep(Sweep("d", {}, [stage], lambda r, o: r), tmp_path, progress=False)
