"""Genetic neural architecture search space (deepstruct section 4.4): genotypes as labelled
DAGs, their compilation to torch modules, genetic operators and graph features.

Needs networkx (``pip install 'rewire[graphs]'``); :func:`draw` also matplotlib.
"""

from .compile import GenotypeNet, build, count_params, flops
from .features import BASELINE_FEATURES, FEATURES, STRUCTURE_FEATURES, genotype_features
from .genotype import (
    DEPTH,
    IN_SHAPE,
    OPS,
    RANDOM_SEARCH_DEPTH,
    Genotype,
    check,
    depth,
    draw,
    from_json,
    genotype_hash,
    load,
    make_genotype,
    random_genotype,
    save,
    shapes,
    to_json,
)
from .operators import (
    CROSSOVERS,
    MUTATIONS,
    crossover_bridge,
    crossover_layers,
    crossover_path,
    mutate_insert,
    mutate_op,
    rank_selection,
    tournament,
)

__all__ = ["BASELINE_FEATURES", "CROSSOVERS", "DEPTH", "FEATURES", "Genotype", "GenotypeNet",
           "IN_SHAPE", "MUTATIONS", "OPS", "RANDOM_SEARCH_DEPTH", "STRUCTURE_FEATURES", "build",
           "check", "count_params", "crossover_bridge", "crossover_layers", "crossover_path",
           "depth", "draw", "flops", "from_json", "genotype_features", "genotype_hash", "load",
           "make_genotype", "mutate_insert", "mutate_op", "random_genotype", "rank_selection",
           "save", "shapes", "to_json", "tournament"]
