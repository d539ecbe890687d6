"""Models made by name: ``create_model("aann-mnist-cnn", input_shape=(1, 28, 28))``."""

from __future__ import annotations

from torch import nn

from ..registry import Registry

__all__ = ["MODELS", "register_model", "create_model", "list_models", "model_spec"]

MODELS = Registry("model")


def register_model(name: str):
    """Decorator: register a builder ``fn(input_shape, num_classes, **options) -> nn.Module``."""
    return MODELS.register(name)


def list_models() -> list[str]:
    return sorted(MODELS)


def create_model(name: str, input_shape=(1, 28, 28), num_classes: int = 10, **options) -> nn.Module:
    """Build a registered model; the returned module remembers how it was made (``spec``)."""
    model = MODELS[name](tuple(input_shape), num_classes, **options)
    model.rewire_spec = {"name": name, "input_shape": list(input_shape),
                         "num_classes": num_classes, "options": options}
    return model


def model_spec(model: nn.Module) -> dict:
    spec = getattr(model, "rewire_spec", None)
    if spec is None:
        raise ValueError("model was not made by create_model; its architecture is unknown")
    return spec
