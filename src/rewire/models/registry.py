"""Models made by name: ``create_model("aann-mnist-cnn", input_shape=(1, 28, 28))``."""

from __future__ import annotations

from torch import nn

from ..registry import Registry

__all__ = ["MODELS", "register_model", "create_model", "list_models", "model_spec"]

MODELS = Registry("model")


def register_model(name: str):
    """Decorator: register a builder ``fn(input_shape, num_classes, **options) -> nn.Module``.

    ``create_model(name, ...)`` then calls the builder with the input shape as a tuple.

    Args:
        name: The model's name, unique among the registered models.

    Returns:
        (Callable): The decorator; it registers the function it decorates and returns it
            unchanged.

    Raises:
        ValueError: When the decorator is applied, if ``name`` is registered already.
    """
    return MODELS.register(name)


def list_models() -> list[str]:
    """The names of the registered models, sorted.

    Returns:
        The names ``create_model`` accepts.

    Example:
        >>> "mlp-100" in list_models()
        True
    """
    return sorted(MODELS)


def create_model(name: str, input_shape=(1, 28, 28), num_classes: int = 10, **options) -> nn.Module:
    """Build a registered model; the returned module remembers how it was made (``spec``).

    The spec is set as the model's ``rewire_spec`` attribute (see ``model_spec``); saved
    with the model, it lets ``load_model`` rebuild the architecture.

    Args:
        name: A registered model's name (see ``list_models``).
        input_shape (Sequence[int]): The shape of one input, e.g. ``(1, 28, 28)``.
        num_classes: The number of outputs.
        **options (Any): Passed to the model's builder (e.g. ``bias=False``); stored in the
            spec, so they must be JSON-compatible for the model to be saved.

    Returns:
        The model, with its ``rewire_spec``.

    Raises:
        ValueError: If ``name`` is not a registered model.

    Example:
        >>> create_model("mlp-100", input_shape=(1, 8, 8), num_classes=10).rewire_spec
        {'name': 'mlp-100', 'input_shape': [1, 8, 8], 'num_classes': 10, 'options': {}}
    """
    model = MODELS[name](tuple(input_shape), num_classes, **options)
    model.rewire_spec = {"name": name, "input_shape": list(input_shape),
                         "num_classes": num_classes, "options": options}
    return model


def model_spec(model: nn.Module) -> dict:
    """The architecture spec a model was made with (its ``rewire_spec``).

    Args:
        model: A model made by ``create_model``.

    Returns:
        The spec: ``{"name", "input_shape", "num_classes", "options"}``.

    Raises:
        ValueError: If ``model`` has no spec (it was not made by ``create_model``).

    Example:
        >>> model_spec(create_model("mlp-100", (1, 8, 8)))["name"]
        'mlp-100'
    """
    spec = getattr(model, "rewire_spec", None)
    if spec is None:
        raise ValueError("model was not made by create_model; its architecture is unknown")
    return spec
