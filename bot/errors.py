"""Errors meant for a person: `str()` is one line that says what is wrong and what to do."""


class PulseError(Exception):
    """Something the operator or user asked for cannot be done as asked."""


class NotFound(PulseError):
    """A named thing (a pilot, a period's round) does not exist."""


def slack_error_code(exc: Exception) -> str:
    """Slack's error code from a `SlackApiError` (`channel_not_found`, …), or "no answer"."""
    response = getattr(exc, "response", None)
    return str(response.get("error", "unknown_error")) if response is not None else "no answer"
