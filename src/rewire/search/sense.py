"""SENSE, stochastic search and succeed (AANN Algorithm 2), and simulated annealing.

No backprop: each step samples a neighbourhood of bit-swaps in one layer, scores every
neighbour exactly with the delta evaluator on a batch of *training* images, and moves to the
best neighbour if it strictly beats the current network on that batch (criterion first, the
other score as tie-break); otherwise it stays and the schedule moves on (the paper's "pick
another layer or retry the same layer with a different random initialization").

Data roles. Training images score the candidates: rotating batches of ``batch`` images from
a fixed shuffle of the training split (0: the whole split each step). The validation split
is never used to pick a move: it chooses the network kept (the best validation accuracy along
the path), the ensemble members, and when to stop (``patience``). The test split is only
reported.

Layer schedules (``schedule``), over the model's searchable layers in forward order:

- ``round-robin``: each layer for ``block`` neighbourhoods in turn, repeated (Fig 6);
- ``fc``: the last layer only (Fig 7);
- ``random3``: a random layer for ``block`` (= 3) successive neighbourhoods, repeated (Fig 8).

The layer, the swaps and the batch of step t are functions of (seed, t) alone, so a run
resumed from its checkpoint makes exactly the moves an uninterrupted run would.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..data import Split
from ..files import atomic_torch_save
from ..progress import Progress, say
from ..seeds import derive
from ..sparse.wiring import Wiring
from .evaluator import make_evaluator, read_ternary
from .moves import max_neighbours, sample_swaps

__all__ = ["SenseConfig", "layer_for_step", "run_sense", "SCHEDULES", "default_neighbours",
           "with_wiring", "resolve_neighbours"]

SCHEDULES = ("random3", "round-robin", "fc")


@dataclass
class SenseConfig:
    """Settings of one :func:`run_sense` climb (see the module doc for the data roles).

    Args:
        steps: neighbourhoods to score.
        neighbours: neighbourhood size: one int for every layer, or a dict by layer name
            (``"conv1"`` or ``"conv1.weight"``) overriding :func:`default_neighbours` for the
            layers it names; ``None``: the defaults.
        schedule: the layer schedule, one of :data:`SCHEDULES` (``"random3"``,
            ``"round-robin"``, ``"fc"``).
        block: successive neighbourhoods per layer visit.
        criterion: ``"accuracy"`` (the paper's) or ``"hinge"`` (clamped margin); the other
            score breaks ties.
        method: ``"sense"`` (move only to a strictly better neighbour) or ``"anneal"``
            (simulated annealing: a worse best neighbour is accepted with probability
            ``exp(gain / temperature)``).
        temperature: annealing: initial temperature on the criterion's scale.
        cooling: annealing: temperature factor per step.
        kappa: clamp of the hinge score.
        batch: training images scoring each neighbourhood (0: the whole split).
        ensemble: members of the final family ensemble (chosen on validation).
        snapshot_every: steps between ensemble snapshots.
        patience: stop after this many steps without a better validation (0: never).
        max_seconds: stop after this much search time (0: no limit).
        accept_top: moves accepted per neighbourhood (1: the paper's best neighbour only;
            more: next-best swaps, re-scored, while they still strictly improve).
        seed: seeds the layer, swaps and batch of every step.
        device: where the evaluators compute.

    Raises:
        ValueError: for an unknown ``schedule``, ``criterion`` or ``method``; a neighbourhood
            size, ``block``, ``accept_top``, ``ensemble`` or ``snapshot_every`` below 1;
            ``steps``, ``batch``, ``patience`` or ``max_seconds`` below 0.

    Example:
        >>> SenseConfig(steps=10, criterion="accuracy").schedule
        'random3'
        >>> SenseConfig(schedule="greedy")
        Traceback (most recent call last):
        ...
        ValueError: schedule must be one of random3, round-robin, fc, got 'greedy'
    """

    steps: int = 300  # neighbourhoods to score
    neighbours: dict[str, int] | int | None = None  # per layer (None: default_neighbours)
    schedule: str = "random3"
    block: int = 3  # successive neighbourhoods per layer visit
    criterion: str = "hinge"  # "accuracy" (the paper's) or "hinge" (clamped margin)
    method: str = "sense"  # or "anneal"
    temperature: float = 2e-3  # annealing: initial temperature on the criterion's scale
    cooling: float = 0.99  # annealing: temperature factor per step
    kappa: float = 2.0
    batch: int = 8192  # training images scoring each neighbourhood (0: the whole split)
    ensemble: int = 5  # members of the final family ensemble (chosen on validation)
    snapshot_every: int = 100  # steps between ensemble snapshots
    patience: int = 0  # stop after this many steps without a better validation (0: never)
    max_seconds: float = 0.0  # stop after this much search time (0: no limit)
    accept_top: int = 4  # moves accepted per neighbourhood (1: the paper's best neighbour only)
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self):
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, "
                             f"got {self.schedule!r}")
        if self.criterion not in ("accuracy", "hinge"):
            raise ValueError(f"criterion must be 'accuracy' or 'hinge', got {self.criterion!r}")
        if self.method not in ("sense", "anneal"):
            raise ValueError(f"method must be 'sense' or 'anneal', got {self.method!r}")
        sizes = ([self.neighbours] if isinstance(self.neighbours, int)
                 else list((self.neighbours or {}).values()))
        if (sizes and min(sizes) < 1) or self.steps < 0 or self.block < 1 \
                or self.accept_top < 1 or self.ensemble < 1 or self.snapshot_every < 1:
            raise ValueError("neighbours, block, accept_top, ensemble and snapshot_every must "
                             "be >= 1 and steps >= 0")
        if self.batch < 0 or self.patience < 0 or self.max_seconds < 0:
            raise ValueError("batch, patience and max_seconds must be >= 0")


def layer_for_step(schedule: str, step: int, seed: int, layers, block: int = 3) -> str:
    """The layer searched at ``step`` (a pure function, so runs resume exactly)."""
    if schedule == "fc":
        return layers[-1]
    visit = step // block
    if schedule == "round-robin":
        return layers[visit % len(layers)]
    g = torch.Generator().manual_seed(derive(seed, "layer", visit))
    return layers[int(torch.randint(len(layers), (1,), generator=g))]


def default_neighbours(ev) -> dict[str, int]:
    """Neighbourhood sizes that take roughly equal time per layer: the last layer is scored
    in one batch (2 048), a Linear layer before it in a rank-2 batch (256), a convolution
    whose output is flattened into the Linear layers 48, earlier convolutions 8."""
    blocks = getattr(ev, "blocks", None)
    if blocks is None:  # full forward passes: every neighbour costs the same
        return dict.fromkeys(ev.layers, 16)
    out = {}
    for i, b in enumerate(blocks):
        if i == len(blocks) - 1:
            out[b.name] = 2048
        elif b.kind == "linear":
            out[b.name] = 256
        else:
            out[b.name] = 48 if b.flattens else 8
    return out


def resolve_neighbours(spec, layers) -> dict[str, int]:
    """``{"conv1": 4, "fc.weight": 64}`` or an int -> sizes keyed by full layer names."""
    if spec is None:
        return {}
    if isinstance(spec, int):
        return dict.fromkeys(layers, spec)
    out = {}
    for key, k in spec.items():
        name = key if key in layers else f"{key}.weight"
        if name not in layers:
            raise KeyError(f"no layer {key!r}; the model has {', '.join(layers)}")
        out[name] = int(k)
    return out


def with_wiring(model: nn.Module, wiring: Wiring) -> nn.Module:
    """A copy of ``model`` whose searchable weights are ``wiring``.

    When every layer of ``wiring`` is parametrized (masked or ternarized), the copy's masks
    and weights are set by :func:`~rewire.sparse.wiring.write_wiring`; otherwise the plain
    weights are overwritten with the wiring's values.

    Args:
        model: the network; it is not modified.
        wiring: per layer name (``"fc.weight"``), the values to write; layers it does not
            name keep their weights.

    Returns:
        A deep copy of ``model`` carrying ``wiring``.

    Raises:
        KeyError: if ``wiring`` names a layer the model does not have.
        ValueError: a wiring tensor has the wrong shape or values outside {-1, 0, +1}
            (parametrized models).

    Example:
        >>> from rewire.sparse import Wiring, ternarize
        >>> net = ternarize(nn.Linear(3, 1, bias=False))
        >>> with_wiring(net, Wiring(weight=torch.tensor([[1, 0, -1]]))).weight.tolist()
        [[1.0, 0.0, -1.0]]
    """
    from ..sparse.masks import prunable_weights
    from ..sparse.wiring import write_wiring

    out = copy.deepcopy(model)
    layers = prunable_weights(out)
    if all(hasattr(m, "parametrizations") for m, _ in (layers[k] for k in wiring)):
        return write_wiring(out, wiring)
    with torch.no_grad():
        for name, w in wiring.items():
            module, pname = layers[name]
            getattr(module, pname).copy_(w.to(getattr(module, pname).dtype))
    return out


def _order(scores: dict, criterion: str) -> np.ndarray:
    """Candidates best first: criterion, then the other score, then the lower index."""
    other = "hinge" if criterion == "accuracy" else "accuracy"
    return np.lexsort((-scores[other].numpy(), -scores[criterion].numpy()))


def _key(scores, k, criterion):
    other = "hinge" if criterion == "accuracy" else "accuracy"
    return float(scores[criterion][k]), float(scores[other][k])


def _current(ev, sl, criterion):
    s = ev.current_scores(sl)
    other = "hinge" if criterion == "accuracy" else "accuracy"
    return s[criterion], s[other]


def run_sense(cfg: SenseConfig, model: nn.Module, train: Split, val: Split, test: Split,
              checkpoint: str | Path | None = None,
              log: Callable[[dict], None] | None = None, progress: bool = True,
              note=print) -> dict:
    """Climb from ``model``'s ternary wiring; returns the path and the networks found.

    Args:
        cfg: the climb's settings.
        model: any ternary model (weights exactly -1, 0, +1); it is not modified.
        train: candidates are scored on its images.
        val: selection of the kept network and stopping.
        test: reported only.
        checkpoint: file rewritten after every step; if it exists the climb resumes from it.
        log: optional callable receiving each step's record (e.g. to write metrics).
        progress: show a progress bar (and a line when resuming).
        note (Callable[[str], object]): receives one-line notes, such as the evaluator
            falling back to full forward passes.

    Returns:
        A dict: ``start_{train,val,test}_accuracy``; ``final_val_accuracy`` and
            ``final_test_accuracy`` of the kept network (best validation accuracy, then hinge,
            along the path) and its ``selected_step``; ``last_{val,test,train}_accuracy`` of
            the network the climb ended on; ``neighbours_scored``, ``accepted_moves``,
            ``steps``, ``train_images``, ``batch``, ``evaluator`` (``"delta"`` or
            ``"forward"``), ``exact``; ``ensemble_size`` and ``ensemble_{val,test}_accuracy``
            of the family ensemble; ``history`` (one record per step); ``wiring`` (the kept
            network) and ``last_wiring``, both in the start wiring's family.

    Raises:
        ValueError: a weight is not ternary, a layer has no zero or no nonzero weight, a
            neighbourhood is larger than its layer allows, or the device does not exist.
        KeyError: ``cfg.neighbours`` names a layer the model does not have.

    Example:
        >>> from rewire.data import Split
        >>> from rewire.sparse import Wiring, ternarize, write_wiring
        >>> net = ternarize(nn.Linear(4, 2, bias=False))
        >>> _ = write_wiring(net, Wiring(weight=torch.tensor([[0, 1, 0, 0], [1, 0, 0, 0]])))
        >>> data = Split(torch.eye(4), torch.tensor([0, 1, 0, 1]))
        >>> r = run_sense(SenseConfig(steps=3, neighbours=6), net, data, data, data,
        ...               progress=False)
        >>> r["start_val_accuracy"], r["final_val_accuracy"], r["wiring"]["weight"].tolist()
        (0.25, 1.0, [[0, 0, 0, 0], [0, 1, 0, 1]])
    """
    start = read_ternary(model)
    layers = tuple(start)
    sizes = resolve_neighbours(cfg.neighbours, layers)
    state = None
    ckpt = Path(checkpoint) if checkpoint else None
    if ckpt is not None and ckpt.is_file():
        state = torch.load(ckpt, weights_only=False)
        start = Wiring(state["start"])
    current = Wiring(state["wiring"]) if state else start
    net = with_wiring(model, current) if state else model
    g = torch.Generator().manual_seed(cfg.seed)
    perm = torch.randperm(len(train.y), generator=g)
    ev = make_evaluator(net, train.x[perm], train.y[perm], cfg.kappa, cfg.device, log=note)
    ev_val = make_evaluator(net, val.x, val.y, cfg.kappa, cfg.device, log=lambda _: None)
    ev_test = make_evaluator(net, test.x, test.y, cfg.kappa, cfg.device, log=lambda _: None)
    layers = ev.layers
    sizes = {**default_neighbours(ev), **sizes}
    for layer, k in sizes.items():
        if k > max_neighbours(ev.w[layer]):
            raise ValueError(f"neighbourhood size {k} for {layer} is larger than the "
                             f"{max_neighbours(ev.w[layer])} neighbours the layer allows")
    n_train = len(ev)
    batch = cfg.batch if 0 < cfg.batch < n_train else n_train
    n_batches = n_train // batch
    if state:
        history, snapshots, first = state["history"], state["snapshots"], state["first"]
        best = (state["best"][0], Wiring(state["best"][1]))
    else:
        history, snapshots = [], []
        first = {"start_val_accuracy": ev_val.accuracy, "start_test_accuracy":
                 ev_test.accuracy, "start_train_accuracy": ev.accuracy}
        best = ((ev_val.accuracy, ev_val.hinge, 0), start.clone())
    t0 = time.time() - (history[-1]["seconds"] if history else 0.0)  # time across resumes
    if history:
        say(f"SENSE: resuming after neighbourhood {len(history)} "
            f"({history[-1]['seconds'] / 60:.1f} minutes of search so far)", progress)
    spent = history[-1]["seconds"] if history else 0.0
    bar = Progress(cfg.steps, "SENSE neighbourhood", enabled=progress, start=len(history),
                   budget=max(cfg.max_seconds - spent, 0.0) if cfg.max_seconds else 0.0)
    for step in range(len(history), cfg.steps):
        if cfg.max_seconds and time.time() - t0 > cfg.max_seconds:
            break
        if cfg.patience and step - best[0][2] >= cfg.patience:
            break
        layer = layer_for_step(cfg.schedule, step, cfg.seed, layers, cfg.block)
        b = step % n_batches
        sl = slice(b * batch, (b + 1) * batch)
        gs = torch.Generator().manual_seed(derive(cfg.seed, "swaps", step))
        swaps = sample_swaps(ev.w[layer].cpu(), sizes[layer], gs)
        scores = ev.score_swaps(layer, swaps, sl)
        order = _order(scores, cfg.criterion)
        top = int(order[0])
        here = _current(ev, sl, cfg.criterion)
        accept = _key(scores, top, cfg.criterion) > here  # strictly better, lexicographic
        if cfg.method == "anneal" and not accept:
            gain = float(scores[cfg.criterion][top]) - here[0]
            temp = cfg.temperature * cfg.cooling**step
            accept = bool(torch.rand((), generator=gs) < math.exp(gain / max(temp, 1e-12)))
        scored, moves = len(swaps), 0
        if accept:
            for e in (ev, ev_val, ev_test):
                e.accept(layer, swaps[top])
            moves = 1
            if cfg.accept_top > 1:
                pool = swaps[torch.as_tensor(order[1:4 * cfg.accept_top])]
                more, rescored = _accept_more(ev, (ev_val, ev_test), layer, pool, sl, cfg)
                moves, scored = moves + more, scored + rescored
        if (ev_val.accuracy, ev_val.hinge) > best[0][:2]:
            best = ((ev_val.accuracy, ev_val.hinge, step + 1), ev.wiring())
        record = {"step": step + 1, "layer": layer, "accepted": accept, "moves": moves,
                  "neighbours": scored, "batch": b,
                  "best_neighbour_batch_accuracy": float(scores["accuracy"][top]),
                  "batch_accuracy": ev.current_scores(sl)["accuracy"],
                  "val_accuracy": ev_val.accuracy, "val_hinge": ev_val.hinge,
                  "test_accuracy": ev_test.accuracy, "seconds": time.time() - t0}
        history.append(record)
        if (step + 1) % cfg.snapshot_every == 0:
            snapshots = sorted([*snapshots, ((ev_val.accuracy, ev_val.hinge, step + 1),
                                             ev.wiring())], key=lambda s: s[0][:2],
                               reverse=True)[:cfg.ensemble]
        if ckpt is not None:  # the checkpoint first: a kill between the two loses no line
            atomic_torch_save({"wiring": dict(ev.wiring()), "history": history, "best": (
                best[0], dict(best[1])), "snapshots": snapshots, "start": dict(start),
                "first": first, "config": asdict(cfg)}, ckpt)
        if log is not None:
            log(record)
        bar.update(batch=record["batch_accuracy"], val=ev_val.accuracy,
                   layer=layer.removesuffix(".weight"))
    bar.close()
    last = ev.wiring()
    assert last.same_family(start) and best[1].same_family(start)
    members = _members(snapshots, best, cfg.ensemble)
    return {
        **first,
        "final_val_accuracy": best[0][0], "final_test_accuracy": _accuracy(ev_test, best[1]),
        "selected_step": best[0][2],
        "last_val_accuracy": ev_val.accuracy, "last_test_accuracy": ev_test.accuracy,
        "last_train_accuracy": ev.accuracy,
        "neighbours_scored": sum(r["neighbours"] for r in history),
        "accepted_moves": sum(r["moves"] for r in history),
        "steps": len(history), "train_images": n_train, "batch": batch,
        "evaluator": ev.kind, "exact": bool(getattr(getattr(ev, "arith", None), "exact", True)),
        "ensemble_size": len(members),
        "ensemble_val_accuracy": _ensemble_accuracy(ev_val, members),
        "ensemble_test_accuracy": _ensemble_accuracy(ev_test, members),
        "history": history, "wiring": best[1], "last_wiring": last,
    }


def _members(snapshots, best, k: int) -> list[Wiring]:
    """The ``k`` snapshots with the best validation scores, the selected network first."""
    out = [best[1]]
    for key, w in snapshots:
        if len(out) >= k:
            break
        if key[2] != best[0][2]:
            out.append(w)
    return out


def _accept_more(ev, followers, layer, pool, sl, cfg):
    """After the best neighbour is taken, keep taking the next-best swaps of the same
    neighbourhood while they still strictly improve the batch score (re-scored exactly on
    the new network); returns (moves, neighbours scored)."""
    moves = rescored = 0
    while moves < cfg.accept_top - 1 and len(pool):
        flat = ev.w[layer].view(-1).cpu()
        pool = pool[(flat[pool[:, 0]] != 0) & (flat[pool[:, 1]] == 0)]  # still valid swaps
        if not len(pool):
            break
        scores = ev.score_swaps(layer, pool, sl)
        rescored += len(pool)
        b = int(_order(scores, cfg.criterion)[0])
        if not _key(scores, b, cfg.criterion) > _current(ev, sl, cfg.criterion):
            break
        for e in (ev, *followers):
            e.accept(layer, pool[b])
        pool = torch.cat([pool[:b], pool[b + 1:]])
        moves += 1
    return moves, rescored


def _accuracy(ev, wiring: Wiring) -> float:
    return float((ev.full_logits(wiring).argmax(1) == ev.y).double().mean())


def _ensemble_accuracy(ev, members: list[Wiring]) -> float:
    """Accuracy of the summed logits of several family members (a soft vote)."""
    logits = sum(ev.full_logits(w) for w in members)
    return float((logits.argmax(1) == ev.y).double().mean())
