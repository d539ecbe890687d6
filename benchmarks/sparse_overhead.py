"""Cost of masks and ternary weights on a training step, and size of the packed export.

    python benchmarks/sparse_overhead.py [--quick] [--data-dir ../shared/data]

Trains three copies of the AANN MNIST CNN (batch 64) side by side on real MNIST batches: a
plain torch model, a 90%-masked one, and a ternary one made as p-SIREN makes it (magnitude
masks first, then ternarize). The steps are interleaved, one step of each model in turn on
the same batch, so a change in the machine's load hits all three alike; each model's time is
the median over its steps. Without MNIST (no data folder) the embedded digits, resized to
28x28, stand in. Last line: ``masked=<step time ratio> ternary=<ratio> packed=<x smaller>``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from rewire.data import DataError, load_dataset
from rewire.models import create_model
from rewire.prune import magnitude
from rewire.sparse import save_packed, ternarize


def batches(data_dir: str | None, n: int, batch: int = 64):
    """``n`` real training batches: MNIST, or the digits resized to 28x28."""
    try:
        train = load_dataset("mnist", data_dir, download=False).train
        source = "MNIST"
    except (DataError, OSError, ValueError):
        d = load_dataset("digits").train
        train = type(d)(F.interpolate(d.x, size=(28, 28), mode="bilinear"), d.y)
        source = "digits resized to 28x28 (no MNIST found)"
    gen = torch.Generator().manual_seed(0)
    idx = torch.randint(0, len(train), (n, batch), generator=gen)
    return [(train.x[i], train.y[i]) for i in idx], source


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="60 steps of each model")
    ap.add_argument("--data-dir", default=None, help="folder with mnist/ (default: "
                    "$REWIRE_DATA or the download cache)")
    args = ap.parse_args()
    steps = 60 if args.quick else 400
    data, source = batches(args.data_dir, steps + 5)
    torch.manual_seed(0)
    plain = create_model("aann-mnist-cnn")
    masked = create_model("aann-mnist-cnn")
    magnitude(masked, 0.9)
    ternary = create_model("aann-mnist-cnn")
    magnitude(ternary, 0.9)  # masks from the float weights, then signs: as p-SIREN does
    ternarize(ternary)
    models = {"plain": plain, "masked": masked, "ternary": ternary}
    opts = {k: torch.optim.Adam(m.parameters(), 1e-3) for k, m in models.items()}
    times: dict[str, list[float]] = {k: [] for k in models}
    for s, (x, y) in enumerate(data):
        for k, m in models.items():
            t0 = time.perf_counter()
            opts[k].zero_grad()
            F.cross_entropy(m(x), y).backward()
            opts[k].step()
            if s >= 5:  # the first steps warm up
                times[k].append(time.perf_counter() - t0)
    print(f"{steps} interleaved training steps per model, batch 64, on {source}, "
          f"{torch.get_num_threads()} threads")
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, t in med.items():
        print(f"{k:>8}: {1e3 * t:7.2f} ms/step median ({64 / t:8.0f} images/s)")
    with tempfile.TemporaryDirectory() as d:
        sizes = save_packed(ternary, Path(d) / "m.rwt")
    packed = sizes["float32_bytes"] / sizes["packed_bytes"]
    print(f"packed {sizes['packed_bytes']} bytes, float32 state_dict {sizes['float32_bytes']}")
    print(f"masked={med['masked'] / med['plain']:.2f} "
          f"ternary={med['ternary'] / med['plain']:.2f} packed={packed:.1f}")


if __name__ == "__main__":
    main()
