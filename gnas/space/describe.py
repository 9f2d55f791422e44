"""Human-readable views of a search space and its architectures, for ``gnas space show``."""

from __future__ import annotations

from dataclasses import dataclass

from gnas.architecture import Architecture, LayerArch
from gnas.space.fields import NUM_LAYERS, global_fields, is_ignored, layer_fields
from gnas.space.problems import plain
from gnas.space.space import Param, SearchSpace


@dataclass(frozen=True)
class DimensionRow:
    """One line of the dimensions table."""

    dimension: str
    values: str
    when: str
    size: str


def _row(param: Param, name: str) -> DimensionRow:
    values = param.dimension.describe() + ("" if param.explicit else " (default)")
    size = param.dimension.size
    return DimensionRow(
        name, values, param.describe_when(), "continuous" if size == float("inf") else f"{size:,}"
    )


def dimension_rows(space: SearchSpace) -> list[DimensionRow]:
    """Globals, the layer dimensions (once for a shared ``layers:`` mapping, else per layer), training."""
    rows = [_row(param, param.name) for param in space.globals]
    blocks = space.layers[:1] if space.shared_layers else space.layers
    for block in blocks:
        for param in block:
            rows.append(_row(param, "layers." + param.name if space.shared_layers else param.key))
    rows += [_row(param, param.key) for param in space.training]
    return rows


def summarize(architecture: Architecture) -> str:
    """One line: the global choices, then each layer as ``conv(field=value, ...)`` for non-defaults."""
    arch = architecture.canonical()
    parts = []
    for field in global_fields():
        if field.name == NUM_LAYERS:
            parts.append(f"{arch.num_layers} layer{'s' if arch.num_layers != 1 else ''}")
        elif (field.name, getattr(arch, field.name)) in (("fusion", "none"), ("branch", "none")):
            continue  # no item text, no closed-form branch: nothing to say
        elif not is_ignored(arch, field):
            parts.append(f"{field.name}={plain(getattr(arch, field.name))}")
    default = LayerArch()
    layers = []
    for layer in arch.layers:
        details = [
            f"{field.name}={plain(getattr(layer, field.name))}"
            for field in layer_fields()
            if field.name != "conv" and getattr(layer, field.name) != getattr(default, field.name)
        ]
        layers.append(f"{layer.conv}({', '.join(details)})" if details else layer.conv)
    return ", ".join(parts) + (": " + " -> ".join(layers) if layers else "")
