"""Durations as YAML gives them (``90``, ``"90s"``, ``"30m"``, ``"2h"``), shared by the ``search:`` and
``workers:`` sections; below both, so neither imports the other for it."""

from __future__ import annotations

import re

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$")


def parse_duration(value: float | int | str) -> float:
    """Seconds from ``90``, ``"90s"``, ``"30m"`` or ``"2h"``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if match is None:
            raise ValueError(f"{value!r} is not a duration like 90, 90s, 30m or 2h")
        seconds = float(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2) or "s"]
    if seconds <= 0:
        raise ValueError(f"duration {value!r} must be positive")
    return seconds
