"""deepstruct section 4.4: genetic against random architecture search, with and without
structural performance prediction; the winner retrained; ``rewire nas train`` / ``draw``.

Run folder::

    config.json, timing.json
    candidates/<hash>.json     one trained candidate (the short recipe, training seed 0): a
                               genotype's fitness is a function of the genotype alone, so
                               every search reads it from here, and a killed run resumes by
                               replaying its searches (same config, same fitness, same
                               candidates) with the trainings it already has
    searches/<name>.json       the rows of one finished search
    best_genotype.json / .png  the best trained candidate of all searches (by validation)
    retrain-s<seed>/           its retraining on all training images (resumable)
    results.json               rows (one per candidate of every search) and summary
    fitness.png, predictor.png best fitness per generation; the predictor's tau over time
"""

from __future__ import annotations

import functools
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, cast

import numpy as np

from ..configs import NasDrawRun, NasRecipe, NasSearchRun, NasTrainRun, identity
from ..data import Splits, load_dataset
from ..files import read_json, write_json
from ..nas.features import BASELINE_FEATURES, STRUCTURE_FEATURES
from ..nas.genotype import Genotype, depth, draw, from_json, genotype_hash, load, save
from ..nas.search import SearchConfig, search
from ..nas.train import Recipe, standardize, train_genotype
from ..predict import kendall_tau, prediction_tau
from ..progress import say
from ..runs import RunFolder
from .executor import run_tasks

__all__ = ["run_nas_search", "run_nas_train", "run_nas_draw", "search_name", "summarize"]


SHAPES = {"cifar10": (3, 32, 32), "digits": (1, 8, 8)}  # the MNIST family: 1 x 28 x 28


@functools.cache
def _data(dataset: str, data_dir: str | None) -> Splits:
    return standardize(load_dataset(dataset, data_dir))


def _shape(data: Splits) -> tuple[int, ...]:
    return tuple(data.train.x.shape[1:])


def _recipe(cfg: NasRecipe, **change: Any) -> Recipe:
    keep = {f.name for f in fields(Recipe)}
    return Recipe(**{**{k: v for k, v in asdict(cfg).items() if k in keep}, **change})


def _train_task(genotype: dict, recipe: dict, dataset: str, data_dir: str | None,
                device: str) -> dict:
    """One candidate's training (in a worker): its record."""
    data = _data(dataset, data_dir)
    g = from_json(genotype, _shape(data))
    _, record = train_genotype(g, data, Recipe(**recipe), seed=0, device=device)
    return record


def search_name(strategy: str, estimation: float, seed: int) -> str:
    return f"{strategy}-est{estimation:g}-s{seed}"


def _trainer(cfg: NasSearchRun, folder: Path):
    recipe = asdict(_recipe(cfg))
    cache = folder / "candidates"
    cache.mkdir(parents=True, exist_ok=True)

    def train(genotypes: list[Genotype]) -> list[dict]:
        from ..nas.genotype import to_json

        hashes = [genotype_hash(g) for g in genotypes]
        todo = [i for i, h in enumerate(hashes) if not (cache / f"{h}.json").is_file()]
        tasks = [{"genotype": to_json(genotypes[i]), "recipe": recipe, "dataset": cfg.dataset,
                  "data_dir": cfg.data_dir, "device": cfg.device} for i in todo]

        def done(k: int, record: dict) -> None:
            write_json(cache / f"{hashes[todo[k]]}.json", record)

        run_tasks(_train_task, tasks, workers=cfg.workers, ray_address=cfg.ray_address,
                  desc="candidates", on_result=done, progress=False)
        return [read_json(cache / f"{h}.json") for h in hashes]

    return train


def _search_config(cfg: NasSearchRun, strategy: str, estimation: float,
                   seed: int) -> SearchConfig:
    return SearchConfig(strategy=strategy, population=cfg.population,
                        candidates=cfg.candidates, mutation=cfg.mutation,
                        crossover=cfg.crossover, removal=cfg.removal,
                        selection=cfg.selection, estimation=estimation,
                        predictor=cfg.predictor, min_trained=cfg.min_trained,
                        depth=cfg.depth, random_depth=cfg.random_depth, seed=seed)


