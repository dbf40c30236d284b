"""`doctor`: check a deployment, one line per check, each failure followed by its fix."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.runtime.cli.common import add_command, load_settings
from bot.runtime.doctor import Check, run_checks

# Wide enough for "FAIL", so that the names line up under each other.
_MARK_WIDTH = 4


def _mark(check: Check) -> str:
    if check.skipped:
        return "skip"
    return "ok" if check.ok else "FAIL"


def cmd_doctor(_args: argparse.Namespace) -> int:
    checks = run_checks(load_settings())
    for check in checks:
        print(f"{_mark(check):<{_MARK_WIDTH}}  {check.name}: {check.detail}")
        if not check.ok and check.fix:
            print(f"{'':<{_MARK_WIDTH}}  fix: {check.fix}")
    failed = sum(1 for check in checks if not check.ok)
    if failed:
        print(f"pilot-pulse: {failed} of {len(checks)} checks failed", file=sys.stderr)
        return 1
    return 0


def add_commands(commands: Any) -> None:
    """Declare `doctor` on the top-level parser's sub-commands."""
    add_command(
        commands,
        "doctor",
        cmd_doctor,
        "Check the deployment: Slack tokens and scopes, the database, each active pilot's "
        "channel and group, the model and the clock; each failure comes with its fix.",
    )
