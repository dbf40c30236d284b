"""Logging: one line per event, as text or JSON, each naming its pilot, job and outcome, with
tokens masked and the third-party loggers that would print people's words held back.

`configure_logging` sets it up once per process (the CLI's `main` calls it); `log_context`
names the pilot and job that the lines logged inside it belong to.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

__all__ = [
    "FORMATS",
    "ContextFields",
    "RedactSecrets",
    "configure_logging",
    "current_context",
    "log_context",
    "log_handler",
    "redact",
]

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Every line names these; a record without them gets them from the context, else None.
FIELDS = ("pilot", "job", "outcome")

_pilot: ContextVar[str | None] = ContextVar("log_pilot", default=None)
_job: ContextVar[str | None] = ContextVar("log_job", default=None)


@contextmanager
def log_context(*, pilot: str | None = None, job: str | None = None) -> Iterator[None]:
    """Name the pilot and/or job of every line logged inside the block.

    Blocks nest: an inner value overrides the outer one for the inner block, and a value left
    out (None) is inherited. Context variables are per thread, and per task under asyncio: work
    handed to another thread takes them along only when submitted through
    `contextvars.copy_context().run` (`Deps.later` and `Deps.slowly` do).
    """
    tokens = []
    if pilot is not None:
        tokens.append((_pilot, _pilot.set(pilot)))
    if job is not None:
        tokens.append((_job, _job.set(job)))
    try:
        yield
    finally:
        for variable, token in reversed(tokens):
            variable.reset(token)


def current_context() -> dict[str, str | None]:
    """The pilot and job that a line logged here would carry."""
    return {"pilot": _pilot.get(), "job": _job.get()}


def _default_outcome(levelno: int) -> str:
    if levelno >= logging.ERROR:
        return "error"
    if levelno >= logging.WARNING:
        return "warning"
    return "ok"


class ContextFields(logging.Filter):
    """Puts `pilot`, `job` and `outcome` on every record: from the call's `extra={...}` when it
    gave them, else from `log_context`, else None; `outcome` defaults from the level."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "pilot"):
            record.pilot = _pilot.get()
        if not hasattr(record, "job"):
            record.job = _job.get()
        if getattr(record, "outcome", None) is None:
            record.outcome = _default_outcome(record.levelno)
        return True


# -- redaction ----------------------------------------------------------------------------------

# Slack tokens (bot, user, app-level, refresh...), bearer credentials, OpenAI-style keys. A prefix
# is kept so that a masked line still says what kind of secret was there.
_SECRET = re.compile(
    r"\b(?P<slack>xox[abeposr]-|xapp-)[A-Za-z0-9-]+"
    r"|\b(?P<bearer>[Bb]earer\s+)[A-Za-z0-9._~+/=-]+"
    r"|\b(?P<key>sk-)[A-Za-z0-9_-]{8,}"
)
# SQLAlchemy puts a failed statement's bound values in its exception text, and those values are
# people's answers and replies; the statement itself (placeholders only) stays.
_SQL_PARAMETERS = re.compile(r"\[parameters: [^\n]*")


def _mask(match: re.Match[str]) -> str:
    prefix = match.group("slack") or match.group("bearer") or match.group("key")
    return f"{prefix}***"


def redact(text: str) -> str:
    """`text` with every token and key masked, and SQL statements' bound values hidden."""
    return _SQL_PARAMETERS.sub("[parameters: hidden]", _SECRET.sub(_mask, text))


class RedactSecrets(logging.Filter):
    """Masks tokens and keys in a record's message (after its arguments are put in) and its
    traceback, whoever logged it: defence in depth, for a secret that reaches a log line by
    mistake (an exception's text, a URL, a debug line of a library)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: the formatter reports it through handleError
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class _Redacting(logging.Formatter):
    """Redacts tracebacks as they are formatted, and the finished line again, so that nothing a
    filter could not see (an extra field, a stack) carries a token."""

    def formatException(self, ei: Any) -> str:
        return redact(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return redact(super().formatStack(stack_info))

    def format(self, record: logging.LogRecord) -> str:
        # Tokens only: SQL parameters are hidden before the line is assembled, where the end of
        # a traceback line can still be told from an escaped newline in JSON.
        return _SECRET.sub(_mask, super().format(record))


class TextFormatter(_Redacting):
    """Today's text line, with `[pilot=… job=… outcome=…]` after the message for each field
    that says something: pilot and job when set, outcome when it differs from the level's."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        fields = [
            f"{name}={value}"
            for name in ("pilot", "job")
            if (value := getattr(record, name, None)) is not None
        ]
        outcome = getattr(record, "outcome", None)
        if outcome is not None and outcome != _default_outcome(record.levelno):
            fields.append(f"outcome={outcome}")
        return f"{line} [{' '.join(fields)}]" if fields else line


