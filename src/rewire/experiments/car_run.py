"""CarRacing experiments: the scripted expert's closed-loop returns (``rewire car expert``).

Every (policy, track seed) episode is one task of the engine, so an interrupted evaluation
resumes where it stopped and its episodes run in parallel workers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..configs import CarDriveRun, CarExpertRun, CarRecordRun, identity
from ..files import read_json, write_json
from ..runs import write_summary
from .engine import Stage, Sweep, Task, run_sweep
from .tables import sample_std

__all__ = ["run_expert", "expert_sweep", "run_record", "record_sweep", "run_drive",
           "drive_sweep", "drive_episode", "training_seeds", "summarize_returns"]


def _expert_episode(folder: str, seed: int, three_actions: bool, max_steps: int) -> dict:
    from ..car import Expert, run_episode

    return run_episode(Expert(three_actions=three_actions), seed, max_steps).record()


def expert_sweep(cfg: CarExpertRun) -> Sweep:
    seeds = range(cfg.seeds_from, cfg.seeds_from + cfg.seeds)
    stages = [Stage(name, _expert_episode,
                    [Task(f"seed{s}", {"seed": s, "three_actions": three,
                                       "max_steps": cfg.max_steps}) for s in seeds],
                    f"expert ({name.replace('-', ' ')})")
              for name, three in (("five-actions", False), ("three-actions", True))]

    def summary(results, out: Path) -> dict:
        s = {**summarize_returns(results[0]), "three_action": summarize_returns(results[1])}
        write_summary(out, s, returns_table({"expert, 5 actions": s,
                                             "expert, 3 actions (left, right, gas)":
                                             s["three_action"]}))
        plot_returns({"5 actions": results[0], "3 actions": results[1]},
                     out / "returns.png", "the scripted expert on held-out tracks")
        return s

    return Sweep("car-expert", cfg, stages, summary)


def run_expert(cfg: CarExpertRun) -> dict:
    from ..car import make_env

    make_env().close()  # gymnasium and Box2D are there, before any folder
    return run_sweep(expert_sweep(cfg), cfg.out, cfg.workers, cfg.ray_address)


def _record_task(folder: str, seed: int, three_actions: bool, max_steps: int) -> dict:
    from ..car import record_episode

    entry = record_episode(seed, Path(folder) / "episode.npz", three_actions, max_steps)
    return {**entry, "file": f"episodes/{Path(folder).name}/episode.npz"}


def record_sweep(cfg: CarRecordRun) -> Sweep:
    """One task per episode; the summary is the dataset's ``index.json``."""
    from ..car import ACTIONS, THREE_ACTIONS

    seeds = range(cfg.seeds_from, cfg.seeds_from + cfg.episodes)
    tasks = [Task(f"seed{s}", {"seed": s, "three_actions": cfg.actions == 3,
                               "max_steps": cfg.max_steps}) for s in seeds]
    classes = [ACTIONS[a] for a in (THREE_ACTIONS if cfg.actions == 3 else range(5))]

    def summary(results, out: Path) -> dict:
        write_json(out / "index.json", {"classes": classes, "episodes": results[0]})
        rows = {}
        for split in ("train", "val", "test"):
            eps = [e for e in results[0] if e["split"] == split]
            rows[split] = {"episodes": len(eps), "frames": sum(e["frames"] for e in eps),
                           "mean_return": float(np.mean([e["return"] for e in eps]))
                           if eps else None}
        s = {"classes": classes, "splits": rows}
        write_summary(out, s, "| split | episodes | frames | mean expert return |\n"
                      "|---|---:|---:|---:|\n" + "".join(
                          f"| {k} | {v['episodes']} | {v['frames']} | "
                          f"{v['mean_return'] or 0:.1f} |\n" for k, v in rows.items()))
        return s

    return Sweep("car-record", cfg, [Stage("episodes", _record_task, tasks, "episodes")],
                 summary)


def run_record(cfg: CarRecordRun) -> dict:
    from ..car import make_env

    make_env().close()  # gymnasium and Box2D are there, before any folder
    return run_sweep(record_sweep(cfg), cfg.out, cfg.workers, cfg.ray_address)


def drive_episode(folder: str, model: str, seed: int, max_steps: int) -> dict:
    """One closed-loop episode of a saved model (an engine task: ``folder`` is unused)."""
    from ..car import NetworkPolicy, run_episode
    from ..models import load_model

    return run_episode(NetworkPolicy(load_model(model)), seed, max_steps).record()


