"""Genetic and random architecture search with structural performance prediction
(deepstruct section 4.4).

A search is a pure function of its :class:`SearchConfig` and of the fitness its ``train``
callable returns for each genotype: the same config and the same fitness values give the same
candidates, so a search killed halfway resumes by running again with ``train`` reading the
results it already has (the experiment layer keeps them in the run folder, keyed by
:func:`~rewire.nas.genotype.genotype_hash`).

Genetic search: a population of ``population`` random genotypes (depth 6-12), then one
generation at a time: the worst ``removal`` share of the population is replaced by fresh
random genotypes (re-sampling), the rest of the generation are offspring (parents by
tournament or rank selection; a crossover with probability ``crossover``, one of the three
drawn uniformly; a mutation with probability ``mutation``, one of the two drawn uniformly); the
next population is the best ``population`` of parents and offspring together. Random search:
generations of fresh random genotypes (depth 10-36, the paper's bounds), nothing selected.

Prediction: once ``min_trained`` candidates are trained, a regressor on the structural
features (:data:`~rewire.nas.features.STRUCTURE_FEATURES`), refitted before every generation on
every candidate trained so far, predicts each new candidate's fitness (and a baseline on
parameters and multiply-accumulates alone does too: both are recorded on every row, so their
Kendall tau on candidates they have not seen can be reported as the search goes). With
``estimation`` > 0, that share of a generation, the candidates predicted worst, keeps its
predicted fitness and is not trained. The search stops after ``candidates`` candidates.

Example:
    >>> from rewire.nas.features import STRUCTURE_FEATURES
    >>> def train(genotypes):  # a stand-in fitness: wider is better
    ...     return [{"fitness": g.number_of_nodes() / 40} for g in genotypes]
    >>> rows = search(SearchConfig(population=4, candidates=12, seed=1), train)
    >>> len(rows), sum(r["trained"] for r in rows), [r["generation"] for r in rows][-1]
    (12, 12, 2)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..predict import OnlinePredictor
from ..progress import say
from ..seeds import derive
from .features import BASELINE_FEATURES, STRUCTURE_FEATURES, genotype_features
from .genotype import (
    DEPTH,
    IN_SHAPE,
    RANDOM_SEARCH_DEPTH,
    Genotype,
    genotype_hash,
    random_genotype,
    to_json,
)
from .operators import CROSSOVERS, MUTATIONS, rank_selection, tournament

__all__ = ["SearchConfig", "search", "STRATEGIES", "Train"]

STRATEGIES = ("genetic", "random")
# the trainer: genotypes -> one record each with at least "fitness" (higher is better)
Train = Callable[[list[Genotype]], list[dict[str, Any]]]


@dataclass
class SearchConfig:
    """One search.

    Attributes:
        strategy: ``"genetic"`` or ``"random"``.
        population: individuals per generation (paper: 30).
        candidates: candidates evaluated in all (trained or predicted), first generation
            included.
        mutation: probability that an offspring is mutated (paper: 0.5).
        crossover: probability that an offspring comes from a crossover.
        removal: share of the population replaced by random genotypes each generation
            (paper: 0.1).
        selection: ``"tournament"`` (of ``tournament_size``) or ``"rank"``.
        estimation: share of each generation whose fitness is predicted instead of trained
            (paper: 0.5; 0 trains every candidate).
        predictor: regressor name (:data:`rewire.predict.REGRESSORS`).
        min_trained: trained candidates before the predictor is used.
        depth / random_depth: depth bounds of the genetic / random search.
        seed: the search's random stream.
    """

    strategy: str = "genetic"
    population: int = 30
    candidates: int = 120
    mutation: float = 0.5
    crossover: float = 0.5
    removal: float = 0.1
    selection: str = "tournament"
    tournament_size: int = 3
    estimation: float = 0.0
    predictor: str = "random-forest"
    min_trained: int = 20
    depth: tuple[int, int] = DEPTH
    random_depth: tuple[int, int] = RANDOM_SEARCH_DEPTH
    seed: int = 0

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown search strategy {self.strategy!r}; expected "
                             f"{' or '.join(STRATEGIES)}")
        if self.selection not in ("tournament", "rank"):
            raise ValueError(f"unknown selection {self.selection!r}; expected tournament "
                             "or rank")
        if self.population < 2 or self.candidates < self.population:
            raise ValueError(f"need population >= 2 and candidates >= population, got "
                             f"{self.population} and {self.candidates}")
        for name in ("mutation", "crossover", "removal"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1]")
        if not 0.0 <= self.estimation < 1.0:
            raise ValueError(f"estimation must be in [0, 1), got {self.estimation}")


class _Search:
    def __init__(self, cfg: SearchConfig, train: Train, in_shape: Sequence[int],
                 progress: bool):
        self.cfg, self.train, self.in_shape, self.progress = cfg, train, in_shape, progress
        self.rng = np.random.default_rng(derive(cfg.seed, "nas-search", cfg.strategy))
        self.rows: list[dict[str, Any]] = []
        self.known: dict[str, dict[str, Any]] = {}
        self.structure = OnlinePredictor(list(STRUCTURE_FEATURES), cfg.predictor,
                                         cfg.min_trained, cfg.seed)
        self.baseline = OnlinePredictor(list(BASELINE_FEATURES), cfg.predictor,
                                        cfg.min_trained, cfg.seed)

    def random(self) -> Genotype:
        bounds = self.cfg.depth if self.cfg.strategy == "genetic" else self.cfg.random_depth
        return random_genotype(self.rng, bounds, self.in_shape)

    def evaluate(self, genotypes: list[Genotype], generation: int) -> list[float]:
        """Predict, choose what to train, train it, record one row per candidate."""
        cfg = self.cfg
        feats = [genotype_features(g, self.in_shape) for g in genotypes]
        hashes = [genotype_hash(g) for g in genotypes]
        trained = [r for r in self.rows if r["trained"]]
        pred = base = None
        if len(trained) >= cfg.min_trained:
            pred = self.structure.fit(trained, "fitness").predict(feats)
            base = self.baseline.fit(trained, "fitness").predict(feats)
        n = len(genotypes)
        train_idx = set(range(n))
        if pred is not None and cfg.estimation > 0:
            keep = n - int(round(cfg.estimation * n))
            train_idx = {int(i) for i in np.argsort(-pred, kind="stable")[:keep]}
        todo = sorted({hashes[i]: i for i in sorted(train_idx)
                       if hashes[i] not in self.known}.values())
        for i, result in zip(todo, self.train([genotypes[i] for i in todo]), strict=True):
            self.known[hashes[i]] = {**result, "new_training": True}
        fitness = []
        for i, g in enumerate(genotypes):
            row: dict[str, Any] = {
                "strategy": cfg.strategy, "estimation": cfg.estimation, "seed": cfg.seed,
                "generation": generation, "hash": hashes[i], "genotype": to_json(g),
                **feats[i],
                "predicted": None if pred is None else float(pred[i]),
                "predicted_baseline": None if base is None else float(base[i]),
                "trained": i in train_idx}
            if i in train_idx:
                result = self.known[hashes[i]]
                row.update(result)
                result["new_training"] = False  # the same genotype again is not a training
            else:
                row["fitness"] = row["predicted"]
            self.rows.append(row)
            fitness.append(float(row["fitness"]))
        best = max((r["fitness"] for r in self.rows if r["trained"]), default=float("nan"))
        say(f"{cfg.strategy} seed {cfg.seed} generation {generation}: {len(self.rows)} "
            f"candidates, {self.trainings} trainings, best trained fitness {best:.4f}",
            self.progress)
        return fitness

    @property
    def trainings(self) -> int:
        return sum(1 for r in self.rows if r.get("new_training"))

    def offspring(self, pop: list[Genotype], fit: list[float], taken: set[str]) -> Genotype:
        """A child that is not a genotype met before (a clone is mutated again, up to ten
        times, so that the budget goes to new candidates)."""
        child = self._child(pop, fit)
        key = genotype_hash(child)
        for _ in range(10):
            if key not in taken:
                break
            mut = list(MUTATIONS.values())[int(self.rng.integers(len(MUTATIONS)))]
            child = mut(self.rng, child, self.cfg.depth, self.in_shape)
            key = genotype_hash(child)
        taken.add(key)
        return child

    def _child(self, pop: list[Genotype], fit: list[float]) -> Genotype:
        cfg = self.cfg

        def pick(k: int) -> list[int]:
            if cfg.selection == "tournament":
                return tournament(self.rng, fit, k, cfg.tournament_size)
            return rank_selection(self.rng, fit, k)

        i = pick(1)[0]
        child = pop[i]
        if self.rng.random() < cfg.crossover:
            j = pick(1)[0]
            op = list(CROSSOVERS.values())[int(self.rng.integers(len(CROSSOVERS)))]
            child = op(self.rng, pop[i], pop[j], cfg.depth, self.in_shape)[0]
        if self.rng.random() < cfg.mutation:
            mut = list(MUTATIONS.values())[int(self.rng.integers(len(MUTATIONS)))]
            child = mut(self.rng, child, cfg.depth, self.in_shape)
        return child

    def run(self) -> list[dict[str, Any]]:
        cfg = self.cfg
        pop = [self.random() for _ in range(cfg.population)]
        fit = self.evaluate(pop, 0)
        generation = 0
        while len(self.rows) < cfg.candidates:
            generation += 1
            n = min(cfg.population, cfg.candidates - len(self.rows))
            if cfg.strategy == "random":
                self.evaluate([self.random() for _ in range(n)], generation)
                continue
            order = np.argsort(-np.asarray(fit), kind="stable")
            removed = min(math.ceil(cfg.removal * cfg.population), n)
            survivors = [int(i) for i in order[: cfg.population - removed]]
            parents = [pop[i] for i in survivors]
            parent_fit = [fit[i] for i in survivors]
            children = [self.random() for _ in range(removed)]
            taken = {r["hash"] for r in self.rows} | {genotype_hash(c) for c in children}
            children += [self.offspring(parents, parent_fit, taken)
                         for _ in range(n - removed)]
            child_fit = self.evaluate(children, generation)
            merged = list(zip(parent_fit + child_fit, range(len(parents) + len(children))))
            everyone = parents + children
            best = sorted(merged, key=lambda t: (-t[0], t[1]))[: cfg.population]
            pop = [everyone[i] for _, i in best]
            fit = [f for f, _ in best]
        return self.rows


def search(cfg: SearchConfig, train: Train, in_shape: Sequence[int] = IN_SHAPE,
           progress: bool = False) -> list[dict[str, Any]]:
    """Run one search; returns one row per candidate, in the order they were evaluated.

    Args:
        cfg: the search.
        train: ``train(genotypes) -> [record, ...]``, each record with at least
            ``"fitness"`` (validation accuracy after the candidate recipe); its other keys
            (test accuracy, seconds) are copied into the rows.
        in_shape: the image shape candidates are built for.
        progress: a line per generation on stderr.

    Returns:
        Rows with the strategy, seed, generation, genotype hash and JSON, features,
        ``predicted`` and ``predicted_baseline`` (None before the predictor is ready),
        ``trained``, ``fitness`` (trained, or predicted when not trained), ``new_training``
        (False for a genotype met again) and the trainer's keys.

    Raises:
        ValueError: from the operators or the trainer, for a genotype that cannot be built.
    """
    return _Search(cfg, train, in_shape, progress).run()