class JsonLinesFormatter(_Redacting, JsonFormatter):
    """One JSON object per line: `time` (ISO 8601, UTC), `level`, `logger`, `message`, `pilot`,
    `job`, `outcome`, `error` (the traceback, inside the string, or null) and any `extra`."""

    def __init__(self) -> None:
        super().__init__(
            ["levelname", "name", "message", *FIELDS],
            rename_fields={"levelname": "level", "name": "logger", "exc_info": "error"},
            # `error` is on every line, null when there was no exception: one shape to query.
            rename_fields_keep_missing=True,
            timestamp="time",
            # uvicorn repeats each message with colour codes as an extra field.
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
        )

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        # The time first, as a person scanning the raw lines expects.
        return {"time": log_data.pop("time"), **log_data}


def log_handler(log_format: str = "text", stream: TextIO | None = None) -> logging.Handler:
    """A handler writing to `stream` (standard error by default) in `log_format`, with the
    context fields and the redaction on every record that reaches it."""
    if log_format not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {log_format!r}")
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonLinesFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(ContextFields())
    handler.addFilter(RedactSecrets())
    handler._pilot_pulse = True  # type: ignore[attr-defined]  # ours, to replace on a re-run
    return handler


# -- third-party loggers --------------------------------------------------------------------

# The lowest level each library logs at, whatever LOG_LEVEL says. People's own words (pulse
# comments, check-in replies, what their Home tab shows them) and tokens must never reach a log;
# these libraries print request and response bodies at DEBUG, so DEBUG is never theirs.
THIRD_PARTY_FLOORS: dict[str, int] = {
    # DEBUG: every Web API request and response body (chat.postMessage, views.publish with a
    # person's own words, users.list) and every Socket Mode envelope. INFO: a line per retry of
    # a 429 or a lost connection, which the durable sender already reports in its own words.
    "slack_sdk": logging.WARNING,
    # DEBUG: every payload, modal values and DM texts included. INFO: nothing we need.
    "slack_bolt": logging.WARNING,
    # DEBUG: each request's JSON, the words sent to the model in it. INFO is one line per
    # retry ("Retrying request to /chat/completions in 0.4 seconds"), worth having.
    "openai": logging.INFO,
    # httpx (the openai SDK's transport, httpx2 in its newer versions, and the demo's): INFO is
    # one line per request with its full URL; DEBUG, and httpcore's, trace every connection.
    # urllib3 is held the same in case a library brings it in.
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "httpx2": logging.WARNING,
    "httpcore2": logging.WARNING,
    "urllib3": logging.WARNING,
    # INFO: start-up, shutdown and the access log (method, path, status: Slack's request URL
    # carries no query); DEBUG: connection chatter.
    "uvicorn": logging.INFO,
    # INFO: "scheduler started", "added job"; DEBUG: a line every wake-up.
    "apscheduler": logging.INFO,
    # INFO is two lines a minute ("Running job", "executed successfully"): the clock's own
    # lines say what each tick did.
    "apscheduler.executors": logging.WARNING,
    # INFO, which the root logger at INFO or DEBUG would switch on, is every SQL statement with
    # its bound values: people's answers and replies, verbatim.
    "sqlalchemy": logging.WARNING,
    "psycopg": logging.WARNING,
    # INFO: each migration step on every start-up (`db upgrade` prints its own summary).
    "alembic": logging.WARNING,
    # DEBUG: font look-ups and PNG chunks while drawing the digest's chart.
    "matplotlib": logging.WARNING,
    "PIL": logging.WARNING,
}


def configure_logging(
    level: str = "INFO",
    log_format: str = "text",
    *,
    long_running: bool = True,
    stream: TextIO | None = None,
) -> logging.Handler | None:
    """Set up the process's logging: the root logger at `level` with one handler in
    `log_format`, and the third-party loggers at their floors.

    Like `logging.basicConfig`, it leaves the root logger's handlers and level alone when
    someone else has set them up (a test runner, an application embedding the bot) and no
    `stream` is given; the floors apply either way. Calling it again replaces the handler it
    installed. Returns the handler it installed, or None.
    """
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "_pilot_pulse", False)]
    handler = None
    if stream is not None or len(ours) == len(root.handlers):
        for old in ours:
            root.removeHandler(old)
        handler = log_handler(log_format, stream)
        root.addHandler(handler)
        root.setLevel(numeric)
    for name, floor in THIRD_PARTY_FLOORS.items():
        logging.getLogger(name).setLevel(max(floor, numeric))
    if not long_running:
        # A one-shot command reports its own failure in one line; the Web API client's error
        # log of the same failure would only repeat it.
        logging.getLogger("slack_sdk.web").setLevel(logging.CRITICAL)
    else:
        logging.getLogger("slack_sdk.web").setLevel(logging.NOTSET)
    return handler
