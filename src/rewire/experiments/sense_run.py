"""AANN Figures 5-8: SENSE climbs from a random or a p-SIREN start, with a backprop baseline.

Writes into the run folder: ``config.json``, ``metrics.jsonl`` (one line per neighbourhood),
``sense_state.pt`` (checkpoint; re-running resumes), ``results.json``, ``climb.png`` and the
final wiring as ``model.rwt``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

import numpy as np
import torch

from ..configs import SEARCHABLE, SenseRun, SirenConfig, identity
from ..data import load_dataset
from ..files import append_jsonl, read_jsonl, write_text
from ..models import create_model, load_model, model_spec
from ..runs import RunFolder
from ..search.evaluator import check_device, check_swappable, read_ternary
from ..search.moves import max_neighbours
from ..search.sense import SenseConfig, resolve_neighbours, run_sense, with_wiring
from ..sparse import (
    is_ternary,
    random_wiring,
    save_packed,
    ternarize,
    write_wiring,
)
from ..sparse.masks import param_list, prunable_weights
from ..train import evaluate, fit

__all__ = ["SenseRun", "run_sense_experiment", "load_start_model", "SEARCHABLE"]

LAYER_COLOURS = ("tab:red", "tab:green", "tab:blue", "tab:orange", "tab:purple", "tab:brown")


def load_start_model(path: str, input_shape, num_classes: int):
    """A saved ternary model (``model.pt`` of a run, or ``.rwt``), checked against the data."""
    model = load_model(path)
    spec = model_spec(model)
    if list(spec["input_shape"]) != list(input_shape) or spec["num_classes"] != num_classes:
        raise ValueError(f"{path}: a {spec['name']} for inputs {tuple(spec['input_shape'])} "
                         f"and {spec['num_classes']} classes; the data have "
                         f"{tuple(input_shape)} and {num_classes}")
    return model


def _start(cfg: SenseRun, data, run_dir, progress):
    """The start model, and the init's name."""
    if cfg.init == "random":
        model = ternarize(create_model(cfg.model, data.input_shape, data.num_classes,
                                       **SEARCHABLE[cfg.model]))
        write_wiring(model, random_wiring(model, cfg.sparsity, cfg.seed))
        return model, "random"
    if cfg.init == "psiren":
        from .siren_run import run_siren

        run_siren(SirenConfig(dataset=cfg.dataset, sparsity=cfg.sparsity, seed=cfg.seed,
                              data_dir=cfg.data_dir), run_dir / "psiren", data=data,
                  progress=progress)
        return load_model(run_dir / "psiren" / "model.rwt"), "psiren"
    if not Path(cfg.init).is_file():
        raise ValueError(f"--init {cfg.init}: no such model file (give 'random', 'psiren' or "
                         f"a model file)")
    model = load_start_model(cfg.init, data.input_shape, data.num_classes)
    return model, "psiren" if "psiren" in str(cfg.init) else "file"


def run_sense_experiment(cfg: SenseRun, out=None, progress: bool = True, note=print) -> dict:
    """Validate everything, then climb; the run folder is made only once the inputs check."""
    sense_cfg = SenseConfig(steps=cfg.steps, neighbours=cfg.neighbours, schedule=cfg.schedule,
                            block=cfg.block, criterion=cfg.criterion, method=cfg.method,
                            accept_top=cfg.accept_top, max_seconds=cfg.max_minutes * 60,
                            batch=cfg.batch, patience=cfg.patience, ensemble=cfg.ensemble,
                            snapshot_every=cfg.snapshot_every, seed=cfg.seed,
                            device=cfg.device)  # validates before any work
    check_device(cfg.device)
    data = load_dataset(cfg.dataset, cfg.data_dir, download=cfg.download, limit=cfg.limit)
    out = Path(out or cast(str, cfg.out))  # --out is required
    if cfg.init != "psiren":
        model, init = _start(cfg, data, out, progress)
        wiring = read_ternary(model)
        _check_layers(model, wiring, sense_cfg, data)
    run = RunFolder(out, {"experiment": "sense", **identity(cfg)}, defaults={"limit": None})
    if cfg.init == "psiren":
        model, init = _start(cfg, data, run.path, progress)

    def log(record):
        append_jsonl(run.metrics, record)

    _sync_metrics(run)
    r = run_sense(sense_cfg, model, data.train, data.val, data.test,
                  checkpoint=run.file("sense_state.pt"), log=log, progress=progress, note=note)
    start = read_ternary(model)
    final = with_wiring(model, r["wiring"])
    if is_ternary(final):
        save_packed(final, run.file("model.rwt"))
    backprop = _backprop_baseline(cfg, model, data, run) if cfg.backprop_epochs else None
    results = {
        "init": init, "model": model_spec(model)["name"] if hasattr(model, "rewire_spec")
        else type(model).__name__, "sparsity": start.sparsity, "dataset": cfg.dataset,
        "seed": cfg.seed, "train_images": len(data.train),
        **{k: v for k, v in r.items() if k not in ("history", "wiring", "last_wiring")},
        "seconds": r["history"][-1]["seconds"] if r["history"] else 0.0,
        "backprop": backprop,
        "start_counts": start.counts(), "final_counts": r["wiring"].counts(),
        **({"data_note": data.note} if data.note else {}),
    }
    run.write_results(results)
    plot_climb(r["history"], results, run.file("climb.png"))
    return results


