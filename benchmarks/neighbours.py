"""Neighbours scored per second: full forward pass against the delta path, per layer.

    python benchmarks/neighbours.py [--model mnist|car|mlp] [--quick] [--data-dir DIR]
                                    [--device cpu|cuda] [--images N]

A random ternary wiring at 90% sparsity of the AANN MNIST CNN (default), the AANN car CNN
(96 x 96 frames) or LeNet-300-100, on real MNIST images when the data folder has them
(random pixels for the car CNN until demonstrations are recorded). The full path is what the
paper does for every neighbour: write the wiring into the float32 model and run every image
through it. The delta path is ``DeltaEvaluator.score_swaps``. Both are timed in this one run.

Beside each measured ratio, the ratio at the *physical limit*: the multiply-adds of a full
forward over the live (nonzero) weights, divided by those a swap must redo: the one or two
output channels of its layer, the live weights of the next layer that read them, and every
live weight after that (which the change reaches in general). The delta path can beat it on
the last layer, where it skips images the swap cannot move across the margin clamp.

For the MNIST CNN the last line is ``fc=<ratio> conv2=<ratio> conv1=<ratio>``.
"""

from __future__ import annotations

import argparse
import math
import time

import torch

from rewire.models import create_model
from rewire.search import apply_swap, make_evaluator, max_neighbours, sample_swaps
from rewire.sparse import random_wiring, ternarize, write_wiring
from rewire.train import predict

MODELS = {  # name: (registry name, input shape, classes, options, images)
    "mnist": ("aann-mnist-cnn", (1, 28, 28), 10, {}, 10_000),
    "car": ("car-cnn", (1, 96, 96), 3, {}, 2_000),
    "mlp": ("lenet-300-100", (1, 28, 28), 10, {"bias": False}, 10_000),
}
COUNTS = {"last": (20_000, 2_000), "hidden": (2_000, 200), "linear": (100, 20),
          "conv-flat": (64, 8), "conv": (12, 2)}  # candidates timed per layer kind (full, --quick)


def images(model, data_dir, n):
    shape = MODELS[model][1]
    if model != "car":
        try:
            from rewire.data import load_dataset

            d = load_dataset("mnist", data_dir, download=False)
            return d.test.x[:n], d.test.y[:n], "MNIST test images"
        except Exception as exc:  # no data folder: random pixels of the same shape
            print(f"(no MNIST: {exc})")
    g = torch.Generator().manual_seed(0)
    return (torch.randint(0, 256, (n, *shape), generator=g) / 255.0,
            torch.randint(0, MODELS[model][2], (n,), generator=g), "random pixel images")


def limit_ratios(ev) -> dict[str, float]:
    """Full-forward live multiply-adds / multiply-adds a swap must redo, per layer."""
    n = len(ev)
    spatial = [math.prod(z.shape[1:-1]) for z in ev.z]  # output positions per channel
    live = [int((b.weight != 0).sum()) for b in ev.blocks]
    full = n * sum(lv * sp for lv, sp in zip(live, spatial))
    out = {}
    for i, b in enumerate(ev.blocks):
        redo = 2 * n * spatial[i]
        if i + 1 < len(ev.blocks):
            chans = b.weight.shape[0]
            redo += n * live[i + 1] * spatial[i + 1] * 2 / chans  # reads 2 of `chans`
            redo += n * sum(lv * sp for lv, sp in zip(live[i + 2:], spatial[i + 2:]))
        out[b.name] = full / redo
    return out


def kind(ev, i):
    b = ev.blocks[i]
    if i == len(ev.blocks) - 1:
        return "last"
    if b.kind == "linear":
        return "hidden" if i == len(ev.blocks) - 2 else "linear"
    return "conv-flat" if b.flattens else "conv"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=list(MODELS), default="mnist")
    ap.add_argument("--quick", action="store_true", help="fewer neighbours, under a minute")
    ap.add_argument("--data-dir", default="../shared/data")
    ap.add_argument("--images", type=int, help="evaluation images (default per model)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    name, shape, classes, options, default_n = MODELS[args.model]
    x, y, source = images(args.model, args.data_dir, args.images or default_n)
    model = ternarize(create_model(name, shape, classes, **options))
    wiring = random_wiring(model, 0.9, seed=0)
    write_wiring(model, wiring)
    print(f"{name}: {len(y)} {source}, sparsity {wiring.sparsity:.3f}, "
          f"threads {torch.get_num_threads()}, device {args.device}")
    g = torch.Generator().manual_seed(0)
    layers = list(wiring)

    # full path: per neighbour, write the wiring into the model and run every image
    n_full = 2 if args.quick else 5
    t = time.perf_counter()
    for i in range(n_full):
        nb = wiring.clone()
        layer = layers[i % len(layers)]
        apply_swap(nb[layer], sample_swaps(nb[layer], 1, g)[0])
        write_wiring(model, nb)
        (predict(model, x).argmax(1) == y).float().mean()
    full = (time.perf_counter() - t) / n_full
    write_wiring(model, wiring)
    print(f"full forward: {1 / full:10.2f} neighbours/s ({full * 1e3:.0f} ms each)")

    t = time.perf_counter()
    ev = make_evaluator(model, x, y, device=args.device)
    print(f"delta evaluator set-up (one exact full forward, {ev.dtype}, inputs "
          f"x{ev.scale:g}, exact={ev.arith.exact}): {time.perf_counter() - t:.1f}s")
    limits = limit_ratios(ev)
    ratios = {}
    for i in reversed(range(len(ev.blocks))):
        layer = ev.blocks[i].name
        k = min(COUNTS[kind(ev, i)][1 if args.quick else 0], max_neighbours(ev.w[layer]))
        swaps = sample_swaps(ev.w[layer].cpu(), k, g)
        ev.score_swaps(layer, swaps[:1])  # warm-up
        t = time.perf_counter()
        ev.score_swaps(layer, swaps)
        if args.device != "cpu":
            torch.cuda.synchronize()
        per = (time.perf_counter() - t) / k
        short = layer.removesuffix(".weight")
        ratios[short] = full / per
        print(f"delta {short:6} ({kind(ev, i):9}): {1 / per:10.1f} neighbours/s "
              f"({per * 1e3:8.3f} ms each), {full / per:10,.0f}x full; "
              f"physical limit {limits[layer]:10,.0f}x")
    print(" ".join(f"{k}={v:.0f}" for k, v in ratios.items()))


if __name__ == "__main__":
    main()
