"""`usage import`: the AI tool's own usage export, beside what people say."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.runtime.cli.common import Failure, add_command, add_group, load_settings, slack_deps

FORMATS = ("auto", "csv", "github-copilot", "m365-copilot", "chatgpt-enterprise")


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise Failure(f"cannot read {what} {path}: {exc.strerror}") from None


def cmd_usage_import(args: argparse.Namespace) -> int:
    from bot.usage.activity import import_usage
    from bot.usage.formats import Format

    data = _read(args.file, "the export")
    identities = _read(args.identities, "--identities") if args.identities else None
    deps = slack_deps(load_settings())
    try:
        summary = import_usage(
            deps.db,
            deps.client,
            args.name,
            data,
            format=None if args.format == "auto" else Format(args.format),
            identities=identities,
            now=deps.clock(),
        )
    finally:
        deps.close()
    for line in summary.lines():
        print(line)
    return 0


def add_commands(commands: Any) -> None:
    """Declare `usage import` on the top-level parser's sub-commands."""
    usage_commands = add_group(commands, "usage", "The AI tool's own usage data.")
    load = add_command(
        usage_commands,
        "import",
        cmd_usage_import,
        "Import a usage export (all or nothing; importing it again changes nothing).",
    )
    load.add_argument("name", help="the pilot")
    load.add_argument("file", help="the export: a CSV, or NDJSON for GitHub Copilot")
    load.add_argument(
        "--format", choices=FORMATS, default="auto", help="default: told from the file's header"
    )
    load.add_argument(
        "--identities",
        metavar="FILE",
        help="a CSV with the header identity,user mapping a tool's identity (a GitHub login, "
        "another e-mail) to an e-mail or Slack user ID; needed for GitHub Copilot",
    )
