"""Masks to and from ``torch.nn.utils.prune``.

torch's pruning keeps ``<name>_orig`` (a parameter) and ``<name>_mask`` (a buffer) and
recomputes ``<name> = <name>_orig * <name>_mask`` in a forward pre-hook; rewire keeps the same
two tensors as a parametrization (``parametrizations.<name>.original`` and its mask). Both
conversions move those tensors across unchanged, so masks, effective weights and outputs are
identical.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils import prune as torch_prune

from ..sparse.masks import get_mask, masks, param_list, prunable_weights, set_mask, sparsify
from ..sparse.ternary import Ternary

__all__ = ["from_torch_prune", "to_torch_prune"]


def _torch_pruned(model: nn.Module) -> list[tuple[str, nn.Module, str]]:
    """(layer name, module, tensor name) of every tensor ``torch.nn.utils.prune`` masks."""
    out = []
    for mname, module in model.named_modules():
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, torch_prune.BasePruningMethod):  # a PruningContainer too
                name = hook._tensor_name
                out.append((f"{mname}.{name}" if mname else name, module, name))
    return out


def from_torch_prune(model: nn.Module) -> nn.Module:
    """Turn the pruning ``torch.nn.utils.prune`` put on ``model`` into rewire masks, in place.

    Every ``weight_orig`` / ``weight_mask`` pair on a layer rewire can mask (Linear, Conv,
    the input and hidden weights of RNN / LSTM / GRU) becomes that layer's rewire mask over
    the same original weight; other pruned tensors (a bias) keep torch's pruning.

    Args:
        model: A model pruned with ``torch.nn.utils.prune``; converted in place.

    Returns:
        The same ``model``, with identical masks, effective weights and outputs.

    Example:
        >>> lin = nn.Linear(4, 2)
        >>> _ = torch_prune.l1_unstructured(lin, "weight", amount=0.5)
        >>> m = from_torch_prune(lin)
        >>> int(get_mask(m, "weight").sum()), hasattr(m, "weight_mask")
        (4, False)
    """
    prunable = {(id(m), p.removesuffix("_orig")) for m, p in prunable_weights(model).values()}
    for layer, module, name in _torch_pruned(model):
        if (id(module), name) not in prunable:
            continue
        original = getattr(module, f"{name}_orig").detach().clone()
        mask = getattr(module, f"{name}_mask") != 0
        torch_prune.remove(module, name)  # leaves name = orig * mask, a plain parameter
        sparsify(model, [layer])
        with torch.no_grad():
            param_list(module, name).original.copy_(original)
        set_mask(model, layer, mask)
    return model


def to_torch_prune(model: nn.Module) -> nn.Module:
    """Turn rewire's masks into ``torch.nn.utils.prune`` pruning, in place.

    Each masked layer's parametrization is removed (the original weight stays) and
    ``torch.nn.utils.prune.custom_from_mask`` adds the same mask as ``weight_mask``.

    Args:
        model: A model with rewire masks; converted in place.

    Returns:
        The same ``model``, with identical masks, effective weights and outputs.

    Raises:
        ValueError: a ternary layer (torch's pruning has no sign step); bake it first with
            ``rewire.sparse.bake`` for plain weights.

    Example:
        >>> lin = sparsify(nn.Linear(4, 2))
        >>> set_mask(lin, "weight", torch.eye(2, 4))
        >>> m = to_torch_prune(lin)
        >>> int(m.weight_mask.sum()), parametrize.is_parametrized(m)
        (2, False)
    """
    table = prunable_weights(model)
    ternary = [n for n in masks(model) if any(
        isinstance(f, Ternary) for f in param_list(*table[n]))]
    if ternary:
        raise ValueError(f"to_torch_prune: ternary layers {', '.join(ternary)}; torch.nn.utils."
                         f"prune holds masks only (rewire.sparse.bake(model) gives plain weights)")
    for layer in list(masks(model)):
        module, name = table[layer]
        mask = get_mask(model, layer).clone()
        parametrize.remove_parametrizations(module, name, leave_parametrized=False)
        torch_prune.custom_from_mask(module, name, mask)
    return model
