"""Progress people can follow: a tqdm bar in a terminal, plain lines when output goes to a log.

Redirected to a file, a long command prints ``desc step/total metric ... elapsed ETA`` at
most every ``every`` seconds (30 by default) and once at the end, so a log shows it is alive.

Example:
    >>> import io
    >>> out = io.StringIO()
    >>> bar = Progress(3, "demo", stream=out, every=0)
    >>> for _ in range(3):
    ...     bar.update(val=0.5)
    >>> bar.close()
    >>> out.getvalue().splitlines()[-1].split(" elapsed")[0]
    'demo 3/3 val 0.5000'
"""

from __future__ import annotations

import sys
import time

__all__ = ["Progress", "say"]


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else \
        f"{s // 60}:{s % 60:02d}"


def _tqdm():
    """tqdm's bar class, or None without tqdm (plain lines then; it comes with [plots])."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


def say(line: str, enabled: bool = True, stream=None) -> None:
    """One line of news (a resume, a stage finished) to stderr, bar or no bar."""
    if not enabled:
        return
    stream = stream or sys.stderr
    tqdm = _tqdm() if stream.isatty() else None
    if tqdm is not None:
        tqdm.write(line, file=stream)
    else:
        print(line, file=stream, flush=True)


class Progress:
    """``enabled``: False is silent; True is a bar on a terminal, plain lines elsewhere."""

    def __init__(self, total: int | None, desc: str, enabled: bool = True, start: int = 0,
                 every: float = 30.0, stream=None, budget: float = 0.0):
        """``budget``: seconds after which the work stops anyway (a time limit); the ETA is
        the sooner of the two ends."""
        self.total, self.desc, self.n, self.every = total, desc, start, every
        self.budget = budget
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.t0 = self.last = time.monotonic()
        self.first = start
        self.metrics: dict = {}
        self.bar = None
        tqdm = _tqdm() if enabled and self.stream.isatty() else None
        if tqdm is not None:
            self.bar = tqdm(total=total, initial=start, desc=desc, file=self.stream,
                            leave=False, dynamic_ncols=True)

    def update(self, n: int = 1, **metrics) -> None:
        self.n += n
        self.metrics.update(metrics)
        if self.bar is not None:
            self.bar.update(n)
            if metrics:
                self.bar.set_postfix(self._metrics(), refresh=False)
        elif self.enabled and time.monotonic() - self.last >= self.every:
            self._line()

    def _metrics(self) -> dict:
        return {k: f"{v:.4f}" if isinstance(v, float) else v for k, v in self.metrics.items()}

    def _line(self) -> None:
        now = time.monotonic()
        self.last = now
        elapsed, done = now - self.t0, self.n - self.first
        parts = [f"{self.desc} {self.n}" + (f"/{self.total}" if self.total else "")]
        parts += [f"{k} {v}" for k, v in self._metrics().items()]
        parts.append(f"elapsed {_clock(elapsed)}")
        if self.total and done > 0 and self.n < self.total:
            eta = elapsed / done * (self.total - self.n)
            if self.budget:
                eta = min(eta, max(self.budget - elapsed, 0.0))
            parts.append(f"ETA {_clock(eta)}")
        print(" ".join(parts), file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled and self.n > self.first:
            self._line()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
