"""Item text columns -> one string per item, as ``dataset.text.fields`` and ``template`` say."""

from __future__ import annotations

import string

import pandas as pd

from gnas.errors import GnasError
from gnas.spec import TextSpec

SEPARATOR = ". "


def template_fields(template: str) -> list[str]:
    """The ``{field}`` names a template reads, in order (GnasError for a malformed template)."""
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise GnasError(f"dataset.text.template: {template!r} is not a valid template ({exc})") from None
    if any(not name.isidentifier() for name in names):
        raise GnasError(f"dataset.text.template: {template!r}: write fields as {{column}}, e.g. {{title}}")
    return names


def compose_texts(item_text: pd.DataFrame | None, spec: TextSpec, dataset: str = "the data set") -> list[str]:
    """One text per item row: the template filled in, or the non-empty fields joined with ". ".

    An item whose fields are all empty gets ``""`` (it has no text). Raises a GnasError naming the key
    when a field or template column is not a text column, or when every text is empty.
    """
    if item_text is None or item_text.shape[1] == 0:
        raise GnasError(
            f"{dataset} has no item text: set dataset.item_text (a file with an id and text columns), or "
            "use fusion: none"
        )
    available = list(item_text.columns)
    fields = spec.fields or available
    for index, name in enumerate(fields):
        if name not in available:
            hint = "; user tags join the text with dataset.text.tags: train" if name == "tags" else ""
            raise GnasError(
                f"dataset.text.fields[{index}]: {name!r} is not an item text column of {dataset} "
                f"(available: {', '.join(available)}){hint}"
            )
    table = item_text[list(dict.fromkeys(fields))].fillna("").astype(str)
    if spec.template is None:
        texts = [SEPARATOR.join(value.strip() for value in row if value.strip()) for row in table.to_numpy()]
    else:
        for name in template_fields(spec.template):
            if name not in table.columns:
                raise GnasError(
                    f"dataset.text.template: {{{name}}} is not one of dataset.text.fields "
                    f"({', '.join(table.columns)})"
                )
        records = table.to_dict("records")
        texts = [
            spec.template.format_map(row).strip() if any(v.strip() for v in row.values()) else ""
            for row in records
        ]
    if not any(texts):
        raise GnasError(f"dataset.text.fields: every item text of {dataset} is empty ({', '.join(fields)})")
    return texts
