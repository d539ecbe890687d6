"""Inference of an evolved FreeNet that stores only its live edges.

The DAG is kept as one sparse matrix per topological level (the live edges into that level's
neurons), so memory and multiply-adds scale with the live edges, not with k(k-1)/2.
"""

from __future__ import annotations

import torch

from .model import FreeNet

__all__ = ["LiveFreeNet"]


class LiveFreeNet:
    """A frozen FreeNet for inference: dense encoder/decoder, sparse DAG by levels.

    Example:
        >>> net = FreeNet(4, 6, 3)
        >>> live = LiveFreeNet.from_model(net)
        >>> x = torch.rand(5, 4)
        >>> torch.allclose(live(x), net(x), atol=1e-5)
        True
    """

    def __init__(self, enc_w, enc_b, dec_w, dec_b, levels):
        self.enc_w, self.enc_b, self.dec_w, self.dec_b = enc_w, enc_b, dec_w, dec_b
        self.levels = levels  # [(target indices, sparse (len(idx) x k) matrix)]

    @classmethod
    @torch.no_grad()
    def from_model(cls, net: FreeNet) -> LiveFreeNet:
        w = (net.dag_weight * net.graph).detach().cpu()
        levels = [(idx, w[idx].to_sparse()) for idx in net.levels()]
        return cls(net.encoder.weight.detach().cpu(), net.encoder.bias.detach().cpu(),
                   net.decoder.weight.detach().cpu(), net.decoder.bias.detach().cpu(), levels)

    @torch.no_grad()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        e = x.flatten(1) @ self.enc_w.T + self.enc_b
        h = torch.zeros_like(e)
        for idx, m in self.levels:
            h[:, idx] = torch.relu(e[:, idx] + (m @ h.T).T)
        return h @ self.dec_w.T + self.dec_b

    @property
    def live_edges(self) -> int:
        return sum(m._nnz() for _, m in self.levels)

    def macs(self) -> int:
        """Multiply-adds per example: encoder + live DAG edges + decoder."""
        return self.enc_w.numel() + self.live_edges + self.dec_w.numel()

    def dense_macs(self) -> int:
        """The same network with its DAG dense (k(k-1)/2 edges)."""
        k = self.enc_w.shape[0]
        return self.enc_w.numel() + k * (k - 1) // 2 + self.dec_w.numel()
