"""FreeNet(k=100) training step against the matched FCNN, and the fused DAG forward.

    python benchmarks/freenet.py [--quick] [--threads N]

Measures, in one run, on MNIST-shaped batches (64 × 784, 10 classes): training steps per
second (Adam, cross-entropy) of the dense FreeNet(k=100) and of the FCNN widened to the same
parameter count; and the dense DAG forward of the fast path against the per-neuron reference
loop (outputs checked equal). Last line:
``step_ratio=<freenet step time / fcnn step time> forward_speedup=<reference / fast>``.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from rewire.freenet import (
    FreeNet,
    count_params,
    fcnn,
    matched_width,
    propagate,
    propagate_reference,
)


def interleaved(fns: dict, seconds: float) -> dict[str, float]:
    """Seconds per call of each function, timed in alternating rounds (fair under load)."""
    for f in fns.values():
        for _ in range(3):
            f()
    total = dict.fromkeys(fns, 0.0)
    calls = dict.fromkeys(fns, 0)
    t_end = time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        for name, f in fns.items():
            t0 = time.perf_counter()
            f()
            total[name] += time.perf_counter() - t0
            calls[name] += 1
    return {n: total[n] / calls[n] for n in fns}


def train_step(model, x, y):
    opt = torch.optim.Adam(model.parameters(), 1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    return step


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="shorter timing (under a minute)")
    ap.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    ap.add_argument("--k", type=int, default=100)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    seconds = 5.0 if a.quick else 20.0
    torch.manual_seed(0)
    x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
    net = FreeNet(784, a.k, 10)
    width = matched_width(784, 10, count_params(net))
    base = fcnn(784, width, 10)
    print(f"FreeNet(k={a.k}): {count_params(net)} parameters ({net.live_edges} DAG edges); "
          f"FCNN width {width}: {count_params(base)} parameters; threads "
          f"{torch.get_num_threads()}")
    t = interleaved({"freenet": train_step(net, x, y), "fcnn": train_step(base, x, y)}, seconds)
    step_ratio = t["freenet"] / t["fcnn"]
    print(f"training step: FreeNet {t['freenet'] * 1e3:.3f} ms, FCNN {t['fcnn'] * 1e3:.3f} ms "
          f"({step_ratio:.2f}x)")

    e = torch.randn(64, a.k)
    w = (net.dag_weight * net.graph).detach()
    fast, ref = propagate(e, w), propagate_reference(e, w)
    err = (fast - ref).abs().max().item()
    if err > 1e-4:
        raise SystemExit(f"fast and reference DAG forwards differ by {err}")
    f = interleaved({"reference": lambda: propagate_reference(e, w),
                     "fast": lambda: propagate(e, w)}, seconds / 2)
    speedup = f["reference"] / f["fast"]
    print(f"dense DAG forward (64 × k={a.k}): reference {f['reference'] * 1e3:.3f} ms, fast "
          f"{f['fast'] * 1e3:.3f} ms ({speedup:.0f}x), max difference {err:.1e}")
    print(f"step_ratio={step_ratio:.2f} forward_speedup={speedup:.0f}")


if __name__ == "__main__":
    main()
