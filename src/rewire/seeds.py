"""The seed of every random stream in rewire, derived from a run's seed by numpy's
``SeedSequence``: one stream per key (an epoch's batch order, a SENSE step's swaps, a
re-training), independent of the others, and a pure function of (seed, key), so a resumed
run draws exactly what an uninterrupted one would.

``SEEDING`` versions this derivation. It is part of every run folder's identity: a folder
started under another derivation is refused instead of being resumed with other streams.
Version 1 (results committed before 2026-12-02) mixed seeds by ad-hoc formulas such as
``seed * 100_003 + epoch``.

Example:
    >>> derive(0, "epoch", 3) == derive(0, "epoch", 3)
    True
    >>> len({derive(0, "epoch", 3), derive(0, "epoch", 4), derive(1, "epoch", 3)})
    3
    >>> 0 <= derive(7, "swaps", 12) < 2 ** 63
    True
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["SEEDING", "derive"]

SEEDING = 2


def derive(seed: int, *key: int | str) -> int:
    """A 63-bit seed for the stream ``key`` (ints and names) of a run seeded ``seed``."""
    words = tuple(zlib.crc32(k.encode()) if isinstance(k, str) else int(k) for k in key)
    state = np.random.SeedSequence(int(seed), spawn_key=words).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))
