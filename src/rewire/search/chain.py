"""A ternary network read as a chain of blocks, and the arithmetic that makes its scores exact.

A *block* is one weighted layer (Conv2d or Linear, its weight in {-1, 0, +1}) and the ops
after it until the next weighted layer: bias, per-layer scale, HardTanh / ReLU / identity,
max / average pooling, flatten. :func:`read_chain` records the leaf modules a forward pass
calls (forward hooks), builds the blocks, replays them, and accepts the chain only if the
replay gives the model's own outputs: a residual add, a BatchNorm or any functional op the
hooks cannot see makes it return ``None`` with the reason, and the caller falls back to full
forward passes.

Exactness. With ternary weights every value is a sum of signed inputs, then clamped, pooled,
biased or scaled. When the inputs are multiples of 1/s (pixels k/255, digits k/16) the chain
runs on ``s * x``: every value is then a multiple of 2^-e for a small e (0 without average
pooling, biases or scales), bounded by an interval computed from the shapes. If bound x 2^e
stays below 2^24 float32 computes every sum exactly in any order; below 2^53 float64 does.
Then any two ways of computing a logit (the full path, a delta path, a batched path) agree
bit for bit. :class:`Arithmetic` records which case holds; ``exact`` is False only when an
input, bias, bound or scale is off every dyadic grid (e.g. average pooling over 3 x 3), and
then the paths agree to rounding (about 1e-12 relative in float64), not bit for bit.

Example:
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.Hardtanh(), nn.Linear(3, 2))
    >>> chain, why = read_chain(net, torch.rand(2, 1, 2, 2))
    >>> [b.name for b in chain], why
    (['1.weight', '3.weight'], '')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ..sparse.masks import prunable_weights

__all__ = ["Block", "Arithmetic", "read_chain", "arithmetic"]


@dataclass
class Block:
    """One weighted layer and the channel-wise ops that follow it."""

    name: str  # the wiring key, e.g. "conv1.weight"
    kind: str  # "conv" or "linear"
    weight: torch.Tensor  # effective weight (any float dtype until ``arithmetic`` casts it)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    bias: torch.Tensor | None = None
    ops: list[tuple] = field(default_factory=list)  # ("clamp", lo, hi) ("relu",) ("scale", a)
    # ("maxpool", k, s, p) ("avgpool", k, s, p, divisor) ("flatten",)
    in_shape: tuple[int, ...] = ()  # per-image input shape (C, H, W) or (F,)
    out_shape: tuple[int, ...] = ()  # per-image shape after the ops

    @property
    def flattens(self) -> bool:
        return any(op[0] == "flatten" for op in self.ops)

    def post(self, z: torch.Tensor, chans) -> torch.Tensor:
        """The ops after the weighted layer on ``z`` of output channels ``chans``, laid out
        image-last: |chans| x H x W x N (convolutions) or |chans| x N (Linear); flatten is a
        layout matter, left to the caller."""
        if self.bias is not None:
            b = self.bias[chans]
            z = z + b.view(-1, *[1] * (z.dim() - 1))
        for op in self.ops:
            name = op[0]
            if name == "clamp":
                z = z.clamp(op[1], op[2])
            elif name == "relu":
                z = z.clamp_min(0)
            elif name == "scale":
                z = z * op[1]
            elif name == "maxpool":
                z = _maxpool(z, *op[1:])
            elif name == "avgpool":
                z = _avgpool(z, *op[1:])
        return z


def _maxpool(z: torch.Tensor, k, s, p) -> torch.Tensor:
    """Max-pool over dims 1, 2 of an image-last S x H x W x N tensor."""
    if (k, s, p) == (2, 2, 0) and z.shape[1] % 2 == 0 and z.shape[2] % 2 == 0:
        # two maxima over strided views: faster than max_pool2d on CPU, same values
        return torch.maximum(torch.maximum(z[:, 0::2, 0::2], z[:, 0::2, 1::2]),
                             torch.maximum(z[:, 1::2, 0::2], z[:, 1::2, 1::2]))
    return _planes(z, lambda t: F.max_pool2d(t, k, s, p))


def _avgpool(z: torch.Tensor, k, s, p, divisor) -> torch.Tensor:
    return _planes(z, lambda t: F.avg_pool2d(t, k, s, p, divisor_override=divisor))


def _planes(z: torch.Tensor, fn) -> torch.Tensor:
    """Apply a 2-D op to every (channel, image) plane of an S x H x W x N tensor."""
    S, H, W, N = z.shape
    out = fn(z.permute(0, 3, 1, 2).reshape(S * N, 1, H, W))
    return out.view(S, N, *out.shape[-2:]).permute(0, 2, 3, 1)


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def _effective(module: nn.Module, pname: str) -> torch.Tensor:
    return getattr(module, pname).detach()


def read_chain(model: nn.Module, example: torch.Tensor) -> tuple[list[Block] | None, str]:
    """The model as a chain of blocks, or ``(None, reason)`` when it is not one.

    Args:
        model: any module; its Conv2d / Linear weights are the searchable layers.
        example: a few real inputs (N x ...), used to record the call order and to check
            that the chain reproduces the model.
    """
    names = {id(m): n for n, (m, p) in prunable_weights(model).items() if p == "weight"}
    calls: list[tuple[nn.Module, tuple, tuple]] = []
    hooks = []
    for mname, module in model.named_modules():
        if "parametrizations" in mname.split("."):
            continue
        leaf = not any(True for _ in module.children()) or isinstance(module, (nn.Conv2d,
                                                                             nn.Linear))
        if leaf and not isinstance(module, nn.modules.container.ParameterList):
            hooks.append(module.register_forward_hook(
                lambda m, i, o: calls.append((m, tuple(i[0].shape[1:]), tuple(o.shape[1:])))))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            want = model(example)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    blocks: list[Block] = []
    shape = tuple(example.shape[1:])
    for module, in_shape, out_shape in calls:
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            if id(module) not in names:
                return None, f"{type(module).__name__} without a searchable weight"
            if isinstance(module, nn.Conv2d) and (module.groups != 1 or _pair(module.dilation)
                                                  != (1, 1) or module.padding_mode != "zeros"
                                                  or isinstance(module.padding, str)):
                return None, "a convolution with groups, dilation or non-zero padding"
            if isinstance(module, nn.Linear) and len(shape) > 1:
                if math.prod(shape) != in_shape[0] or len(in_shape) != 1:
                    return None, "a Linear layer on a multi-dimensional input"
                if blocks:
                    blocks[-1].ops.append(("flatten",))
            if blocks and tuple(blocks[-1].out_shape) != in_shape and not (
                    blocks[-1].flattens and math.prod(blocks[-1].out_shape) == in_shape[0]):
                return None, f"an unrecognised op between layers ({shape} -> {in_shape})"
            if not blocks and in_shape != shape and not (
                    len(in_shape) == 1 and math.prod(shape) == in_shape[0]):
                return None, f"an unrecognised op before the first layer ({shape} -> {in_shape})"
            kind = "conv" if isinstance(module, nn.Conv2d) else "linear"
            bias = module.bias.detach() if module.bias is not None else None
            blocks.append(Block(names[id(module)], kind, _effective(module, "weight"),
                                _pair(getattr(module, "stride", 1)),
                                _pair(getattr(module, "padding", 0)), bias,
                                in_shape=in_shape if kind == "conv" else (in_shape[0],),
                                out_shape=out_shape))
        elif not blocks:
            if isinstance(module, (nn.Flatten, nn.Identity, nn.Dropout)):
                shape = out_shape
                continue
            return None, f"{type(module).__name__} before the first weighted layer"
        else:
            op = _op(module, shape)
            if op is None:
                return None, f"{type(module).__name__} is not a chain op"
            if op:
                blocks[-1].ops.append(op)
            blocks[-1].out_shape = out_shape
        shape = out_shape
    if not blocks:
        return None, "no Conv2d or Linear layer"
    if blocks[-1].kind != "linear" or len(blocks[-1].out_shape) != 1:
        return None, "the last weighted layer is not a Linear layer giving the outputs"
    if any(op[0] in ("maxpool", "avgpool", "flatten") for op in blocks[-1].ops):
        return None, "pooling after the last layer"
    if want.dim() != 2 or tuple(want.shape[1:]) != blocks[-1].out_shape:
        return None, "the model's output is not the last Linear layer's"
    got = replay(blocks, example.to(blocks[0].weight.dtype))
    if not torch.allclose(got, want.to(got.dtype), rtol=1e-4, atol=1e-4 * float(
            want.abs().max().clamp_min(1))):
        return None, "the recorded layers do not reproduce the model (a skip connection or " \
                     "a functional op between layers?)"
    return blocks, ""


def _op(module: nn.Module, shape) -> tuple | None:
    """The chain op of a leaf module; ``()`` for an identity, None if unsupported."""
    if isinstance(module, (nn.Identity, nn.Dropout)):
        return ()
    if isinstance(module, nn.Hardtanh):
        return ("clamp", float(module.min_val), float(module.max_val))
    if isinstance(module, nn.ReLU):
        return ("relu",)
    if isinstance(module, nn.Flatten):
        return ("flatten",)
    if isinstance(module, nn.MaxPool2d):
        if _pair(module.dilation) != (1, 1) or module.ceil_mode or module.return_indices:
            return None
        k, s, p = (_pair(module.kernel_size), _pair(module.stride or module.kernel_size),
                   _pair(module.padding))
        if not (k[0] == k[1] and s[0] == s[1] and p[0] == p[1]):
            return None
        return ("maxpool", k[0], s[0], p[0])
    if isinstance(module, nn.AvgPool2d):
        k, s, p = (_pair(module.kernel_size), _pair(module.stride or module.kernel_size),
                   _pair(module.padding))
        if module.ceil_mode or not (k[0] == k[1] and s[0] == s[1] and p[0] == p[1]) or (
                p[0] and not module.count_include_pad):
            return None
        return ("avgpool", k[0], s[0], p[0], module.divisor_override or k[0] * k[1])
    alpha = getattr(module, "alpha", None)  # rewire's per-layer Scale option
    if type(module).__name__ == "Scale" and isinstance(alpha, torch.Tensor) \
            and alpha.numel() == 1:
        return ("scale", float(alpha))
    return None


def replay(blocks: list[Block], x: torch.Tensor) -> torch.Tensor:
    """Logits of the chain on a batch ``x`` (N x ...), the plain batch-major way."""
    a = x
    for b in blocks:
        if b.kind == "conv":
            z = F.conv2d(a, b.weight, stride=b.stride, padding=b.padding)
            a = b.post(z.permute(1, 2, 3, 0), slice(None)).permute(3, 0, 1, 2)
        else:
            z = a.flatten(1) @ b.weight.T
            a = b.post(z.T, slice(None)).T
        if b.flattens:
            a = a.flatten(1)
    return a


@dataclass
class Arithmetic:
    """How the evaluator computes: on ``scale * x`` in ``dtype``; ``exact`` when every value
    is on a dyadic grid small enough for ``dtype`` (then all paths agree bit for bit)."""

    scale: float
    dtype: torch.dtype
    exact: bool
    reason: str = ""


def _frac_bits(v: float, limit: int = 40) -> int | None:
    """Smallest e with v * 2^e an integer, or None."""
    for e in range(limit):
        if float(v * 2**e).is_integer():
            return e
    return None


def arithmetic(blocks: list[Block], x: torch.Tensor) -> Arithmetic:
    """Choose the input scale and dtype, and whether the chain is then exact (see above)."""
    xd = x.to(torch.float64)
    scale, exact_input = 1.0, False
    for s in (255.0, 16.0, 1.0):
        if ((xd * s - (xd * s).round()).abs().max() < 1e-6 * s) if len(xd) else True:
            scale, exact_input = s, True
            break
    if not exact_input:
        return Arithmetic(1.0, torch.float64, False, "inputs lie on no k/255, k/16 or integer "
                                                     "grid")
    bound, bits, worst = float(xd.abs().max() * scale) if len(xd) else 1.0, 0, 0.0
    reason = ""

    def grid(v: float, what: str):
        nonlocal bits, reason
        e = _frac_bits(v)
        if e is None:
            reason = reason or f"{what} {v:g} is not dyadic"
        else:
            bits = max(bits, e)

    for b in blocks:
        fan_in = b.weight[0].numel()
        bound *= fan_in
        worst = max(worst, bound * 2**bits)
        if b.bias is not None:
            for v in (b.bias.double() * scale).unique().tolist():
                grid(v, "a bias x scale")
            bound += float(b.bias.abs().max()) * scale
        for op in b.ops:
            if op[0] == "clamp":
                grid(op[1] * scale, "a HardTanh bound x scale")
                grid(op[2] * scale, "a HardTanh bound x scale")
                bound = min(bound, max(abs(op[1]), abs(op[2])) * scale)
            elif op[0] == "scale":
                grid(op[1], "a layer scale")
                e = _frac_bits(op[1])
                bound *= abs(op[1])
                if e is not None:
                    bits += e
            elif op[0] == "avgpool":
                d = op[4]
                if d & (d - 1):
                    reason = reason or f"average pooling divides by {d}, not a power of two"
                else:
                    bits += d.bit_length() - 1
            worst = max(worst, bound * 2**bits)
    if reason:
        return Arithmetic(scale, torch.float64, False, reason)
    if worst < 2**24:
        return Arithmetic(scale, torch.float32, True)
    if worst < 2**53:
        return Arithmetic(scale, torch.float64, True)
    return Arithmetic(scale, torch.float64, False, f"sums up to {worst:.3g} exceed 2^53")
