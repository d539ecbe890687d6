"""Closed-loop driving: a policy (the expert or a trained network) on one CarRacing track.
The experiment layer runs many tracks in parallel through the common executor."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from .env import THREE_ACTIONS, gray, make_env

__all__ = ["Episode", "NetworkPolicy", "run_episode"]


@dataclass
class Episode:
    seed: int
    total_return: float
    steps: int
    tiles: int  # track tiles visited
    track_tiles: int
    lap: bool  # the lap was completed (the env ended the episode on it)

    def record(self) -> dict:
        return asdict(self)


def run_episode(policy, seed: int, max_steps: int = 1000, frames: list | None = None,
                on_step=None) -> Episode:
    """Drive one track. ``policy.reset(env)`` then ``policy.act(env, gray_frame)`` per step.
    ``frames``: a list that receives every RGB frame (for a video); ``on_step(frame, env)``
    is called before each action (demonstration recording)."""
    env = make_env(max_steps)
    try:
        obs, _ = env.reset(seed=int(seed))
        policy.reset(env)
        total, steps, done = 0.0, 0, False
        while not done:
            if frames is not None:
                frames.append(obs)
            g = gray(obs)
            if on_step is not None:
                on_step(g, env)
            obs, reward, terminated, truncated, _ = env.step(policy.act(env, g))
            total += float(reward)
            steps += 1
            done = terminated or truncated
        u = env.unwrapped
        return Episode(int(seed), total, steps, int(u.tile_visited_count), len(u.track),
                       bool(terminated and u.tile_visited_count >= len(u.track) * 0.95))
    finally:
        env.close()


class NetworkPolicy:
    """A network that maps a grayscale frame (1x96x96, scaled to [0, 1]) to action logits:
    3 outputs are {left, right, gas} (the AANN car CNN), 5 the env's own actions."""

    def __init__(self, model: torch.nn.Module):
        self.model = model.eval()
        try:
            with torch.no_grad():
                out = self.model(torch.zeros(1, 1, 96, 96)).shape[-1]
        except RuntimeError as exc:
            raise ValueError(f"this model does not take a 1x96x96 grayscale frame "
                             f"({str(exc).splitlines()[0]})") from None
        if out not in (3, 5):
            raise ValueError(f"a driving network needs 3 or 5 outputs, this one has {out}")
        self.actions = THREE_ACTIONS if out == 3 else tuple(range(5))

    def reset(self, env) -> None:
        pass

    def act(self, env, frame) -> int:
        x = torch.from_numpy(frame).float().div_(255).view(1, 1, 96, 96)
        with torch.no_grad():
            return self.actions[int(self.model(x).argmax())]
