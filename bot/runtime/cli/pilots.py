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


def cmd_pilot_create(args: argparse.Namespace) -> int:
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
            ]
            for p in pilots
        ],
        ["NAME", "TOOL", "MEMBERS", "CHAMPIONS", "LEADERSHIP", "TIME ZONE", "MIN GROUP", "CREATED"],
    )
    return 0


def add_commands(commands: Any) -> None:
    """Declare these commands on the top-level parser's sub-commands."""
    pilot_commands = add_group(commands, "pilot", "Create and list pilots.")
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
    listing = add_command(
        pilot_commands, "list", cmd_pilot_list, "List pilots with their head counts."
    )
    listing.add_argument("--format", choices=("table", "json"), default="table")
