"""Per-layer sparsity accounting: the one place weights are counted (-1, 0, +1)."""

from __future__ import annotations

import torch
from torch import nn

from .masks import prunable_weights

__all__ = ["sign_counts", "layer_row", "sparsity_report", "sparsity", "format_report"]


def sign_counts(w: torch.Tensor) -> dict[str, int]:
    """How many entries are negative, zero and positive (for a ternary tensor: -1, 0, +1).

    Args:
        w: Any tensor.

    Returns:
        A dict with the counts under ``"minus"``, ``"zero"`` and ``"plus"``.

    Example:
        >>> sign_counts(torch.tensor([-1.0, 0.0, 0.0, 1.0]))
        {'minus': 1, 'zero': 2, 'plus': 1}
    """
    return {"minus": int((w < 0).sum()), "zero": int((w == 0).sum()),
            "plus": int((w > 0).sum())}


def layer_row(name: str, w: torch.Tensor) -> dict:
    """One row of a sparsity report: shape, size, sign counts, sparsity."""
    counts = sign_counts(w)
    return {"layer": name, "shape": list(w.shape), "weights": w.numel(), **counts,
            "sparsity": counts["zero"] / max(w.numel(), 1)}


def sparsity_report(model: nn.Module) -> list[dict]:
    """Per prunable layer: shape, size, counts of negative / zero / positive weights, sparsity.

    For a ternary model the three counts are the counts of -1, 0 and +1.

    Args:
        model: The model to count; its effective weights are counted (after masks and
            ternarization).

    Returns:
        One dict per prunable layer, in definition order, with keys ``"layer"``,
            ``"shape"``, ``"weights"``, ``"minus"``, ``"zero"``, ``"plus"`` and ``"sparsity"``
            (the share of zero weights).

    Example:
        >>> m = nn.Sequential(nn.Linear(2, 2))
        >>> _ = nn.init.eye_(m[0].weight)
        >>> row = sparsity_report(m)[0]
        >>> row["layer"], row["shape"], row["zero"], row["sparsity"]
        ('0.weight', [2, 2], 2, 0.5)
    """
    return [layer_row(name, getattr(module, pname).detach())
            for name, (module, pname) in prunable_weights(model).items()]


def sparsity(model: nn.Module) -> float:
    """Share of zero weights over all prunable weights.

    Args:
        model: The model to count (effective weights, after masks and ternarization).

    Returns:
        The number of zero weights over the number of prunable weights, in [0, 1]; 0.0 for
            a model without prunable weights.

    Example:
        >>> m = nn.Sequential(nn.Linear(2, 2))
        >>> _ = nn.init.eye_(m[0].weight)
        >>> sparsity(m)
        0.5
    """
    rows = sparsity_report(model)
    return sum(r["zero"] for r in rows) / max(sum(r["weights"] for r in rows), 1)


def format_report(rows: list[dict]) -> str:
    """Render sparsity report rows as a fixed-width text table.

    Args:
        rows: Rows as returned by ``sparsity_report``.

    Returns:
        The table: a header line, then one line per row, joined by newlines.

    Example:
        >>> m = nn.Sequential(nn.Linear(2, 2))
        >>> _ = nn.init.eye_(m[0].weight)
        >>> print(format_report(sparsity_report(m)))
        layer                              shape       -1        0       +1  sparsity
        0.weight                             2x2        0        2        2    0.5000
    """
    lines = [f"{'layer':<22}{'shape':>18}{'-1':>9}{'0':>9}{'+1':>9}{'sparsity':>10}"]
    for r in rows:
        shape = "x".join(map(str, r["shape"]))
        lines.append(f"{r['layer']:<22}{shape:>18}{r['minus']:>9}{r['zero']:>9}{r['plus']:>9}"
                     f"{r['sparsity']:>10.4f}")
    return "\n".join(lines)