def run_nas_search(cfg: NasSearchRun) -> dict:
    """Every (strategy, estimation, seed) search, the summary, the winner retrained."""
    run = RunFolder(cast(str, cfg.out), {"experiment": "nas-search", **identity(cfg)},
                    defaults={"cutout": 0, "retrain_cutout": 0})
    folder = run.path
    data = _data(cfg.dataset, cfg.data_dir)
    shape = _shape(data)
    train = _trainer(cfg, folder)
    rows: list[dict] = []
    try:
        for seed in cfg.seeds:
            for strategy in cfg.strategies:
                for est in cfg.estimations:
                    name = search_name(strategy, est, seed)
                    out = folder / "searches" / f"{name}.json"
                    if not out.is_file():
                        say(f"search {name}")
                        found = search(_search_config(cfg, strategy, est, seed), train,
                                       shape, progress=True)
                        write_json(out, found)
                    rows += [{**r, "search": name} for r in read_json(out)]
        summary = summarize(rows, cfg)
        best = max((r for r in rows if r["trained"]), key=lambda r: (r["fitness"], r["hash"]))
        genotype = from_json(best["genotype"], shape)
        save(genotype, folder / "best_genotype.json")
        draw(genotype, folder / "best_genotype.png")
        retrains = []
        recipe = _recipe(cfg, epochs=cfg.retrain_epochs, train_images=0,
                         cutout=cfg.retrain_cutout, mirror=cfg.retrain_mirror)
        for seed in cfg.retrain_seeds if cfg.retrain_epochs else []:
            retrains.append(_retrain(recipe, genotype, data, folder / f"retrain-s{seed}", seed,
                                     cfg.device))
        summary.update(best_hash=best["hash"], best_search=best["search"],
                       best_fitness=best["fitness"], best_depth=depth(genotype),
                       best_params=best["params"], retrains=retrains)
        if retrains:
            accs = [r["test_accuracy"] for r in retrains]
            summary.update(best_retrained_test_accuracy=accs[0],
                           retrain_spread=max(accs) - min(accs))
        run.write_results({"experiment": "nas-search", "dataset": cfg.dataset,
                           "data_note": data.note, "summary": summary, "rows": rows},
                          indent=None)  # one row per candidate: megabytes when indented
        from .nas_plots import plot_fitness, plot_predictor

        plot_fitness(rows, folder / "fitness.png", cfg.dataset)
        plot_predictor(summary, folder / "predictor.png", cfg.dataset)
    finally:
        run.add_time()
    return summary


def _retrain(recipe: Recipe, genotype: Genotype, data: Splits, folder: Path, seed: int,
             device: str) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    result = folder / "results.json"
    if result.is_file():
        done = read_json(result)
        if done.get("recipe") == asdict(recipe):
            return done
        # trained under another evaluation (mirror): the checkpoint holds every epoch, so
        # train_genotype only evaluates again
        say(f"{folder}: evaluating again, mirror {recipe.mirror}")
    else:
        say(f"retraining the best genotype, seed {seed}: {recipe.epochs} epochs on "
            f"{len(data.train)} images")
    model, record = train_genotype(genotype, data, recipe, seed=seed, device=device,
                                   checkpoint=folder / "checkpoint.pt",
                                   log=folder / "metrics.jsonl", progress=True)
    record["seed"] = seed
    write_json(result, record)
    return record


