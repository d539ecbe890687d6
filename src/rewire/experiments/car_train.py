"""``rewire car train``: a sparse ternary car CNN from demonstrations, then DAgger.

Round 0 is p-SIREN on the demonstrations (``OUT/round0/``, a ``rewire siren`` run folder).
Each DAgger round then lets the current ternary network drive ``episodes`` training tracks
while the expert labels every frame it sees (``OUT/dagger/round<r>/seed<s>/``, in parallel
workers), and trains step 4 of p-SIREN again (masks fixed, signs move) on the
demonstrations and every DAgger frame so far (``OUT/round<r>/``). Validation (the expert's
held-out episodes) picks the best epoch; test accuracy is only reported. The last round's
network is ``OUT/model.pt`` and ``OUT/model.rwt``; every step resumes from its files.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import torch

from ..configs import CarTrainRun, identity
from ..data import Split, load_dataset
from ..data.demos import demos_folder, read_demos
from ..files import atomic_torch_save, read_json, write_json
from ..progress import say
from ..runs import RunFolder, write_summary
from ..sparse import is_ternary, sparsity, sparsity_report
from ..sparse.export import save_packed
from ..train import evaluate, fit
from .engine import Stage, Task, run_stage
from .siren_run import run_siren

__all__ = ["run_car_train", "dagger_seeds"]


def _dagger_task(folder: str, model: str, seed: int, three_actions: bool,
                 max_steps: int) -> dict:
    from ..car import NetworkPolicy, record_episode
    from ..models import load_model

    driver = NetworkPolicy(load_model(model))
    entry = record_episode(seed, Path(folder) / "episode.npz", three_actions, max_steps,
                           driver=driver)
    rel = Path(folder).relative_to(Path(folder).parents[1])
    return {**entry, "split": "train", "file": f"{rel.as_posix()}/episode.npz"}


def dagger_seeds(out) -> list[int]:
    """The track seeds a ``car train`` run folder's DAgger rounds drove (none before)."""
    index = Path(out) / "dagger" / "index.json"
    return [e["seed"] for e in read_json(index)["episodes"]] if index.is_file() else []


def _save(model, folder: Path, record: dict) -> None:
    atomic_torch_save({"spec": model.rewire_spec, "state_dict": model.state_dict()},
                      folder / "model.pt")
    save_packed(model, folder / "model.rwt")
    write_json(folder / "results.json", record)


def _accuracies(model, data, device: str = "cpu") -> dict:
    return {"val_accuracy": evaluate(model, data.val, device=device)["accuracy"],
            "test_accuracy": evaluate(model, data.test, device=device)["accuracy"]}


def run_car_train(cfg: CarTrainRun) -> dict:
    from ..car import make_env
    from ..models import load_model

    make_env().close()  # gymnasium and Box2D are there, before any folder
    data = load_dataset("carracing", cfg.demos, download=False, limit=cfg.limit)
    three = data.num_classes == 3
    classes = read_json(demos_folder(cfg.demos) / "index.json")["classes"]
    out = Path(cast(str, cfg.out))  # --out is required
    run = RunFolder(out, {"experiment": "car-train", **identity(cfg)})
    try:
        first = run_siren(cfg.siren(), out / "round0", data=data)
        rounds = [{"round": 0, "train_frames": len(data.train),
                   **{k: first[k] for k in ("val_accuracy", "test_accuracy")}}]
        model_file, episodes = out / "round0" / "model.pt", []
        for r in range(1, cfg.rounds + 1):
            seeds = range(cfg.seeds_from + (r - 1) * cfg.episodes,
                          cfg.seeds_from + r * cfg.episodes)
            stage = Stage(f"dagger/round{r}", _dagger_task,
                          [Task(f"seed{s}", {"model": str(model_file.resolve()), "seed": s,
                                             "three_actions": three,
                                             "max_steps": cfg.max_steps}) for s in seeds],
                          f"DAgger round {r}: the network drives")
            new = run_stage(stage, out, cfg.workers, cfg.ray_address)
            rounds[-1]["driven_mean_return"] = sum(e["return"] for e in new) / len(new)
            episodes += new
            write_json(out / "dagger" / "index.json",
                       {"classes": classes, "episodes": episodes})
            folder = out / f"round{r}"
            folder.mkdir(exist_ok=True)
            if (folder / "results.json").is_file():
                rounds.append(read_json(folder / "results.json"))
            else:
                rounds.append(_dagger_round(cfg, r, model_file, data, out, folder, run))
            model_file = folder / "model.pt"
        model = load_model(model_file)
        assert is_ternary(model)
    finally:
        run.add_time()
    results = {"experiment": "car-train", "seed": cfg.seed, "target_sparsity": cfg.sparsity,
               "sparsity": sparsity(model), **rounds[-1], "rounds": rounds,
               "dagger_seeds": [e["seed"] for e in episodes],
               "layers": sparsity_report(model), "data_note": data.note}
    results.pop("round")
    atomic_torch_save({"spec": model.rewire_spec, "state_dict": model.state_dict()},
                      out / "model.pt")
    save_packed(model, out / "model.rwt")
    write_summary(out, results, rounds_table(rounds))
    return results


def _dagger_round(cfg, r, model_file, data, out, folder, run) -> dict:
    from ..models import load_model

    extra = read_demos(out / "dagger", splits=("train",))["train"]
    x = torch.cat([data.train.x, torch.from_numpy(extra[0])])
    y = torch.cat([data.train.y, torch.from_numpy(extra[1])])
    say(f"DAgger round {r}: step 4 again on {len(data.train)} demonstration and "
        f"{len(extra[1])} DAgger frames")
    model = load_model(model_file)
    fit(model, Split(x, y), data.val, epochs=cfg.epochs[3], lr=cfg.ternary_lr,
        batch_size=cfg.batch_size, keep_best=True, seed=cfg.seed, stage=f"dagger{r}",
        checkpoint=folder / "step4_ternary.pt", log=run.metrics, device=cfg.device)
    record = {"round": r, "train_frames": len(y), **_accuracies(model, data, cfg.device)}
    model.cpu()
    say(f"[round {r}] val {record['val_accuracy']:.4f} test {record['test_accuracy']:.4f}")
    _save(model, folder, record)
    return record


def rounds_table(rounds: list[dict]) -> str:
    lines = ["| round | training frames | val accuracy | test accuracy | its mean return "
             "driving the next round's tracks |", "|---:|---:|---:|---:|---:|"]
    for r in rounds:
        ret = r.get("driven_mean_return")
        lines.append(f"| {r['round']} | {r['train_frames']} | {100 * r['val_accuracy']:.2f} | "
                     f"{100 * r['test_accuracy']:.2f} | "
                     f"{'' if ret is None else f'{ret:.1f}'} |")
    return "\n".join(lines) + "\n"
