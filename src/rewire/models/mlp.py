"""The deepstruct feed-forward MNIST nets: 784-100-10 and LeNet-300-100 (ReLU)."""

from __future__ import annotations

import math

from torch import nn

from .registry import register_model

__all__ = ["mlp"]


def mlp(in_features: int, hidden: list[int], num_classes: int, bias: bool = True
        ) -> nn.Sequential:
    """A ReLU multilayer perceptron on flattened inputs.

    Args:
        in_features: The number of inputs after flattening (e.g. 784 for 1×28×28).
        hidden: The widths of the hidden layers, in order (empty: a linear model).
        num_classes: The number of outputs.
        bias: Whether the Linear layers have biases.

    Returns:
        ``Sequential(Flatten, Linear, ReLU, ..., Linear)``: each hidden layer a Linear and a
            ReLU, then the output Linear (logits).

    Example:
        >>> mlp(64, [32], 10)
        Sequential(
          (0): Flatten(start_dim=1, end_dim=-1)
          (1): Linear(in_features=64, out_features=32, bias=True)
          (2): ReLU()
          (3): Linear(in_features=32, out_features=10, bias=True)
        )
    """
    layers: list[nn.Module] = [nn.Flatten()]
    prev = in_features
    for h in hidden:
        layers += [nn.Linear(prev, h, bias=bias), nn.ReLU()]
        prev = h
    layers.append(nn.Linear(prev, num_classes, bias=bias))
    return nn.Sequential(*layers)


@register_model("mlp-100")
def _mlp100(input_shape, num_classes, bias: bool = True):
    return mlp(math.prod(input_shape), [100], num_classes, bias)


@register_model("lenet-300-100")
def _lenet(input_shape, num_classes, bias: bool = True):
    return mlp(math.prod(input_shape), [300, 100], num_classes, bias)
