"""Structured pruning: whole output channels (Conv2d filters, Linear units), then the model
rebuilt smaller.

    small = prune.channels(model, amount=0.5, example_input=x)   # L1 norm of each filter
    prune.channel_scores(model, norm="l2")                       # layer -> a score per channel
    prune.mask_channels(model, 0.5, x); small = prune.shrink(model, x)   # the two steps

The model must be a *chain*: a forward hook trace on ``example_input`` records the leaf
modules it calls, and every call must take the previous call's output (a flatten between
them allowed), the last giving the model's output. Between two weighted layers only
channel-wise modules may stand (activations, pooling, dropout, BatchNorm, Flatten), so a
channel of one layer is a fixed set of inputs of the next: ``H*W`` consecutive ones after a
flatten. A residual connection, a functional op between modules or any other module there
is refused with a ``ValueError``. The last weighted layer's outputs are never pruned.

A pruned channel is masked twice: the producer's filter and the consumer's inputs. The
consumer's zero inputs make the channel's bias, BatchNorm shift and activation irrelevant,
so removing it (:func:`shrink`) leaves the outputs unchanged.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn.utils import parametrize

from ..models.aann import Scale
from ..sparse.masks import Mask, get_mask, masks, param_list, prunable_weights, sparsify
from .methods import _keep_top, _magnitude_weight, check_amount

__all__ = ["channel_scores", "mask_channels", "shrink", "channels"]

_WEIGHTED = (nn.Conv2d, nn.Linear)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)
_CHANNELWISE = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Tanh,
                nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid, nn.Softplus, nn.Mish, nn.Identity,
                nn.Dropout, nn.Dropout2d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d,
                nn.AdaptiveMaxPool2d, nn.Flatten, Scale, *_NORMS)


@dataclass
class _Call:
    module: nn.Module
    x: torch.Tensor
    y: torch.Tensor


@dataclass
class _Link:
    """A weighted layer whose output channels feed the next one."""

    producer: str  # layer names, as in prunable_weights ("conv1.weight")
    consumer: str
    block: int  # consumer inputs per channel: H*W after a flatten, else 1
    norms: list[tuple[str, int]] = field(default_factory=list)  # BatchNorm path, block


def channel_scores(model: nn.Module, norm: str = "l1") -> dict[str, torch.Tensor]:
    """The norm of each output channel of every Conv2d / Linear weight (higher = keep).

    The effective (masked) weight is scored, the latent one in a ternary layer, as
    magnitude pruning does.

    Args:
        model: any module.
        norm: ``"l1"`` (sum of |w| of a filter) or ``"l2"`` (its Euclidean norm).

    Returns:
        Layer name (``"<module>.weight"``) -> a 1-D tensor, one score per output channel.

    Raises:
        ValueError: an unknown ``norm``.

    Example:
        >>> net = nn.Linear(2, 2)
        >>> _ = net.weight.data.copy_(torch.tensor([[1.0, -2.0], [0.5, 0.5]]))
        >>> channel_scores(net)["weight"].tolist()
        [3.0, 1.0]
    """
    if norm not in ("l1", "l2"):
        raise ValueError(f"norm must be 'l1' or 'l2', got {norm!r}")
    out: dict[str, torch.Tensor] = {}
    for name, (module, pname) in prunable_weights(model).items():
        if isinstance(module, _WEIGHTED):
            w = _magnitude_weight(module, pname).flatten(1)
            out[name] = w.abs().sum(1) if norm == "l1" else w.norm(dim=1)
    return out


def _trace(model: nn.Module, x: torch.Tensor) -> list[_Call]:
    """The leaf-module calls of one forward pass, checked to form a chain."""
    calls: list[_Call] = []
    inputs: list[torch.Tensor] = []

    def pre(module: nn.Module, args: tuple) -> None:
        if len(args) != 1 or not isinstance(args[0], torch.Tensor):
            raise ValueError(f"structured pruning needs a chain of modules; "
                             f"{type(module).__name__} takes other than one tensor")
        inputs.append(args[0].clone())

    def post(module: nn.Module, args: tuple, y: object) -> None:
        if not isinstance(y, torch.Tensor):
            raise ValueError(f"structured pruning needs a chain of modules; "
                             f"{type(module).__name__} returns other than one tensor")
        calls.append(_Call(module, inputs.pop(), y.clone()))

    hooks = []
    for mname, module in model.named_modules():
        kids = [n for n, _ in module.named_children() if n != "parametrizations"]
        if kids or "parametrizations" in mname.split("."):
            continue
        hooks += [module.register_forward_pre_hook(pre), module.register_forward_hook(post)]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(x)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    if not calls:
        raise ValueError(f"{type(model).__name__} calls no module on the example input")
    for i, call in enumerate([*calls[1:], None], 1):  # what comes before the first is free
        prev, now = calls[i - 1].y, out if call is None else call.x
        if not isinstance(now, torch.Tensor) or now.numel() != prev.numel() or not torch.equal(
                prev.reshape(now.shape), now):
            where = "the model's output" if call is None else type(call.module).__name__
            raise ValueError(f"structured pruning needs a chain of modules; {where} (call {i}) "
                             "is not the previous call's output (a residual connection or a "
                             "function between modules?)")
    for call in calls:
        if sum(c.module is call.module for c in calls) > 1 and any(
                True for _ in [*call.module.parameters(), *call.module.buffers()]):
            raise ValueError(f"structured pruning needs a chain of modules; "
                             f"{type(call.module).__name__} with weights or buffers is called "
                             "twice")
    return calls


def _links(model: nn.Module, x: torch.Tensor) -> list[_Link]:
    calls = _trace(model, x)
    weights = {id(m): n for n, (m, _) in prunable_weights(model).items()
               if isinstance(m, _WEIGHTED)}
    paths = {id(m): n for n, m in model.named_modules()}
    at = [i for i, c in enumerate(calls) if id(c.module) in weights]
    if not at:
        raise ValueError(f"{type(model).__name__} calls no Conv2d or Linear layer")
    for i in at:
        m = calls[i].module
        if isinstance(m, nn.Conv2d) and (m.groups != 1 or calls[i].x.dim() != 4):
            raise ValueError(f"{weights[id(m)]}: only ungrouped Conv2d on batched 4-D input")
        if isinstance(m, nn.Linear) and calls[i].x.dim() != 2:
            raise ValueError(f"{weights[id(m)]}: only Linear layers on 2-D (batch, features) input")
    links = []
    for i, j in zip(at, at[1:]):
        p, q = weights[id(calls[i].module)], weights[id(calls[j].module)]
        link = _Link(p, q, 1)
        shape = tuple(calls[i].y.shape[1:])
        c = shape[0]
        for call in calls[i + 1 : j + 1]:
            shape, link.block = _step(shape, tuple(call.x.shape[1:]), c, link.block, p)
            if call is calls[j]:
                break
            if not isinstance(call.module, _CHANNELWISE):
                raise ValueError(f"{paths[id(call.module)]} ({type(call.module).__name__}) "
                                 f"between {p} and {q} is not a channel-wise module")
            if isinstance(call.module, _NORMS):
                link.norms.append((paths[id(call.module)], link.block))
            shape, link.block = _step(shape, tuple(call.y.shape[1:]), c, link.block, p)
        want = c if isinstance(calls[j].module, nn.Conv2d) else c * link.block
        if shape[0] != want:
            raise ValueError(f"cannot follow the channels of {p} into {q}")
        links.append(link)
    return links


def _step(old: tuple[int, ...], new: tuple[int, ...], c: int, block: int, p: str
          ) -> tuple[tuple[int, ...], int]:
    """Follow ``c`` channels through a shape change: (C, H, W) -> (C, H', W'), or a flatten
    (C, H, W) -> (C*H*W,) that spreads each channel over H*W consecutive features."""
    if new == old or (len(old) == len(new) == 3 and new[0] == old[0] == c):
        return new, block
    if len(old) == 3 and old[0] == c and new == (math.prod(old),):
        return new, old[1] * old[2]
    raise ValueError(f"cannot follow the channels of {p} through a {old} -> {new} reshape")


def _and_mask(model: nn.Module, layer: str, keep: torch.Tensor) -> None:
    mask = get_mask(model, layer)
    mask &= keep.to(mask.device)


def mask_channels(model: nn.Module, amount: float, example_input: torch.Tensor,
                  norm: str = "l1") -> nn.Module:
    """Mask the lowest-norm share ``amount`` of output channels of every weighted layer of a
    chain but the last, and the inputs of the next layer that read them; in place.

    Per layer ``floor(amount × channels)`` channels go, at least one stays; ties are broken
    by position. Scores come from the weights before this call (:func:`channel_scores`).

    Args:
        model: a chain of modules (see the module notes), e.g. an ``nn.Sequential``.
        amount: share of channels to prune in each layer, in [0, 1].
        example_input: a batch the model accepts, used to trace the chain.
        norm: ``"l1"`` or ``"l2"``.

    Returns:
        ``model``, with masks on its Conv2d / Linear layers.

    Raises:
        ValueError: ``amount`` or ``norm`` out of range, or a model that is not a chain.

    Example:
        >>> net = nn.Sequential(nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 3))
        >>> net = mask_channels(net, 0.5, torch.rand(2, 8))
        >>> int(net[0].weight.any(1).sum()), int(net[2].weight.any(0).sum())
        (3, 3)
    """
    amount = check_amount(amount)
    scores = channel_scores(model, norm)
    links = _links(model, example_input)
    if not links:
        return model
    sparsify(model, [link.producer for link in links] + [links[-1].consumer])
    for link in links:
        s = scores[link.producer]
        n = s.numel()
        keep = _keep_top(s, min(math.floor(amount * n + 1e-9), n - 1))
        w = get_mask(model, link.producer)
        _and_mask(model, link.producer, keep.view(-1, *[1] * (w.dim() - 1)))
        cols = keep.repeat_interleave(link.block)
        w = get_mask(model, link.consumer)
        _and_mask(model, link.consumer, cols.view(1, -1, *[1] * (w.dim() - 2)))
    return model


def _take(module: nn.Module, dim: int, idx: torch.Tensor) -> None:
    """Keep the ``idx`` rows (dim 0) or input columns (dim 1) of a Conv2d / Linear."""
    if parametrize.is_parametrized(module, "weight"):
        plist = param_list(module, "weight")
        old = plist.original
        plist.original = nn.Parameter(old.detach().index_select(dim, idx), old.requires_grad)
        for f in plist:
            if isinstance(f, Mask):
                f.mask = f.mask.index_select(dim, idx)
    else:
        old = module.get_parameter("weight")
        module.weight = nn.Parameter(old.detach().index_select(dim, idx), old.requires_grad)
    bias = module.bias
    if dim == 0 and isinstance(bias, torch.Tensor):
        module.bias = nn.Parameter(bias.detach()[idx], bias.requires_grad)
    kind = "channels" if isinstance(module, nn.Conv2d) else "features"
    setattr(module, ("out_" if dim == 0 else "in_") + kind, int(idx.numel()))


def _take_norm(bn: nn.BatchNorm1d | nn.BatchNorm2d, idx: torch.Tensor) -> None:
    for name in ("weight", "bias"):
        p = getattr(bn, name)
        if isinstance(p, torch.Tensor):
            setattr(bn, name, nn.Parameter(p.detach()[idx], p.requires_grad))
    for name in ("running_mean", "running_var"):
        b = getattr(bn, name)
        if isinstance(b, torch.Tensor):
            setattr(bn, name, b[idx].clone())
    bn.num_features = int(idx.numel())


def shrink(model: nn.Module, example_input: torch.Tensor) -> nn.Module:
    """A smaller copy of a chain without the channels no layer reads any more.

    A channel goes when the next weighted layer's mask is zero on all its inputs: its
    producer's filter (and bias), the BatchNorm entries between and those inputs are removed
    (at least one channel stays), so the copy computes exactly what ``model`` does. Masks
    and ternary parametrizations are kept, cut to the new shapes. The copy has no
    ``rewire_spec``: it is no longer the registered architecture.

    Args:
        model: a chain of modules (see the module notes); left unchanged.
        example_input: a batch the model accepts, used to trace the chain.

    Returns:
        The smaller model (a deep copy of ``model`` with its layers cut).

    Raises:
        ValueError: a model that is not a chain.

    Example:
        >>> net = nn.Sequential(nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 3))
        >>> small = shrink(mask_channels(net, 0.5, torch.rand(2, 8)), torch.rand(2, 8))
        >>> small[0].weight.shape, small[2].weight.shape
        (torch.Size([3, 8]), torch.Size([3, 3]))
    """
    links = _links(model, example_input)
    small = copy.deepcopy(model)
    if hasattr(small, "rewire_spec"):
        del small.rewire_spec
    live = masks(model)
    table = prunable_weights(small)
    for link in links:
        if link.consumer not in live:
            continue
        cols = live[link.consumer].transpose(0, 1).flatten(1).any(1)
        keep = cols.view(-1, link.block).any(1)
        if keep.all():
            continue
        if not keep.any():
            keep[0] = True
        idx = keep.nonzero().flatten()
        _take(table[link.producer][0], 0, idx)
        for path, block in link.norms:
            bn = small.get_submodule(path)
            assert isinstance(bn, _NORMS)
            _take_norm(bn, _expand(idx, block))
        _take(table[link.consumer][0], 1, _expand(idx, link.block))
    return small


def _expand(idx: torch.Tensor, block: int) -> torch.Tensor:
    """Channel indices -> the feature indices of their blocks of ``block``."""
    return (idx.view(-1, 1) * block + torch.arange(block, device=idx.device)).flatten()


def channels(model: nn.Module, amount: float, example_input: torch.Tensor,
             norm: str = "l1") -> nn.Module:
    """Structured pruning: a smaller copy of ``model`` without the lowest-norm ``amount`` of
    the output channels of each weighted layer but the last (:func:`mask_channels`, then
    :func:`shrink`). Layers without a mask before come back without one.

    Args:
        model: a chain of modules (see the module notes); left unchanged.
        amount: share of channels to remove per layer, in [0, 1], rounded down, at least
            one channel kept.
        example_input: a batch the model accepts, used to trace the chain.
        norm: ``"l1"`` or ``"l2"``, the norm of a filter that ranks it.

    Returns:
        The smaller model.

    Raises:
        ValueError: ``amount`` or ``norm`` out of range, or a model that is not a chain.

    Example:
        >>> net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(16, 2))
        >>> small = channels(net, 0.5, torch.rand(2, 1, 4, 4))
        >>> small
        Sequential(
          (0): Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1))
          (1): ReLU()
          (2): Flatten(start_dim=1, end_dim=-1)
          (3): Linear(in_features=8, out_features=2, bias=True)
        )
    """
    before = set(masks(model))
    small = shrink(mask_channels(copy.deepcopy(model), amount, example_input, norm),
                   example_input)
    for name, (module, pname) in prunable_weights(small).items():
        if name not in before and parametrize.is_parametrized(module, pname):
            parametrize.remove_parametrizations(module, pname, leave_parametrized=True)
    return small
