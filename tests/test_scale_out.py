"""Scale-out: two `serve --http --no-scheduler` processes and two clocks on one PostgreSQL,
through a simulated fortnight, for three pilots whose people live in five time zones and
answer through both web processes.

The whole world lives in simulated time: this process travels to each moment, and the web
processes follow it through a file (see `command_following`), so Slack's signatures, the
stand-in's message times and every "now" agree. The clocks are two `Clock` objects with
their own connections, ticking the same moment at the same time on two threads.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import time_machine
from sqlmodel import func, select

from bot.devkit.slack_requests import SlackSender
from bot.devkit.slack_standin import SlackStandIn
from bot.pilots.calendar import WorkCalendar, is_quiet
from bot.pilots.period import period_of
from bot.pilots.pilot import PilotSpec, create_pilot
from bot.runtime.clock import Clock
from bot.runtime.deps import build_deps
from bot.runtime.jobs import JOBS
from bot.runtime.settings import Settings
from storage import Database
from storage.models import Answer, CheckinMessage, MessageAuthor
from tests.conftest import SIGNING_SECRET, free_port, make_settings
from tests.pulse_helpers import dm_channel

pytestmark = pytest.mark.slow

ZONES = (
    "America/Los_Angeles",
    "America/New_York",
    "Europe/London",
    "Asia/Kolkata",
    "Australia/Sydney",
)
# Each pilot's own zone and holidays; beta's Tuesday off in the second week moves its pulse.
PILOTS = {
    "alpha": ("Europe/London", ()),
    "beta": ("America/New_York", ("2026-12-15",)),
    "gamma": ("Australia/Sydney", ()),
}
# Monday 7 December 2026 to Monday 21 December, late enough for New York's digest of the
# second week (Monday 11:00 there).
START = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
END = datetime(2026, 12, 21, 17, 0, tzinfo=UTC)
# An hour a tick: each slot is on the hour, and Kolkata's half-hour offset shows that a
# message goes out at the first tick after its slot, never before.
STEP = timedelta(hours=1)
# Sunday evening in London and New York (their week 49), Monday morning in Sydney (week 50).
CREATED = START - timedelta(hours=1)
PERIODS = ("2026-W50", "2026-W51")
# People in these zones never answer their pulse; everyone else answers as soon as it comes.
SILENT = {"America/Los_Angeles", "Asia/Kolkata"}


def _people(pilot: str) -> dict[str, str]:
    """Slack user → time zone, one person of `pilot` in each zone."""
    return {f"U0{pilot.upper()}{index}": zone for index, zone in enumerate(ZONES)}


def _write_moment(path: Path, moment: datetime) -> None:
    """Tell the web processes the time; replaced whole so that a reader never sees half."""
    part = path.with_suffix(".part")
    part.write_text(moment.isoformat())
    os.replace(part, path)


def command_following(clock_file: Path, *args: str) -> list[str]:
    """`pilot-pulse ARGS` in a process whose time follows the moment last written to
    `clock_file`, and runs on with real time in between."""
    script = (
        "import sys, datetime, pathlib, threading, time, time_machine\n"
        "path = pathlib.Path(sys.argv[1])\n"
        "moment = datetime.datetime.fromisoformat(path.read_text())\n"
        "coordinates = time_machine.travel(moment, tick=True).start()\n"
        "def follow(seen):\n"
        "    while True:\n"
        "        time.sleep(0.01)\n"
        "        try:\n"
        "            text = path.read_text()\n"
        "        except OSError:\n"
        "            continue\n"
        "        if text and text != seen:\n"
        "            coordinates.move_to(datetime.datetime.fromisoformat(text))\n"
        "            seen = text\n"
        "threading.Thread(target=follow, args=(moment.isoformat(),), daemon=True).start()\n"
        "from bot.runtime.cli import main\n"
        "sys.exit(main(sys.argv[2:]))\n"
    )
    return [sys.executable, "-c", script, str(clock_file), *args]


def _serve(env: dict[str, str], clock_file: Path, cwd: Path) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    process = subprocess.Popen(
        command_following(clock_file, "serve", "--http", "--no-scheduler", "--port", str(port)),
        env={**os.environ, **env},
        cwd=cwd,
        text=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited early: {process.stderr.read()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("serve did not become healthy")


def _kind(message: dict[str, Any]) -> str:
    """What a bot message in someone's DM is, from its blocks."""
    ids = {block.get("block_id") for block in message.get("blocks") or ()}
    if "pulse_first" in ids:
        opening = message["blocks"][0].get("text", {}).get("text", "")
        return "reminder" if "friendly nudge" in opening else "pulse"
    if "checkin_controls" in ids:
        return "check-in"
    return "other"


