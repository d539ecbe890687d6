"""README of a CarRacing expert folder (``rewire car expert``)."""

from __future__ import annotations

from pathlib import Path

from ...files import read_json
from . import paper


def render(folder: Path, spec: dict) -> str:
    r = read_json(folder / "results.json")
    cfg = read_json(folder / "config.json")
    p = paper(spec["paper"])
    table = (folder / "table.md").read_text().strip()
    command = "\n".join(spec["commands"].values())
    three = r["three_action"]
    worst = sorted(r["per_seed"], key=lambda e: e["total_return"])[:3]
    worst_rows = "\n".join(f"| {e['seed']} | {e['total_return']:.1f} | {e['steps']} | "
                           f"{e['tiles']} / {e['track_tiles']} |" for e in worst)
    verdict = "meets" if r["mean_return"] >= p["threshold"] else "misses"
    return f"""# CarRacing-v3: the scripted expert

```
{command}
```

{r['episodes']} evaluation tracks (seeds {cfg['seeds_from']} to
{cfg['seeds_from'] + cfg['seeds'] - 1}, reporting only: never used to tune the expert or to
record demonstrations), {cfg['max_steps']} steps at most, headless, discrete actions.

{table}

The 5-action expert **{verdict}** the bar: mean {r['mean_return']:.1f} against
{p['threshold']}, the `{p['quote']}` of {p['source']} (the field's "solved": an average of
900 over 100 episodes). The 3-action expert ({{left, right, gas}}, the outputs of the AANN
car CNN) cannot brake or coast: it steers or accelerates, and is reported beside it
({three['mean_return']:.1f} mean, {three['min_return']:.1f} min).

How it drives (privileged state: the track's centre line, the car's pose and speed): pure
pursuit towards a centre-line point whose distance grows with speed, bang-bang steering
outside a dead band of heading error, and a target speed that falls with the largest
heading change over the next 12 centre-line points, so it brakes before a corner, not in it.
Its parameters were tuned by hand on tracks 1000-1002 (`rewire.car.TUNING_SEEDS`).

The worst tracks of the 5-action expert:

| seed | return | steps | tiles visited |
|---:|---:|---:|---:|
{worst_rows}

![returns per track](returns.png)

The paper: {p['aann_quote']} ({p['aann_source']})
"""


def plots(folder: Path, spec: dict) -> None:
    from ..car_run import plot_returns

    r = read_json(folder / "results.json")
    plot_returns({"5 actions": r["per_seed"], "3 actions": r["three_action"]["per_seed"]},
                 folder / "returns.png", "the scripted expert on held-out tracks")
