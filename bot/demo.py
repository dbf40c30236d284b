"""`pilot-pulse demo`: the whole loop offline, with no Slack account.

An in-process stand-in of the Slack Web API, a temporary SQLite database, a handful of
simulated people, and the real app served over HTTP with Slack-signed requests; every message
and view a person would see is printed as plain text.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TextIO

from bot.app import build_app
from bot.deps import build_deps
from bot.pilots import PilotSpec, create_pilot, list_pilots
from bot.plaintext import indent, render_blocks, render_view
from bot.server import BackgroundServer
from bot.settings import Settings
from bot.slack_requests import SlackSender
from bot.slack_standin import SlackStandIn
from storage import Database

_SECRET = "demo-signing-secret-not-a-real-one"
_NAMES = [
    ("Ada Lovelace", "Europe/London"),
    ("Grace Hopper", "Europe/London"),
    ("Alan Turing", "Europe/London"),
    ("Katherine Johnson", "Europe/London"),
    ("Edsger Dijkstra", "Europe/Amsterdam"),
    ("Barbara Liskov", "Europe/London"),
    ("Donald Knuth", "Europe/London"),
    ("Margaret Hamilton", "Europe/London"),
    ("Ken Thompson", "Europe/London"),
    ("Frances Allen", "Europe/London"),
    ("John Backus", "Europe/London"),
    ("Radia Perlman", "Europe/London"),
]


class Demo:
    """The pieces of the offline loop and how to print what people see."""

    def __init__(self, slack: SlackStandIn, directory: Path, people: int, out: TextIO) -> None:
        self.slack = slack
        self.out = out
        self.people = [f"U0DEMO{index:03d}" for index in range(1, people + 1)]
        self.names = {}
        for user_id, (name, tz) in zip(
            self.people, _NAMES * (people // len(_NAMES) + 1), strict=False
        ):
            slack.add_user(user_id, real_name=name, display_name=name.split()[0], tz=tz)
            self.names[user_id] = name
        self.champion = "U0DEMOCHAMP"
        slack.add_user(
            self.champion, real_name="Chris Champion", display_name="Chris", tz="Europe/London"
        )
        slack.add_user("U0DEMOBOT", real_name="Reminder Bot", is_bot=True)
        slack.add_channel("C0DEMOLEADS", name="ai-pilot-leadership", members=[self.champion])
        slack.add_channel(
            "C0DEMOTEAM",
            name="support-team",
            members=[*self.people, "U0DEMOBOT", slack.bot_user_id],
        )
        self.settings = Settings(
            slack_bot_token=slack.bot_token,
            slack_signing_secret=_SECRET,
            slack_api_url=slack.url,
            database_url=f"sqlite:///{directory / 'demo.db'}",
        )
        self.db = Database(self.settings.database_url)
        self.db.upgrade()
        self.deps = build_deps(self.settings, db=self.db)
        self.server = BackgroundServer(
            build_app(self.deps), self.db, _SECRET, gate=self.deps.ack_first
        ).start()
        self.as_slack = SlackSender(self.server.url, _SECRET, slack)

    def close(self) -> None:
        self.server.stop()
        self.deps.close()

    def say(self, text: str = "") -> None:
        print(text, file=self.out)

    def step(self, title: str) -> None:
        self.say()
        self.say(f"━━ {title} " + "━" * max(0, 70 - len(title)))

    def show(self, who: str, text: str) -> None:
        self.say(f"  {who} sees:")
        self.say(indent(text))


def run_demo(*, people: int = 6, out: TextIO) -> int:
    """Run the offline loop and print it; returns the exit code."""
    people = max(3, min(people, 60))
    with tempfile.TemporaryDirectory(prefix="pilot-pulse-demo-") as tmp, SlackStandIn() as slack:
        demo = Demo(slack, Path(tmp), people, out)
        try:
            _run(demo)
        finally:
            demo.close()
    return 0


def _run(demo: Demo) -> None:
    slack = demo.slack
    demo.say("pilot-pulse demo: a local stand-in of Slack, a temporary SQLite database, and")
    demo.say(f"{len(demo.people)} simulated people. Nothing leaves this machine.")

    demo.step("1. An operator creates a pilot")
    demo.say(
        "  $ pilot-pulse pilot create support-copilot --tool 'GitHub Copilot' \\\n"
        "      --leadership-channel C0DEMOLEADS --members-from-channel C0DEMOTEAM \\\n"
        f"      --champions {demo.champion}"
    )
    result = create_pilot(
        demo.db,
        demo.deps.client,
        PilotSpec(
            name="support-copilot",
            tool="GitHub Copilot",
            leadership_channel="C0DEMOLEADS",
            members_from_channel="C0DEMOTEAM",
            champions=(demo.champion,),
            min_group_size=5,
        ),
    )
    demo.say(
        f"  created pilot 'support-copilot': {result.members} members, "
        f"{result.champions} champion, time zone {result.pilot.timezone}"
    )
    for user_id, why in sorted(result.left_out.items()):
        demo.say(f"    left out {user_id}: {why}")
    with demo.db.session() as session:
        for pilot in list_pilots(session):
            demo.say(
                f"  $ pilot-pulse pilot list\n  {pilot.name}  {pilot.tool}  {pilot.members} members"
            )

    first = demo.people[0]
    demo.step(f"2. {demo.names[first]} opens the app's Home tab")
    slack.clear()
    demo.as_slack.event({"type": "app_home_opened", "user": first, "tab": "home", "channel": "D0"})
    [publish] = slack.wait_for("views.publish")
    demo.show(demo.names[first], render_view(publish.params["view"]))

    demo.step("3. The champion runs /pilot-status")
    slack.clear()
    demo.as_slack.command(demo.champion)
    [reply] = slack.wait_for("response_url")
    demo.show(
        "Chris Champion (only they)",
        render_blocks(reply.params.get("blocks")) or reply.params["text"],
    )

    demo.step(f"4. {demo.names[first]}, who is not a champion, tries /pilot-status")
    slack.clear()
    demo.as_slack.command(first)
    [reply] = slack.wait_for("response_url")
    demo.show(demo.names[first], reply.params["text"])
    demo.say()
    demo.say("Done. Connect a real workspace: see README.md, 'Connecting a workspace'.")
