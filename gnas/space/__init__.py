"""Declarative search spaces: YAML dimensions -> genotypes -> ``Architecture``.

``schema`` parses a search file (``load_search_file``), ``dimensions`` holds one class per dimension
type, ``genotype`` encodes, decodes, canonicalises and varies genotypes (``training_overrides`` reads the
training settings a genotype sets, see ``training``), ``count`` counts distinct
architectures, ``describe`` and ``export`` show and write them.
"""

from gnas.space.count import count_architectures, format_count
from gnas.space.describe import DimensionRow, dimension_rows, summarize
from gnas.space.dimensions import (
    DIMENSION_TYPES,
    Bool,
    Choice,
    Dimension,
    Fixed,
    FloatRange,
    IntRange,
    as_random,
)
from gnas.space.export import architecture_mapping, train_config, write_samples
from gnas.space.genotype import (
    CROSSOVERS,
    FILLER,
    MUTATIONS,
    Gene,
    Genotype,
    canonical,
    contains,
    crossover_layers,
    crossover_uniform,
    decode,
    encode,
    matters,
    mutate,
    mutate_resample,
    operator,
    repair,
    sample,
    sample_distinct,
    training_overrides,
    untried_neighbour,
)
from gnas.space.problems import NotInSpace, Problem, SpaceError
from gnas.space.schema import (
    SearchFile,
    SearchFileSpec,
    load_search_file,
    parse_search_file,
    parse_space,
)
from gnas.space.space import Condition, Param, SearchSpace
from gnas.space.training import TRAINING_GENES, TrainingGenes

__all__ = [
    "CROSSOVERS",
    "DIMENSION_TYPES",
    "FILLER",
    "MUTATIONS",
    "Bool",
    "Choice",
    "Condition",
    "Dimension",
    "DimensionRow",
    "Fixed",
    "FloatRange",
    "Gene",
    "Genotype",
    "IntRange",
    "NotInSpace",
    "Param",
    "Problem",
    "SearchFile",
    "SearchFileSpec",
    "SearchSpace",
    "SpaceError",
    "TRAINING_GENES",
    "TrainingGenes",
    "architecture_mapping",
    "as_random",
    "canonical",
    "contains",
    "count_architectures",
    "crossover_layers",
    "crossover_uniform",
    "decode",
    "dimension_rows",
    "encode",
    "format_count",
    "load_search_file",
    "matters",
    "mutate",
    "mutate_resample",
    "operator",
    "parse_search_file",
    "parse_space",
    "repair",
    "sample",
    "sample_distinct",
    "untried_neighbour",
    "summarize",
    "train_config",
    "training_overrides",
    "write_samples",
]
