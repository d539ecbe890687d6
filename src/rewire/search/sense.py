"""SENSE, stochastic search and succeed (AANN Algorithm 2), and simulated annealing.

No backprop: each step samples a neighbourhood of bit-swaps in one layer, scores every
neighbour on the validation split with the delta evaluator, and moves to the best neighbour
if it beats the current network; otherwise it stays and the schedule moves on (the paper's
"pick another layer or retry the same layer with a different random initialization").

Layer schedules (``schedule``):

- ``round-robin``: each layer for ``block`` neighbourhoods in turn, repeated (Fig 6);
- ``fc``: the fc layer only (Fig 7);
- ``random3``: a random layer for ``block`` (= 3) successive neighbourhoods, repeated (Fig 8).

The layer and the swaps of step t are functions of (seed, t) alone, so a run resumed from its
checkpoint makes exactly the moves an uninterrupted run would. Test accuracy is tracked along
the path (by a second evaluator) and never used to select.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from ..data import Split
from ..sparse.wiring import Wiring
from .evaluator import LAYERS, AANNEvaluator
from .moves import max_neighbours, sample_swaps

__all__ = ["SenseConfig", "layer_for_step", "run_sense", "SCHEDULES"]

SCHEDULES = ("random3", "round-robin", "fc")
# Default neighbourhood sizes: roughly equal time per neighbourhood on each layer.
DEFAULT_NEIGHBOURS = {"conv1.weight": 8, "conv2.weight": 48, "fc.weight": 2048}


@dataclass
class SenseConfig:
    steps: int = 300  # neighbourhoods to score
    neighbours: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_NEIGHBOURS))
    schedule: str = "random3"
    block: int = 3  # successive neighbourhoods per layer visit
    criterion: str = "hinge"  # "accuracy" (the paper's) or "hinge" (clamped margin)
    method: str = "sense"  # or "anneal"
    temperature: float = 2e-3  # annealing: initial temperature on the criterion's scale
    cooling: float = 0.99  # annealing: temperature factor per step
    kappa: float = 2.0
    ensemble: int = 5  # members of the final family ensemble
    snapshot_every: int = 100  # steps between ensemble snapshots (the last ones are kept)
    max_seconds: float = 0.0  # stop after this much search time (0: no limit)
    accept_top: int = 4  # moves accepted per neighbourhood (1: the paper's best neighbour only)
    seed: int = 0

    def __post_init__(self):
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, "
                             f"got {self.schedule!r}")
        if self.criterion not in ("accuracy", "hinge"):
            raise ValueError(f"criterion must be 'accuracy' or 'hinge', got {self.criterion!r}")
        if self.method not in ("sense", "anneal"):
            raise ValueError(f"method must be 'sense' or 'anneal', got {self.method!r}")
        if isinstance(self.neighbours, int):
            self.neighbours = dict.fromkeys(LAYERS, self.neighbours)
        unknown = set(self.neighbours) - set(LAYERS)
        if unknown:
            raise KeyError(f"no layer {sorted(unknown)[0]!r}; the AANN CNN has "
                           f"{', '.join(LAYERS)}")
        if min(self.neighbours.values()) < 1 or self.steps < 0 or self.block < 1 \
                or self.accept_top < 1:
            raise ValueError("neighbours, block and accept_top must be >= 1 and steps >= 0")


def layer_for_step(schedule: str, step: int, seed: int, block: int = 3) -> str:
    """The layer searched at ``step`` (a pure function, so runs resume exactly)."""
    if schedule == "fc":
        return "fc.weight"
    visit = step // block
    if schedule == "round-robin":
        return LAYERS[visit % len(LAYERS)]
    g = torch.Generator().manual_seed(seed * 1_000_003 + visit)
    return LAYERS[int(torch.randint(len(LAYERS), (1,), generator=g))]


def _key(scores: dict, criterion: str) -> torch.Tensor:
    """Selection key: the criterion, the other score as a tie-break."""
    other = "hinge" if criterion == "accuracy" else "accuracy"
    return scores[criterion] + 1e-9 * scores[other]


def run_sense(cfg: SenseConfig, wiring: Wiring, val: Split, test: Split,
              checkpoint: str | Path | None = None, log=None,
              progress: bool = True) -> dict:
    """Climb from ``wiring``; returns the path and the final wiring.

    Args:
        checkpoint: file rewritten after every step; if it exists the climb resumes from it.
        log: optional callable receiving each step's record (e.g. to write metrics).
    """
    for layer, k in cfg.neighbours.items():
        if k > max_neighbours(wiring[layer]):
            raise ValueError(f"neighbourhood size {k} for {layer} is larger than the "
                             f"{max_neighbours(wiring[layer])} neighbours the layer allows")
    start = wiring
    history: list[dict] = []
    snapshots: list[tuple[int, Wiring]] = []
    ckpt = Path(checkpoint) if checkpoint else None
    if ckpt is not None and ckpt.is_file():
        state = torch.load(ckpt, weights_only=False)
        wiring, history, snapshots = Wiring(state["wiring"]), state["history"], state["snapshots"]
        start = Wiring(state["start"])
    ev = AANNEvaluator(wiring, val.x, val.y, kappa=cfg.kappa)
    ev_test = AANNEvaluator(wiring, test.x, test.y, kappa=cfg.kappa)
    first = {"start_val_accuracy": ev.accuracy, "start_test_accuracy": ev_test.accuracy}
    if history:
        first = state["first"]
    current = ev.accuracy if cfg.criterion == "accuracy" else ev.hinge
    t0 = time.time() - (history[-1]["seconds"] if history else 0.0)  # time across resumes
    from tqdm.auto import tqdm

    bar = tqdm(range(len(history), cfg.steps), desc="SENSE", disable=not progress)
    for step in bar:
        if cfg.max_seconds and time.time() - t0 > cfg.max_seconds:
            break
        layer = layer_for_step(cfg.schedule, step, cfg.seed, cfg.block)
        g = torch.Generator().manual_seed(cfg.seed * 7_919 + step)
        swaps = sample_swaps(ev.w[layer], cfg.neighbours[layer], g)
        scores = ev.score_swaps(layer, swaps)
        key = _key(scores, cfg.criterion)
        best = int(key.argmax())
        gain = float(key[best]) - current
        accept = gain > 0
        if cfg.method == "anneal" and not accept:
            temp = cfg.temperature * cfg.cooling**step
            accept = bool(torch.rand((), generator=g) < math.exp(gain / max(temp, 1e-12)))
        scored, moves = len(swaps), 0
        if accept:
            ev.accept(layer, swaps[best])
            ev_test.accept(layer, swaps[best])
            current = ev.accuracy if cfg.criterion == "accuracy" else ev.hinge
            moves = 1
            if cfg.accept_top > 1:
                pool = swaps[key.argsort(descending=True)[1:4 * cfg.accept_top]]
                more, rescored, current = _accept_more(ev, ev_test, layer, pool, cfg, current)
                moves, scored = moves + more, scored + rescored
        record = {"step": step + 1, "layer": layer, "accepted": accept, "moves": moves,
                  "neighbours": scored, "best_neighbour_val_accuracy":
                  float(scores["accuracy"][best]), "val_accuracy": ev.accuracy,
                  "val_hinge": ev.hinge, "test_accuracy": ev_test.accuracy,
                  "seconds": time.time() - t0}
        history.append(record)
        if (step + 1) % cfg.snapshot_every == 0:
            snapshots = [*snapshots[-(cfg.ensemble - 1):], (step + 1, ev.wiring())]
        bar.set_postfix(val=f"{ev.accuracy:.4f}", test=f"{ev_test.accuracy:.4f}", layer=layer)
        if log is not None:
            log(record)
        if ckpt is not None:
            _save(ckpt, {"wiring": dict(ev.wiring()), "history": history,
                         "snapshots": snapshots, "start": dict(start), "first": first,
                         "config": asdict(cfg)})
    final = ev.wiring()
    assert final.same_family(start)
    members = [w for _, w in snapshots[-max(cfg.ensemble - 1, 0):]] + [final]
    return {
        **first,
        "final_val_accuracy": ev.accuracy, "final_test_accuracy": ev_test.accuracy,
        "neighbours_scored": sum(r["neighbours"] for r in history),
        "accepted_moves": sum(r.get("moves", int(r["accepted"])) for r in history),
        "ensemble_size": len(members),
        "ensemble_test_accuracy": _ensemble_accuracy(ev_test, members),
        "ensemble_val_accuracy": _ensemble_accuracy(ev, members),
        "history": history, "wiring": final,
    }


def _accept_more(ev, ev_test, layer, pool, cfg, current):
    """After the best neighbour is taken, keep taking the next-best swaps while they still
    improve the (re-scored, exact) criterion; returns (moves, neighbours scored, score)."""
    moves = rescored = 0
    while moves < cfg.accept_top - 1 and len(pool):
        flat = ev.w[layer].view(-1)
        pool = pool[(flat[pool[:, 0]] != 0) & (flat[pool[:, 1]] == 0)]  # still valid swaps
        if not len(pool):
            break
        key = _key(ev.score_swaps(layer, pool), cfg.criterion)
        rescored += len(pool)
        b = int(key.argmax())
        if float(key[b]) <= current:
            break
        ev.accept(layer, pool[b])
        ev_test.accept(layer, pool[b])
        current = ev.accuracy if cfg.criterion == "accuracy" else ev.hinge
        pool = torch.cat([pool[:b], pool[b + 1:]])
        moves += 1
    return moves, rescored, current


def _ensemble_accuracy(ev: AANNEvaluator, members: list[Wiring]) -> float:
    """Accuracy of the summed logits of several family members (a soft vote)."""
    logits = sum(ev.full_logits(w) for w in members)
    return float((logits.argmax(1) == ev.y).double().mean())


def _save(path: Path, obj) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    tmp.replace(path)
