"""Command line: a thin layer over the library.

    rewire siren --dataset digits --sparsity 0.9 --out runs/digits
    rewire sweep --dataset mnist --data-dir ../shared/data --out runs/psiren-mnist
    rewire freenet --dataset mnist --k 100 --data-dir ../shared/data --out runs/freenet
    rewire report runs/digits/model.rwt
"""

from __future__ import annotations

import argparse
import json
import sys

from .data import DATASETS, DataError

__all__ = ["main"]


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",") if v.strip()]


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


def _siren_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", default="digits", help=f"one of {', '.join(DATASETS)}")
    p.add_argument("--data-dir", help="folder with the original data files (or REWIRE_DATA)")
    p.add_argument("--no-download", action="store_true", help="never download missing files")
    p.add_argument("--epochs", type=_ints, metavar="N1,N2,N3,N4",
                   help="epochs of the four steps (default: a preset per dataset)")
    p.add_argument("--lr", type=float, default=1e-3, help="learning rate of steps 1-3")
    p.add_argument("--ternary-lr", type=float,
                   help="learning rate of step 4 (default: a preset per dataset)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--scope", choices=["layer", "global"], default="layer",
                   help="sparsity per layer (default) or one global magnitude threshold")
    p.add_argument("--bias", action="store_true", help="add biases (changes the network)")
    p.add_argument("--scale", action="store_true",
                   help="add a learnable per-layer scale (changes the network)")
    p.add_argument("--limit", type=int, help="use only this many training images")
    p.add_argument("--out", required=True, help="run folder (re-run to resume)")


def _config(a, sparsity: float = 0.0, seed: int = 0):
    from .siren import SirenConfig

    options = {k: True for k in ("bias", "scale") if getattr(a, k)}
    return SirenConfig(dataset=a.dataset, sparsity=sparsity, seed=seed,
                       epochs=tuple(a.epochs) if a.epochs else None, lr=a.lr,
                       ternary_lr=a.ternary_lr, batch_size=a.batch_size, scope=a.scope,
                       model_options=options, data_dir=a.data_dir, limit=a.limit)


def _check_dataset(a) -> None:
    if a.dataset not in DATASETS:
        raise ValueError(f"unknown dataset {a.dataset!r}; expected one of {', '.join(DATASETS)}")


def cmd_siren(a) -> None:
    from .data import load_dataset
    from .siren import run_psiren
    from .sparse import format_report

    _check_dataset(a)
    cfg = _config(a, a.sparsity, a.seed)
    data = load_dataset(a.dataset, a.data_dir, download=not a.no_download, limit=a.limit)
    r = run_psiren(cfg, a.out, data=data, progress=sys.stderr.isatty())
    print(format_report(r["layers"]))
    print(f"test accuracy {r['test_accuracy']:.4f} at sparsity {r['sparsity']:.4f}; "
          f"packed model {r['packed_bytes']} bytes vs float32 state_dict "
          f"{r['float32_bytes']} bytes ({r['float32_bytes'] / r['packed_bytes']:.1f}x); "
          f"results in {a.out}/results.json")


def cmd_sweep(a) -> None:
    from .data import load_dataset
    from .experiments.psiren_sweep import run_sweep

    _check_dataset(a)
    for p in a.sparsities:
        _config(a, p)  # validate every level before any work starts
    load_dataset(a.dataset, a.data_dir, download=not a.no_download)  # fetch once, up front
    s = run_sweep(_config(a), a.out, a.sparsities, a.seeds, a.workers, a.ray_address)
    for r in s["by_sparsity"]:
        print(f"sparsity {r['sparsity']:.2f}: test {r['mean']:.4f} ± {r['std']:.4f} "
              f"({r['seeds']} seeds)")


def cmd_report(a) -> None:
    from .sparse import format_report, load_ternary, sparsity_report

    model = load_ternary(a.model)
    rows = sparsity_report(model)
    print(json.dumps(rows, indent=1) if a.json else format_report(rows))


