"""A scripted CarRacing driver that reads privileged state: the track's centre line and the
car's pose and speed.

Steering is pure pursuit: aim at the centre-line point ``base_look + lookahead * speed / 10``
metres ahead of the nearest one, and steer (bang-bang: the discrete actions have no half
steer) when the heading error leaves a dead band. Speed follows a plan from the track's
curvature: the target speed drops with the largest heading change over the next
``horizon`` centre-line points, so the car brakes before a corner, not in it. The parameters
were tuned by hand on tracks 1000-1002 of ``TUNING_SEEDS`` (see ``results/carracing-expert``).

The 3-action expert ({left, right, gas}, the AANN car CNN's outputs) cannot brake or coast:
it steers or accelerates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .env import BRAKE, GAS, LEFT, NOOP, RIGHT

__all__ = ["Expert"]

POINT_SPACING = 3.5  # metres between CarRacing centre-line points (TRACK_DETAIL_STEP)


@dataclass
class Expert:
    three_actions: bool = False
    lookahead: float = 3.0  # metres of look-ahead per 10 m/s
    base_look: float = 6.0  # metres of look-ahead at standstill
    dead_band: float = 0.2  # radians of heading error left uncorrected
    v_max: float = 100.0  # target speed on a straight
    v_min: float = 45.0  # target speed in the sharpest corner
    per_degree: float = 0.4  # target speed lost per degree of heading change ahead
    horizon: int = 12  # centre-line points looked ahead for the speed plan

    def reset(self, env) -> None:
        track = env.unwrapped.track
        self.xy = np.array([[t[2], t[3]] for t in track])
        step = np.roll(self.xy, -1, axis=0) - self.xy
        self.heading = np.arctan2(step[:, 1], step[:, 0])
        self.i = 0

    def act(self, env, obs=None) -> int:
        """The env action (an index of ``ACTIONS``) for the current state."""
        hull = env.unwrapped.car.hull
        pos, a = np.array(hull.position), hull.angle
        speed = float(np.hypot(*hull.linearVelocity))
        n = len(self.xy)
        near = (self.i + np.arange(-2, 15)) % n  # the nearest point, searched forward
        self.i = int(near[np.argmin(np.linalg.norm(self.xy[near] - pos, axis=1))])
        ahead = max(1, round((self.base_look + self.lookahead * speed / 10) / POINT_SPACING))
        rel = self.xy[(self.i + ahead) % n] - pos
        forward = rel @ np.array([-math.sin(a), math.cos(a)])
        right = rel @ np.array([math.cos(a), math.sin(a)])
        error = math.atan2(right, max(forward, 1e-3))  # > 0: the target lies to the right
        h = self.heading[(self.i + np.arange(self.horizon + 1)) % n]
        turn = math.degrees(np.abs(np.angle(np.exp(1j * (h[1:] - h[0])))).max())
        target = max(self.v_min, self.v_max - self.per_degree * turn)
        if speed < 12 and abs(error) < 0.6:
            return GAS  # steering does nothing at a standstill
        brake = not self.three_actions and speed > target * 1.1
        if abs(error) > self.dead_band:
            return BRAKE if brake and speed > target * 1.15 else (RIGHT if error > 0 else LEFT)
        if brake:
            return BRAKE
        return GAS if speed < target or self.three_actions else NOOP