def _best_per_search(rows: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for r in rows:
        if r["trained"] and (r["search"] not in out or r["fitness"] > out[r["search"]]["fitness"]):
            out[r["search"]] = r
    return out


def _unique_trained(rows: list[dict]) -> list[dict]:
    seen: dict[str, dict] = {}
    for r in rows:
        if r["trained"]:
            seen.setdefault(r["hash"], r)
    return list(seen.values())


def summarize(rows: list[dict], cfg: NasSearchRun) -> dict:
    """Best of each search at its budget, trainings saved by prediction, the predictor's
    Kendall tau (held-out splits, and online on each generation's new candidates)."""
    best = _best_per_search(rows)
    trainings = {s: sum(1 for r in rows if r["search"] == s and r.get("new_training"))
                 for s in best}
    table: list[dict[str, Any]] = []
    for strategy in cfg.strategies:
        for est in cfg.estimations:
            names = [search_name(strategy, est, s) for s in cfg.seeds]
            table.append({
                "strategy": strategy, "estimation": est, "seeds": len(names),
                "best_val": float(np.mean([best[n]["fitness"] for n in names])),
                "best_test": float(np.mean([best[n]["test_accuracy"] for n in names])),
                "best_test_std": float(np.std([best[n]["test_accuracy"] for n in names],
                                              ddof=1)) if len(names) > 1 else 0.0,
                "trainings": float(np.mean([trainings[n] for n in names])),
                "candidates": cfg.candidates})
    summary: dict[str, Any] = {"searches": table}
    by = {(t["strategy"], t["estimation"]): t for t in table}
    if ("genetic", 0.0) in by:
        summary["genetic_best"] = by[("genetic", 0.0)]["best_test"]
        summary["genetic_best_val"] = by[("genetic", 0.0)]["best_val"]
    if ("random", 0.0) in by:
        summary["random_best"] = by[("random", 0.0)]["best_test"]
        summary["random_best_val"] = by[("random", 0.0)]["best_val"]
    predicted = [e for e in cfg.estimations if e > 0]
    if predicted and ("genetic", 0.0) in by and ("genetic", predicted[0]) in by:
        full, half = by[("genetic", 0.0)], by[("genetic", predicted[0])]
        summary["trainings_saved"] = 1.0 - half["trainings"] / full["trainings"]
        summary["prediction_val_loss"] = full["best_val"] - half["best_val"]
        summary["prediction_test_loss"] = full["best_test"] - half["best_test"]
    unique = _unique_trained(rows)
    if len(unique) >= 10:
        feats = prediction_tau(unique, list(STRUCTURE_FEATURES), "fitness", cfg.predictor)
        base = prediction_tau(unique, list(BASELINE_FEATURES), "fitness", cfg.predictor)
        summary.update(tau_features=feats["mean"], tau_features_std=feats["std"],
                       r2_features=feats["r2_mean"], tau_params=base["mean"],
                       tau_params_std=base["std"], r2_params=base["r2_mean"],
                       tau_params_raw=kendall_tau([r["params"] for r in unique],
                                                  [r["fitness"] for r in unique]),
                       trained_candidates=len(unique))
    summary["online"] = _online_tau(rows)
    return summary


def _online_tau(rows: list[dict]) -> list[dict]:
    """Per generation (over all searches and seeds): Kendall tau and R² of the predictor
    refitted on the earlier generations against the trained fitness of the generation's new
    candidates, for the structural features and the parameter / MAC baseline."""
    from sklearn.metrics import r2_score

    out = []
    for g in sorted({r["generation"] for r in rows}):
        rs = [r for r in rows if r["generation"] == g and r["trained"]
              and r["predicted"] is not None and r["estimation"] == 0]
        if len(rs) >= 5:
            fit = [r["fitness"] for r in rs]
            out.append({"generation": g, "n": len(rs),
                        "tau_features": kendall_tau([r["predicted"] for r in rs], fit),
                        "tau_params": kendall_tau([r["predicted_baseline"] for r in rs], fit),
                        "r2_features": float(r2_score(fit, [r["predicted"] for r in rs])),
                        "r2_params": float(r2_score(fit, [r["predicted_baseline"]
                                                          for r in rs]))})
    return out


def run_nas_train(cfg: NasTrainRun) -> dict:
    """Train a genotype file on all training images; its record (test reported only)."""
    genotype = load(cfg.genotype, SHAPES.get(cfg.dataset, (1, 28, 28)))  # before any data
    data = _data(cfg.dataset, cfg.data_dir)
    run = RunFolder(cast(str, cfg.out), {"experiment": "nas-train", **identity(cfg),
                              "genotype_hash": genotype_hash(genotype)},
                    defaults={"cutout": 0})
    try:
        record = _retrain(_recipe(cfg), genotype, data, run.path, cfg.seed,
                          cfg.device)
        save(genotype, run.path / "genotype.json")
        run.write_results({"experiment": "nas-train", "dataset": cfg.dataset,
                           "data_note": data.note, "genotype_hash": genotype_hash(genotype),
                           **record})
    finally:
        run.add_time()
    return record


def run_nas_draw(cfg: NasDrawRun) -> dict:
    """Draw a genotype file; its depth, vertices, parameters and multiply-accumulates."""
    from ..nas.compile import count_params, flops

    shape = SHAPES.get(cfg.dataset, (1, 28, 28))
    genotype = load(cfg.genotype, shape)
    out = Path(str(cfg.out))
    out.mkdir(parents=True, exist_ok=True)
    draw(genotype, out / "genotype.png")
    info = {"genotype_hash": genotype_hash(genotype), "depth": depth(genotype),
            "vertices": genotype.number_of_nodes(), "edges": genotype.number_of_edges(),
            "params": count_params(genotype, shape), "flops": flops(genotype, shape)}
    write_json(out / "genotype.json", info)
    return info
