"""What every command shares: its settings and database, one-line failures, tables, progress
on a terminal, and the helpers that declare a command."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable
from typing import Any

from bot.runtime.deps import Deps, build_deps
from bot.runtime.settings import Settings
from storage import Database

Command = Callable[[argparse.Namespace], int]


class Failure(Exception):
    """A one-line reason to stop a command."""


def load_settings() -> Settings:
    return Settings.from_env()


def open_database(settings: Settings, *, pool_size: int = 5) -> Database:
    """The database, checked to answer and to have the latest schema (SQLite is upgraded)."""
    db = Database(settings.database_url, pool_size=pool_size)
    db.ensure_ready(auto_upgrade=True)
    return db


def freeze_start_up() -> None:
    """Keep what is loaded by now (it lives as long as the process) out of the collector's
    sweeps. A full collection of the start-up heap pauses every thread for tens of
    milliseconds: requests wait, and a sender's paced calls bunch up behind it, enough to
    overrun Slack's rate limit and draw 429s."""
    gc.collect()
    gc.freeze()


def slack_deps(settings: Settings) -> Deps:
    """Deps for a command that talks to Slack: the bot token must be set."""
    settings.require("SLACK_BOT_TOKEN")
    return build_deps(settings, db=open_database(settings))


def print_table(rows: list[list[str]], headers: list[str]) -> None:
    widths = [
        max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)
    ]
    for row in [headers, *rows]:
        print(
            "  ".join(
                str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)
            ).rstrip()
        )


def add_command(
    subparsers: Any, name: str, handler: Command, help_text: str
) -> argparse.ArgumentParser:
    """Declare a command (or an action of a group) run by `handler`."""
    parser = subparsers.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(handler=handler)
    return parser


def add_group(commands: Any, name: str, help_text: str) -> Any:
    """A command with sub-commands of its own (`pilot create`, `pulse send`…)."""
    parser = commands.add_parser(name, help=help_text, description=help_text)
    return parser.add_subparsers(dest=f"{name}_command", metavar="ACTION", required=True)


def port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {value!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, got {port}")
    return port


class ProgressLine:
    """Progress of a fan-out on a terminal: done/total, failures, pace; silent when piped."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.shown = False

    def __call__(self, progress: Any) -> None:
        if not self.live:
            return
        line = (
            f"\r  {progress.done}/{progress.total} done · {progress.failed} failed · "
            f"{progress.per_second:.0f}/s"
        )
        self.stream.write(line.ljust(60))
        self.stream.flush()
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
