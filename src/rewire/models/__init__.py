"""The papers' architectures, made by name."""

from .aann import AANNCNN
from .mlp import mlp
from .registry import create_model, list_models, model_spec, register_model
from .rnn import CELLS, GraphNet, GraphRNN, ReberRNN

__all__ = ["AANNCNN", "CELLS", "GraphNet", "GraphRNN", "ReberRNN", "create_model",
           "list_models", "mlp", "model_spec", "register_model"]
