"""Sparsity and ternarization on standard torch layers; the wiring type."""

from .export import (
    load_packed,
    pack_ternary,
    packed_report,
    read_packed,
    save_packed,
    unpack_ternary,
)
from .masks import (
                    Mask,
                    get_mask,
                    is_sparse,
                    layer_param,
                    masks,
                    prunable_weights,
                    set_mask,
                    sparsify,
)
from .report import format_report, sign_counts, sparsity, sparsity_report
from .ternary import Ternary, is_ternary, ternarize
from .wiring import Wiring, random_wiring, read_wiring, write_wiring

__all__ = ["Mask", "Ternary", "Wiring", "format_report", "get_mask", "is_sparse", "is_ternary",
           "layer_param", "load_packed", "masks", "pack_ternary", "packed_report",
           "prunable_weights", "random_wiring", "read_packed", "read_wiring", "save_packed",
           "set_mask", "sign_counts", "sparsify", "sparsity", "sparsity_report", "ternarize",
           "unpack_ternary", "write_wiring"]
