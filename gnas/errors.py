"""The one exception type users see: a bad input, explained in a single line."""

from __future__ import annotations


class GnasError(Exception):
    """A user-facing error: bad YAML, data file, flag or checkpoint.

    The CLI prints its message as one line and exits non-zero; the message names the
    offending key, file or column.
    """
