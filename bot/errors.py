"""Errors meant for a person: `str()` is one line that says what is wrong and what to do."""


class PulseError(Exception):
    """Something the operator or user asked for cannot be done as asked."""


class NotFound(PulseError):
    """A named thing (a pilot, a period's round) does not exist."""
