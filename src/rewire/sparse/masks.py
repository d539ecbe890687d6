"""Masks on the weights of ordinary torch layers, through ``torch.nn.utils.parametrize``.

``sparsify(model)`` attaches a binary mask to every prunable weight (Linear, Conv*, and the
``weight_ih_l*`` / ``weight_hh_l*`` of RNN, LSTM and GRU), so any user model becomes sparse in
place and still saves, loads, moves and trains like a torch module. The effective weight is
``original * mask``: the gradient of a pruned entry is exactly zero, so its effective weight
stays exactly zero and training never revives it. Its latent value (``original``) can
still change: the optimiser's momentum from before it was pruned (Adam, SGD with momentum)
and weight decay keep moving it. Only ``set_mask`` brings the weight back, with the latent
value it has by then.
"""

from __future__ import annotations

from typing import cast

import torch
from torch import nn
from torch.nn.utils import parametrize

__all__ = ["Mask", "prunable_weights", "sparsify", "is_sparse", "masks", "get_mask", "set_mask",
           "layer_param", "param_list"]

_RECURRENT = (nn.RNN, nn.LSTM, nn.GRU)
_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


class Mask(nn.Module):
    """Parametrization ``w -> w * mask`` with the mask kept as a buffer (saved in state_dict).

    Args:
        mask: The mask, of the weight's shape; stored as a boolean tensor (nonzero keeps).

    Example:
        >>> Mask(torch.tensor([1, 0]))(torch.tensor([2.0, 3.0]))
        tensor([2., 0.])
    """

    mask: torch.Tensor

    def __init__(self, mask: torch.Tensor):
        super().__init__()
        self.register_buffer("mask", mask.to(torch.bool))

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return w * self.mask


def prunable_weights(model: nn.Module) -> dict[str, tuple[nn.Module, str]]:
    """Layer name (``"<module>.<param>"``) -> (module, parameter name), in definition order.

    The prunable weights are the ``weight`` of Linear and Conv1d/2d/3d layers and the
    ``weight_ih_l*`` / ``weight_hh_l*`` of RNN, LSTM and GRU modules, masked or not.

    Args:
        model: The model to scan (``model`` itself included).

    Returns:
        A dict from layer name to ``(module, parameter name)``; the layer name is just the
            parameter name when ``model`` itself is the layer.

    Example:
        >>> list(prunable_weights(nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))))
        ['0.weight', '2.weight']
    """
    out: dict[str, tuple[nn.Module, str]] = {}
    for mname, module in model.named_modules():
        if isinstance(module, _LAYERS):
            names = ["weight"]
        elif isinstance(module, _RECURRENT):
            names = [n for n in _param_names(module) if n.startswith(("weight_ih", "weight_hh"))]
        else:
            continue
        for p in names:
            out[f"{mname}.{p}" if mname else p] = (module, p)
    return out


def _parametrizations(module: nn.Module) -> nn.ModuleDict:
    # torch types a module attribute as ``Tensor | Module``; this one is a ModuleDict
    return cast(nn.ModuleDict, module.parametrizations)


def param_list(module: nn.Module, pname: str) -> parametrize.ParametrizationList:
    """``module.parametrizations[pname]`` (its ``original`` and parametrizations), typed."""
    return cast(parametrize.ParametrizationList, _parametrizations(module)[pname])


def _param_names(module: nn.Module) -> list[str]:
    if parametrize.is_parametrized(module):
        return [*_parametrizations(module).keys(),
                *(n for n, _ in module.named_parameters(recurse=False))]
    return [n for n, _ in module.named_parameters(recurse=False)]


def layer_param(model: nn.Module, layer: str) -> tuple[nn.Module, str]:
    """Look up a prunable layer by name, with a clear error listing the valid names.

    Args:
        model: The model holding the layer.
        layer: A layer name as in ``prunable_weights``, e.g. ``"0.weight"``.

    Returns:
        The ``(module, parameter name)`` pair of that layer.

    Raises:
        KeyError: If ``model`` has no prunable layer of that name.

    Example:
        >>> layer_param(nn.Sequential(nn.Linear(4, 2)), "0.weight")
        (Linear(in_features=4, out_features=2, bias=True), 'weight')
    """
    layers = prunable_weights(model)
    if layer not in layers:
        raise KeyError(f"no prunable layer {layer!r}; the model has {', '.join(layers)}")
    return layers[layer]


