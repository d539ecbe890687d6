"""Bit-swap moves on a wiring (AANN section 3.2).

A bit-swap exchanges a nonzero weight (-1 or +1) with a zero weight inside one layer:
``[1, 0, -1, 0, 1, -1] -> [0, 1, -1, 0, 1, -1]``. It keeps the layer's counts of -1, 0 and +1,
so every network reached by swaps stays in the same *family*. First neighbours are one swap
away; n-th neighbours are at distance n (n weights moved, see ``nth_neighbour``).

A swap is a pair of flat indices ``(src, dst)`` into the layer's weight: ``w[dst] = w[src]``
then ``w[src] = 0``.
"""

from __future__ import annotations

import torch

from ..sparse.wiring import Wiring

__all__ = ["sample_swaps", "apply_swap", "nth_neighbour", "max_neighbours"]


def max_neighbours(w: torch.Tensor) -> int:
    """How many distinct first neighbours a layer has: nonzeros x zeros.

    Args:
        w: the layer's weight (any shape; only which entries are zero matters).

    Returns:
        The number of distinct bit-swaps of ``w``.

    Example:
        >>> max_neighbours(torch.tensor([1, 0, -1, 0, 1, -1]))
        8
    """
    nnz = int((w != 0).sum())
    return nnz * (w.numel() - nnz)


def sample_swaps(w: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """``k`` distinct swaps (a ``k x 2`` long tensor of flat indices) of layer weight ``w``.

    Drawn uniformly without replacement among the :func:`max_neighbours` swaps; ``w`` is
    not modified.

    Args:
        w: the layer's weight (any shape; flat indices are row-major).
        k: number of swaps to draw.
        generator: source of randomness (same generator state, same swaps).

    Returns:
        A ``k x 2`` long tensor; row ``(src, dst)`` moves nonzero ``w[src]`` onto zero
            ``w[dst]``.

    Raises:
        ValueError: ``k`` is larger than the number of distinct first neighbours.

    Example:
        >>> w = torch.tensor([1, 0, -1, 0, 1, -1])
        >>> swaps = sample_swaps(w, 3, torch.Generator().manual_seed(0))
        >>> swaps.shape, bool((w[swaps[:, 0]] != 0).all() and (w[swaps[:, 1]] == 0).all())
        (torch.Size([3, 2]), True)
    """
    flat = w.flatten()
    nonzero = torch.nonzero(flat, as_tuple=True)[0]
    zero = torch.nonzero(flat == 0, as_tuple=True)[0]
    total = len(nonzero) * len(zero)
    if k > total:
        raise ValueError(f"neighbourhood size {k} is larger than the {total} distinct "
                         f"first neighbours this layer has ({len(nonzero)} nonzero x "
                         f"{len(zero)} zero weights)")
    if k > total // 2:  # dense request: a permutation
        pick = torch.randperm(total, generator=generator)[:k]
    else:  # sparse request: draw, keep the first occurrence of each, in draw order
        seen: dict[int, None] = {}
        while len(seen) < k:
            for v in torch.randint(total, (k - len(seen) + 8,), generator=generator).tolist():
                if len(seen) < k:
                    seen.setdefault(v, None)
        pick = torch.tensor(list(seen), dtype=torch.long)
    return torch.stack([nonzero[pick // len(zero)], zero[pick % len(zero)]], dim=1)


def apply_swap(w: torch.Tensor, swap: torch.Tensor) -> torch.Tensor:
    """Apply one swap in place to a layer weight; returns it.

    Args:
        w: the layer's weight, modified in place (it must be viewable as flat, e.g.
            contiguous).
        swap: flat indices ``(src, dst)``: ``w[dst] = w[src]``, then ``w[src] = 0``.

    Returns:
        The same ``w``.

    Raises:
        ValueError: if ``w[src]`` is zero or ``w[dst]`` is not (``w`` is then unchanged).

    Example:
        >>> apply_swap(torch.tensor([1, 0, -1, 0]), torch.tensor([0, 1]))
        tensor([ 0,  1, -1,  0])
    """
    flat = w.view(-1)
    src, dst = int(swap[0]), int(swap[1])
    if flat[src] == 0 or flat[dst] != 0:
        raise ValueError(f"swap ({src}, {dst}) must move a nonzero weight onto a zero weight")
    flat[dst] = flat[src]
    flat[src] = 0
    return w


def nth_neighbour(wiring: Wiring, layer: str, n: int, generator: torch.Generator) -> Wiring:
    """A random n-th neighbour: a member of the family at distance exactly ``n`` in ``layer``.

    Distance n means n of the layer's nonzero weights have left their places for n places
    that were zero (each keeps its sign). Successive random swaps would not do: a later swap
    can undo or re-move an earlier one, so n swaps are often fewer than n moves away.

    Args:
        wiring: the network's wiring; it is not modified.
        layer: the wiring key of the layer to move weights in.
        n: the distance: how many nonzero weights move.
        generator: source of randomness.

    Returns:
        A new :class:`~rewire.sparse.wiring.Wiring`, equal to ``wiring`` outside ``layer``
            and in the same family.

    Raises:
        KeyError: if ``layer`` is not in ``wiring``.
        ValueError: if the layer has fewer than ``n`` nonzero or fewer than ``n`` zero
            weights.

    Example:
        >>> w = Wiring(fc=torch.tensor([[1, 0, -1, 0], [0, 1, 0, -1]], dtype=torch.int8))
        >>> nb = nth_neighbour(w, "fc", 2, torch.Generator().manual_seed(0))
        >>> nb.same_family(w), int((nb["fc"] != w["fc"]).sum())  # 2 left, 2 arrived
        (True, 4)
    """
    if layer not in wiring:
        raise KeyError(f"no layer {layer!r}; the wiring has {', '.join(wiring)}")
    out = wiring.clone()
    flat = out[layer].view(-1)
    nonzero = torch.nonzero(flat, as_tuple=True)[0]
    zero = torch.nonzero(flat == 0, as_tuple=True)[0]
    if n > min(len(nonzero), len(zero)):
        raise ValueError(f"{layer} has {len(nonzero)} nonzero and {len(zero)} zero weights: "
                         f"no neighbour at distance {n}")
    src = nonzero[torch.randperm(len(nonzero), generator=generator)[:n]]
    dst = zero[torch.randperm(len(zero), generator=generator)[:n]]
    flat[dst] = flat[src]
    flat[src] = 0
    return out