def training_seeds(cfg: CarDriveRun) -> list[int]:
    """The track seeds of the demonstrations behind the model: ``--demos``, else the data
    folder named in the ``config.json`` beside the model, and the tracks of a ``car train``
    run's DAgger rounds (none when nothing is known)."""
    from ..data.demos import demos_folder
    from .car_train import dagger_seeds

    demos, extra = cfg.demos, []
    beside = Path(cfg.model).parent / "config.json"
    if beside.is_file():
        run = read_json(beside)
        if run.get("experiment") == "car-train":
            demos, extra = demos or run["demos"], dagger_seeds(beside.parent)
        elif run.get("dataset") == "carracing":
            demos = demos or run.get("data_dir")
    if demos is None:
        return extra
    index = read_json(demos_folder(demos) / "index.json")
    return [e["seed"] for e in index["episodes"]] + extra


def drive_sweep(cfg: CarDriveRun) -> Sweep:
    seeds = range(cfg.seeds_from, cfg.seeds_from + cfg.seeds)
    model = str(Path(cfg.model).resolve())
    tasks = [Task(f"seed{s}", {"model": model, "seed": s, "max_steps": cfg.max_steps})
             for s in seeds]

    def summary(results, out: Path) -> dict:
        s = {"model": cfg.model, **summarize_returns(results[0])}
        write_summary(out, s, returns_table({Path(cfg.model).name: s}))
        plot_returns({Path(cfg.model).name: results[0]}, out / "returns.png",
                     f"{Path(cfg.model).name} on held-out tracks")
        return s

    return Sweep("car-drive", {**identity(cfg), "model": model}, [
        Stage("episodes", drive_episode, tasks, "driving")], summary)


def run_drive(cfg: CarDriveRun) -> dict:
    from ..car import NetworkPolicy, check_seeds, make_env
    from ..models import load_model

    make_env().close()  # gymnasium and Box2D are there, before any folder
    NetworkPolicy(load_model(cfg.model))  # a model that fits the task, before any folder
    check_seeds(training_seeds(cfg), range(cfg.seeds_from, cfg.seeds_from + cfg.seeds))
    s = run_sweep(drive_sweep(cfg), cfg.out, cfg.workers, cfg.ray_address)
    if cfg.video:
        write_video(cfg.model, cfg.seeds_from, cfg.max_steps, cfg.video)
    return s


def write_video(model: str, seed: int, max_steps: int, path) -> None:
    """The model's drive on track ``seed`` as a GIF or mp4 (imageio; mp4 needs ffmpeg)."""
    try:
        import imageio.v3 as iio
    except ImportError:
        raise ImportError("--video needs imageio: pip install 'rewire[car]'") from None
    from ..car import NetworkPolicy, run_episode
    from ..models import load_model

    frames: list = []
    run_episode(NetworkPolicy(load_model(model)), seed, max_steps, frames=frames)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    if str(path).endswith(".gif"):
        iio.imwrite(path, np.stack(frames[::2]), duration=40, loop=0)
    else:
        iio.imwrite(path, np.stack(frames), fps=50)


def summarize_returns(episodes: list[dict]) -> dict:
    """Mean, sample std and min return, laps completed, and every episode."""
    r = np.array([e["total_return"] for e in episodes])
    return {"episodes": len(r), "mean_return": float(r.mean()), "std_return": sample_std(r),
            "min_return": float(r.min()), "laps": int(sum(e["lap"] for e in episodes)),
            "returns": [float(v) for v in r], "per_seed": episodes}


def returns_table(rows: dict[str, dict]) -> str:
    lines = ["| policy | episodes | mean return | sample std | min | laps completed |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, s in rows.items():
        lines.append(f"| {name} | {s['episodes']} | {s['mean_return']:.1f} | "
                     f"{s['std_return']:.1f} | {s['min_return']:.1f} | "
                     f"{s['laps']} / {s['episodes']} |")
    return "\n".join(lines) + "\n"


def plot_returns(series: dict[str, list[dict]], path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.8))
    for i, (name, eps) in enumerate(series.items()):
        r = sorted(e["total_return"] for e in eps)
        ax.plot(range(1, len(r) + 1), r, "o-", ms=3, color=f"C{i}",
                label=f"{name}: mean {np.mean(r):.0f}")
    ax.axhline(900, color="gray", ls="--", lw=1, label="'solved' (900)")
    ax.set_xlabel("track (sorted by return)")
    ax.set_ylabel("episode return")
    ax.set_title(f"CarRacing-v3: {title}")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
