import pytest
import torch

from rewire.experiments.executor import run_tasks
from rewire.prune import gradual_amount  # a library function, importable by any worker

TASKS = [{"step": s, "total": 10, "final": 0.9} for s in range(6)]
EXPECTED = [gradual_amount(**t) for t in TASKS]


def test_in_process_and_local_workers_agree():
    assert run_tasks(gradual_amount, TASKS, workers=1, progress=False) == EXPECTED
    assert run_tasks(gradual_amount, TASKS, workers=2, progress=False) == EXPECTED


def test_bad_worker_count():
    with pytest.raises(ValueError, match="workers"):
        run_tasks(gradual_amount, [], workers=0)


def test_ray_local_instance():
    pytest.importorskip("ray", reason="ray not installed (pip install 'rewire[ray]')")
    assert run_tasks(gradual_amount, TASKS, ray_address="local", threads=1,
                     progress=False) == EXPECTED


def test_setup_process_flushes_denormals():
    from rewire.experiments.executor import setup_process

    setup_process()
    tiny = torch.tensor([1e-30], dtype=torch.float32)
    assert (tiny * 1e-10).item() == 0.0  # 1e-40 is denormal in float32: flushed


def test_a_failing_task_stops_the_queue(tmp_path):
    """The error comes back, and the tasks still queued behind it never start."""
    from rewire.files import write_text

    (tmp_path / "dir" / "full").mkdir(parents=True)  # replacing a folder by a file fails
    tasks = [{"path": str(tmp_path / "dir"), "text": "x"}] + [
        {"path": str(tmp_path / "out" / f"{i}.txt"), "text": "x"} for i in range(400)]
    with pytest.raises(OSError):
        run_tasks(write_text, tasks, workers=2, progress=False)
    assert len(list((tmp_path / "out").glob("*.txt"))) < 100
