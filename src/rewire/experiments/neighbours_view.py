"""AANN Figures 3, 4 and 11: the first-neighbour family of a ternary network, per layer.

For each layer, ``count`` random first neighbours (one bit-swap each) are scored exactly with
the delta evaluator. Histograms show their accuracies with the original network's marked;
t-SNE, LLE and Isomap (scikit-learn) embed the neighbours' wirings in 2-D with accuracy as
the height. Like the paper's figures these use the test split by default: they are views,
not selection.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import numpy as np
import torch

from ..configs import NeighboursRun, identity
from ..data import load_dataset
from ..runs import RunFolder
from ..search import make_evaluator, read_ternary, sample_swaps
from .sense_run import load_start_model

__all__ = ["run_neighbours"]


def run_neighbours(cfg: NeighboursRun, embeddings=("tsne", "lle", "isomap")) -> dict:
    """Score ``cfg.count`` first neighbours per layer into ``cfg.out``; returns the summary."""
    data = load_dataset(cfg.dataset, cfg.data_dir, download=cfg.download)
    model = load_start_model(cfg.model, data.input_shape, data.num_classes)
    run = RunFolder(cast(str, cfg.out), {"experiment": "neighbours", **identity(cfg)})
    count, split, seed = cfg.count, cfg.split, cfg.seed
    wiring = read_ternary(model)
    part = getattr(data, split)
    ev = make_evaluator(model, part.x, part.y)
    g = torch.Generator().manual_seed(seed)
    layers = {}
    for layer in ev.layers:
        swaps = sample_swaps(ev.w[layer], count, g)
        acc = ev.score_swaps(layer, swaps)["accuracy"].numpy()
        layers[layer] = {"swaps": swaps, "accuracy": acc}
    summary = {
        "dataset": cfg.dataset, "split": split, "model": str(cfg.model),
        "original_accuracy": ev.accuracy, "sparsity": wiring.sparsity,
        "layers": {layer: {
            "neighbours": count, "mean": float(v["accuracy"].mean()),
            "min": float(v["accuracy"].min()), "max": float(v["accuracy"].max()),
            "fraction_better": float((v["accuracy"] > ev.accuracy).mean()),
            "fraction_equal": float((v["accuracy"] == ev.accuracy).mean()),
        } for layer, v in layers.items()},
    }
    _histograms(layers, ev.accuracy, summary, run.file("histograms.png"))
    for method in embeddings:
        _embeddings(wiring, layers, ev.accuracy, method, seed, run.file(f"embed_{method}.png"))
    run.write_results(summary)
    return summary


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _histograms(layers, original, summary, path: Path) -> None:
    plt = _plt()
    fig, axes = plt.subplots(1, len(layers), figsize=(4.2 * len(layers), 3.4), squeeze=False)
    axes = axes[0]
    for ax, (layer, v) in zip(axes, layers.items()):
        ax.hist(v["accuracy"] * 100, bins=40, color="tab:blue", alpha=0.8)
        ax.axvline(original * 100, color="red", lw=2, label="original")
        better = summary["layers"][layer]["fraction_better"]
        ax.set_title(f"{layer}: {better:.0%} of neighbours better")
        ax.set_xlabel("accuracy (%)")
    axes[0].set_ylabel("number of first neighbours")
    axes[0].legend()
    fig.suptitle(f"First neighbours ({summary['split']} accuracy), "
                 f"{summary['sparsity']:.0%} sparse ternary network")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _embeddings(wiring, layers, original, method, seed, path: Path) -> None:
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE, Isomap, LocallyLinearEmbedding

    plt = _plt()
    fig = plt.figure(figsize=(5.0 * len(layers), 4.4))
    for i, (layer, v) in enumerate(layers.items()):
        base = wiring[layer].flatten().float()
        pts = base.repeat(len(v["swaps"]) + 1, 1)  # row 0: the original network
        for r, (src, dst) in enumerate(v["swaps"].tolist(), start=1):
            pts[r, dst], pts[r, src] = base[src], 0.0
        # only coordinates that differ somewhere matter; PCA keeps the embedding quick
        cols = (pts != pts[0]).any(0)
        x = PCA(n_components=min(50, int(cols.sum()), len(pts) - 1),
                random_state=seed).fit_transform(pts[:, cols].numpy())
        if method == "tsne":
            emb = TSNE(n_components=2, random_state=seed, init="pca").fit_transform(x)
        elif method == "lle":
            emb = LocallyLinearEmbedding(n_components=2, n_neighbors=12,
                                         random_state=seed).fit_transform(x)
        else:
            emb = Isomap(n_components=2, n_neighbors=12).fit_transform(x)
        acc = np.concatenate([[original], v["accuracy"]]) * 100
        ax = fig.add_subplot(1, len(layers), i + 1, projection="3d")
        sc = ax.scatter(emb[1:, 0], emb[1:, 1], acc[1:], c=acc[1:], cmap="viridis", s=6)
        ax.scatter(emb[:1, 0], emb[:1, 1], acc[:1], color="blue", s=60, label="original")
        ax.set_title(layer)
        ax.set_zlabel("accuracy (%)")
        fig.colorbar(sc, ax=ax, shrink=0.6)
    fig.suptitle(f"First-neighbour family embedded with {method.upper()}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
