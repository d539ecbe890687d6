"""The papers' architectures, made by name."""

from .aann import AANNCNN
from .registry import create_model, list_models, model_spec, register_model

__all__ = ["AANNCNN", "create_model", "list_models", "model_spec", "register_model"]
