"""Cost of masks and ternary weights on a training step, and size of the packed export.

    python benchmarks/sparse_overhead.py [--quick]

Measures, in one run, training steps per second of the AANN MNIST CNN (batch 64, 28x28) as a
plain torch model, with masks (90% sparse) and ternarized, and the packed size against the
float32 state_dict. Last line: ``masked=<step time ratio> ternary=<ratio> packed=<x smaller>``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from rewire.models import create_model
from rewire.prune import magnitude
from rewire.sparse import save_packed, ternarize


def steps_per_second(model, x, y, seconds: float) -> float:
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    for _ in range(3):  # warm-up
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
        n += 1
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="about 10 seconds")
    args = ap.parse_args()
    seconds = 2.0 if args.quick else 10.0
    torch.manual_seed(0)
    x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
    plain = create_model("aann-mnist-cnn")
    masked = create_model("aann-mnist-cnn")
    magnitude(masked, 0.9)
    ternary = ternarize(create_model("aann-mnist-cnn"))
    magnitude(ternary, 0.9)
    rates = {name: steps_per_second(m, x, y, seconds)
             for name, m in [("plain", plain), ("masked", masked), ("ternary", ternary)]}
    for name, r in rates.items():
        print(f"{name:>8}: {r:7.1f} steps/s ({64 * r:8.0f} images/s)")
    with tempfile.TemporaryDirectory() as d:
        sizes = save_packed(ternary, Path(d) / "m.rwt")
    packed = sizes["float32_bytes"] / sizes["packed_bytes"]
    print(f"packed {sizes['packed_bytes']} bytes, float32 state_dict {sizes['float32_bytes']}")
    print(f"masked={rates['plain'] / rates['masked']:.2f} "
          f"ternary={rates['plain'] / rates['ternary']:.2f} packed={packed:.1f}")


if __name__ == "__main__":
    main()
