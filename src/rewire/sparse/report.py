"""Per-layer sparsity accounting."""

from __future__ import annotations

from torch import nn

from .masks import prunable_weights

__all__ = ["sparsity_report", "format_report"]


def sparsity_report(model: nn.Module) -> list[dict]:
    """Per prunable layer: shape, size, counts of negative / zero / positive weights, sparsity.

    For a ternary model the three counts are the counts of -1, 0 and +1.
    """
    rows = []
    for name, (module, pname) in prunable_weights(model).items():
        w = getattr(module, pname).detach()
        n = w.numel()
        zero = int((w == 0).sum())
        rows.append({
            "layer": name, "shape": list(w.shape), "weights": n,
            "minus": int((w < 0).sum()), "zero": zero, "plus": int((w > 0).sum()),
            "sparsity": zero / n,
        })
    return rows


def format_report(rows: list[dict]) -> str:
    lines = [f"{'layer':<22}{'shape':>18}{'-1':>9}{'0':>9}{'+1':>9}{'sparsity':>10}"]
    for r in rows:
        shape = "x".join(map(str, r["shape"]))
        lines.append(f"{r['layer']:<22}{shape:>18}{r['minus']:>9}{r['zero']:>9}{r['plus']:>9}"
                     f"{r['sparsity']:>10.4f}")
    return "\n".join(lines)
