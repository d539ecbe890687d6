"""Building blocks shared by the models."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["HardTanh", "set_grad_width"]


class _HardtanhWideGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, width):
        ctx.save_for_backward(x)
        ctx.width = width
        return x.clamp(-1.0, 1.0)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x.abs() <= ctx.width), None


class HardTanh(nn.Module):
    """HardTanh (clamp to [-1, 1]) whose backward window can be widened for training.

    The forward pass is always the exact HardTanh, so the network is unchanged. With
    ``grad_width = 1`` the gradient is the exact one (zero where |x| > 1). In a ternary
    network pre-activations are sums of many ±1 terms and mostly saturate, so the exact
    gradient is zero almost everywhere; a straight-through window ``grad_width > 1`` passes
    the gradient where |x| <= grad_width, the usual clipped STE of binary networks.
    """

    def __init__(self, grad_width: float = 1.0):
        super().__init__()
        self.grad_width = grad_width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.grad_width == 1.0 or not torch.is_grad_enabled():
            return F.hardtanh(x)
        return _HardtanhWideGrad.apply(x, self.grad_width)

    def extra_repr(self) -> str:
        return f"grad_width={self.grad_width}"


def set_grad_width(model: nn.Module, width: float) -> None:
    """Set the backward window of every :class:`HardTanh` in ``model``."""
    if width < 1.0:
        raise ValueError(f"grad_width must be >= 1, got {width}")
    for m in model.modules():
        if isinstance(m, HardTanh):
            m.grad_width = width
