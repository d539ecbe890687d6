"""Model files: a saved model is rebuilt from the architecture spec it carries.

Three formats, none runs code on load: the packed ternary ``.rwt`` (see
``rewire.sparse.export``), ``.safetensors`` with the spec, masks and ternary layers in its
metadata (see ``rewire.sparse.save_safetensors``), and ``model.pt`` as a run writes it,
``{"spec", "state_dict"}``, read with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import torch
from torch import nn

from ..sparse import load_packed, load_safetensors, read_packed, ternarize
from .registry import create_model

__all__ = ["load_model"]


def _build(spec, path, loader: str = "load_packed") -> nn.Module:
    if not isinstance(spec, dict) or "name" not in spec:
        raise ValueError(f"{path}: no architecture spec stored (a model rewire did not make); "
                         f"build the model yourself and use rewire.sparse.{loader}")
    return create_model(spec["name"], spec["input_shape"], spec["num_classes"],
                        **spec.get("options", {}))


def load_model(path: str | os.PathLike) -> nn.Module:
    """A saved model, rebuilt from its spec: a packed ``.rwt`` file, a run's ``model.pt``
    (both ternary), or a ``.safetensors`` file (masks and ternary layers as saved).

    The format is told by the suffix (``.safetensors``, ``.rwt``) or the first bytes; the
    architecture comes from the spec stored in the file (see ``create_model``).

    Args:
        path: The model file.

    Returns:
        The model, built with ``create_model`` and loaded with the file's weights.

    Raises:
        ValueError: a missing, truncated, foreign or unsafe file, in one line.
        ImportError: a ``.safetensors`` file without the safetensors package.

    Example:
        >>> import os, tempfile
        >>> from rewire.sparse import save_packed
        >>> tmp = tempfile.TemporaryDirectory()
        >>> path = os.path.join(tmp.name, "m.rwt")
        >>> _ = save_packed(ternarize(create_model("mlp-100", (1, 8, 8))), path)
        >>> load_model(path).rewire_spec["name"]
        'mlp-100'
        >>> tmp.cleanup()
    """
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"{path}: no such model file")
    with open(p, "rb") as f:
        magic = f.read(4)
    if p.suffix == ".safetensors":
        return load_safetensors(p, lambda spec: _build(spec, p, "load_safetensors"))
    if p.suffix == ".rwt" or magic == b"RWT1":
        spec, _, _ = read_packed(p)
        return load_packed(p, _build(spec, p))
    if magic[:2] != b"PK" and magic[:1] != b"\x80":  # a zip (torch.save) or a pickle
        raise ValueError(f"{path}: not a readable torch file (truncated, or not a model: it "
                         f"is neither a .rwt nor a torch.save file)")
    try:
        saved = torch.load(p, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as exc:
        if "weights_only" not in str(exc).lower() and "unsupported global" not in str(exc):
            raise ValueError(f"{path}: not a readable torch file ({_first(exc)})") from None
        raise ValueError(f"{path}: holds objects other than tensors and plain data; rewire "
                         f"loads model files without running their code "
                         f"(weights_only)") from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable torch file (truncated, or not a model): "
                         f"{_first(exc)}") from None
    if not isinstance(saved, dict) or "spec" not in saved or "state_dict" not in saved:
        raise ValueError(f"{path}: not a rewire model file (expected a dict with 'spec' and "
                         f"'state_dict', as a run's model.pt)")
    model = ternarize(_build(saved["spec"], p))
    try:
        model.load_state_dict(saved["state_dict"])
    except RuntimeError as exc:
        raise ValueError(f"{path}: the weights do not fit the stored architecture: "
                         f"{_first(exc)}") from None
    return model


def _first(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:120] if lines else type(exc).__name__
