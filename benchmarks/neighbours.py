"""Neighbours scored per second: full forward pass against the delta path, per layer.

    python benchmarks/neighbours.py [--quick] [--data-dir ../shared/data] [--model model.pt]

The AANN MNIST CNN at 90% sparsity (a random ternary wiring, or ``--model``), 10 000
evaluation images (the MNIST test set when a data folder has it). The full path is what the
paper does for every neighbour: write the wiring into the float32 model and run the images
through it. The delta path is ``AANNEvaluator.score_swaps``. Both are timed in this one run;
the last line is ``fc=<ratio> conv2=<ratio> conv1=<ratio>``.
"""

from __future__ import annotations

import argparse
import time

import torch

from rewire.models import create_model
from rewire.search import AANNEvaluator, apply_swap, sample_swaps
from rewire.sparse import random_wiring, read_wiring, ternarize, write_wiring
from rewire.train import predict


def images(data_dir, n):
    try:
        from rewire.data import load_dataset

        d = load_dataset("mnist", data_dir, download=False)
        return d.test.x[:n], d.test.y[:n], "MNIST test"
    except Exception as exc:  # no data folder: synthetic images of the same shape
        print(f"(no MNIST: {exc}; timing on uniform random images)")
        g = torch.Generator().manual_seed(0)
        return torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g), \
            "random images"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer neighbours, under a minute")
    ap.add_argument("--data-dir", default="../shared/data")
    ap.add_argument("--model", help="a p-SIREN model.pt to start from (default: random)")
    ap.add_argument("--images", type=int, default=10_000)
    ap.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    x, y, source = images(args.data_dir, args.images)
    model = ternarize(create_model("aann-mnist-cnn"))
    if args.model:
        model.load_state_dict(torch.load(args.model, weights_only=False)["state_dict"])
        wiring = read_wiring(model)
    else:
        wiring = random_wiring(model, 0.9, seed=0)
        write_wiring(model, wiring)
    print(f"{len(y)} {source}, sparsity {wiring.sparsity:.3f}, "
          f"threads {torch.get_num_threads()}")
    g = torch.Generator().manual_seed(0)

    # full path: per neighbour, write the wiring into the model and run every image
    n_full = 2 if args.quick else 5
    t = time.perf_counter()
    for i in range(n_full):
        nb = wiring.clone()
        layer = ["fc.weight", "conv2.weight", "conv1.weight"][i % 3]
        apply_swap(nb[layer], sample_swaps(nb[layer], 1, g)[0])
        write_wiring(model, nb)
        (predict(model, x).argmax(1) == y).float().mean()
    full = (time.perf_counter() - t) / n_full
    print(f"full forward: {1 / full:10.2f} neighbours/s ({full * 1e3:.0f} ms each)")

    t = time.perf_counter()
    ev = AANNEvaluator(wiring, x, y)
    print(f"delta evaluator set-up (one exact full forward, {ev.dtype}, inputs x{ev.scale:g}): "
          f"{time.perf_counter() - t:.1f}s")
    counts = {"fc.weight": 2000 if args.quick else 20000,
              "conv2.weight": 8 if args.quick else 64,
              "conv1.weight": 2 if args.quick else 12}
    ratios = {}
    for layer, k in counts.items():
        swaps = sample_swaps(ev.w[layer], k, g)
        ev.score_swaps(layer, swaps[:1])  # warm-up
        t = time.perf_counter()
        ev.score_swaps(layer, swaps)
        per = (time.perf_counter() - t) / k
        ratios[layer.split(".")[0]] = full / per
        print(f"delta {layer:13}: {1 / per:10.1f} neighbours/s "
              f"({per * 1e3:.3f} ms each, {full / per:,.0f}x full)")
    print(" ".join(f"{k}={v:.0f}" for k, v in ratios.items()))


if __name__ == "__main__":
    main()
