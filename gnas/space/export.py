"""Architectures of a space written as ``gnas train`` files."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from gnas.architecture import Architecture, LayerArch
from gnas.errors import GnasError
from gnas.space.fields import NUM_LAYERS, global_fields, is_ignored
from gnas.space.genotype import Genotype, decode, sample_distinct, training_overrides
from gnas.space.schema import SearchFile
from gnas.spec import parse_train_spec


def _layer_mapping(layer: LayerArch) -> dict[str, Any]:
    return {"conv": layer.conv, **layer.model_dump(mode="json", exclude_defaults=True, exclude={"conv"})}


def architecture_mapping(architecture: Architecture) -> dict[str, Any]:
    """The ``architecture:`` section for an architecture: canonical, compact, in field order.

    Identical layers are written as ``num_layers: N`` with one ``layers`` mapping; fields the
    canonical form ignores (``temperature`` with dot scoring) are left out.
    """
    arch = architecture.canonical()
    layers = [_layer_mapping(layer) for layer in arch.layers]
    data: dict[str, Any] = {}
    for field in global_fields():
        if field.name == NUM_LAYERS:
            if layers and all(layer == layers[0] for layer in layers):
                data.update(num_layers=len(layers), layers=layers[0])
            elif layers:
                data["layers"] = layers
            else:
                data["num_layers"] = 0
        elif not is_ignored(arch, field):
            data[field.name] = getattr(arch, field.name)
    return data


def train_config(
    search: SearchFile,
    architecture: Architecture,
    name: str | None = None,
    training: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A complete ``gnas train`` mapping: the search file's sections plus ``architecture:``.

    ``training`` (a genotype's ``training_overrides``) is written over the search file's ``training:``.
    """
    return {
        "name": name or search.name,
        "seed": search.seed,
        "dataset": search.dataset.model_dump(mode="json", exclude_unset=True),
        "split": search.split.model_dump(mode="json", exclude_unset=True),
        "training": {**search.training.model_dump(mode="json", exclude_unset=True), **(training or {})},
        "architecture": architecture_mapping(architecture),
    }


def write_samples(search: SearchFile, out: Path, count: int, seed: int) -> list[tuple[Path, Genotype]]:
    """Write ``count`` different sampled architectures as ``out/<name>-NNN.yaml``, all or nothing.

    ``out`` must not exist or be an empty folder; the files are written in a hidden sibling folder that
    is renamed to ``out`` only once every file is written and checked by the ``gnas train`` parser.
    """
    if count < 1:
        raise GnasError(f"--num: must be at least 1, got {count}")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise GnasError(f"{out}: already exists and is not an empty folder; choose another --output")
    genotypes = sample_distinct(search.space, seed, count)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}-", suffix=".partial"))
    written = []
    try:
        for index, genotype in enumerate(genotypes):
            name = f"{search.name}-{index:03d}"
            overrides = training_overrides(search.space, genotype)
            config = train_config(search, decode(search.space, genotype), name, overrides)
            parse_train_spec(config, f"{name}.yaml")
            header = (
                f"# Sampled from {search.source} by `gnas space sample` (seed {seed}, {index + 1} of "
                f"{len(genotypes)}).\n# genotype: {json.dumps(list(genotype))}\n"
            )
            text = header + yaml.safe_dump(config, sort_keys=False, default_flow_style=None)
            (tmp / f"{name}.yaml").write_text(text)
            written.append((out / f"{name}.yaml", genotype))
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return written