def _neighbours(text: str):
    """``64`` (every layer) or ``conv1=8,conv2=48,fc=2048``."""
    if "=" not in text:
        return int(text)
    out = {}
    for part in text.split(","):
        name, _, k = part.partition("=")
        out[name.strip()] = int(k)
    return out


def cmd_sense(a) -> None:
    from .experiments.sense_run import SenseRun, run_sense_experiment

    _check_dataset(a)
    cfg = SenseRun(dataset=a.dataset, model=a.model, init=a.init, sparsity=a.sparsity,
                   seed=a.seed, steps=a.steps, neighbours=a.neighbours, schedule=a.schedule,
                   block=a.block, criterion=a.criterion, method=a.method,
                   backprop_epochs=a.backprop_epochs, accept_top=a.accept_top,
                   batch=a.batch, patience=a.patience, ensemble=a.ensemble,
                   max_minutes=a.max_minutes, device=a.device, data_dir=a.data_dir)
    r = run_sense_experiment(cfg, a.out, progress=sys.stderr.isatty())
    print(f"{r['init']} start, sparsity {r['sparsity']:.3f}: val {r['start_val_accuracy']:.4f}"
          f" -> {r['final_val_accuracy']:.4f}, test {r['start_test_accuracy']:.4f} -> "
          f"{r['final_test_accuracy']:.4f} ({r['neighbours_scored']} neighbours scored, "
          f"{r['seconds']:.0f}s); results in {a.out}/results.json")


def cmd_neighbours(a) -> None:
    from .experiments.neighbours_view import run_neighbours

    _check_dataset(a)
    s = run_neighbours(a.model, a.dataset, a.out, a.count, a.split, a.seed, a.data_dir)
    print(f"original {s['split']} accuracy {s['original_accuracy']:.4f}")
    for layer, r in s["layers"].items():
        print(f"{layer:14} {r['neighbours']} first neighbours: mean {r['mean']:.4f}, "
              f"range {r['min']:.4f}-{r['max']:.4f}, better {r['fraction_better']:.1%}")


def _freenet_run(a, dataset: str):
    from .experiments.freenet_run import FreeNetRun

    return FreeNetRun(dataset=dataset, k=getattr(a, "k", 30), epochs=a.epochs,
                      epsilon=a.epsilon, iterations=a.iterations, update_every=a.update_every,
                      stats_examples=a.stats_examples, lr=a.lr, batch_size=a.batch_size,
                      seed=getattr(a, "seed", 0), baseline=a.baseline,
                      standardize=not a.raw_inputs, dropout=a.dropout,
                      weight_decay=a.weight_decay, data_dir=a.data_dir)


def cmd_freenet(a) -> None:
    from .experiments.freenet_run import run_freenet

    _check_dataset(a)
    r = run_freenet(_freenet_run(a, a.dataset), a.out, progress=sys.stderr.isatty())
    print(f"FreeNet(k={r['k']}) on {r['dataset']}: test {r['freenet_test_accuracy']:.4f}, "
          f"{r['freenet_params']} parameters, {r['live_edges']}/{r['dense_edges']} live edges, "
          f"depth {r['depth']}, {r['graph_updates']} graph updates")
    if "fcnn_test_accuracy" in r:
        print(f"matched FCNN (width {r['fcnn_width']}): test {r['fcnn_test_accuracy']:.4f}, "
              f"{r['fcnn_params']} parameters")
    print(f"results in {a.out}/results.json")


def cmd_freenet_table(a) -> None:
    from .data import load_dataset
    from .experiments.freenet_run import run_table

    for d in a.datasets:
        if d not in DATASETS:
            raise ValueError(f"unknown dataset {d!r}; expected one of {', '.join(DATASETS)}")
        load_dataset(d, a.data_dir)  # fetch once, up front
    run_table(_freenet_run(a, a.datasets[0]), a.out, a.datasets, a.ks, a.seeds, a.workers,
              a.ray_address)
    _print_table(a.out)


