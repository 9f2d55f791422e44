"""`gnas space validate|show|sample`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from gnas.cli.common import console, print_error, user_errors

app = typer.Typer(no_args_is_help=True, help="Validate, show and sample search spaces.")


@app.command("validate")
@user_errors
def space_validate(
    file: Annotated[Path, typer.Argument(help="Search file: dataset, split, training and space.")],
) -> None:
    """Check a search file: one line per problem (naming its YAML path) and exit 2, or a short OK."""
    from gnas.space import SpaceError, count_architectures, format_count, load_search_file

    try:
        search = load_search_file(file)
    except SpaceError as exc:
        for line in exc.lines():
            print_error(line)
        raise typer.Exit(2) from None
    space = search.space
    varying = sum(
        space.is_varying(param)
        for param in space.globals + (space.layers[0] if space.layers else ()) + space.training
    )
    console.print(
        f"OK {file}: {varying} varying dimensions, up to {space.max_layers} layers, "
        f"{format_count(count_architectures(space))} distinct architectures",
        highlight=False,
        soft_wrap=True,
    )


def _setting(name: str, value: object) -> str:
    """``lr=0.0123`` for a sample's training gene."""
    from gnas.space.problems import plain

    return f"{name}={value:.3g}" if isinstance(value, float) else f"{name}={plain(value)}"


@app.command("show")
@user_errors
def space_show(
    file: Annotated[Path, typer.Argument(help="Search file.")],
    seed: Annotated[int | None, typer.Option(help="Seed of the samples (default: the file's seed).")] = None,
    samples: Annotated[
        int, typer.Option("-n", "--samples", help="How many sampled architectures to show.")
    ] = 3,
) -> None:
    """The dimensions with their conditions, the number of distinct architectures and a few samples."""
    from gnas.space import (
        count_architectures,
        decode,
        dimension_rows,
        format_count,
        load_search_file,
        sample_distinct,
        summarize,
        training_overrides,
    )

    search = load_search_file(file)
    table = Table("dimension", "values", "when", "size", title=f"{search.name}: {file}")
    for row in dimension_rows(search.space):
        table.add_row(*(escape(cell) for cell in (row.dimension, row.values, row.when, row.size)))
    console.print(table)
    count = format_count(count_architectures(search.space))
    console.print(f"distinct architectures: {count}", highlight=False)
    chosen = seed if seed is not None else search.seed
    console.print(f"samples (seed {chosen}):", highlight=False)
    for index, genotype in enumerate(sample_distinct(search.space, chosen, samples), start=1):
        settings = [
            _setting(name, value) for name, value in training_overrides(search.space, genotype).items()
        ]
        trained = f"; training {', '.join(settings)}" if settings else ""
        console.print(
            f"  {index}. {summarize(decode(search.space, genotype))}{trained}",
            highlight=False,
            soft_wrap=True,
        )


@app.command("sample")
@user_errors
def space_sample(
    file: Annotated[Path, typer.Argument(help="Search file.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="New (or empty) folder for the YAML files.")],
    num: Annotated[int, typer.Option("-n", "--num", help="How many different architectures.")] = 5,
    seed: Annotated[int | None, typer.Option(help="Sampling seed (default: the file's seed).")] = None,
) -> None:
    """Write sampled architectures, one complete `gnas train` YAML each."""
    from gnas.space import load_search_file, write_samples

    search = load_search_file(file)
    written = write_samples(search, output, num, seed if seed is not None else search.seed)
    for path, _ in written:
        console.print(f"wrote {path}", highlight=False, soft_wrap=True)
    if len(written) < num:
        console.print(f"the space holds only {len(written)} different architectures", highlight=False)
