"""A numerical check of FreeNets Theorem 1 on a small regression.

The theorem: some functions (degree-k polynomials on compactly supported positive inputs)
are fitted by a FreeNet over k neurons and by no layered network over k neurons. With ReLU
neurons no finite network is exact, so the check is comparative: the same target, the same
k neurons, the same optimiser and budget, best of several seeds; the FreeNet (dense DAG, so
every layered arrangement of k neurons is one of its subgraphs) against every split of the
k neurons into 1, 2, ... layers. The result is the mean squared error of each on a dense grid.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import cast

import numpy as np
import torch
from torch import nn

from ..freenet import FreeNet
from ..runs import write_json

__all__ = ["polynomial_target", "layered_net", "layer_splits", "embed_layered",
           "fit_regression", "polynomial_check"]


def polynomial_target(k: int, points: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """x on [-1, 1] and y = T_k(x), the Chebyshev polynomial of degree k (k - 1 turns).

    The theorem's inputs are positive reals; the proof translates them onto a compact set
    through the biases, so the grid is centred on [-1, 1] (an affine change of x).
    """
    x = torch.linspace(-1.0, 1.0, points)[:, None]
    y = torch.cos(k * torch.arccos(x.clamp(-1, 1)))
    return x, y


def layered_net(widths: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    prev = 1
    for w in widths:
        layers += [nn.Linear(prev, w), nn.ReLU()]
        prev = w
    layers.append(nn.Linear(prev, 1))
    return nn.Sequential(*layers)


@torch.no_grad()
def embed_layered(net: nn.Sequential, dense: bool = True) -> FreeNet:
    """The FreeNet over the same k neurons that computes exactly what ``net`` computes.

    Neurons are numbered layer by layer; the first layer reads the input through the
    encoder, every later layer reads the previous one through DAG edges (its bias becomes
    the encoder bias, its encoder weights zero), and the decoder reads the last layer. With
    ``dense`` the graph keeps every other edge at weight zero, free to be trained (Claim 4.1:
    every layered net is a FreeNet subgraph).
    """
    linears = [m for m in net if isinstance(m, nn.Linear)]
    hidden, head = linears[:-1], linears[-1]
    k = sum(m.out_features for m in hidden)
    free = FreeNet(hidden[0].in_features, k, head.out_features)
    free.encoder.weight.zero_()
    free.dag_weight.zero_()
    free.decoder.weight.zero_()
    graph = torch.zeros(k, k, dtype=torch.bool)
    start, prev = 0, None
    for m in hidden:
        rows = slice(start, start + m.out_features)
        free.encoder.bias[rows] = m.bias
        if prev is None:
            free.encoder.weight[rows] = m.weight
        else:
            free.dag_weight[rows, prev] = m.weight
            graph[rows, prev] = True
        prev, start = rows, start + m.out_features
    free.decoder.weight[:, prev] = head.weight
    free.decoder.bias.copy_(head.bias)
    free.set_graph(torch.ones(k, k, dtype=torch.bool).tril(-1) if dense else graph)
    return free


def layer_splits(k: int, max_layers: int = 3) -> list[list[int]]:
    """k neurons in 1..max_layers layers of near-equal width (wider layers first)."""
    out = []
    for n in range(1, min(k, max_layers) + 1):
        out.append([k // n + (1 if i < k % n else 0) for i in range(n)])
    return out


def fit_regression(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int,
                   lr: float = 1e-2) -> float:
    """Full-batch Adam with a cosine schedule; returns the final mean squared error."""
    opt = torch.optim.Adam(model.parameters(), lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = torch.mean((model(x) - y) ** 2)
        loss.backward()
        opt.step()
        sched.step()
    with torch.no_grad():
        return float(torch.mean((model(x) - y) ** 2))


def polynomial_check(k: int = 6, steps: int = 3000, seeds: int = 3, points: int = 256,
                     out: str | Path | None = None) -> dict:
    """Best MSE over seeds of FreeNet(k) and of each layered split of k neurons.

    Two FreeNet rows: from random init ("freenet"), and from the best layered fit embedded
    into the dense DAG with its extra edges at zero and then trained ("freenet warm"), which
    can only match or improve on that layered net: the extra edges are what the FreeNet adds.
    """
    x, y = polynomial_target(k, points)
    makers: dict[str, Callable[[], nn.Module]] = {"freenet": lambda: FreeNet(1, k, 1)}
    for widths in layer_splits(k):
        makers["layered " + "-".join(map(str, widths))] = partial(layered_net, widths)
    best: dict[str, float] = {}
    fits: dict[str, np.ndarray] = {}
    models: dict[str, nn.Module] = {}
    for name, make in makers.items():
        for seed in range(seeds):
            torch.manual_seed(seed)
            m = make()
            mse = fit_regression(m, x, y, steps)
            if mse < best.get(name, math.inf):
                best[name], models[name] = mse, m
    layered = {n: v for n, v in best.items() if n != "freenet"}
    best_layered = min(layered, key=layered.__getitem__)
    warm = embed_layered(cast(nn.Sequential, models[best_layered]))
    best["freenet warm"] = fit_regression(warm, x, y, steps, lr=1e-3)
    models["freenet warm"] = warm
    with torch.no_grad():
        fits = {n: m(x).squeeze(1).numpy() for n, m in models.items()}
    res = {"k": k, "target": f"Chebyshev T_{k}(x) on [-1, 1]", "points": points,
           "steps": steps, "seeds": seeds, "mse": best, "best_layered": best_layered,
           "freenet_vs_best_layered": min(best["freenet"], best["freenet warm"])
           / layered[best_layered]}
    if out is not None:
        out = Path(out)
        write_json(out / "results.json", res)
        _plot(x.squeeze(1).numpy(), y.squeeze(1).numpy(), fits, best, out / "fits.png")
    return res


def _plot(x, y, fits, best, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4))
    ax.plot(x, y, "k-", lw=2, label="target")
    for name, f in fits.items():
        ax.plot(x, f, "--" if name != "freenet" else "-", label=f"{name} (MSE {best[name]:.2e})")
    ax.set_xlabel("x")
    ax.legend(fontsize=8)
    ax.set_title("degree-k polynomial with k neurons")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
