"""A markdown summary of a report document; images are linked by file name (they sit beside it)."""

from __future__ import annotations

from gnas.report.document import Document, Image, Section, Table


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(table: Table) -> str:
    lines = [
        "| " + " | ".join(_cell(h) for h in table.headers) + " |",
        "| " + " | ".join("---:" if i in table.numeric else "---" for i in range(len(table.headers))) + " |",
    ]
    lines.extend("| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows)
    return "\n".join(lines)


def _image(image: Image) -> str:
    return f"![{image.alt}]({image.path.name})"


def _section(section: Section) -> str:
    parts = [f"## {section.title}"]
    if section.text:
        parts.append(section.text)
    parts.extend(_table(b) if isinstance(b, Table) else _image(b) for b in section.blocks)
    return "\n\n".join(parts)


def render_markdown(document: Document) -> str:
    sections = "\n\n".join(_section(s) for s in document.sections)
    return f"# {document.title}\n\n{document.subtitle}\n\n{sections}\n"
