"""Seconds per NAS candidate on this machine, beside the compute limit of its convolutions.

    python benchmarks/nas_candidate.py [--data-dir ../shared/data] [--candidates 6]

Trains random genotypes of the genetic search's depth range (6-12) by the candidate recipe
of results/nas-cifar10-subset (2 epochs on 4 000 images, batch 128, flips and translations)
on the CIFAR-10 subset (the embedded digits when it is absent) with every core, one candidate
at a time. For each candidate the limit is its floating-point work (3 x 2 x multiply-adds per
trained image for forward and backward, 2 x per evaluated image) over the best rate a dense
3x3 convolution (forward and backward, batch 128) reaches on this machine, measured first.
Last line: ``seconds=<median per candidate> limit=<median limit> ratio=<median ratio>``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

from rewire.data import DataError, load_dataset
from rewire.nas import flops, random_genotype
from rewire.nas.train import Recipe, standardize, train_genotype


def conv_peak(seconds: float = 1.0) -> float:
    """FLOP/s of the fastest of a few dense 3x3 convolutions, forward and backward."""
    best = 0.0
    for c, hw in ((32, 16), (64, 16), (128, 8), (64, 8)):
        x = torch.randn(128, c, hw, hw, requires_grad=True)
        w = torch.randn(c, c, 3, 3, requires_grad=True)
        work = 3 * 2 * 128 * c * c * 9 * hw * hw
        for _ in range(2):  # warm up
            F.conv2d(x, w, padding=1).sum().backward()
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            F.conv2d(x, w, padding=1).sum().backward()
            n += 1
        best = max(best, n * work / (time.perf_counter() - t0))
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--candidates", type=int, default=6)
    args = ap.parse_args()
    try:
        data, name = load_dataset("cifar10", args.data_dir, download=False), "CIFAR-10 subset"
    except (DataError, OSError, ValueError):
        data, name = load_dataset("digits"), "digits (no CIFAR-10 subset found)"
    data = standardize(data)
    shape = tuple(data.train.x.shape[1:])
    recipe = Recipe(epochs=2, train_images=4000)
    trained = min(recipe.train_images, len(data.train)) * recipe.epochs
    evaluated = len(data.val) * (recipe.epochs + 1) + len(data.test)
    peak = conv_peak()
    print(f"{name}, {torch.get_num_threads()} threads; dense 3x3 convolution peak "
          f"{peak / 1e9:.1f} GFLOP/s (forward + backward)")
    rng = np.random.default_rng(0)
    secs, limits = [], []
    for k in range(args.candidates):
        g = random_genotype(rng, (6, 12), shape)
        macs = flops(g, shape, data.num_classes)
        work = 6 * macs * trained + 2 * macs * evaluated
        t0 = time.perf_counter()
        train_genotype(g, data, recipe, seed=0)
        s = time.perf_counter() - t0
        secs.append(s)
        limits.append(work / peak)
        print(f"candidate {k}: {macs / 1e6:6.1f} M MACs/image, {s:6.1f} s, limit "
              f"{work / peak:5.1f} s ({s / (work / peak):4.1f}x the limit; "
              f"{work / s / 1e9:5.1f} GFLOP/s)")
    ratios = [s / lim for s, lim in zip(secs, limits)]
    print(f"seconds={statistics.median(secs):.1f} limit={statistics.median(limits):.1f} "
          f"ratio={statistics.median(ratios):.1f}")


if __name__ == "__main__":
    main()
