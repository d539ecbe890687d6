"""The experiment engine: a sweep is declared once and run one way.

A :class:`Sweep` is an experiment's name, its config, its stages and its summary. A
:class:`Stage` is a module-level task function and a list of :class:`Task` (a readable name
and the function's keyword arguments). :func:`run_sweep` does the rest, the same for every
sweep:

1. the run folder ``OUT`` (:class:`rewire.runs.RunFolder`: a different config is refused);
2. each stage in order: every task gets its folder ``OUT/<stage>/<task>/``; a task whose
   ``result.json`` is there is done and skipped ("resuming: N of M tasks done"); the others
   go through the common executor (in process, local worker processes or Ray), and each
   result is written the moment it comes back, so a killed sweep loses only the tasks that
   were running;
3. the summary (``results.json``, ``table.md``, plots) from the results of every stage;
4. the wall time, summed over sessions, in ``timing.json``.

A task's identity is a hash of its arguments without the run-time options (data folder,
workers, ...): a folder holding a task of another config is refused, never silently reused.
Task functions take their folder as ``folder`` and return something JSON can hold; a task
that depends on another stage finds it with :func:`sibling`.

Example:
    >>> import tempfile
    >>> out = tempfile.mkdtemp()
    >>> sq = Stage("squares", square, [Task(f"x{i}", {"x": i}) for i in range(4)])
    >>> sweep = Sweep("demo", {"n": 4}, [sq], lambda results, out: {"sum": sum(results[0])})
    >>> run_sweep(sweep, out, progress=False)
    {'sum': 14}
    >>> read_json(Path(out) / "squares" / "x3" / "result.json")["result"]
    9
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, is_dataclass
from pathlib import Path
from typing import Any

from ..configs import identity
from ..files import read_json, write_json
from ..progress import say
from ..runs import NOT_IDENTITY, RunFolder
from .executor import run_tasks

__all__ = ["Task", "Stage", "Sweep", "run_sweep", "run_stage", "task_hash", "sibling"]


@dataclass(frozen=True)
class Task:
    name: str  # unique in its stage: the folder OUT/<stage>/<name>
    args: dict  # keyword arguments of the stage's function, besides ``folder``


@dataclass(frozen=True)
class Stage:
    name: str  # the folder under OUT
    fn: Callable[..., Any]  # module-level (worker processes import it): fn(folder, **args)
    tasks: list[Task]
    label: str = ""  # progress label (default: the name)


@dataclass
class Sweep:
    experiment: str
    config: Any  # a config dataclass (its identity is the run's) or a plain dict
    stages: list[Stage]
    summarize: Callable[[list[list], Path], dict]  # (results of every stage, OUT) -> summary
    defaults: dict = field(default_factory=dict)  # options added after runs were started


def _strip(value):
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in NOT_IDENTITY}
    if isinstance(value, (list, tuple)):
        return [_strip(v) for v in value]
    return value


def task_hash(args: dict) -> str:
    """12 hex digits of the SHA-256 of the arguments as canonical JSON, run-time options
    left out.

    >>> task_hash({"seed": 0, "cfg": {"lr": 0.1, "data_dir": "a"}}) == \\
    ...     task_hash({"cfg": {"data_dir": "b", "lr": 0.1}, "seed": 0})
    True
    """
    text = json.dumps(_strip(args), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def sibling(folder, stage: str, name: str) -> Path:
    """The folder of task ``name`` of ``stage`` in the same sweep as the task in ``folder``."""
    return Path(folder).parents[1] / stage / name


def square(folder: str, x: int) -> int:
    """The task of the example above."""
    return x * x


def run_stage(stage: Stage, out, workers: int = 1, ray_address: str | None = None,
              progress: bool = True) -> list:
    """Run the stage's unfinished tasks; returns every task's result in task order."""
    names = [t.name for t in stage.tasks]
    if len(set(names)) != len(names):
        raise ValueError(f"stage {stage.name!r} names two tasks alike")
    label = stage.label or stage.name
    root = Path(out) / stage.name
    results: list = [None] * len(stage.tasks)
    pending: list[int] = []
    keys = [task_hash(t.args) for t in stage.tasks]
    for i, (t, key) in enumerate(zip(stage.tasks, keys)):
        folder = root / t.name
        if (folder / "task.json").is_file() and read_json(folder / "task.json")["hash"] != key:
            raise ValueError(f"{folder} holds a task of another config; use a new --out folder")
        if (folder / "result.json").is_file():
            results[i] = read_json(folder / "result.json")["result"]
        else:
            write_json(folder / "task.json", {"hash": key, "args": _strip(t.args)})
            pending.append(i)
    done = len(stage.tasks) - len(pending)
    if done and pending:
        say(f"{label}: resuming, {done} of {len(stage.tasks)} tasks done", progress)

    def finished(j: int, result) -> None:
        i = pending[j]
        results[i] = result
        write_json(root / names[i] / "result.json", {"hash": keys[i], "result": result})

    run_tasks(stage.fn, [{"folder": str(root / names[i]), **stage.tasks[i].args}
                         for i in pending], workers, ray_address=ray_address, desc=label,
              progress=progress, on_result=finished, start=done, total=len(stage.tasks))
    return results


def run_sweep(sweep: Sweep, out, workers: int = 1, ray_address: str | None = None,
              progress: bool = True) -> dict:
    """Run every stage of ``sweep`` into ``out``, then its summary; re-running resumes."""
    cfg = identity(sweep.config) if is_dataclass(sweep.config) else dict(sweep.config)
    run = RunFolder(out, {"experiment": sweep.experiment, **cfg}, sweep.defaults)
    try:
        results = [run_stage(s, out, workers, ray_address, progress) for s in sweep.stages]
    finally:
        run.add_time()
    return sweep.summarize(results, Path(out))
