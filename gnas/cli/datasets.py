"""`gnas datasets list|info|split`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from gnas.cli.common import DataDir, console, user_errors
from gnas.errors import GnasError

if TYPE_CHECKING:
    from gnas.spec import DatasetSpec

app = typer.Typer(no_args_is_help=True, help="List, describe and split data sets.")

Format = Annotated[
    str | None,
    typer.Option(
        "--format", help="Format of your own files (movielens, lightgcn, csv, recbole); needs --path."
    ),
]
DatasetPath = Annotated[
    Path | None,
    typer.Option("--path", help="Your own data set's file or folder (recbole: the folder of NAME.inter)."),
]


def _dataset_spec(name: str, format_: str | None, path: Path | None) -> DatasetSpec:
    """The DatasetSpec of a registered name, or of your own files with --format and --path."""
    from gnas.spec import parse_train_spec

    dataset: dict[str, Any] = {"name": name, "format": format_, "path": None if path is None else str(path)}
    return parse_train_spec({"dataset": dataset}, "command line").dataset


@app.command("list")
def datasets_list() -> None:
    """The registered data sets."""
    from gnas.data.registry import DATASETS

    table = Table("name", "format", "description")
    for name, info in DATASETS.items():
        table.add_row(name, info.format, info.description)
    console.print(table)


@app.command("info")
@user_errors
def datasets_info(
    name: Annotated[str, typer.Argument(help="A registered data set, or your own with --format and --path.")],
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    format_: Format = None,
    path: DatasetPath = None,
) -> None:
    """Size, density and interactions per user of a data set."""
    from gnas.data.registry import dataset_summary, load_dataset

    summary = dataset_summary(load_dataset(_dataset_spec(name, format_, path), data_dir))
    if as_json:
        console.print_json(json.dumps(summary, default=str))
        return
    table = Table("property", "value", title=name)
    for key, value in summary.items():
        table.add_row(key, _format_value(value))
    console.print(table)


def _format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


@app.command("split")
@user_errors
def datasets_split(
    name: Annotated[str, typer.Argument(help="A registered data set, or your own with --format and --path.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for train/valid/test CSVs.")],
    seed: Annotated[int, typer.Option(help="Split seed.")] = 2020,
    method: Annotated[
        str,
        typer.Option(
            help="auto (fixed if the data set ships a split, else random), random, temporal, fixed, cold_item"
        ),
    ] = "auto",
    ratios: Annotated[str, typer.Option(help="train,valid,test shares.")] = "0.8,0.1,0.1",
    cold_fraction: Annotated[float, typer.Option(help="Share of items held out (cold_item).")] = 0.1,
    data_dir: DataDir = None,
    format_: Format = None,
    path: DatasetPath = None,
) -> None:
    """Write the split gnas would use, with the original ids, so other tools can use the same data."""
    from gnas.data.registry import load_dataset
    from gnas.data.split import split_interactions, write_split_csv
    from gnas.spec import parse_train_spec

    try:
        shares = [float(part) for part in ratios.split(",")]
    except ValueError:
        raise GnasError(f"--ratios: {ratios!r} is not three comma-separated numbers") from None
    split_spec = parse_train_spec(
        {"split": {"method": method, "ratios": shares, "seed": seed, "cold_fraction": cold_fraction}},
        "command line",
    ).split
    split = split_interactions(load_dataset(_dataset_spec(name, format_, path), data_dir), split_spec)
    for path in write_split_csv(split, output):
        console.print(f"wrote {path}")
    console.print(", ".join(f"{part}: {size:,}" for part, size in split.sizes().items()))
