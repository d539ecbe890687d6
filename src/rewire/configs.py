"""Every experiment's config: one dataclass per command, its defaults and checks in one place.

The command line is generated from these classes (``cli.py``): a field is an option, its
metadata the help, its default the default, and a bad value fails in ``__post_init__``
before anything is written. This module imports nothing heavy (no torch), so
``rewire --help`` is instant; the registries the names below mirror are checked against
them in the tests.

Fields marked ``runtime`` (where to write, how many workers, time budgets) do not change a
run's results, so they are not part of its identity: a run folder resumes under new ones.

Example:
    >>> cfg = SenseRun(dataset="digits", steps=10, out="runs/s")
    >>> cfg.batch, identity(cfg)["steps"], "out" in identity(cfg)
    (8192, 10, False)
    >>> SenseRun(dataset="digits", steps=-1, out="x")
    Traceback (most recent call last):
    ...
    ValueError: --steps must be >= 0, got -1
"""

from __future__ import annotations

import copy
import json
import types
import typing
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path

__all__ = ["option", "identity", "read_config_file", "runtime_fields", "SirenConfig",
           "SirenRun", "SweepRun", "SenseRun", "NeighboursRun", "FreeNetRun", "FreeNetTableRun",
           "TheoremRun",
           "PruneFFNConfig", "PruneRNNConfig", "PriorsConfig", "PredictRun", "ReportRun",
           "CarExpertRun", "CarRecordRun", "CarDriveRun", "CarTrainRun",
           "DATASETS", "IMAGE_DATASETS", "SEARCHABLE", "PRUNE_METHODS", "PRUNE_SCHEMES",
           "CELLS", "GENERATORS", "TARGETS", "PAPER_SPARSITIES", "PAPER_KS"]

# Names of what the registries hold (tests/test_cli.py checks them against the registries).
DATASETS = ("digits", "mnist", "fashion-mnist", "emnist", "emnist-mnist", "kmnist", "cifar10",
            "reber", "reber-deepstruct", "carracing")
IMAGE_DATASETS = DATASETS[:7] + ("carracing",)  # carracing: recorded demonstrations
# Registered models SENSE builds from a random start, and the options that make them pure
# ternary networks (no biases: every weight is exactly -1, 0 or +1).
SEARCHABLE = {"aann-mnist-cnn": {}, "car-cnn": {}, "lenet-300-100": {"bias": False},
              "mlp-100": {"bias": False}}
PRUNE_METHODS = ("random", "magnitude-blinded", "magnitude-uniform", "magnitude-distributed",
                 "obd")
PRUNE_SCHEMES = ("one-shot", "iterative-fixed", "iterative-relative", "bucket")
CELLS = ("tanh", "relu", "lstm", "gru")
GENERATORS = ("watts-strogatz", "barabasi-albert")
TARGETS = ("i2h", "h2h", "both")
PAPER_SPARSITIES = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.87, 0.89, 0.91, 0.93,
                    0.95]
PAPER_KS = [30, 35, 40, 45, 50, 60, 70, 80, 90, 100]
EVAL_SEEDS_FROM = 100_000  # rewire.car.EVAL_SEEDS (this module imports no gymnasium)
# p-SIREN defaults per dataset; see docs/psiren.md for how they were chosen. digits has ~18
# steps an epoch, so its ternary step needs a larger learning rate for signs to flip at all.
PRESETS = {
    "digits": {"epochs": (15, 15, 5, 30), "ternary_lr": 1e-2},
    "default": {"epochs": (4, 6, 3, 8), "ternary_lr": 1e-3},
    "carracing": {"epochs": (3, 3, 1, 3), "ternary_lr": 1e-3},
}


def option(default=MISSING, help: str = "", *, choices=None, low=None, high=None,
           runtime: bool = False, positional: bool = False, parse=None, metavar=None,
           required: bool = False):
    """A config field with what the command line needs: ``help``; ``choices`` (for a name or
    each name of a list); bounds ``low`` <= value (< ``high``); ``runtime`` (not part of a
    run's identity); ``positional``; ``parse`` (text -> value, for odd types); ``required``
    (on the command line; the Python API may leave it out)."""
    meta = {"help": help, "choices": choices, "low": low, "high": high, "runtime": runtime,
            "positional": positional, "parse": parse, "metavar": metavar,
            "required": required}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    return field(default=default, metadata=meta)


