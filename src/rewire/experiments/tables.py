"""Numbers in results tables: mean ± sample standard deviation, and the n behind a cell when
it is fewer than the table's header promises.

Example:
    >>> cell([97.0, 98.0, 99.0], expected=3), cell([97.0, 98.0], expected=3)
    ('98.00 ± 1.00', '97.50 ± 0.71 (n=2)')
"""

from __future__ import annotations

import numpy as np

__all__ = ["sample_std", "cell"]


def sample_std(a) -> float:
    """The sample standard deviation (n - 1 in the denominator); 0 for a single value."""
    a = np.asarray(a, dtype=float)
    return float(a.std(ddof=1)) if len(a) > 1 else 0.0


def cell(values, expected: int | None = None, digits: int = 2) -> str:
    """``mean ± sample std`` of ``values``; ``(n=…)`` when fewer than ``expected``; ``–``
    when empty."""
    if len(values) == 0:
        return "–"
    a = np.asarray(values, dtype=float)
    text = f"{a.mean():.{digits}f} ± {sample_std(a):.{digits}f}"
    return text + (f" (n={len(a)})" if expected is not None and len(a) < expected else "")
