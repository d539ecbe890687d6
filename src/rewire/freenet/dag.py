"""Propagation through a neural connectivity graph: h_i = relu(e_i + sum_{j<i} W_ij h_j).

``W`` is strictly lower triangular (a DAG in the neurons' index order), so neuron i sees the
activations of every earlier neuron it is wired to. Three implementations, one meaning:

- :func:`propagate_reference`: the per-neuron Python loop, the definition (tests, benchmark).
- :func:`propagate_levels`: neurons grouped by topological level, one matmul per level;
  fast when the graph is shallow, runs on any device with plain autograd.
- :class:`FusedDag` (via :func:`propagate`): the whole sweep in one compiled loop (numba) with
  a hand-written backward; what the model uses on the CPU, dense or pruned.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from ..graphs.levels import topological_levels as levels_of

__all__ = ["fused", "numba_available", "propagate", "propagate_reference", "propagate_levels",
           "topological_levels", "FusedDag"]


def propagate_reference(e: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Per-neuron loop: the definition every fast path is checked against.

    Args:
        e: encoder outputs, shape (batch, k): neuron i's input from outside the DAG.
        w: effective DAG weights, k×k, ``w[i, j]`` on the edge j -> i; only the strictly
            lower triangle is read.

    Returns:
        The activations ``h``, shape (batch, k), differentiable by autograd.

    Example:
        >>> e = torch.tensor([[1., 2., -1.]])
        >>> w = torch.tensor([[0., 0, 0], [0, 0, 0], [1, 1, 0]])  # edges 0 -> 2, 1 -> 2
        >>> propagate_reference(e, w)  # h_2 = relu(-1 + 1 + 2)
        tensor([[1., 2., 2.]])
    """
    k = w.shape[0]
    hs: list[torch.Tensor] = []
    for i in range(k):
        pre = e[:, i]
        if i:
            pre = pre + torch.stack(hs, 1) @ w[i, :i]
        hs.append(torch.relu(pre))
    return torch.stack(hs, 1)


def topological_levels(graph: torch.Tensor) -> list[torch.Tensor]:
    """Neuron indices grouped by level: level(i) = 1 + max level of i's inputs (0 if none).

    ``graph[i, j]`` is the edge j -> i. One pass in index order (a topological order), so the
    cost is linear in the number of edges.

    Args:
        graph: k×k connectivity (any dtype; nonzero is an edge), strictly lower triangular:
            entries on or above the diagonal are ignored.

    Returns:
        One int64 tensor of neuron indices per level, level 0 (no inputs) first, each in
            increasing order.

    Example:
        >>> g = torch.tensor([[0, 0, 0], [0, 0, 0], [1, 1, 0]])
        >>> topological_levels(g)
        [tensor([0, 1]), tensor([2])]
    """
    g = graph.to(torch.bool).cpu().numpy()
    groups = levels_of(range(g.shape[0]), lambda i: np.flatnonzero(g[i, :i]).tolist())
    return [torch.tensor(group, dtype=torch.int64) for group in groups]


def propagate_levels(e: torch.Tensor, w: torch.Tensor,
                     levels: list[torch.Tensor]) -> torch.Tensor:
    """One matmul per topological level; exact for any DAG whose levels are given.

    Args:
        e: encoder outputs, shape (batch, k).
        w: effective DAG weights, k×k, ``w[i, j]`` on the edge j -> i (masked: zero off the
            graph).
        levels: the graph's :func:`topological_levels`; they are moved to ``e``'s device.

    Returns:
        The activations, shape (batch, k), as :func:`propagate_reference` computes them;
            differentiable by autograd.

    Example:
        >>> e = torch.tensor([[1., 2., -1.]])
        >>> w = torch.tensor([[0., 0, 0], [0, 0, 0], [1, 1, 0]])
        >>> propagate_levels(e, w, topological_levels(w != 0))
        tensor([[1., 2., 2.]])
    """
    h = torch.zeros_like(e)
    for idx in levels:
        idx = idx.to(e.device)
        pre = e[:, idx] + h @ w[idx].T
        h = h.index_copy(1, idx, torch.relu(pre))
    return h


