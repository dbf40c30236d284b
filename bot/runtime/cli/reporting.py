"""`report` and `digest send|show`: one pilot's figures for one period, as JSON or CSV, and the
weekly digest that leadership reads."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.runtime.cli.common import (
    add_command,
    add_group,
    load_settings,
    open_database,
    slack_deps,
)


def cmd_report(args: argparse.Namespace) -> int:
    from bot.reporting.report import build_report, report_csv
    from storage.types import utcnow

    db = open_database(load_settings())
    try:
        report = build_report(db, args.name, args.period, utcnow())
    finally:
        db.dispose()
    if args.format == "csv":
        sys.stdout.write(report_csv(report))
    else:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


def cmd_digest_send(args: argparse.Namespace) -> int:
    from bot.outreach.digest import post_digest

    deps = slack_deps(load_settings())
    try:
        result = post_digest(
            deps.db, deps.client, args.name, period=args.period, now=deps.clock(), llm=deps.llm
        )
    finally:
        deps.close()
    print(result.note)
    return 0


def cmd_digest_show(args: argparse.Namespace) -> int:
    from bot.reporting.weekly_digest import compose_digest
    from bot.runtime.deps import build_model
    from bot.views.digest import digest_blocks, digest_plain
    from storage.types import utcnow

    settings = load_settings()
    db = open_database(settings)
    try:
        content = compose_digest(db, args.name, args.period, utcnow(), llm=build_model(settings))
    finally:
        db.dispose()
    if args.format == "json":
        print(json.dumps(content.as_json(), indent=2, ensure_ascii=False))
    elif args.format == "blocks":
        # The shape Slack's Block Kit Builder takes when pasted.
        print(json.dumps({"blocks": digest_blocks(content)}, indent=2, ensure_ascii=False))
    else:
        print(digest_plain(content))
    return 0


def add_commands(commands: Any) -> None:
    """Declare these commands on the top-level parser's sub-commands."""
    report = add_command(
        commands, "report", cmd_report, "A pilot's figures for one period, as JSON or CSV."
    )
    report.add_argument("name", help="the pilot")
    report.add_argument("--format", choices=("json", "csv"), default="json")
    report.add_argument("--period", help="an ISO week such as 2026-W48 (default: the current one)")

    digest_commands = add_group(commands, "digest", "The weekly adoption digest for leadership.")
    send = add_command(
        digest_commands,
        "send",
        cmd_digest_send,
        "Post the pilot's digest to its leadership channel (once per period).",
    )
    send.add_argument("name", help="the pilot")
    send.add_argument("--period", help="an ISO week such as 2026-W48 (default: the current one)")
    show = add_command(
        digest_commands, "show", cmd_digest_show, "Print the pilot's digest; posts nothing."
    )
    show.add_argument("name", help="the pilot")
    show.add_argument("--period", help="an ISO week such as 2026-W48 (default: the current one)")
    show.add_argument(
        "--format",
        choices=("text", "json", "blocks"),
        default="text",
        help="text as a person reads it; json with the report's fields; blocks for Block Kit Builder",
    )