class World:
    """Three pilots, two web processes, two clocks; people answer what reaches them."""

    def __init__(self, slack: SlackStandIn, settings: Settings, senders: list[SlackSender]):
        self.slack = slack
        self.settings = settings
        self.senders = senders
        self.seen: set[tuple[str, str]] = set()
        self.clicks = 0
        self.replies = 0
        # (user, kind) → the local times at which such messages arrived.
        self.arrivals: dict[tuple[str, str], list[datetime]] = {}
        self.zone = {user: zone for pilot in PILOTS for user, zone in _people(pilot).items()}

    def react(self) -> None:
        """Everyone looks at their DMs: a new pulse is answered (unless they are silent), a new
        check-in gets a reply, through the two web processes in turn."""
        for user, zone in self.zone.items():
            for message in list(self.slack.messages.get(dm_channel(user), ())):
                key = (user, message["ts"])
                if key in self.seen or message.get("user") != self.slack.bot_user_id:
                    continue
                self.seen.add(key)
                kind = _kind(message)
                arrived = datetime.fromtimestamp(float(message["ts"]), ZoneInfo(zone))
                self.arrivals.setdefault((user, kind), []).append(arrived)
                sender = self.senders[(self.clicks + self.replies) % len(self.senders)]
                if kind == "pulse" and zone not in SILENT:
                    self._click_first(sender, user, message)
                elif kind == "check-in" and zone not in SILENT:
                    self._reply(sender, user)

    def _click_first(self, sender: SlackSender, user: str, message: dict[str, Any]) -> None:
        block = next(b for b in message["blocks"] if b.get("block_id") == "pulse_first")
        button = block["elements"][-1]
        response = sender.action(
            user,
            button["action_id"],
            button["value"],
            message=message,
            channel_id=dm_channel(user),
            block_id="pulse_first",
        )
        assert response.status_code == 200, response.text
        self.clicks += 1

    def _reply(self, sender: SlackSender, user: str) -> None:
        ts = f"{time.time():.6f}"
        event = {
            "type": "message",
            "channel_type": "im",
            "channel": dm_channel(user),
            "user": user,
            "text": "The drafts save me about an hour a day, but the login keeps timing out.",
            "ts": ts,
            "event_ts": ts,
        }
        assert sender.event(event).status_code == 200
        self.replies += 1


