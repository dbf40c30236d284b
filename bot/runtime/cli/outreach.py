"""`pulse send`, `pulse remind` and `checkin send`: a round delivered through the durable sender, with its progress on a terminal and a summary."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from bot.runtime.cli.common import (
    ProgressLine,
    add_command,
    add_group,
    freeze_start_up,
    load_settings,
    slack_deps,
)


def _print_send(result: Any, what: str) -> None:
    progress = result.progress
    if progress is None:
        print(result.note)
        return
    if result.note:
        print(result.note)
    failures = ", ".join(f"{reason} {count}" for reason, count in progress.failures.most_common())
    print(
        f"{what} for {result.period}: {progress.sent} sent now"
        + (f" ({progress.done_before} before)" if progress.done_before else "")
        + f", {progress.failed} failed for good"
        + (f" ({failures})" if failures else "")
        + f", {progress.skipped} skipped (paused, stopped or answered); "
        f"{progress.done} of {progress.total} done in {progress.seconds:.1f} s "
        f"({progress.per_second:.0f}/s"
        + (f", {progress.rate_limited} rate-limited" if progress.rate_limited else "")
        + ")"
        + (
            f"; {progress.waiting} more go out as their own working hours come"
            if progress.waiting
            else ""
        )
    )


def _send(args: argparse.Namespace, action: Callable[..., Any], what: str) -> int:
    deps = slack_deps(load_settings())
    freeze_start_up()
    line = ProgressLine()
    try:
        result = action(
            deps.db,
            deps.sending_client,
            args.name,
            now=deps.clock(),
            options=deps.send_options,
            on_progress=line,
        )
    finally:
        line.finish()
        deps.close()
    _print_send(result, what)
    return 0


def cmd_pulse_send(args: argparse.Namespace) -> int:
    from bot.outreach.sending import send_pulse

    return _send(args, send_pulse, "pulse")


def cmd_pulse_remind(args: argparse.Namespace) -> int:
    from bot.outreach.reminder import send_reminder

    return _send(args, send_reminder, "reminder")


def cmd_checkin_send(args: argparse.Namespace) -> int:
    from bot.outreach.sending import send_checkins

    return _send(args, send_checkins, "check-in")


def add_commands(commands: Any) -> None:
    """Declare these commands on the top-level parser's sub-commands."""
    pulse_commands = add_group(commands, "pulse", "Send the weekly pulse and its reminder.")
    send = add_command(
        pulse_commands,
        "send",
        cmd_pulse_send,
        "Open this period's pulse round now and deliver it (once per period).",
    )
    send.add_argument("name", help="the pilot")
    remind = add_command(
        pulse_commands,
        "remind",
        cmd_pulse_remind,
        "Remind, once, those who have not answered this period's pulse.",
    )
    remind.add_argument("name", help="the pilot")

    checkin_commands = add_group(
        commands, "checkin", "Start this period's conversational check-ins."
    )
    checkin_send = add_command(
        checkin_commands,
        "send",
        cmd_checkin_send,
        "DM everyone this period's check-in question now (once per period).",
    )
    checkin_send.add_argument("name", help="the pilot")
