"""`pilot create` and `pilot list`."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bot.runtime.cli.common import (
    add_command,
    add_group,
    load_settings,
    open_database,
    print_table,
    slack_deps,
)
from storage.types import utcnow


def cmd_pilot_create(args: argparse.Namespace) -> int:
    from bot.pilots.calendar import (
        WEEKDAYS,
        format_holidays,
        format_working_days,
        parse_holidays,
        parse_working_days,
    )
    from bot.pilots.goal import parse_goals
    from bot.pilots.pilot import PilotSpec, check_spec, create_pilot, split_ids

    settings = load_settings()
    spec = PilotSpec(
        name=args.name,
        tool=args.tool,
        leadership_channel=args.leadership_channel,
        members=split_ids(args.members),
        members_from_channel=args.members_from_channel,
        champions=split_ids(args.champions),
        admins=split_ids(args.admins),
        timezone=args.timezone,
        min_group_size=args.min_group_size,
        workflow=args.workflow,
        goals=tuple(parse_goals(args.goal or []).items()),
        members_from_group=args.members_from_group,
        working_days=(
            parse_working_days(args.working_days) if args.working_days is not None else WEEKDAYS
        ),
        holidays=tuple(parse_holidays(args.holidays or "")),
    )
    check_spec(spec)
    deps = slack_deps(settings)
    try:
        result = create_pilot(deps.db, deps.client, spec)
    finally:
        deps.close()
    if not result.created:
        print(f"pilot {result.pilot.name!r} exists already; nothing changed")
        return 0
    pilot = result.pilot
    print(
        f"created pilot {pilot.name!r} ({pilot.tool}): {result.members} members, "
        f"{result.champions} champion{'' if result.champions == 1 else 's'} or admin{'' if result.champions == 1 else 's'}, time zone {pilot.timezone}, "
        f"minimum group {pilot.min_group_size}"
    )
    if spec.goals:
        print("  goals: " + ", ".join(f"{metric} {target:g}" for metric, target in spec.goals))
    if spec.working_days != WEEKDAYS:
        print(f"  working days: {format_working_days(spec.working_days)}")
    if spec.holidays:
        print(f"  holidays: {format_holidays(spec.holidays)}")
    for user_id, why in sorted(result.left_out.items()):
        print(f"  left out {user_id}: {why}")
    return 0


def cmd_pilot_list(args: argparse.Namespace) -> int:
    from bot.pilots.pilot import list_pilots

    db = open_database(load_settings())
    try:
        with db.session() as session:
            pilots = list_pilots(session)
    finally:
        db.dispose()
    if args.format == "json":
        print(json.dumps([p.__dict__ for p in pilots], indent=2))
        return 0
    if not pilots:
        print("no pilots yet; create one with `pilot-pulse pilot create`")
        return 0
    print_table(
        [
            [
                p.name,
                p.tool,
                str(p.members),
                str(p.champions),
                p.leadership_channel,
                p.timezone,
                str(p.min_group_size),
                p.created,
                p.status,
            ]
            for p in pilots
        ],
        [
            "NAME",
            "TOOL",
            "MEMBERS",
            "CHAMPIONS",
            "LEADERSHIP",
            "TIME ZONE",
            "MIN GROUP",
            "CREATED",
            "STATUS",
        ],
    )
    return 0


_SCHEDULE = (
    ("pulse", "the pulse"),
    ("reminder", "its one reminder"),
    ("checkin", "the check-in"),
    ("digest", "the digest"),
)


def cmd_pilot_update(args: argparse.Namespace) -> int:
    from bot.outreach.welcome import welcome
    from bot.pilots.calendar import parse_day, parse_holidays, parse_working_days
    from bot.pilots.goal import parse_goals
    from bot.pilots.pilot import split_ids
    from bot.pilots.schedule import Slot, parse_time
    from bot.pilots.update import PilotUpdate, check_update, update_pilot

    schedule = []
    for key, _ in _SCHEDULE:
        day, at = getattr(args, f"{key}_day"), getattr(args, f"{key}_time")
        if day is not None or at is not None:
            schedule.append(
                (
                    Slot(key),
                    parse_day(day, f"--{key}-day") if day is not None else None,
                    parse_time(at, f"--{key}-time") if at is not None else None,
                )
            )
    change = PilotUpdate(
        tool=args.tool,
        workflow=args.workflow,
        leadership_channel=args.leadership_channel,
        timezone=args.timezone,
        min_group_size=args.min_group_size,
        members=split_ids(args.members) if args.members is not None else None,
        members_from_channel=args.members_from_channel,
        members_from_group=args.members_from_group,
        add_members=split_ids(args.add_members),
        remove_members=split_ids(args.remove_members),
        champions=split_ids(args.champions) if args.champions is not None else None,
        add_champions=split_ids(args.add_champions),
        remove_champions=split_ids(args.remove_champions),
        admins=split_ids(args.admins) if args.admins is not None else None,
        goals=tuple(parse_goals(args.goal or []).items()),
        schedule=tuple(schedule),
        working_days=(
            parse_working_days(args.working_days) if args.working_days is not None else None
        ),
        holidays=tuple(parse_holidays(args.holidays)) if args.holidays is not None else None,
    )
    check_update(change)
    deps = slack_deps(load_settings())
    try:
        result = update_pilot(deps.db, deps.client, args.name, change, deps.clock())
        welcomed = welcome(deps.db, deps.client, result.pilot, result.membership.joined)
    finally:
        deps.close()
    if not result.changes:
        print(f"pilot {result.pilot!r} already is as asked; nothing changed")
    else:
        print(f"updated pilot {result.pilot!r}:")
        for line in result.changes:
            print(f"  {line}")
    if welcomed:
        print(f"  welcomed {welcomed} new member{'' if welcomed == 1 else 's'} with a DM")
    for user_id, why in sorted(result.membership.left_out.items()):
        print(f"  left out {user_id}: {why}")
    return 0


def cmd_pilot_end(args: argparse.Namespace) -> int:
    from bot.pilots.update import end_pilot

    db = open_database(load_settings())
    try:
        result = end_pilot(db, args.name, utcnow())
    finally:
        db.dispose()
    if not result.ended:
        print(f"pilot {result.pilot!r} had ended already; nothing changed")
        return 0
    print(
        f"ended pilot {result.pilot!r}: no more rounds, reminders, check-ins or digests; "
        f"{result.rounds_closed} open round{'' if result.rounds_closed == 1 else 's'} closed, "
        f"{result.messages_cancelled} unsent message{'' if result.messages_cancelled == 1 else 's'} "
        "cancelled. Its figures stay for `report` and `digest show`."
    )
    return 0


def _calendar_options(parser: argparse.ArgumentParser, *, replaces: bool = False) -> None:
    parser.add_argument(
        "--working-days",
        metavar="DAYS",
        help="the days people work, e.g. mon-fri (the default), sun-thu or mon,tue,thu; a "
        "message due on another day comes on the next working day, at the same time",
    )
    parser.add_argument(
        "--holidays",
        metavar="YYYY-MM-DD,...",
        help="days nobody gets a message, e.g. 2026-12-24,2026-12-25"
        + ("; replaces the list, `none` clears it" if replaces else ""),
    )


def add_commands(commands: Any) -> None:
    """Declare these commands on the top-level parser's sub-commands."""
    pilot_commands = add_group(commands, "pilot", "Create, change, end and list pilots.")
    create = add_command(
        pilot_commands, "create", cmd_pilot_create, "Create a pilot and its people."
    )
    create.add_argument("name", help="the pilot's name, e.g. support-copilot")
    create.add_argument(
        "--tool", required=True, help="the AI tool being adopted, e.g. 'GitHub Copilot'"
    )
    create.add_argument(
        "--leadership-channel",
        required=True,
        metavar="CHANNEL_ID",
        help="where the weekly digest goes; the bot must be a member",
    )
    create.add_argument(
        "--members-from-channel",
        metavar="CHANNEL_ID",
        help="take every person in this channel as a member",
    )
    create.add_argument("--members", metavar="U1,U2,...", help="members by Slack user ID")
    create.add_argument("--champions", metavar="U1,U2,...", help="who may run /pilot-status")
    create.add_argument(
        "--admins", metavar="U1,U2,...", help="like champions, for whoever runs the pilot"
    )
    create.add_argument(
        "--timezone", help="IANA time zone of the schedule (default: the members' most common)"
    )
    create.add_argument(
        "--min-group-size",
        type=int,
        default=5,
        help="no figure from fewer people is shown (default 5, at least 3)",
    )
    create.add_argument("--workflow", help="the one workflow the pilot sets out to improve")
    create.add_argument(
        "--goal",
        action="append",
        metavar="KEY=VALUE",
        help="a success goal, e.g. weekly_usage=0.7, usefulness=4, hours_saved=20 "
        "(repeat for several; keys: weekly_usage, response_rate, usefulness, trust, recommend, "
        "nps, hours_saved, hours_per_person, sentiment)",
    )
    create.add_argument(
        "--members-from-group",
        metavar="GROUP_ID",
        help="take every person in this user group as a member (followed as it changes)",
    )
    _calendar_options(create)
    listing = add_command(
        pilot_commands, "list", cmd_pilot_list, "List pilots with their head counts."
    )
    listing.add_argument("--format", choices=("table", "json"), default="table")

    change = add_command(
        pilot_commands,
        "update",
        cmd_pilot_update,
        "Change a pilot: its settings, people, roles, goals or schedule; prints what changed.",
    )
    change.add_argument("name", help="the pilot")
    change.add_argument("--tool", help="the AI tool being adopted")
    change.add_argument("--workflow", help="the one workflow the pilot sets out to improve")
    change.add_argument("--leadership-channel", metavar="CHANNEL_ID", help="where the digest goes")
    change.add_argument("--timezone", help="IANA time zone of the schedule")
    change.add_argument(
        "--min-group-size", type=int, help="no figure from fewer people is shown (at least 3)"
    )
    change.add_argument(
        "--members", metavar="U1,U2,...", help="every member named by hand (others named leave)"
    )
    change.add_argument("--members-from-channel", metavar="CHANNEL_ID", help="follow this channel")
    change.add_argument("--members-from-group", metavar="GROUP_ID", help="follow this user group")
    change.add_argument("--add-members", metavar="U1,U2,...")
    change.add_argument("--remove-members", metavar="U1,U2,...")
    change.add_argument("--champions", metavar="U1,U2,...", help="every champion")
    change.add_argument("--add-champions", metavar="U1,U2,...")
    change.add_argument("--remove-champions", metavar="U1,U2,...")
    change.add_argument("--admins", metavar="U1,U2,...", help="every admin of this pilot")
    change.add_argument(
        "--goal", action="append", metavar="KEY=VALUE", help="set a goal (repeat for several)"
    )
    for key, what in _SCHEDULE:
        change.add_argument(f"--{key}-day", metavar="DAY", help=f"weekday of {what}, e.g. tue")
        change.add_argument(
            f"--{key}-time", metavar="HH:MM", help=f"time of {what}, in the pilot's time zone"
        )
    _calendar_options(change, replaces=True)
    end = add_command(
        pilot_commands,
        "end",
        cmd_pilot_end,
        "End a pilot: no more rounds or DMs; its figures stay for the report.",
    )
    end.add_argument("name", help="the pilot")
