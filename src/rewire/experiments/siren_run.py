"""``rewire siren``: one p-SIREN run in its run folder.

Writes ``config.json``, ``metrics.jsonl`` (one line per epoch), the checkpoints of the four
steps (re-running resumes), ``model.pt`` (state dict and spec, loads without pickle),
``model.rwt`` (packed), ``results.json`` (the same bytes for the same config and seed),
``timing.json`` (wall time, summed over sessions) and ``curves.png``.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import cast

from ..configs import SirenConfig, SirenRun
from ..data import Splits, load_dataset
from ..files import atomic_torch_save, read_json, read_jsonl
from ..progress import say
from ..runs import RunFolder
from ..siren import run_psiren
from ..sparse.export import save_packed

__all__ = ["run_siren", "plot_curves"]


def run_siren(cfg: SirenConfig, out=None, data: Splits | None = None,
              dense_checkpoint=None, progress: bool = True) -> dict:
    """Run p-SIREN into ``out`` (default ``cfg.out``); returns ``results.json``'s record.
    A finished run is read back, not re-run."""
    # without ``out``, cfg is a SirenRun (a SirenConfig with its required --out)
    out = Path(out or cast(str, cast(SirenRun, cfg).out))
    data = data or load_dataset(cfg.dataset, cfg.data_dir, download=cfg.download,
                                limit=cfg.limit)  # a data error leaves no folder behind
    config = {f.name: getattr(cfg, f.name) for f in fields(SirenConfig)}
    run = RunFolder(out, {"experiment": "psiren", **config},
                    defaults={"bias": False, "scale": False})
    if run.file("results.json").is_file() and run.file("model.rwt").is_file():
        say(f"{out}: finished already; results.json is kept", progress)
        return read_json(run.file("results.json"))
    if run.resumed:
        say(f"{out}: resuming from its checkpoints", progress)
    try:
        model, results = run_psiren(cfg, data, workdir=run.path, log=run.metrics,
                                    dense_checkpoint=dense_checkpoint, progress=progress)
    finally:
        run.add_time()  # also when interrupted: seconds add up across sessions
    atomic_torch_save({"spec": model.rewire_spec, "state_dict": model.state_dict()},
                      run.file("model.pt"))
    packed = save_packed(model, run.file("model.rwt"))
    results.update(packed_bytes=packed["packed_bytes"], float32_bytes=packed["float32_bytes"])
    run.write_results(results)
    plot_curves(read_jsonl(run.metrics), results, run.file("curves.png"))
    return results


def plot_curves(records: list[dict], results: dict, path) -> None:
    """Validation accuracy per epoch across the four steps, each step in its colour."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"dense": "tab:blue", "sparsify": "tab:orange", "finetune": "tab:green",
               "ternary": "tab:red"}
    fig, ax = plt.subplots(figsize=(7, 4))
    x = 0
    for stage, colour in colours.items():
        rows = [r for r in records if r.get("stage") == stage and "val_accuracy" in r]
        if rows:
            xs = list(range(x + 1, x + len(rows) + 1))
            ax.plot(xs, [100 * r["val_accuracy"] for r in rows], "o-", ms=3, color=colour,
                    label=f"{stage} (val)")
            ax.plot(xs, [100 * r["train_accuracy"] for r in rows], ":", color=colour, lw=1)
            x += len(rows)
    ax.axhline(100 * results["test_accuracy"], color="black", lw=1, ls="--",
               label=f"final ternary network: {100 * results['test_accuracy']:.2f}% test")
    ax.set_xlabel("epoch (all four steps)")
    ax.set_ylabel("accuracy (%); dotted: training")
    ax.set_title(f"p-SIREN on {results['dataset']}, {100 * results['target_sparsity']:.0f}% "
                 f"sparse ternary, seed {results['seed']}")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