def read_config_file(path: str) -> dict:
    """The options in a JSON or TOML file (``--config``), keys as field names."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"--config {path}: no such file")
    try:
        if p.suffix == ".toml":
            import tomllib
            data = tomllib.loads(p.read_text())
        else:
            data = json.loads(p.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"--config {path}: not valid {p.suffix[1:] or 'JSON'}: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"--config {path}: expected an object of options")
    return {k.replace("-", "_"): v for k, v in data.items() if k != "experiment"}


def runtime_fields(cls) -> set[str]:
    return {f.name for f in fields(cls) if f.metadata.get("runtime")}


def identity(cfg) -> dict:
    """What makes a run: every field that is not ``runtime``."""
    rt = runtime_fields(type(cfg))
    return {k: v for k, v in asdict(cfg).items() if k not in rt}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


_TYPES = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def _check_value(f, kind, value) -> None:
    """Type, choices and bounds of one field, from its annotation and metadata."""
    m, flag = f.metadata, _flag(f.name)
    if isinstance(kind, types.UnionType):
        args = typing.get_args(kind)
        if value is None and type(None) in args:
            return
        base = [a for a in args if a is not type(None)]
        kind = base[0] if len(base) == 1 else kind
    origin = typing.get_origin(kind)
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{flag} must be a list, got {value!r}")
        item = typing.get_args(kind)[0]
        for v in value:
            _check_value(f, item, v)
        if not value and m.get("low") is not None:
            raise ValueError(f"{flag} must not be empty")
        return
    if kind in _TYPES:
        ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if not ok:
            raise ValueError(f"{flag} must be {_TYPES[kind]}, got {value!r}")
    if m.get("choices") is not None and value not in m["choices"]:
        raise ValueError(f"{flag}: unknown value {value!r}; expected one of "
                         f"{', '.join(map(str, m['choices']))}")
    if m.get("low") is not None and isinstance(value, (int, float)) and value < m["low"]:
        raise ValueError(f"{flag} must be >= {m['low']}, got {value!r}")
    if m.get("high") is not None and isinstance(value, (int, float)) and value >= m["high"]:
        raise ValueError(f"{flag} must be < {m['high']}, got {value!r}")


@dataclass(kw_only=True)
class Config:
    """Base of every config: checks each field from its metadata, then ``check()``."""

    def __post_init__(self):
        hints = typing.get_type_hints(type(self))
        for f in fields(self):
            if f.metadata.get("parse") is None:
                _check_value(f, hints[f.name], getattr(self, f.name))
        self.check()

    def check(self) -> None:
        """Checks that involve more than one field."""


@dataclass(kw_only=True)
class Output(Config):
    out: str | None = option(None, "run folder; made once the inputs check, and re-running "
                             "the same command resumes the run in it", runtime=True,
                             metavar="DIR", required=True)


@dataclass(kw_only=True)
class DataDir(Config):
    data_dir: str | None = option(None, "folder with the original data files (default: "
                                  "$REWIRE_DATA, else the download cache)", runtime=True,
                                  metavar="DIR")
    download: bool = option(True, "download missing data files (with checksums)",
                            runtime=True)


@dataclass(kw_only=True)
class Workers(Config):
    workers: int = option(1, "local worker processes", low=1, runtime=True)
    ray_address: str | None = option(None, "run the tasks on Ray: 'local' or a cluster "
                                     "address", runtime=True)


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


# --- p-SIREN -------------------------------------------------------------------------------

@dataclass(kw_only=True)
class TrainOptions(Config):
    """The p-SIREN recipe: epochs of its four steps, learning rates, batch, schedule."""
    epochs: tuple[int, ...] | None = option(None, "epochs of the four steps n1,n2,n3,n4 "
                                            "(default: a preset per dataset)", low=0,
                                            metavar="N1,N2,N3,N4")
    lr: float = option(1e-3, "learning rate of steps 1-3", low=1e-12)
    ternary_lr: float | None = option(None, "learning rate of step 4 (default: a preset per "
                                      "dataset)", low=1e-12)
    batch_size: int = option(64, "training batch size", low=1)
    scope: str = option("layer", "sparsity per layer, or one global magnitude threshold",
                        choices=("layer", "global"))
    exponent: float = option(3.0, "exponent of the gradual sparsity schedule", low=1e-6)
    bias: bool = option(False, "add biases (changes the network)")
    scale: bool = option(False, "add a learnable per-layer scale (changes the network)")
    limit: int | None = option(None, "use only this many training images", low=10)
    device: str = option("cpu", "where training runs: cpu or cuda[:N]", runtime=True)

    @property
    def preset(self) -> dict:
        return PRESETS.get(getattr(self, "dataset", "carracing"), PRESETS["default"])

    def check(self) -> None:
        super().check()
        if self.epochs is None:
            self.epochs = self.preset["epochs"]
        if self.ternary_lr is None:
            self.ternary_lr = self.preset["ternary_lr"]
        self.epochs = tuple(int(e) for e in self.epochs)
        if len(self.epochs) != 4:
            raise ValueError(f"--epochs must be four numbers n1,n2,n3,n4, got {self.epochs}")

    @property
    def model_options(self) -> dict:
        return {k: True for k in ("bias", "scale") if getattr(self, k)}


@dataclass(kw_only=True)
class SirenOptions(DataDir, TrainOptions):
    dataset: str = option("digits", "data set", choices=IMAGE_DATASETS)
    model: str = option("aann-mnist-cnn", "registered model", choices=tuple(SEARCHABLE))


@dataclass(kw_only=True)
class SirenConfig(SirenOptions):
    """One p-SIREN run (:func:`rewire.siren.run_psiren`); keyword arguments only.

    Args:
        epochs: epochs of the four steps ``(n1, n2, n3, n4)``; ``None``: the dataset's
            preset in :data:`PRESETS`.
        lr: learning rate of steps 1-3.
        ternary_lr: learning rate of step 4; ``None``: the dataset's preset.
        batch_size: training batch size.
        scope: ``"layer"`` (sparsity per layer) or ``"global"`` (one magnitude threshold).
        exponent: exponent of the gradual sparsity schedule.
        bias: add biases (changes the network).
        scale: add a learnable per-layer scale (changes the network).
        limit: use only this many training images (at least 10); ``None``: all.
        device: where training runs: ``"cpu"`` or ``"cuda[:N]"``.
        data_dir: folder with the original data files (``None``: ``$REWIRE_DATA``, else the
            download cache).
        download: download missing data files (with checksums).
        dataset: the data set, one of :data:`IMAGE_DATASETS`.
        model: the registered model, one of :data:`SEARCHABLE`.
        sparsity: the target sparsity p, in [0, 1).
        seed: random seed (>= 0).

    Raises:
        ValueError: for a value of the wrong type, out of its bounds or not among its
            choices, or ``epochs`` that are not four numbers (the message names the
            command-line flag).

    Example:
        >>> SirenConfig(dataset="digits").epochs  # the digits preset
        (15, 15, 5, 30)
        >>> SirenConfig(sparsity=1.0)
        Traceback (most recent call last):
        ...
        ValueError: --sparsity must be < 1.0, got 1.0
    """

    sparsity: float = option(0.9, "target sparsity p", low=0.0, high=1.0)
    seed: int = option(0, "random seed", low=0)


@dataclass(kw_only=True)
class SirenRun(SirenConfig, Output):
    """rewire siren: make a p-sparse ternary network (AANN Algorithm 1)."""


@dataclass(kw_only=True)
class SweepRun(SirenOptions, Workers, Output):
    """rewire sweep: p-SIREN over sparsity levels x seeds (AANN Fig 2a, 12)."""
    sparsities: list[float] = option(PAPER_SPARSITIES, "sparsity levels (default: the "
                                     "paper's 15)", low=0.0, high=1.0)
    seeds: list[int] = option([0, 1, 2], "seeds", low=0)
    drive: int = option(0, "carracing: each model also drives this many evaluation tracks "
                        f"(from {EVAL_SEEDS_FROM}; closed-loop return)", low=0)
    drive_steps: int = option(1000, "steps per driven episode (the env's limit)", low=1)

    def check(self) -> None:
        super().check()
        if self.drive and self.dataset != "carracing":
            raise ValueError(f"--drive needs --dataset carracing, not {self.dataset}")

    def siren(self, sparsity: float, seed: int) -> SirenConfig:
        keep = {f.name for f in fields(SirenOptions)}
        return SirenConfig(**{k: v for k, v in asdict(self).items() if k in keep},
                           sparsity=sparsity, seed=seed)


# --- SENSE ---------------------------------------------------------------------------------

def parse_neighbours(text: str):
    """``64`` (every layer) or ``conv1=8,conv2=48,fc=2048``."""
    if "=" not in text:
        return int(text)
    out = {}
    for part in text.split(","):
        name, _, k = part.partition("=")
        out[name.strip()] = int(k)
    return out


@dataclass(kw_only=True)
class SenseRun(DataDir, Output):
    """rewire sense: search the architecture manifold, no gradients (AANN Fig 5-8)."""
    dataset: str = option("digits", "data set", choices=IMAGE_DATASETS)
    model: str = option("aann-mnist-cnn", "registered model for a random start (a model "
                        "file given to --init brings its own)", choices=tuple(SEARCHABLE))
    init: str = option("random", "'random', 'psiren' (runs p-SIREN first) or a model.pt / "
                       "model.rwt file")
    sparsity: float = option(0.8, "sparsity of a random or p-SIREN start", low=0.0, high=1.0)
    seed: int = option(0, "random seed", low=0)
    steps: int = option(300, "neighbourhoods to score", low=0)
    neighbours: dict[str, int] | int | None = option(
        None, "neighbourhood size: N, or per layer conv1=8,conv2=48,fc=2048 (default: a size "
        "per layer kind)", parse=parse_neighbours, metavar="N|LAYER=N,...")
    schedule: str = option("random3", "which layer each visit searches",
                           choices=("random3", "round-robin", "fc"))
    block: int = option(3, "neighbourhoods per layer visit", low=1)
    criterion: str = option("hinge", "score of a neighbour on a training batch: clamped "
                            "margin, or the paper's accuracy", choices=("hinge", "accuracy"))
    method: str = option("sense", "hill climbing, or simulated annealing",
                         choices=("sense", "anneal"))
    accept_top: int = option(4, "moves taken per neighbourhood: after the best, the "
                             "next-best while they still improve; 1 is the paper's SENSE",
                             low=1)
    batch: int = option(8192, "training images scoring each neighbourhood, rotating through "
                        "the training split (0: all of it every step)", low=0)
    limit: int | None = option(None, "hold only this many training images (a fixed random "
                               "subset; the evaluator caches activations of each)", low=10)
    patience: int = option(0, "stop after this many neighbourhoods without a better "
                           "validation accuracy (0: never)", low=0)
    ensemble: int = option(5, "family members (best validation snapshots) in the ensemble",
                           low=1)
    snapshot_every: int = option(100, "neighbourhoods between ensemble snapshots", low=1)
    backprop_epochs: int = option(0, "also train the same start with STE backprop (the "
                                  "baseline)", low=0)
    max_minutes: float = option(0.0, "stop the search after this many minutes (0: run all "
                                "steps)", low=0.0, runtime=True)
    device: str = option("cpu", "cpu or cuda[:N]", runtime=True)

    def check(self) -> None:
        super().check()
        sizes = ([self.neighbours] if isinstance(self.neighbours, int)
                 else list((self.neighbours or {}).values()))
        if sizes and min(sizes) < 1:
            raise ValueError(f"--neighbours must be >= 1, got {self.neighbours}")
        if self.init == "psiren" and self.model != "aann-mnist-cnn":
            raise ValueError("--init psiren trains the AANN CNN; for another model give "
                             "--init FILE")


@dataclass(kw_only=True)
class NeighboursRun(DataDir, Output):
    """rewire neighbours: first-neighbour histograms and embeddings (AANN Fig 3, 4, 9-11)."""
    model: str = option(help="model.pt or model.rwt of a ternary network", positional=True)
    dataset: str = option("digits", "data set", choices=IMAGE_DATASETS)
    count: int = option(500, "first neighbours per layer", low=1)
    split: str = option("test", "split the neighbours are scored on", choices=("test", "val"))
    seed: int = option(0, "random seed", low=0)


# --- FreeNets ------------------------------------------------------------------------------

@dataclass(kw_only=True)
class FreeNetOptions(DataDir):
    epochs: int = option(20, "training budget of each model", low=0)
    epsilon: float = option(0.25, "co-activation threshold: prune / add where NCIM / NCAM > "
                            "1 - epsilon", low=0.0, high=1.0)
    iterations: int = option(20, "most graph updates", low=0)
    update_every: int = option(1, "epochs between graph updates", low=1)
    stats_examples: int = option(10_000, "training examples behind NCAM / NCIM (0: all)",
                                 low=0)
    lr: float = option(2e-3, "learning rate", low=1e-12)
    batch_size: int = option(128, "training batch size", low=1)
    baseline: str = option("fcnn", "also train the parameter-matched fully connected net",
                           choices=("fcnn", "none"))
    standardize: bool = option(True, "shift and scale inputs by the training mean and std")
    dropout: float = option(0.0, "dropout on the neurons the read-out sees (both models)",
                            low=0.0, high=1.0)
    weight_decay: float = option(0.0, "L2 penalty (both models)", low=0.0)
    device: str = option("cpu", "where both models train: cpu or cuda[:N]", runtime=True)

    def check(self) -> None:
        super().check()
        if not 0.0 < self.epsilon < 1.0:
            raise ValueError(f"--epsilon must lie in (0, 1), got {self.epsilon}")


@dataclass(kw_only=True)
class FreeNetRun(FreeNetOptions, Output):
    """rewire freenet: FreeNet(k) by FreeEvolve against the matched FCNN."""
    dataset: str = option("digits", "data set", choices=IMAGE_DATASETS)
    k: int = option(30, "neurons in the DAG", low=1)
    seed: int = option(0, "random seed", low=0)


@dataclass(kw_only=True)
class FreeNetTableRun(FreeNetOptions, Workers, Output):
    """rewire freenet-table: FreeNets Table 2, data sets x k x seeds."""
    datasets: list[str] = option(["mnist", "fashion-mnist", "emnist"], "data sets",
                                 choices=IMAGE_DATASETS, low=1)
    ks: list[int] = option(PAPER_KS, "neurons in the DAG (default: the paper's)", low=1)
    seeds: list[int] = option([0, 1, 2], "seeds", low=0)

    def run(self, dataset: str, k: int, seed: int) -> FreeNetRun:
        keep = {f.name for f in fields(FreeNetOptions)}
        return FreeNetRun(**{n: v for n, v in asdict(self).items() if n in keep},
                          dataset=dataset, k=k, seed=seed, out=self.out)


@dataclass(kw_only=True)
class TheoremRun(Output):
    """rewire freenet-theorem: FreeNets Theorem 1 on a degree-k polynomial."""
    k: int = option(6, "neurons, and the polynomial's degree", low=2)
    steps: int = option(4000, "full-batch Adam steps per fit", low=1)
    seeds: int = option(10, "fits per model; the best is kept", low=1)


# --- deepstruct ----------------------------------------------------------------------------

@dataclass(kw_only=True)
class PruneFFNConfig(DataDir, Workers, Output):
    """rewire prune-ffn: pruning methods x schemes on feed-forward nets (deepstruct Fig 2a)."""
    dataset: str = option("mnist", "data set", choices=IMAGE_DATASETS)
    models: list[str] = option(["mlp-100", "lenet-300-100"], "models",
                               choices=("mlp-100", "lenet-300-100", "aann-mnist-cnn"), low=1)
    methods: list[str] = option(list(PRUNE_METHODS), "pruning methods", choices=PRUNE_METHODS,
                                low=1)
    schemes: list[str] = option(list(PRUNE_SCHEMES), "pruning schemes", choices=PRUNE_SCHEMES,
                                low=1)
    seeds: list[int] = option([0, 1, 2], "seeds", low=0)
    amount: float = option(0.98, "sparsity where the iterative schemes end", low=0.0, high=1.0)
    steps: int = option(10, "steps of the iterative fixed-size scheme", low=1)
    rate: float = option(0.35, "share pruned per step of the iterative relative scheme",
                         low=0.0, high=1.0)
    bucket: float = option(0.02, "bucket scheme: share of the live scores' sum removed per "
                           "step", low=0.0, high=1.0)
    base_epochs: int = option(20, "training of the dense base nets", low=0)
    retrain_epochs: int = option(1, "re-training after each pruning step", low=0)
    optimizer: str = option("sgd", "optimizer (sgd: momentum 0.9)", choices=("sgd", "adam"))
    lr: float = option(0.05, "learning rate", low=1e-12)
    weight_decay: float = option(1e-4, "L2 penalty", low=0.0)
    batch_size: int = option(64, "training batch size", low=1)
    obd_examples: int = option(2000, "training examples behind OBD's Hessian estimate", low=1)


@dataclass(kw_only=True)
class PruneRNNConfig(DataDir, Workers, Output):
    """rewire prune-rnn: pruning sparse RNNs on Reber grammars (deepstruct Fig 2b, 3, 5)."""
    datasets: list[str] = option(["reber-deepstruct", "reber"], "data sets",
                                 choices=("reber-deepstruct", "reber"), low=1)
    cells: list[str] = option(list(CELLS), "recurrent cells", choices=CELLS, low=1)
    targets: list[str] = option(list(TARGETS), "weights to prune", choices=TARGETS, low=1)
    amounts: list[float] = option([round(0.1 * i, 1) for i in range(1, 11)],
                                  "pruning levels", low=0.0)
    seeds: list[int] = option([0], "seeds", low=0)
    base_epochs: int = option(10, "training of the dense base nets", low=0)
    retrain_epochs: int = option(1, "re-training after pruning", low=0)
    lr: float = option(1e-3, "learning rate", low=1e-12)
    batch_size: int = option(32, "training batch size", low=1)
    clip: float = option(1.0, "gradient-norm clipping (a ReLU RNN collapses without it)",
                         low=0.0)
    iterative: bool = option(False, "prune each level from the previous level's re-trained "
                             "net, not from the base")

    def check(self) -> None:
        super().check()
        if any(a > 1.0 for a in self.amounts):
            raise ValueError(f"--amounts must be in [0, 1], got {self.amounts}")


@dataclass(kw_only=True)
class PriorsConfig(DataDir, Workers, Output):
    """rewire priors: random-graph structural priors for sparse RNNs (deepstruct Fig 7)."""
    dataset: str = option("reber-deepstruct", "data set",
                          choices=("reber-deepstruct", "reber"))
    generators: list[str] = option(list(GENERATORS), "random-graph generators",
                                   choices=GENERATORS, low=1)
    cells: list[str] = option(list(CELLS), "recurrent cells", choices=CELLS, low=1)
    graphs: int = option(100, "graphs per generator", low=1)
    nodes: tuple[int, int] = option((20, 60), "node range lo,hi", low=1, metavar="LO,HI")
    epochs: int = option(1, "training epochs of each graph's RNN", low=0)
    train_examples: int = option(5000, "training examples", low=1)
    lr: float = option(3e-3, "learning rate", low=1e-12)
    batch_size: int = option(64, "training batch size", low=1)
    clip: float = option(1.0, "gradient-norm clipping", low=0.0)
    noise_graphs: int = option(5, "graphs per generator trained again to measure training "
                               "noise", low=0)
    noise_seeds: int = option(3, "extra trainings of each", low=1)

    def check(self) -> None:
        super().check()
        self.nodes = typing.cast("tuple[int, int]", tuple(self.nodes))  # checked just below
        if len(self.nodes) != 2 or self.nodes[0] > self.nodes[1]:
            raise ValueError(f"--nodes must be a range lo,hi with lo <= hi, got {self.nodes}")


# --- genetic architecture search (deepstruct 4.4) ------------------------------------------

NAS_DATASETS = tuple(d for d in IMAGE_DATASETS if d != "carracing")


@dataclass(kw_only=True)
class NasRecipe(Config):
    """How candidates are trained (the long retrain has its own epochs)."""
    epochs: int = option(3, "epochs of each candidate's training", low=1)
    train_images: int = option(4500, "training images per candidate (0: all)", low=0)
    batch_size: int = option(128, "training batch size", low=1)
    lr: float = option(0.05, "peak learning rate of the one-cycle schedule (SGD, momentum "
                       "0.9)", low=1e-12)
    weight_decay: float = option(5e-4, "L2 penalty", low=0.0)
    label_smoothing: float = option(0.1, "label smoothing", low=0.0, high=1.0)
    pad: int = option(4, "random translations up to this many pixels (0: none)", low=0)
    flip: bool = option(True, "random left-right flips")
    cutout: int = option(0, "side in pixels of a square zeroed in every training image "
                         "(cutout; 0: none)", low=0)
    device: str = option("cpu", "where candidates train: cpu or cuda[:N]", runtime=True)


@dataclass(kw_only=True)
class NasSearchRun(NasRecipe, DataDir, Workers, Output):
    """rewire nas search: genetic against random architecture search, with and without
    structural performance prediction (deepstruct section 4.4)."""
    dataset: str = option("cifar10", "data set", choices=NAS_DATASETS)
    strategies: list[str] = option(["genetic", "random"], "searches", choices=("genetic",
                                   "random"), low=1)
    estimations: list[float] = option([0.0, 0.5], "shares of each generation predicted "
                                      "instead of trained, one search per value (paper: "
                                      "0.5)", low=0.0, high=1.0)
    seeds: list[int] = option([0, 1, 2], "search seeds", low=0)
    population: int = option(30, "individuals per generation (paper: 30)", low=2)
    candidates: int = option(120, "candidates per search, trained or predicted", low=2)
    mutation: float = option(0.5, "mutation probability (paper: 0.5)", low=0.0)
    crossover: float = option(0.5, "crossover probability (paper: 0)", low=0.0)
    removal: float = option(0.1, "share of the population replaced by random genotypes "
                            "each generation (paper: 0.1)", low=0.0)
    selection: str = option("tournament", "parent selection", choices=("tournament", "rank"))
    min_trained: int = option(20, "trained candidates before the predictor is used", low=2)
    predictor: str = option("random-forest", "regressor of the structural predictor",
                            choices=("random-forest", "bayesian-ridge", "adaboost"))
    depth: tuple[int, int] = option((6, 12), "depth bounds of the genetic search (paper)",
                                    low=3, metavar="LO,HI")
    random_depth: tuple[int, int] = option((10, 36), "depth bounds of the random search "
                                           "(paper)", low=3, metavar="LO,HI")
    retrain_epochs: int = option(60, "epochs of the winner's retraining on all training "
                                 "images (0: no retraining; 60 beat 30 on validation)", low=0)
    retrain_seeds: list[int] = option([0, 1], "seeds of the winner's retrainings", low=0)
    retrain_cutout: int = option(0, "cutout square of the winner's retraining (--cutout "
                                 "applies to the candidates)", low=0)
    retrain_mirror: bool = option(True, "the winner's retrainings are evaluated on every "
                                  "image and its mirror image, softmax averaged "
                                  "(test-time augmentation, chosen on validation; rerunning "
                                  "a finished folder with the other value re-evaluates it)",
                                  runtime=True)

    def check(self) -> None:
        super().check()
        for name in ("mutation", "crossover", "removal"):
            if getattr(self, name) > 1.0:
                raise ValueError(f"--{name} must be a probability in [0, 1]")
        for name in ("depth", "random_depth"):
            v = typing.cast("tuple[int, int]", tuple(getattr(self, name)))
            if len(v) != 2 or v[0] > v[1]:
                raise ValueError(f"--{name.replace('_', '-')} must be lo,hi with lo <= hi, "
                                 f"got {getattr(self, name)}")
            setattr(self, name, v)
        if self.candidates < self.population:
            raise ValueError(f"--candidates ({self.candidates}) must be at least "
                             f"--population ({self.population})")


@dataclass(kw_only=True)
class NasTrainRun(NasRecipe, DataDir, Output):
    """rewire nas train: train a genotype file (JSON) on all training images and test it."""
    genotype: str = option(help="a genotype file (JSON; rewire nas search writes "
                           "best_genotype.json)", positional=True)
    dataset: str = option("cifar10", "data set", choices=NAS_DATASETS)
    epochs: int = option(60, "training epochs (60 beat 30 on validation)", low=1)
    train_images: int = option(0, "training images (0: all)", low=0)
    seed: int = option(0, "random seed (initial weights, batch order, augmentation)", low=0)
    mirror: bool = option(True, "evaluate every image and its mirror image, softmax "
                          "averaged (test-time augmentation, chosen on validation; rerunning "
                          "a finished folder with the other value re-evaluates it)",
                          runtime=True)


@dataclass(kw_only=True)
class NasDrawRun(Output):
    """rewire nas draw: draw a genotype file as a picture (genotype.png) with its counts."""
    genotype: str = option(help="a genotype file (JSON)", positional=True)
    dataset: str = option("cifar10", "the data set whose image shape it is built for",
                          choices=NAS_DATASETS)


# --- CarRacing -----------------------------------------------------------------------------



@dataclass(kw_only=True)
class CarExpertRun(Workers, Output):
    """rewire car expert: the scripted CarRacing expert (5 and 3 actions) on evaluation
    tracks."""
    seeds: int = option(100, "evaluation tracks", low=1)
    seeds_from: int = option(EVAL_SEEDS_FROM, "first track seed", low=0)
    max_steps: int = option(1000, "steps per episode (the env's limit)", low=1)


@dataclass(kw_only=True)
class CarRecordRun(Workers, Output):
    """rewire car record: expert demonstrations (grayscale frames, expert actions) of whole
    episodes, split by track seed (seed % 10: 8 validation, 9 test)."""
    episodes: int = option(50, "episodes (tracks) to record", low=1)
    seeds_from: int = option(0, "first track seed (evaluation seeds start at "
                             f"{EVAL_SEEDS_FROM})", low=0, high=EVAL_SEEDS_FROM)
    actions: int = option(3, "action set: 3 ({left, right, gas}, the AANN car CNN) or 5",
                          low=3, high=6)
    max_steps: int = option(1000, "steps per episode (the env's limit)", low=1)

    def check(self) -> None:
        super().check()
        if self.actions not in (3, 5):
            raise ValueError(f"--actions must be 3 or 5, got {self.actions}")
        if self.seeds_from + self.episodes > EVAL_SEEDS_FROM:
            raise ValueError(f"track seeds {self.seeds_from}-{self.seeds_from + self.episodes - 1}"
                             f" reach the evaluation seeds (from {EVAL_SEEDS_FROM})")


@dataclass(kw_only=True)
class CarDriveRun(Workers, Output):
    """rewire car drive: a saved network (model.pt or .rwt) drives CarRacing tracks
    (closed loop)."""
    model: str = option(help="a saved model: a run's model.pt or a packed .rwt",
                        positional=True)
    seeds: int = option(20, "evaluation tracks", low=1)
    seeds_from: int = option(EVAL_SEEDS_FROM, "first track seed", low=0)
    max_steps: int = option(1000, "steps per episode (the env's limit)", low=1)
    demos: str | None = option(None, "the demonstrations the model learned from (default: "
                               "the data folder in the model's config.json); their track "
                               "seeds must not be driven", metavar="DIR")
    video: str | None = option(None, "also write the first track's drive as a .gif or .mp4",
                               runtime=True, metavar="FILE")

    def check(self) -> None:
        super().check()
        if self.video and not self.video.endswith((".gif", ".mp4")):
            raise ValueError(f"--video must name a .gif or .mp4 file, got {self.video}")


@dataclass(kw_only=True)
class CarTrainRun(TrainOptions, Workers, Output):
    """rewire car train: p-SIREN on demonstrations, then DAgger rounds (the ternary network
    drives training tracks, the expert labels what it sees, step 4 trains again on all)."""
    demos: str = option(help="a demonstrations folder (rewire car record)", positional=True)
    sparsity: float = option(0.9, "target sparsity p", low=0.0, high=1.0)
    seed: int = option(0, "random seed", low=0)
    rounds: int = option(2, "DAgger rounds after p-SIREN (more rounds continue a finished "
                         "run: round r depends only on the rounds before it)", low=0,
                         runtime=True)
    episodes: int = option(10, "training tracks the network drives per DAgger round", low=1)
    seeds_from: int = option(2000, "first DAgger track seed (evaluation seeds start at "
                             f"{EVAL_SEEDS_FROM})", low=0, high=EVAL_SEEDS_FROM)
    max_steps: int = option(1000, "steps per DAgger episode", low=1)

    def check(self) -> None:
        super().check()
        last = self.seeds_from + self.rounds * self.episodes
        if last > EVAL_SEEDS_FROM:
            raise ValueError(f"DAgger track seeds {self.seeds_from}-{last - 1} reach the "
                             f"evaluation seeds (from {EVAL_SEEDS_FROM})")

    def siren(self) -> SirenConfig:
        keep = {f.name for f in fields(TrainOptions)}
        return SirenConfig(**{k: v for k, v in asdict(self).items() if k in keep},
                           dataset="carracing", model="car-cnn", data_dir=self.demos,
                           download=False, sparsity=self.sparsity, seed=self.seed)


@dataclass(kw_only=True)
class PredictRun(Output):
    """rewire predict: structural performance prediction from the priors' rows."""
    rows: str = option(help="a results.json whose rows carry graph properties",
                       positional=True)


@dataclass(kw_only=True)
class ReportRun(Config):
    """rewire report: per-layer counts of -1, 0, +1 of a saved model, or a results folder's
    README.md rendered again from its files."""
    path: str = option(help="a model file (.rwt counts need no model) or a results folder "
                       "with a report.json", positional=True)
    json: bool = option(False, "print JSON rows instead of a table")
