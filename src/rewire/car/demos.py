"""Recording expert demonstrations: (grayscale frame, expert action) pairs of whole episodes,
written in the format :mod:`rewire.data.demos` reads."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..data.demos import file_sha256
from ..files import atomic_write
from .drive import run_episode
from .env import THREE_ACTIONS
from .expert import Expert

__all__ = ["record_episode", "episode_split"]


def episode_split(seed: int, val_every: int = 10, test_every: int = 10) -> str:
    """Whole episodes to splits by track seed: seed % 10 == 8 validation, == 9 test.

    >>> [episode_split(s) for s in (0, 8, 9, 18)]
    ['train', 'val', 'test', 'val']
    """
    r = seed % 10
    return "val" if r == 8 else "test" if r == 9 else "train"


def record_episode(seed: int, path, three_actions: bool = True, max_steps: int = 1000,
                   driver=None) -> dict:
    """Drive track ``seed`` and save every frame seen with the expert's action for it
    (labels: indices of ``THREE_ACTIONS``, or env actions with five). The expert drives,
    unless a ``driver`` policy is given: then the driver acts and the expert only labels
    (a DAgger round: the states the learner reaches, labelled by the expert). Returns the
    episode's index entry, less its file name."""
    frames, actions = [], []
    expert = Expert(three_actions=three_actions)

    class Recorder:
        def reset(self, env):
            expert.reset(env)
            if driver is not None:
                driver.reset(env)

        def act(self, env, frame):
            a = expert.act(env)
            frames.append(frame)
            actions.append(THREE_ACTIONS.index(a) if three_actions else a)
            return a if driver is None else driver.act(env, frame)

    ep = run_episode(Recorder(), seed, max_steps)
    buf = io.BytesIO()
    np.savez_compressed(buf, frames=np.stack(frames), actions=np.array(actions, np.int8))
    path = Path(path)
    atomic_write(path, lambda tmp: tmp.write_bytes(buf.getvalue()))
    return {"seed": int(seed), "split": episode_split(seed), "frames": len(actions),
            "return": ep.total_return, "lap": ep.lap, "sha256": file_sha256(path),
            "driver": "expert" if driver is None else type(driver).__name__}
