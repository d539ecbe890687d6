"""Pruning: selection methods, schemes and schedules over masks.

    from rewire import prune
    prune.magnitude(model, amount=0.8, scope="global")
"""

from .distributions import DISTRIBUTIONS, layer_counts, layer_densities, random_sparse
from .interop import from_torch_prune, to_torch_prune
from .methods import (
    METHODS,
    LayerScaledMagnitude,
    Magnitude,
    OptimalBrainDamage,
    PruningMethod,
    RandomScores,
    apply_pruning,
    check_amount,
    class_distributed,
    magnitude,
    make_method,
    obd,
    random,
)
from .nm import n_m, nm_groups
from .schedules import GradualPruning, gradual_amount
from .schemes import (
    SCHEMES,
    Bucket,
    IterativeFixed,
    IterativeRelative,
    OneShot,
    Scheme,
    make_scheme,
    prune_with_scheme,
)
from .structured import channel_scores, channels, mask_channels, shrink

__all__ = ["METHODS", "SCHEMES", "Bucket", "GradualPruning", "IterativeFixed",
           "IterativeRelative", "LayerScaledMagnitude", "Magnitude", "OneShot",
           "OptimalBrainDamage", "PruningMethod", "RandomScores", "Scheme", "apply_pruning",
           "check_amount", "class_distributed", "from_torch_prune", "gradual_amount", "magnitude",
           "make_method", "make_scheme", "obd", "prune_with_scheme", "random", "to_torch_prune",
           # structured, N:M, per-layer distributions
           "DISTRIBUTIONS", "channel_scores", "channels", "layer_counts", "layer_densities",
           "mask_channels", "n_m", "nm_groups", "random_sparse", "shrink"]
