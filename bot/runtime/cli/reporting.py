"""`report`: one pilot's figures for one period, as JSON or CSV."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.runtime.cli.common import add_command, load_settings, open_database


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


def add_commands(commands: Any) -> None:
    """Declare these commands on the top-level parser's sub-commands."""
    report = add_command(
        commands, "report", cmd_report, "A pilot's figures for one period, as JSON or CSV."
    )
    report.add_argument("name", help="the pilot")
    report.add_argument("--format", choices=("json", "csv"), default="json")
    report.add_argument("--period", help="an ISO week such as 2026-W48 (default: the current one)")
