"""p-SIREN (AANN Algorithm 1): make a p-sparse ternary network.

1. train a dense network for n1 epochs;
2. sparsify it gradually by weight magnitude over n2 epochs, up to sparsity p (per layer by
   default, one global threshold as an option), training as it goes;
3. fine-tune the sparse network for n3 epochs with the masks fixed;
4. ternarize: weights become sign(w) on the mask ({-1, 0, +1}, no scale), then train for n4
   epochs with a straight-through estimator; the masks stay fixed, only signs move.

Each step is a call of the common training loop with its own checkpoint in the run folder, so
an interrupted run resumes inside the step it was in. Selection (best epoch) uses the
validation split; test accuracy is only reported.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from ..data import Splits, load_dataset
from ..models import create_model
from ..prune import GradualPruning, Magnitude
from ..runs import RunFolder
from ..sparse import is_ternary, sparsify, sparsity, sparsity_report, ternarize
from ..sparse.export import save_packed
from ..train import evaluate, fit

__all__ = ["SirenConfig", "run_psiren", "train_dense", "PRESETS"]

# Defaults per dataset; see docs/psiren.md for how they were chosen. digits has ~18 steps
# an epoch, so its ternary step needs a larger learning rate for signs to flip at all.
PRESETS = {
    "digits": {"epochs": (15, 15, 5, 30), "ternary_lr": 1e-2},
    "default": {"epochs": (4, 6, 3, 8), "ternary_lr": 1e-3},
}


@dataclass
class SirenConfig:
    dataset: str = "digits"
    sparsity: float = 0.9
    seed: int = 0
    model: str = "aann-mnist-cnn"
    epochs: tuple[int, ...] | None = None  # n1..n4; None -> PRESETS
    lr: float = 1e-3
    ternary_lr: float | None = None  # None -> PRESETS
    batch_size: int = 64
    scope: str = "layer"
    exponent: float = 3.0
    model_options: dict = field(default_factory=dict)
    data_dir: str | None = None
    limit: int | None = None

    def __post_init__(self):
        if not isinstance(self.sparsity, (int, float)) or not 0.0 <= self.sparsity < 1.0:
            raise ValueError(f"sparsity must be in [0, 1), got {self.sparsity!r}")
        if self.scope not in ("layer", "global"):
            raise ValueError(f"scope must be 'layer' or 'global', got {self.scope!r}")
        preset = PRESETS.get(self.dataset, PRESETS["default"])
        if self.epochs is None:
            self.epochs = preset["epochs"]
        if self.ternary_lr is None:
            self.ternary_lr = preset["ternary_lr"]
        self.epochs = tuple(int(e) for e in self.epochs)
        if len(self.epochs) != 4 or min(self.epochs) < 0:
            raise ValueError(f"epochs must be four numbers n1..n4 >= 0, got {self.epochs}")


def _accuracies(model, data: Splits) -> dict[str, float]:
    return {"val_accuracy": evaluate(model, data.val)["accuracy"],
            "test_accuracy": evaluate(model, data.test)["accuracy"]}


def _build(cfg: SirenConfig, data: Splits):
    torch.manual_seed(cfg.seed)
    model = create_model(cfg.model, data.input_shape, data.num_classes, **cfg.model_options)
    return sparsify(model)  # all-ones masks: one state_dict layout for every step


def train_dense(cfg: SirenConfig, checkpoint, data: Splits | None = None, log=None,
                progress: bool = False):
    """Step 1 alone: train the dense network into ``checkpoint`` (resumable); returns it."""
    data = data or load_dataset(cfg.dataset, cfg.data_dir, limit=cfg.limit)
    model = _build(cfg, data)
    fit(model, data.train, data.val, epochs=cfg.epochs[0], lr=cfg.lr, keep_best=True,
        stage="dense", checkpoint=checkpoint, batch_size=cfg.batch_size, seed=cfg.seed,
        log=log, progress=progress)
    return model


def run_psiren(cfg: SirenConfig, out, data: Splits | None = None,
               dense_checkpoint: str | Path | None = None, progress: bool = True,
               verbose: bool = True) -> dict:
    """Run p-SIREN into the run folder ``out``; returns (and writes) ``results.json``.

    Args:
        data: the dataset splits, when the caller has them loaded already.
        dense_checkpoint: checkpoint file of step 1, shared between runs that differ only in
            sparsity (the sweep trains the dense network once per seed).
    """
    run = RunFolder(out, {"experiment": "psiren", **asdict(cfg)})
    t0 = time.time()
    data = data or load_dataset(cfg.dataset, cfg.data_dir, limit=cfg.limit)
    _, n2, n3, n4 = cfg.epochs
    common = dict(batch_size=cfg.batch_size, seed=cfg.seed, log=run.metrics, progress=progress)
    steps: dict[str, dict] = {}

    def report(name: str) -> None:
        steps[name] = {**_accuracies(model, data), "sparsity": sparsity(model)}
        if verbose:
            s = steps[name]
            print(f"[{name}] val {s['val_accuracy']:.4f} test {s['test_accuracy']:.4f} "
                  f"sparsity {s['sparsity']:.4f}", flush=True)

    model = train_dense(cfg, dense_checkpoint or run.file("step1_dense.pt"), data,
                        log=run.metrics, progress=progress)
    report("dense")
    pruner = GradualPruning(model, Magnitude(), cfg.sparsity, cfg.scope, exponent=cfg.exponent)
    if n2 == 0:
        pruner(0, 1)  # one-shot when no gradual epochs are asked for
    fit(model, data.train, data.val, epochs=n2, lr=cfg.lr, step_hook=pruner, stage="sparsify",
        checkpoint=run.file("step2_sparsify.pt"), **common)
    report("sparsified")
    fit(model, data.train, data.val, epochs=n3, lr=cfg.lr, keep_best=True, stage="finetune",
        checkpoint=run.file("step3_finetune.pt"), **common)
    report("finetuned")
    ternarize(model)
    report("ternarized")
    fit(model, data.train, data.val, epochs=n4, lr=cfg.ternary_lr, keep_best=True,
        stage="ternary", checkpoint=run.file("step4_ternary.pt"), **common)
    report("ternary")
    assert is_ternary(model)

    torch.save({"spec": model.rewire_spec, "state_dict": model.state_dict()},
               run.file("model.pt"))
    packed = save_packed(model, run.file("model.rwt"))
    final = steps["ternary"]
    results = {
        "experiment": "psiren", "dataset": cfg.dataset, "seed": cfg.seed,
        "target_sparsity": cfg.sparsity, "sparsity": final["sparsity"],
        "test_accuracy": final["test_accuracy"], "val_accuracy": final["val_accuracy"],
        "steps": steps, "layers": sparsity_report(model), "epochs": list(cfg.epochs),
        "packed_bytes": packed["packed_bytes"], "float32_bytes": packed["float32_bytes"],
        "seconds": time.time() - t0,
    }
    run.write_results(results)
    return results
