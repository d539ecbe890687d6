"""Plain weights for other tools: bake the masks and signs in, and safetensors files.

``bake(model)`` leaves ordinary torch layers whose ``.weight`` holds the effective values, so
the state dict loads into a plain model of the same class. A safetensors file holds that
baked state dict (no pickle), and in its metadata ``"rewire"`` a JSON record: the model's
spec, which layers are masked and which ternary. A mask is the weight's zero pattern; only a
layer with a live weight that is exactly zero also stores its mask, as the bool tensor
``"rewire_mask.<layer>"``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils import parametrize

from ..extras import require
from .masks import Mask, masks, param_list, prunable_weights, set_mask, sparsify
from .ternary import Ternary

__all__ = ["bake", "save_safetensors", "load_safetensors", "MASK_PREFIX"]

MASK_PREFIX = "rewire_mask."


def _has(module: nn.Module, pname: str, kind: type | tuple[type, ...]) -> bool:
    return parametrize.is_parametrized(module, pname) and any(
        isinstance(p, kind) for p in param_list(module, pname))


def bake(model: nn.Module) -> nn.Module:
    """Remove rewire's masks and ternary parametrizations in place, keeping their values.

    Like ``torch.nn.utils.parametrize.remove_parametrizations(..., leave_parametrized=True)``
    on every masked or ternary weight: each becomes a plain parameter holding the effective
    weight (pruned entries exactly zero, a ternary layer's -1 / 0 / +1), so the state dict
    has the keys of the plain model (``fc.weight``); latent weights and masks are gone. The
    parameter is the original one (an optimiser holding it still does), with its memory
    layout: a layout decides which kernel a conv runs, so the baked model computes exactly
    as a plain model of its class that loads its state dict. Do not bake a ``copy.deepcopy``
    of a parametrized model: the copy shares its class with the original (torch's
    parametrize), and removing a parametrization from one breaks the other.

    Args:
        model: any module; weights without a rewire mask or ternary step are left as they
            are (one that has them is baked whole, other parametrizations on it included).

    Returns:
        The same ``model``.

    Example:
        >>> from rewire.sparse import set_mask, ternarize
        >>> lin = ternarize(nn.Linear(2, 2, bias=False))
        >>> with torch.no_grad():
        ...     _ = lin.parametrizations.weight.original.copy_(torch.tensor([[.3, -2], [1, 4]]))
        >>> set_mask(lin, "weight", torch.tensor([[1, 1], [0, 1]]))
        >>> bake(lin).weight.tolist(), list(lin.state_dict())
        ([[1.0, -1.0], [0.0, 1.0]], ['weight'])
    """
    for module, pname in prunable_weights(model).values():
        if _has(module, pname, (Mask, Ternary)):
            value = getattr(module, pname).detach()
            parametrize.remove_parametrizations(module, pname, leave_parametrized=False)
            with torch.no_grad():  # into the original parameter: a plain model's memory layout
                getattr(module, pname).copy_(value)
    return model


def _safetensors():
    require("safetensors.torch", "rewire's safetensors support")  # one line naming the extra
    import safetensors.torch

    return safetensors


def _baked_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """The state dict ``bake(model)`` would leave, without changing ``model``. (Not by baking
    a deep copy: a copy shares the parametrized class, and baking it breaks the original.)"""
    state = model.state_dict()
    for name, (module, pname) in prunable_weights(model).items():
        if _has(module, pname, (Mask, Ternary)):
            inner = name[: len(name) - len(pname)] + f"parametrizations.{pname}."
            for key in [k for k in state if k.startswith(inner)]:
                del state[key]
            state[name] = getattr(module, pname).detach()
    return state


def save_safetensors(model: nn.Module, path: str | os.PathLike, spec: dict | None = None) -> None:
    """Write the baked state dict of ``model`` (see :func:`bake`) as a safetensors file.

    Args:
        model: any module, masked, ternary or plain; it is not changed.
        path: the file to write.
        spec: the architecture spec to store (default: the model's ``rewire_spec``, set by
            ``rewire.models.create_model``), from which ``rewire.models.load_model`` rebuilds it.

    Raises:
        ImportError: safetensors is not installed (``rewire.extras.MissingExtra``: one line,
            ``pip install 'rewire[io]'``).
    """
    st = _safetensors()
    live = masks(model)
    info = {"spec": spec if spec is not None else getattr(model, "rewire_spec", None),
            "masked": list(live),
            "ternary": [n for n, mp in prunable_weights(model).items() if _has(*mp, Ternary)]}
    tensors = {k: v.detach().clone(memory_format=torch.contiguous_format)
               for k, v in _baked_state(model).items()}
    for name, mask in live.items():
        if not torch.equal(mask, tensors[name] != 0):  # a live weight is exactly zero
            tensors[MASK_PREFIX + name] = mask.clone()
    st.torch.save_file(tensors, str(path), metadata={"rewire": json.dumps(info)})


def load_safetensors(path: str | os.PathLike,
                     model: nn.Module | Callable[[dict | None], nn.Module] | None = None
                     ) -> nn.Module:
    """Load a safetensors file into ``model``, with the file's masks and ternary layers.

    Args:
        path: a file written by :func:`save_safetensors`, or any safetensors state dict.
        model: the module to load into (its structure becomes the file's: layers the file
            masks get those masks, its ternary layers are ternarized, the rest are plain);
            or a function ``spec -> module`` that builds it from the stored spec. None:
            ``rewire.sparse`` does not know the registered models (they live above it), so
            ``rewire.models.load_model(path)`` is the call that rebuilds one.

    Returns:
        The loaded model.

    Raises:
        ValueError: a missing or unreadable file, or weights that do not fit ``model``, in
            one line.
        ImportError: safetensors is not installed (one line, as above).
    """
    st = _safetensors()
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"{path}: no such model file")
    try:
        with st.safe_open(str(p), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        info = json.loads(meta.get("rewire", "{}"))
    except (st.SafetensorError, OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable safetensors file ({_line(exc)})") from None
    if model is None:
        raise ValueError(f"{path}: give the model to load into, or use "
                         f"rewire.models.load_model to rebuild it from its spec")
    if not isinstance(model, nn.Module):
        model = model(info.get("spec"))
    stored = {k[len(MASK_PREFIX):]: tensors.pop(k) for k in list(tensors)
              if k.startswith(MASK_PREFIX)}
    bake(model)
    try:
        model.load_state_dict(tensors)
    except RuntimeError as exc:
        raise ValueError(f"{path}: the weights do not fit the model: {_line(exc)}") from None
    masked, ternary = info.get("masked", []), info.get("ternary", [])
    sparsify(model, masked)
    layers = prunable_weights(model)
    for name in masked:
        set_mask(model, name, stored.get(name, getattr(*layers[name]) != 0))
    for name in ternary:
        parametrize.register_parametrization(*layers[name], Ternary())
    return model


def _line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:160] if lines else type(exc).__name__
