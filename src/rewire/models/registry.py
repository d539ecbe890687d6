"""Models made by name: ``create_model("aann-mnist-cnn", input_shape=(1, 28, 28))``."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

__all__ = ["register_model", "create_model", "list_models", "model_spec"]

_REGISTRY: dict[str, Callable[..., nn.Module]] = {}


def register_model(name: str):
    """Decorator: register a builder ``fn(input_shape, num_classes, **options) -> nn.Module``."""

    def wrap(fn):
        _REGISTRY[name] = fn
        return fn

    return wrap


def list_models() -> list[str]:
    return sorted(_REGISTRY)


def create_model(name: str, input_shape=(1, 28, 28), num_classes: int = 10, **options) -> nn.Module:
    """Build a registered model; the returned module remembers how it was made (``spec``)."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; expected one of {', '.join(list_models())}")
    model = _REGISTRY[name](tuple(input_shape), num_classes, **options)
    model.rewire_spec = {"name": name, "input_shape": list(input_shape),
                         "num_classes": num_classes, "options": options}
    return model


def model_spec(model: nn.Module) -> dict:
    spec = getattr(model, "rewire_spec", None)
    if spec is None:
        raise ValueError("model was not made by create_model; its architecture is unknown")
    return spec