def _check_layers(model, wiring, sense_cfg, data) -> None:
    """One clear line for a model the data do not fit or a neighbourhood that cannot be."""
    try:
        with torch.no_grad():
            model.eval()(data.val.x[:2])
    except RuntimeError as exc:
        raise ValueError(f"the model does not take {data.name}'s inputs "
                         f"{tuple(data.input_shape)}: {str(exc).splitlines()[0]}") from None
    sizes = resolve_neighbours(sense_cfg.neighbours, tuple(wiring))
    check_swappable(wiring)
    for name, w in wiring.items():
        if sizes.get(name, 0) > max_neighbours(w):
            raise ValueError(f"neighbourhood size {sizes[name]} for {name} is larger than "
                             f"the {max_neighbours(w)} neighbours the layer allows")


def _sync_metrics(run) -> None:
    """The metrics log holds exactly the checkpoint's steps (after a kill between the two
    writes, or a log lost)."""
    state = run.file("sense_state.pt")
    history = torch.load(state, weights_only=False)["history"] if state.is_file() else []
    if len(read_jsonl(run.metrics)) != len(history):
        write_text(run.metrics, "".join(json.dumps(r) + "\n" for r in history))


def _backprop_baseline(cfg: SenseRun, start_model, data, run) -> dict:
    """STE backprop from the same sparse ternary start, masks fixed (the paper's violet line).

    The latent weights start at 0.01 x the wiring: signs are the start's, and a few Adam
    steps can flip them (at magnitude 1 nothing would move for thousands of steps).
    """
    torch.manual_seed(cfg.seed)
    model = ternarize(with_wiring(start_model, read_ternary(start_model)))
    write_wiring(model, read_ternary(start_model))
    with torch.no_grad():
        for module, pname in prunable_weights(model).values():
            param_list(module, pname).original.mul_(0.01)
    history = fit(model, data.train, data.val, epochs=cfg.backprop_epochs, seed=cfg.seed,
                  keep_best=True, stage="backprop", checkpoint=run.file("backprop.pt"),
                  progress=False)
    return {"epochs": len(history), "val_accuracy": [h["val_accuracy"] for h in history],
            "test_accuracy": evaluate(model, data.test)["accuracy"]}


def plot_climb(history: list[dict], results: dict, path) -> None:
    """Validation accuracy coloured by the layer searched, test accuracy in black; the
    first point (step 0) is the start network."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    steps = np.array([0] + [h["step"] for h in history])
    val = np.array([results["start_val_accuracy"]] + [h["val_accuracy"] for h in history]) * 100
    test = np.array([results["start_test_accuracy"]]
                    + [h["test_accuracy"] for h in history]) * 100
    layers = list(results.get("start_counts") or dict.fromkeys(h["layer"] for h in history))
    ax.scatter([0], val[:1], s=18, color="black", marker="s", label="start network (val)")
    for k, layer in enumerate(layers):
        sel = np.array([False] + [h["layer"] == layer for h in history])
        ax.scatter(steps[sel], val[sel], s=6, color=LAYER_COLOURS[k % len(LAYER_COLOURS)],
                   label=f"val, {layer}")
    ax.plot(steps, test, color="black", lw=1, label="test (reported, not selected on)")
    if results.get("selected_step"):
        ax.axvline(results["selected_step"], color="grey", ls=":", lw=1,
                   label=f"kept: best validation (step {results['selected_step']})")
    bp = results.get("backprop")
    if bp:
        ax.axhline(bp["test_accuracy"] * 100, color="violet", ls="--",
                   label=f"backprop (STE, {bp['epochs']} epochs) from the same start: "
                         f"{bp['test_accuracy'] * 100:.1f}% test")
    ax.set_xlabel("neighbourhood (step)")
    ax.set_ylabel("accuracy (%)")
    ax.set_title(f"SENSE from {results['init']} init, {results['dataset']}, "
                 f"{results['sparsity'] * 100:.0f}% sparse ternary "
                 f"{results.get('model', 'aann-mnist-cnn')}")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
