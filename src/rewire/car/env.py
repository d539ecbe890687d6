"""Gymnasium's CarRacing-v3 with discrete actions, and the seeds of its tracks.

Discrete actions, checked empirically on gymnasium 1.4 (``tests/test_car.py`` pins it):
0 nothing, 1 steer right (the hull turns clockwise), 2 steer left, 3 gas, 4 brake. Some
documents swap 1 and 2. The AANN car CNN has three outputs, read as {left, right, gas}.

Track seeds: a track is a function of its seed. Three disjoint ranges keep what the expert
was tuned on, what the networks learn from and what they are scored on apart:
``TUNING_SEEDS`` 1000-1099 (the expert's parameters were chosen on tracks 1000-1002),
demonstration seeds 0-999 and ``EVAL_SEEDS`` 100000-100099 (closed-loop evaluation,
reporting only).
"""

from __future__ import annotations

import numpy as np

__all__ = ["ACTIONS", "THREE_ACTIONS", "NOOP", "RIGHT", "LEFT", "GAS", "BRAKE", "EVAL_SEEDS",
           "TUNING_SEEDS", "check_seeds", "gray", "make_env"]

NOOP, RIGHT, LEFT, GAS, BRAKE = range(5)
ACTIONS = ("nothing", "right", "left", "gas", "brake")  # the env's discrete action order
THREE_ACTIONS = (LEFT, RIGHT, GAS)  # output unit i of a 3-output network -> env action
EVAL_SEEDS = range(100_000, 100_100)
TUNING_SEEDS = range(1_000, 1_100)


def make_env(max_steps: int = 1000):
    """A headless CarRacing-v3 with discrete actions (one line if gymnasium is missing)."""
    try:
        import gymnasium as gym
    except ImportError:
        raise ImportError("CarRacing needs gymnasium with Box2D: pip install "
                          "'rewire[car]'") from None
    return gym.make("CarRacing-v3", render_mode=None, continuous=False,
                    max_episode_steps=max_steps)


def gray(obs: np.ndarray) -> np.ndarray:
    """96x96x3 RGB frame -> 96x96 uint8 luminance (ITU-R 601 weights).

    >>> gray(np.full((2, 2, 3), 255, np.uint8)).tolist()
    [[255, 255], [255, 255]]
    """
    y = obs[..., 0] * 0.299 + obs[..., 1] * 0.587 + obs[..., 2] * 0.114
    return np.clip(np.rint(y), 0, 255).astype(np.uint8)


def check_seeds(train, evaluation) -> None:
    """Raise when track seeds used for training data are also used for evaluation.

    >>> check_seeds(range(10), range(5, 7))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: 2 evaluation track seeds are also training seeds (5, 6); ...
    """
    both = sorted(set(train) & set(evaluation))
    if both:
        shown = ", ".join(map(str, both[:5])) + (", ..." if len(both) > 5 else "")
        raise ValueError(f"{len(both)} evaluation track seeds are also training seeds "
                         f"({shown}); evaluate on other seeds, e.g. --seeds-from "
                         f"{EVAL_SEEDS.start}")