def cmd_freenet_theorem(a) -> None:
    from .experiments.freenet_theorem import polynomial_check

    if a.k < 2:
        raise ValueError(f"k must be >= 2 for a degree-k polynomial check, got {a.k}")
    r = polynomial_check(a.k, a.steps, a.seeds, out=a.out)
    for name, mse in r["mse"].items():
        print(f"{name:16} MSE {mse:.4g}")
    print(f"FreeNet / best layered ({r['best_layered']}): {r['freenet_vs_best_layered']:.3f}; "
          f"results in {a.out}/results.json")


def _print_table(out: str) -> None:
    print(open(f"{out}/table.md").read())
    print(f"results in {out}/results.json")


def _names(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def cmd_prune(a) -> None:
    if a.kind == "ffn":
        from .experiments.prune_ffn import PruneFFNConfig, run_prune_ffn

        cfg = PruneFFNConfig(dataset=a.dataset or "mnist", seeds=a.seeds,
                             base_epochs=a.base_epochs or 20,
                             retrain_epochs=a.retrain_epochs, data_dir=a.data_dir,
                             **{k: v for k, v in (("models", a.models), ("methods", a.methods),
                                                  ("schemes", a.schemes)) if v})
        run_prune_ffn(cfg, a.out, a.workers, a.ray_address)
    else:
        from .experiments.prune_rnn import PruneRNNConfig, run_prune_rnn

        cfg = PruneRNNConfig(seeds=a.seeds, base_epochs=a.base_epochs or 10,
                             retrain_epochs=a.retrain_epochs, iterative=a.iterative,
                             data_dir=a.data_dir,
                             **{k: v for k, v in (("datasets", a.datasets), ("cells", a.cells),
                                                  ("targets", a.targets),
                                                  ("amounts", a.amounts)) if v})
        run_prune_rnn(cfg, a.out, a.workers, a.ray_address)
    _print_table(a.out)


def cmd_priors(a) -> None:
    from .experiments.priors import PriorsConfig, run_priors

    cfg = PriorsConfig(dataset=a.dataset, graphs=a.graphs, nodes=tuple(a.nodes),
                       epochs=a.epochs, train_examples=a.train_examples, data_dir=a.data_dir,
                       noise_graphs=a.noise_graphs, noise_seeds=a.noise_seeds,
                       **{k: v for k, v in (("generators", a.generators), ("cells", a.cells))
                          if v})
    run_priors(cfg, a.out, a.workers, a.ray_address)
    _print_table(a.out)


def cmd_predict(a) -> None:
    from pathlib import Path

    from .experiments.priors import summarize_priors

    src = Path(a.rows)
    if not src.is_file():
        raise ValueError(f"{a.rows}: no such results file")
    data = json.loads(src.read_text())
    if not data.get("rows"):
        raise ValueError(f"{a.rows} has no rows")
    summarize_priors(data["rows"] + data.get("repeat_rows", []), a.out)
    _print_table(a.out)


def _freenet_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", help="folder with the original data files (or REWIRE_DATA)")
    p.add_argument("--epochs", type=int, default=20, help="training budget of each model")
    p.add_argument("--epsilon", type=float, default=0.25,
                   help="co-activation threshold: prune/add where NCIM/NCAM > 1 - epsilon")
    p.add_argument("--iterations", type=int, default=20, help="most graph updates")
    p.add_argument("--update-every", type=int, default=1, help="epochs between graph updates")
    p.add_argument("--stats-examples", type=int, default=10_000,
                   help="training examples behind NCAM/NCIM (0: all)")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--raw-inputs", action="store_true",
                   help="do not standardise inputs by the training mean and std")
    p.add_argument("--dropout", type=float, default=0.0,
                   help="dropout on the neurons the read-out sees (both models)")
    p.add_argument("--weight-decay", type=float, default=0.0, help="L2 penalty (both models)")
    p.add_argument("--baseline", choices=["fcnn", "none"], default="fcnn",
                   help="also train the parameter-matched fully connected net")
    p.add_argument("--out", required=True, help="run folder (re-run to resume)")