def _kernels():
    import numba

    @numba.njit(cache=True, fastmath=True)
    def forward(e, w, h):
        n, k = e.shape
        for b in range(n):
            for i in range(k):
                s = e[b, i]
                for j in range(i):
                    s += w[i, j] * h[b, j]
                h[b, i] = s if s > 0.0 else 0.0

    @numba.njit(cache=True, fastmath=True)
    def backward(w, h, g):
        """g: dL/dh on entry, dL/dpre on exit (in place), last neuron first."""
        n, k = h.shape
        for b in range(n):
            for i in range(k - 1, -1, -1):
                gi = g[b, i] if h[b, i] > 0.0 else 0.0
                g[b, i] = gi
                if gi != 0.0:
                    for j in range(i):
                        g[b, j] += w[i, j] * gi

    return forward, backward


_KERNELS = None


def _get_kernels():
    global _KERNELS
    if _KERNELS is None:
        _KERNELS = _kernels()
    return _KERNELS


class FusedDag(torch.autograd.Function):
    """h = DAG-ReLU(e; w) in one compiled loop; backward by the reverse sweep.

    ``w`` must already be masked and strictly lower triangular. Gradients: dL/de = dL/dpre and
    dL/dw = dL/dpre^T h, full; the caller's ``weight * graph`` zeroes every entry off the graph.
    """

    @staticmethod
    def forward(ctx, e, w):
        fwd, _ = _get_kernels()
        e_np = e.detach().contiguous().numpy()
        w_np = w.detach().contiguous().numpy()
        h_np = np.empty_like(e_np)
        fwd(e_np, w_np, h_np)
        h = torch.from_numpy(h_np)
        ctx.save_for_backward(w, h)
        return h

    @staticmethod
    def backward(ctx, grad_h):
        _, bwd = _get_kernels()
        w, h = ctx.saved_tensors
        g = grad_h.detach().to(h.dtype).contiguous().clone()
        bwd(w.detach().contiguous().numpy(), h.numpy(), g.numpy())
        grad_w = g.T @ h if ctx.needs_input_grad[1] else None
        return g, grad_w


@functools.cache
def numba_available() -> bool:
    """Whether the compiled kernels can be built (checked once per process)."""
    try:
        _get_kernels()
    except ImportError:
        return False
    return True


def fused(e: torch.Tensor) -> bool:
    """Whether :func:`propagate` takes the fused compiled path for activations like ``e``."""
    return (e.device.type == "cpu" and e.dtype in (torch.float32, torch.float64)
            and numba_available())


def propagate(e: torch.Tensor, w: torch.Tensor,
              levels: list[torch.Tensor] | None = None) -> torch.Tensor:
    """The fast path: fused on the CPU when numba is installed, else by ``levels`` (the
    graph's topological levels, required then).

    The fused path (float32 or float64 on the CPU, numba installed) runs :class:`FusedDag`,
    reading ``w`` in ``e``'s dtype; its gradient with respect to ``w`` is full, so ``w``
    should be the masked product ``weight * graph``.

    Args:
        e: encoder outputs, shape (batch, k).
        w: effective DAG weights, k×k, masked and strictly lower triangular.
        levels: the graph's :func:`topological_levels`; only read (and then required) when
            the fused path is not taken.

    Returns:
        The activations, shape (batch, k), as :func:`propagate_reference` computes them.

    Raises:
        ValueError: if the fused path is not available and ``levels`` is ``None``.

    Example:
        >>> e = torch.tensor([[1., 2., -1.]])
        >>> w = torch.tensor([[0., 0, 0], [0, 0, 0], [1, 1, 0]])
        >>> propagate(e, w, topological_levels(w != 0))
        tensor([[1., 2., 2.]])
    """
    if fused(e):
        return FusedDag.apply(e, w.to(e.dtype))
    if levels is None:
        raise ValueError("propagate without the fused CPU kernel needs the graph's "
                         "topological levels")
    return propagate_levels(e, w, levels)
