"""The one executor for sweeps: in-process, local worker processes, or a Ray cluster.

Experiments hand it a module-level function and a list of task dicts; it returns the results
in task order. ``workers=1`` runs in this process (easy to debug); ``workers>1`` uses a pool
of spawned processes, each limited to ``threads`` torch threads so workers do not fight over
cores; ``ray_address`` sends every task to Ray (``"local"`` starts a private instance,
anything else is passed to ``ray.init(address=...)``).
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

import torch

from ..progress import Progress

__all__ = ["run_tasks", "setup_process"]


def setup_process(threads: int | None = None) -> None:
    """Torch settings of every rewire process: ``threads`` intra-op threads (None: leave),
    and denormal floats flushed to zero. A trained pure-ternary net has logits of +-50 and
    more, so its softmax gradients underflow into denormals; on one CPU thread its training
    step took 1.2-1.3x longer without the flush (measured on the 90% MNIST network)."""
    if threads:
        torch.set_num_threads(threads)
    torch.set_flush_denormal(True)


def _call(fn: Callable, task: dict, threads: int):
    setup_process(threads)
    return fn(**task)


def run_tasks(fn: Callable, tasks: list[dict], workers: int = 1, threads: int | None = None,
              ray_address: str | None = None, desc: str = "tasks",
              progress: bool = True, on_result: Callable[[int, Any], None] | None = None,
              start: int = 0, total: int | None = None) -> list:
    """Run ``fn(**task)`` for every task; results come back in task order.

    Args:
        workers: local worker processes (ignored when ``ray_address`` is given).
        threads: torch threads per task; defaults to cores // workers.
        ray_address: ``"local"`` or a Ray cluster address.
        on_result: called with (task index, result) as each task finishes, in this process.
        start, total: the progress count of a resumed sweep (``start`` of ``total`` done).
    """
    report = on_result or (lambda i, r: None)
    total = len(tasks) + start if total is None else total
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    threads = threads or max(1, (mp.cpu_count() or 1) // workers)
    bar = Progress(total, desc, enabled=progress and bool(tasks), start=start)
    if ray_address:
        return _run_ray(fn, tasks, threads, ray_address, bar, report)
    if workers == 1 or len(tasks) <= 1:
        results: list = []
        with bar:
            for i, t in enumerate(tasks):
                results.append(fn(**t))
                report(i, results[-1])
                bar.update()
        return results
    results = [None] * len(tasks)
    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=setup_process,
                             initargs=(threads,)) as pool, bar:
        futures = {pool.submit(fn, **t): i for i, t in enumerate(tasks)}
        try:
            for fut in as_completed(futures):
                i = futures[fut]
                results[i] = fut.result()
                report(i, results[i])
                bar.update()
        except BaseException:  # a failed task or Ctrl-C: do not start the queued ones
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return results


def _run_ray(fn, tasks, threads, address, bar, report):
    try:
        import ray
    except ImportError:
        raise RuntimeError("ray is not installed: pip install 'rewire[ray]'") from None
    started = not ray.is_initialized()
    if started:
        if address == "local":
            ray.init(num_cpus=mp.cpu_count(), include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=address, log_to_driver=False)
    try:
        remote = ray.remote(num_cpus=threads)(_call)
        refs = [remote.remote(fn, t, threads) for t in tasks]
        index = {r: i for i, r in enumerate(refs)}
        results: list = [None] * len(tasks)
        pending = list(refs)
        with bar:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for r in done:
                    results[index[r]] = ray.get(r)
                    report(index[r], results[index[r]])
                    bar.update(1)
        return results
    finally:
        if started:
            ray.shutdown()
