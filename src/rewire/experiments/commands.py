"""What each command of the command line runs, given its checked config (``rewire.configs``),
and the lines it prints at the end. One function per command, named after it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

from .. import configs as C
from .executor import setup_process

__all__ = ["siren", "sweep", "sense", "neighbours", "freenet", "freenet_table",
           "freenet_theorem", "prune_ffn", "prune_rnn", "priors", "predict", "report", "car_expert",
           "car_record", "car_drive", "car_train"]


def _table(out) -> None:
    print((Path(out) / "table.md").read_text())
    print(f"results in {out}/results.json")


def siren(cfg: C.SirenRun) -> None:
    from ..sparse import format_report
    from .siren_run import run_siren

    setup_process()
    r = run_siren(cfg)
    print(format_report(r["layers"]))
    print(f"test accuracy {r['test_accuracy']:.4f} at sparsity {r['sparsity']:.4f}; "
          f"packed model {r['packed_bytes']} bytes vs float32 state_dict "
          f"{r['float32_bytes']} bytes ({r['float32_bytes'] / r['packed_bytes']:.1f}x); "
          f"results in {cfg.out}/results.json")


def sweep(cfg: C.SweepRun) -> None:
    from .psiren_sweep import run_psiren_sweep

    setup_process()
    s = run_psiren_sweep(cfg)
    for r in s["by_sparsity"]:
        print(f"sparsity {r['sparsity']:.2f}: test {r['mean']:.4f} ± {r['std']:.4f} "
              f"({r['seeds']} seeds)")


def sense(cfg: C.SenseRun) -> None:
    from .sense_run import run_sense_experiment

    setup_process()
    r = run_sense_experiment(cfg, cfg.out)
    print(f"{r['init']} start, sparsity {r['sparsity']:.3f}: val {r['start_val_accuracy']:.4f}"
          f" -> {r['final_val_accuracy']:.4f}, test {r['start_test_accuracy']:.4f} -> "
          f"{r['final_test_accuracy']:.4f} ({r['neighbours_scored']} neighbours scored); "
          f"results in {cfg.out}/results.json")


def neighbours(cfg: C.NeighboursRun) -> None:
    from .neighbours_view import run_neighbours

    setup_process()
    s = run_neighbours(cfg)
    print(f"original {s['split']} accuracy {s['original_accuracy']:.4f}")
    for layer, r in s["layers"].items():
        print(f"{layer:14} {r['neighbours']} first neighbours: mean {r['mean']:.4f}, "
              f"range {r['min']:.4f}-{r['max']:.4f}, better {r['fraction_better']:.1%}")


def freenet(cfg: C.FreeNetRun) -> None:
    from .freenet_run import run_freenet

    setup_process()
    r = run_freenet(cfg, cfg.out)
    print(f"FreeNet(k={r['k']}) on {r['dataset']}: test {r['freenet_test_accuracy']:.4f}, "
          f"{r['freenet_params']} parameters, {r['live_edges']}/{r['dense_edges']} live edges, "
          f"depth {r['depth']}, {r['graph_updates']} graph updates")
    if "fcnn_test_accuracy" in r:
        print(f"matched FCNN (width {r['fcnn_width']}): test {r['fcnn_test_accuracy']:.4f}, "
              f"{r['fcnn_params']} parameters")
    print(f"results in {cfg.out}/results.json")


def freenet_table(cfg: C.FreeNetTableRun) -> None:
    from .freenet_run import run_table

    setup_process()
    run_table(cfg)
    _table(cfg.out)


def freenet_theorem(cfg: C.TheoremRun) -> None:
    from .freenet_theorem import polynomial_check

    setup_process()
    r = polynomial_check(cfg.k, cfg.steps, cfg.seeds, out=cfg.out)
    for name, mse in r["mse"].items():
        print(f"{name:16} MSE {mse:.4g}")
    print(f"FreeNet / best layered ({r['best_layered']}): {r['freenet_vs_best_layered']:.3f}; "
          f"results in {cfg.out}/results.json")


def prune_ffn(cfg: C.PruneFFNConfig) -> None:
    from .prune_ffn import run_prune_ffn

    setup_process()
    run_prune_ffn(cfg, cfg.out, cfg.workers, cfg.ray_address)
    _table(cfg.out)


def prune_rnn(cfg: C.PruneRNNConfig) -> None:
    from .prune_rnn import run_prune_rnn

    setup_process()
    run_prune_rnn(cfg, cfg.out, cfg.workers, cfg.ray_address)
    _table(cfg.out)


def priors(cfg: C.PriorsConfig) -> None:
    from .priors import run_priors

    setup_process()
    run_priors(cfg, cfg.out, cfg.workers, cfg.ray_address)
    _table(cfg.out)


def predict(cfg: C.PredictRun) -> None:
    from .priors import PREDICT_FEATURES, summarize_priors

    src = Path(cfg.rows)
    if not src.is_file():
        raise ValueError(f"{cfg.rows}: no such results file")
    try:
        data = json.loads(src.read_text())
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"{cfg.rows}: not a JSON results file") from None
    if not isinstance(data, dict) or not data.get("rows"):
        raise ValueError(f"{cfg.rows} has no rows (expected a priors results.json)")
    needed = {"graph_seed", "cell", "generator", "test_accuracy", *PREDICT_FEATURES}
    for i, row in enumerate(data["rows"] + data.get("repeat_rows", [])):
        missing = needed - set(row) if isinstance(row, dict) else needed
        if missing:
            raise ValueError(f"{cfg.rows}: row {i} lacks {', '.join(sorted(missing)[:4])}"
                             f"{' ...' if len(missing) > 4 else ''}; expected the rows of a "
                             f"'rewire priors' results.json")
    summarize_priors(data["rows"] + data.get("repeat_rows", []), cfg.out)
    _table(cfg.out)


def car_expert(cfg: C.CarExpertRun) -> None:
    from .car_run import run_expert

    setup_process()
    run_expert(cfg)
    _table(cfg.out)


def car_record(cfg: C.CarRecordRun) -> None:
    from .car_run import run_record

    setup_process()
    run_record(cfg)
    _table(cfg.out)


def car_drive(cfg: C.CarDriveRun) -> None:
    from .car_run import run_drive

    setup_process()
    r = run_drive(cfg)
    _table(cfg.out)
    if cfg.video:
        print(f"video of track {r['per_seed'][0]['seed']} in {cfg.video}")


def car_train(cfg: C.CarTrainRun) -> None:
    from .car_train import run_car_train

    setup_process()
    run_car_train(cfg)
    _table(cfg.out)
    model = Path(cast(str, cfg.out)) / "model.pt"
    print(f"drive it: rewire car drive {model} --seeds 100 --out DIR")


def nas_search(cfg: C.NasSearchRun) -> None:
    from .nas_run import run_nas_search

    setup_process()
    s = run_nas_search(cfg)
    for row in s["searches"]:
        est = f", {row['estimation']:.0%} predicted" if row["estimation"] else ""
        print(f"{row['strategy']}{est}: best validation {row['best_val']:.4f}, its test "
              f"{row['best_test']:.4f} (mean of {row['seeds']} seeds), "
              f"{row['trainings']:.0f} trainings")
    if "tau_features" in s:
        print(f"Kendall tau on held-out candidates: graph features {s['tau_features']:.3f} "
              f"± {s['tau_features_std']:.3f}, parameters + MACs {s['tau_params']:.3f} "
              f"± {s['tau_params_std']:.3f}")
    if "best_retrained_test_accuracy" in s:
        mirror = " (mirror-averaged)" if cfg.retrain_mirror else ""
        print(f"best genotype ({cfg.out}/best_genotype.json) retrained: test{mirror} "
              + ", ".join(f"{r['test_accuracy']:.4f}" for r in s["retrains"]))


def nas_train(cfg: C.NasTrainRun) -> None:
    from .nas_run import run_nas_train

    setup_process()
    r = run_nas_train(cfg)
    plain = (f" (without mirroring {r['val_accuracy_plain']:.4f} / "
             f"{r['test_accuracy_plain']:.4f})" if "val_accuracy_plain" in r else "")
    print(f"{cfg.genotype}: validation {r['val_accuracy']:.4f}, test {r['test_accuracy']:.4f}"
          f"{plain} after {cfg.epochs} epochs ({r['seconds']:.0f} s, {r['params']} "
          "parameters)")


def nas_draw(cfg: C.NasDrawRun) -> None:
    from .nas_run import run_nas_draw

    r = run_nas_draw(cfg)
    print(f"{cfg.out}/genotype.png: depth {r['depth']}, {r['vertices']} vertices, "
          f"{r['params']} parameters, {r['flops']} multiply-accumulates")


def report(cfg: C.ReportRun) -> None:
    from ..sparse import format_report, packed_report, sparsity_report

    if Path(cfg.path).is_dir():
        from .reports import write_report

        write_report(cfg.path)
        print(f"{cfg.path}/README.md rendered from its files")
        return
    if Path(cfg.path).suffix == ".rwt":
        rows = packed_report(cfg.path)  # counts need no model: any .rwt, a user's too
    else:
        from ..models import load_model

        rows = sparsity_report(load_model(cfg.path))
    print(json.dumps(rows, indent=1) if cfg.json else format_report(rows))