def _tick_together(clocks: list[Clock], moment: datetime) -> None:
    errors: list[BaseException] = []

    def run(clock: Clock) -> None:
        try:
            clock.tick(moment)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(clock,)) for clock in clocks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_web_processes_and_two_clocks_deliver_each_persons_fortnight_once(
    db_url: str,
    slack: SlackStandIn,
    travel: time_machine.Coordinates,
    tmp_path: Path,
) -> None:
    travel.move_to(CREATED)
    for pilot in PILOTS:
        for user, zone in _people(pilot).items():
            slack.add_user(user, real_name=f"Person {user[-1]} {pilot.title()}", tz=zone)
        slack.add_channel(f"C0{pilot.upper()}", name=pilot, members=list(_people(pilot)))
        slack.add_channel(f"C0LEAD{pilot.upper()}", name=f"{pilot}-leads", members=[])

    settings = make_settings(slack, db_url)
    first = build_deps(settings, db=Database(db_url))
    second = build_deps(make_settings(slack, db_url), db=Database(db_url))
    for name, (zone, holidays) in PILOTS.items():
        create_pilot(
            first.db,
            first.client,
            PilotSpec(
                name=name,
                tool="Copilot",
                leadership_channel=f"C0LEAD{name.upper()}",
                members_from_channel=f"C0{name.upper()}",
                timezone=zone,
                min_group_size=3,
                holidays=holidays,
            ),
        )

    clock_file = tmp_path / "now.txt"
    _write_moment(clock_file, START)
    env = {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.url,
        "DATABASE_URL": db_url,
        "LOG_LEVEL": "WARNING",
    }
    servers = [_serve(env, clock_file, tmp_path) for _ in range(2)]
    try:
        world = World(
            slack, settings, [SlackSender(url, SIGNING_SECRET, slack) for _, url in servers]
        )
        clocks = [Clock(first, JOBS), Clock(second, JOBS)]
        moment = START
        while moment <= END:
            travel.move_to(moment)
            _write_moment(clock_file, moment)
            _tick_together(clocks, moment)
            world.react()
            moment += STEP
        # The last replies' check-in turns finish in the web processes.
        time.sleep(3)
    finally:
        for process, _ in servers:
            process.terminate()
        for process, _ in servers:
            process.wait(timeout=30)
        for deps in (first, second):
            deps.delayed.close()
            deps.executor.shutdown(wait=True)
            deps.slow_executor.shutdown(wait=True)
            deps.db.dispose()

    week = WorkCalendar()
    for user, zone in world.zone.items():
        pilot = next(name for name in PILOTS if user.startswith(f"U0{name.upper()}"))
        pulses = world.arrivals.get((user, "pulse"), [])
        reminders = world.arrivals.get((user, "reminder"), [])
        checkins = world.arrivals.get((user, "check-in"), [])
        # Exactly one pulse and one check-in per period, a reminder only for who did not answer.
        assert len(pulses) == len(PERIODS), (user, pulses)
        assert len(checkins) == len(PERIODS), (user, checkins)
        assert len(reminders) == (len(PERIODS) if zone in SILENT else 0), (user, reminders)
        for arrived in [*pulses, *reminders, *checkins]:
            assert not is_quiet(arrived, zone, week), (user, arrived)
        # At the pilot's slot (Tuesday 10:00, Wednesday 14:00) in their own zone, within a
        # tick; beta's holiday moves its second pulse to the Wednesday.
        for number, arrived in enumerate(pulses):
            expected = 2 if pilot == "beta" and number == 1 else 1
            assert arrived.weekday() == expected, (user, arrived)
            assert timedelta(0) <= arrived - arrived.replace(hour=10, minute=0) < STEP
        for arrived in checkins:
            assert arrived.weekday() == 2 and 14 <= arrived.hour < 15, (user, arrived)
        for pulse, reminder in zip(pulses, reminders, strict=False):
            assert reminder - pulse >= timedelta(hours=20), (user, pulse, reminder)

    # Every click became one answer, every reply one stored message, whichever process took it.
    db = Database(db_url)
    try:
        with db.session() as session:
            answers = session.exec(select(func.count()).select_from(Answer)).one()
            replies = session.exec(
                select(func.count())
                .select_from(CheckinMessage)
                .where(CheckinMessage.author == MessageAuthor.PARTICIPANT)
            ).one()
    finally:
        db.dispose()
    assert world.clicks == 3 * 3 * len(PERIODS)
    assert answers == world.clicks
    assert replies == world.replies == world.clicks

    # One digest per pilot per period, in its leadership channel: every week the pilot has
    # existed in (in its own zone), from the one it was created in to the last whole one.
    for name, (zone, _) in PILOTS.items():
        posts = [
            message["text"]
            for message in slack.messages.get(f"C0LEAD{name.upper()}", ())
            if message.get("user") == slack.bot_user_id and not message.get("thread_ts")
        ]
        first_week = period_of(CREATED, zone)
        expected = [first_week] + [w for w in PERIODS if w > first_week]
        assert [text.split(" · ")[1].split(":")[0] for text in posts] == expected, (name, posts)