def build_parser() -> argparse.ArgumentParser:
    from .experiments.freenet_run import PAPER_KS
    from .experiments.psiren_sweep import PAPER_SPARSITIES

    parser = argparse.ArgumentParser(prog="rewire", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("siren", help="p-SIREN: make a p-sparse ternary network")
    _siren_args(p)
    p.add_argument("--sparsity", type=float, default=0.9, help="target sparsity p in [0, 1)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_siren)

    p = sub.add_parser("sweep", help="p-SIREN over sparsity levels x seeds (AANN Fig 2a, 12)")
    _siren_args(p)
    p.add_argument("--sparsities", type=_floats, default=PAPER_SPARSITIES,
                   help="comma-separated levels (default: the paper's 15)")
    p.add_argument("--seeds", type=_ints, default=[0, 1, 2])
    p.add_argument("--workers", type=int, default=1, help="local worker processes")
    p.add_argument("--ray-address", help="run on Ray: 'local' or a cluster address")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("sense", help="SENSE: search the architecture manifold, no backprop")
    p.add_argument("--dataset", default="digits", help=f"one of {', '.join(DATASETS)}")
    p.add_argument("--data-dir", help="folder with the original data files (or REWIRE_DATA)")
    p.add_argument("--model", default="aann-mnist-cnn",
                   help="registered model for a random start: aann-mnist-cnn, car-cnn, "
                        "lenet-300-100, mlp-100 (a model file given to --init brings its own)")
    p.add_argument("--init", default="random",
                   help="'random', 'psiren' (runs p-SIREN first) or a model.pt / model.rwt")
    p.add_argument("--sparsity", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=300, help="neighbourhoods to score")
    p.add_argument("--neighbours", type=_neighbours,
                   help="neighbourhood size: N, or per layer conv1=8,conv2=48,fc=2048")
    p.add_argument("--schedule", default="random3", choices=["random3", "round-robin", "fc"])
    p.add_argument("--block", type=int, default=3, help="neighbourhoods per layer visit")
    p.add_argument("--criterion", default="hinge", choices=["hinge", "accuracy"],
                   help="score of a neighbour on a training batch: clamped margin (default) "
                        "or the paper's accuracy")
    p.add_argument("--batch", type=int, default=8192,
                   help="training images scoring each neighbourhood, rotating through the "
                        "training split (0: all of it every step)")
    p.add_argument("--patience", type=int, default=0,
                   help="stop after this many neighbourhoods without a better validation "
                        "accuracy (0: never)")
    p.add_argument("--ensemble", type=int, default=5,
                   help="family members (best validation snapshots) in the ensemble")
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    p.add_argument("--method", default="sense", choices=["sense", "anneal"])
    p.add_argument("--accept-top", type=int, default=4,
                   help="moves accepted per neighbourhood: after the best, the next-best while "
                        "they still improve (re-scored exactly); 1 is the paper's SENSE")
    p.add_argument("--max-minutes", type=float, default=0.0,
                   help="stop the search after this many minutes (0: run all steps)")
    p.add_argument("--backprop-epochs", type=int, default=0,
                   help="also train the same start with STE backprop (the baseline)")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_sense)

    p = sub.add_parser("neighbours", help="first-neighbour histograms and embeddings")
    p.add_argument("model", help="model.pt or model.rwt of a ternary AANN CNN")
    p.add_argument("--dataset", default="digits", help=f"one of {', '.join(DATASETS)}")
    p.add_argument("--data-dir")
    p.add_argument("--count", type=int, default=500, help="first neighbours per layer")
    p.add_argument("--split", default="test", choices=["test", "val"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_neighbours)

    p = sub.add_parser("freenet", help="FreeNet(k) by FreeEvolve vs the matched FCNN")
    p.add_argument("--dataset", default="digits", help=f"one of {', '.join(DATASETS)}")
    p.add_argument("--k", type=int, default=30, help="neurons in the DAG")
    p.add_argument("--seed", type=int, default=0)
    _freenet_args(p)
    p.set_defaults(func=cmd_freenet)

    p = sub.add_parser("freenet-table", help="FreeNets Table 2: datasets x k x seeds")
    p.add_argument("--datasets", type=lambda t: t.split(","),
                   default=["mnist", "fashion-mnist", "emnist"])
    p.add_argument("--ks", type=_ints, default=PAPER_KS)
    p.add_argument("--seeds", type=_ints, default=[0, 1, 2])
    p.add_argument("--workers", type=int, default=1, help="local worker processes")
    p.add_argument("--ray-address", help="run on Ray: 'local' or a cluster address")
    _freenet_args(p)
    p.set_defaults(func=cmd_freenet_table)

    p = sub.add_parser("freenet-theorem",
                       help="FreeNets Theorem 1: degree-k polynomial, FreeNet vs layered nets")
    p.add_argument("--k", type=int, default=6, help="neurons, and the polynomial's degree")
    p.add_argument("--steps", type=int, default=4000, help="full-batch Adam steps per fit")
    p.add_argument("--seeds", type=int, default=10, help="fits per model; the best is kept")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_freenet_theorem)

    p = sub.add_parser("prune", help="deepstruct pruning: FFNs on MNIST or RNNs on Reber")
    p.add_argument("--kind", choices=["ffn", "rnn"], default="ffn")
    p.add_argument("--dataset", help="FFN data set (default mnist)")
    p.add_argument("--datasets", type=_names, help="RNN data sets (reber-deepstruct,reber)")
    p.add_argument("--models", type=_names, help="FFN models (mlp-100,lenet-300-100)")
    p.add_argument("--methods", type=_names,
                   help="random,magnitude-blinded,magnitude-uniform,magnitude-distributed,obd")
    p.add_argument("--schemes", type=_names,
                   help="one-shot,iterative-fixed,iterative-relative,bucket")
    p.add_argument("--cells", type=_names, help="RNN cells (tanh,relu,lstm,gru)")
    p.add_argument("--targets", type=_names, help="RNN weights to prune (i2h,h2h,both)")
    p.add_argument("--amounts", type=_floats, help="RNN pruning levels (0.1,...,1.0)")
    p.add_argument("--seeds", type=_ints, default=[0, 1, 2])
    p.add_argument("--base-epochs", type=int, help="training of the dense base nets")
    p.add_argument("--retrain-epochs", type=int, default=1)
    p.add_argument("--iterative", action="store_true",
                   help="RNN: prune each level from the previous level's re-trained net")
    p.add_argument("--data-dir")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--ray-address", help="run on Ray: 'local' or a cluster address")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_prune)

    p = sub.add_parser("priors", help="random-graph structural priors for sparse RNNs")
    p.add_argument("--dataset", default="reber-deepstruct")
    p.add_argument("--generators", type=_names, help="watts-strogatz,barabasi-albert")
    p.add_argument("--cells", type=_names, help="tanh,relu,lstm,gru")
    p.add_argument("--graphs", type=int, default=100, help="graphs per generator")
    p.add_argument("--nodes", type=_ints, default=[20, 60], help="node range lo,hi")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--train-examples", type=int, default=5000)
    p.add_argument("--noise-graphs", type=int, default=5,
                   help="graphs per generator trained again to measure training noise")
    p.add_argument("--noise-seeds", type=int, default=3, help="extra trainings of each")
    p.add_argument("--data-dir")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--ray-address", help="run on Ray: 'local' or a cluster address")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_priors)

    p = sub.add_parser("predict", help="structural performance prediction from priors rows")
    p.add_argument("rows", help="a results.json whose rows carry graph properties")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("report", help="per-layer counts of -1, 0, +1 of a saved model")
    p.add_argument("model", help="model.pt or model.rwt from a run folder")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .experiments.executor import setup_process

    setup_process()
    try:
        args.func(args)
    except (ValueError, KeyError, DataError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"rewire: error: {msg}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
