"""The one exception type for bad user input."""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input: the message names the offending file, column or value and the fix.

    The CLI prints the message as a single line on stderr and exits non-zero.
    """
