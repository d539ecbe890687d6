"""CarRacing (AANN's dynamic task): the environment, a scripted expert with privileged state,
and closed-loop driving. Needs the ``car`` extra (``pip install 'rewire[car]'``: gymnasium
with Box2D, from wheels)."""

from .demos import episode_split, record_episode
from .drive import Episode, NetworkPolicy, run_episode
from .env import ACTIONS, EVAL_SEEDS, THREE_ACTIONS, TUNING_SEEDS, check_seeds, gray, make_env
from .expert import Expert

__all__ = ["ACTIONS", "THREE_ACTIONS", "EVAL_SEEDS", "TUNING_SEEDS", "check_seeds", "gray",
           "make_env", "Expert", "Episode", "NetworkPolicy", "run_episode",
           "record_episode", "episode_split"]
