"""AANN Figures 5-8: SENSE climbs from a random or a p-SIREN start, with a backprop baseline.

Writes into the run folder: ``config.json``, ``metrics.jsonl`` (one line per neighbourhood),
``sense_state.pt`` (checkpoint; re-running resumes), ``results.json``, ``climb.png`` and the
final wiring as ``model.rwt``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..data import load_dataset
from ..models import create_model, model_spec
from ..runs import RunFolder
from ..search.evaluator import LAYERS
from ..search.sense import DEFAULT_NEIGHBOURS, SenseConfig, run_sense
from ..siren import SirenConfig, run_psiren
from ..sparse import (
    Wiring,
    load_packed,
    load_ternary,
    random_wiring,
    read_wiring,
    save_packed,
    ternarize,
    write_wiring,
)
from ..train import evaluate, fit

__all__ = ["SenseRun", "run_sense_experiment", "load_start_model"]

LAYER_COLOURS = {"conv1.weight": "tab:red", "conv2.weight": "tab:green", "fc.weight": "tab:blue"}


@dataclass
class SenseRun:
    dataset: str = "digits"
    init: str = "random"  # "random", "psiren", or a model.pt / model.rwt file
    sparsity: float = 0.8
    seed: int = 0
    steps: int = 300
    neighbours: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_NEIGHBOURS))
    schedule: str = "random3"
    block: int = 3
    criterion: str = "hinge"
    method: str = "sense"
    accept_top: int = 4
    backprop_epochs: int = 0  # the baseline: STE backprop from the same start
    max_minutes: float = 0.0  # search time budget (0: no limit)
    data_dir: str | None = None

    def __post_init__(self):
        if not 0.0 <= self.sparsity < 1.0:
            raise ValueError(f"sparsity must be in [0, 1), got {self.sparsity!r}")


def load_start_model(path: str, input_shape, num_classes: int):
    """A saved ternary model (``model.pt`` of a run, or ``.rwt``) checked against the CNN."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"--init must be 'random', 'psiren' or a model file; {path} not found")
    model = load_ternary(p)
    spec = model_spec(model)
    want = {"name": "aann-mnist-cnn", "input_shape": list(input_shape),
            "num_classes": num_classes, "options": {}}
    got = {k: spec[k] for k in want}
    if got != want:
        raise ValueError(f"{path}: a start model of another architecture ({got}); SENSE "
                         f"here searches {want}")
    return model


def run_sense_experiment(cfg: SenseRun, out, progress: bool = True) -> dict:
    if isinstance(cfg.neighbours, int):
        cfg.neighbours = dict.fromkeys(LAYERS, cfg.neighbours)
    sense_cfg = SenseConfig(steps=cfg.steps, neighbours=cfg.neighbours, schedule=cfg.schedule,
                            block=cfg.block, criterion=cfg.criterion, method=cfg.method,
                            accept_top=cfg.accept_top, max_seconds=cfg.max_minutes * 60,
                            seed=cfg.seed)  # validates before any work
    run = RunFolder(out, {"experiment": "sense", **asdict(cfg)})
    data = load_dataset(cfg.dataset, cfg.data_dir)
    model = create_model("aann-mnist-cnn", data.input_shape, data.num_classes)
    if cfg.init == "random":
        start = random_wiring(model, cfg.sparsity, cfg.seed)
        init = "random"
    elif cfg.init == "psiren":
        run_psiren(SirenConfig(dataset=cfg.dataset, sparsity=cfg.sparsity, seed=cfg.seed,
                               data_dir=cfg.data_dir), run.file("psiren"), data=data,
                   progress=progress, verbose=progress)
        start = read_wiring(load_packed(run.file("psiren") / "model.rwt"))
        init = "psiren"
    else:
        start = read_wiring(load_start_model(cfg.init, data.input_shape, data.num_classes))
        init = "psiren" if "psiren" in str(cfg.init) else "file"

    def log(record):
        with open(run.metrics, "a") as f:
            f.write(json.dumps(record) + "\n")

    r = run_sense(sense_cfg, start, data.val, data.test, checkpoint=run.file("sense_state.pt"),
                  log=log, progress=progress)
    write_wiring(ternarize(model), r["wiring"])
    save_packed(model, run.file("model.rwt"))
    backprop = _backprop_baseline(cfg, start, data, run) if cfg.backprop_epochs else None
    results = {
        "init": init, "sparsity": start.sparsity, "dataset": cfg.dataset, "seed": cfg.seed,
        **{k: v for k, v in r.items() if k not in ("history", "wiring")},
        "seconds": r["history"][-1]["seconds"] if r["history"] else 0.0,
        "backprop": backprop,
        "start_counts": start.counts(), "final_counts": r["wiring"].counts(),
    }
    run.write_results(results)
    plot_climb(r["history"], results, run.file("climb.png"))
    return results


def _backprop_baseline(cfg: SenseRun, start: Wiring, data, run) -> dict:
    """STE backprop from the same sparse ternary start, masks fixed (the paper's violet line).

    The latent weights start at 0.01 x the wiring: signs are the start's, and a few Adam
    steps can flip them (at magnitude 1 nothing would move for thousands of steps).
    """
    torch.manual_seed(cfg.seed)
    model = ternarize(create_model("aann-mnist-cnn", data.input_shape, data.num_classes))
    write_wiring(model, start)
    with torch.no_grad():
        for module in (model.conv1, model.conv2, model.fc):
            module.parametrizations.weight.original.mul_(0.01)
    history = fit(model, data.train, data.val, epochs=cfg.backprop_epochs, seed=cfg.seed,
                  keep_best=True, stage="backprop", checkpoint=run.file("backprop.pt"),
                  progress=False)
    return {"epochs": len(history), "val_accuracy": [h["val_accuracy"] for h in history],
            "test_accuracy": evaluate(model, data.test)["accuracy"]}


def plot_climb(history: list[dict], results: dict, path) -> None:
    """Validation accuracy coloured by the layer searched, test accuracy in black."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    steps = np.array([h["step"] for h in history])
    val = np.array([h["val_accuracy"] for h in history]) * 100
    test = np.array([h["test_accuracy"] for h in history]) * 100
    for layer, colour in LAYER_COLOURS.items():
        sel = np.array([h["layer"] == layer for h in history])
        if sel.any():
            ax.scatter(steps[sel], val[sel], s=6, color=colour, label=f"val, {layer}")
    ax.plot(steps, test, color="black", lw=1, label="test (reported, not selected on)")
    bp = results.get("backprop")
    if bp:
        ax.axhline(bp["test_accuracy"] * 100, color="violet", ls="--",
                   label=f"backprop (STE, {bp['epochs']} epochs) from the same start: "
                         f"{bp['test_accuracy'] * 100:.1f}% test")
    ax.set_xlabel("neighbourhood (step)")
    ax.set_ylabel("accuracy (%)")
    ax.set_title(f"SENSE from {results['init']} init, {results['dataset']}, "
                 f"{results['sparsity'] * 100:.0f}% sparse ternary CNN")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