def _mask_of(module: nn.Module, pname: str) -> Mask | None:
    if parametrize.is_parametrized(module, pname):
        for p in param_list(module, pname):
            if isinstance(p, Mask):
                return p
    return None


def sparsify(model: nn.Module, layers: list[str] | None = None) -> nn.Module:
    """Attach an all-ones mask to each prunable weight (or to ``layers``); idempotent.

    Args:
        model: The model to make sparse, in place.
        layers: Layer names (as in ``prunable_weights``) to mask; ``None`` masks every
            prunable weight. A layer that already has a mask keeps it.

    Returns:
        ``model`` itself.

    Raises:
        KeyError: If a name in ``layers`` is not a prunable layer of ``model`` (the names that
            exist are masked first).

    Example:
        >>> m = sparsify(nn.Linear(4, 2))
        >>> set_mask(m, "weight", torch.zeros(2, 4))
        >>> float(m.weight.detach().abs().sum())
        0.0
    """
    for name, (module, pname) in prunable_weights(model).items():
        if layers is not None and name not in layers:
            continue
        if _mask_of(module, pname) is None:
            w = getattr(module, pname)
            parametrize.register_parametrization(
                module, pname, Mask(torch.ones_like(w, dtype=torch.bool)), unsafe=True
            )
    if layers is not None:
        missing = set(layers) - set(prunable_weights(model))
        if missing:
            raise KeyError(f"no prunable layer {sorted(missing)}; the model has "
                           f"{', '.join(prunable_weights(model))}")
    return model


def is_sparse(model: nn.Module) -> bool:
    """Whether any prunable weight of ``model`` carries a mask.

    Args:
        model: The model to inspect.

    Returns:
        True if at least one prunable weight is masked (see ``sparsify``).

    Example:
        >>> m = nn.Sequential(nn.Linear(4, 2))
        >>> is_sparse(m), is_sparse(sparsify(m))
        (False, True)
    """
    return any(_mask_of(m, p) is not None for m, p in prunable_weights(model).values())


def masks(model: nn.Module) -> dict[str, torch.Tensor]:
    """Layer name -> boolean mask, for every masked layer.

    Args:
        model: The model to inspect; unmasked layers are left out.

    Returns:
        A dict from layer name to its mask buffer itself (not a copy), in definition order.

    Example:
        >>> m = sparsify(nn.Sequential(nn.Linear(4, 2)))
        >>> {name: tuple(mask.shape) for name, mask in masks(m).items()}
        {'0.weight': (2, 4)}
    """
    out: dict[str, torch.Tensor] = {}
    for name, (module, pname) in prunable_weights(model).items():
        mask = _mask_of(module, pname)
        if mask is not None:
            out[name] = mask.mask
    return out


def get_mask(model: nn.Module, layer: str) -> torch.Tensor:
    """A layer's boolean mask (the buffer itself, not a copy).

    Args:
        model: The model holding the layer.
        layer: A layer name as in ``prunable_weights``.

    Returns:
        The mask, a boolean tensor of the weight's shape.

    Raises:
        KeyError: If ``model`` has no prunable layer of that name.
        ValueError: If the layer has no mask (call ``sparsify`` first).

    Example:
        >>> get_mask(sparsify(nn.Linear(2, 2)), "weight")
        tensor([[True, True],
                [True, True]])
    """
    module, pname = layer_param(model, layer)
    mask = _mask_of(module, pname)
    if mask is None:
        raise ValueError(f"layer {layer!r} has no mask; call sparsify(model) first")
    return mask.mask


def set_mask(model: nn.Module, layer: str, mask: torch.Tensor) -> None:
    """Replace a layer's mask (same shape); a nonzero entry keeps the weight.

    Args:
        model: The model holding the masked layer.
        layer: A layer name as in ``prunable_weights``.
        mask: The new mask, of the weight's shape; converted to boolean and copied into the
            existing mask buffer.

    Raises:
        KeyError: If ``model`` has no prunable layer of that name.
        ValueError: If the layer has no mask, or ``mask`` has another shape.

    Example:
        >>> m = sparsify(nn.Linear(2, 2))
        >>> set_mask(m, "weight", torch.eye(2))
        >>> int(get_mask(m, "weight").sum())
        2
    """
    current = get_mask(model, layer)
    if mask.shape != current.shape:
        raise ValueError(f"mask for {layer!r} has shape {tuple(mask.shape)}, "
                         f"expected {tuple(current.shape)}")
    current.copy_(mask.to(torch.bool))

