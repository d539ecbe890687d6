import pytest

from rewire.experiments.executor import run_tasks


def square(x: int, offset: int = 0) -> int:
    return x * x + offset


def test_in_process_and_local_workers_agree():
    tasks = [{"x": i, "offset": 1} for i in range(6)]
    expected = [i * i + 1 for i in range(6)]
    assert run_tasks(square, tasks, workers=1, progress=False) == expected
    assert run_tasks(square, tasks, workers=2, progress=False) == expected


def test_bad_worker_count():
    with pytest.raises(ValueError, match="workers"):
        run_tasks(square, [], workers=0)


def test_ray_local_instance():
    pytest.importorskip("ray", reason="ray not installed (pip install 'rewire[ray]')")
    tasks = [{"x": i} for i in range(4)]
    assert run_tasks(square, tasks, ray_address="local", threads=1,
                     progress=False) == [0, 1, 4, 9]
