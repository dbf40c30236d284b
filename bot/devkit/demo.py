"""`pilot-pulse demo`: the whole loop offline, with no Slack account.

An in-process stand-in of the Slack Web API, a temporary SQLite database, a handful of
simulated people, and the real app served over HTTP with Slack-signed requests; every message
and view a person would see is printed as plain text.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.devkit.history import backdate_pilot, simulate_week
from bot.devkit.plaintext import indent, render_blocks, render_view
from bot.devkit.slack_requests import SlackSender
from bot.devkit.slack_standin import SlackStandIn
from bot.outreach.digest import post_digest
from bot.outreach.reminder import send_reminder
from bot.outreach.sending import send_checkins, send_pulse
from bot.pilots.pilot import PilotSpec, create_pilot, list_pilots
from bot.reporting.report import build_report
from bot.runtime.app import build_app
from bot.runtime.deps import build_deps
from bot.runtime.server import BackgroundServer
from bot.runtime.settings import Settings
from storage import Database
from storage.models import Analysis, AnalysisTheme, CheckinMessage, Question

_SECRET = "demo-signing-secret-not-a-real-one"
_LONDON = ZoneInfo("Europe/London")


class DemoClock:
    """The demo's time. Messages reach people only in their working hours, so a demo run on a
    Sunday night would show nothing: the story starts on the last Tuesday at 10:00 in London,
    when the pulse is due, runs on with real time, and moves to Thursday for the reminder."""

    def __init__(self) -> None:
        local = datetime.now(UTC).astimezone(_LONDON)
        tuesday = local.date() - timedelta(days=(local.weekday() - 1) % 7)
        start = datetime.combine(tuesday, dt_time(10), _LONDON)
        if start > local:
            start -= timedelta(weeks=1)
        self.move_to(start.astimezone(UTC))

    def move_to(self, moment: datetime) -> None:
        self._start, self._began = moment, time.monotonic()

    def __call__(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._began)


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
        self.files = Path.cwd() / "pilot-pulse-demo"
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
        self.clock = DemoClock()
        self.deps.clock = self.clock
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


def run_demo(*, people: int = 8, out: TextIO, files: Path | None = None) -> int:
    """Run the offline loop and print it; the digest's Block Kit JSON and chart go to `files`
    (default: ./pilot-pulse-demo). Returns the exit code."""
    people = max(len(_ANSWERS) + 2, min(people, 60))
    with tempfile.TemporaryDirectory(prefix="pilot-pulse-demo-") as tmp, SlackStandIn() as slack:
        demo = Demo(slack, Path(tmp), people, out)
        demo.files = files or Path.cwd() / "pilot-pulse-demo"
        try:
            _run(demo)
        finally:
            demo.close()
    return 0


def _run(demo: Demo) -> None:
    slack = demo.slack
    demo.say("pilot-pulse demo: a local stand-in of Slack, a temporary SQLite database, and")
    demo.say(f"{len(demo.people)} simulated people. Nothing leaves this machine.")

    demo.step("An operator creates a pilot")
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
    demo.step(f"{demo.names[first]} opens the app's Home tab")
    slack.clear()
    demo.as_slack.event({"type": "app_home_opened", "user": first, "tab": "home", "channel": "D0"})
    [publish] = slack.wait_for("views.publish")
    demo.show(demo.names[first], render_view(publish.params["view"]))

    _pulse(demo)
    _checkins(demo)

    demo.step("The champion runs /pilot-status")
    slack.clear()
    demo.as_slack.command(demo.champion)
    [reply] = slack.wait_for("response_url")
    demo.show(
        "Chris Champion (only they)",
        render_blocks(reply.params.get("blocks")) or reply.params["text"],
    )

    demo.step(f"{demo.names[first]}, who is not a champion, tries /pilot-status")
    slack.clear()
    demo.as_slack.command(first)
    [reply] = slack.wait_for("response_url")
    demo.show(demo.names[first], reply.params["text"])

    demo.step("An operator asks for this week's report")
    demo.say("  $ pilot-pulse report support-copilot --format json")
    report = build_report(demo.db, "support-copilot", None, demo.deps.clock())
    demo.say(indent(json.dumps(report, indent=2, ensure_ascii=False), "  "))

    _history(demo)
    _digest(demo)
    demo.say()
    demo.say("Done. Connect a real workspace: see README.md, 'Connecting a workspace'.")


def _history(demo: Demo) -> None:
    """Six earlier weeks, so that the digest has a trend: use and usefulness climb as licences
    arrive, and the complaints about them fade."""
    demo.step("The weeks before: six earlier pulses of this pilot, simulated")
    now = demo.deps.clock()
    backdate_pilot(demo.db, "support-copilot", now - timedelta(weeks=7))
    chance = random.Random(48)
    for weeks_ago in range(6, 0, -1):
        progress = (6 - weeks_ago) / 5  # 0 in the first week, 1 in the last
        answers = {}
        for user_id in demo.people:
            if chance.random() > 0.65 + 0.25 * progress:
                continue  # did not answer that week
            used = chance.random() < 0.35 + 0.5 * progress
            values: dict = {
                "usage": chance.choice([1, 2, 3]) if used else 0,
                "usefulness": min(5, max(1, round(2.4 + 1.6 * progress + chance.uniform(-1, 1)))),
                "time_saved": chance.choice([15, 45, 90] if used else [0, 0, 15]),
                "trust": min(5, max(1, round(2.6 + 1.2 * progress + chance.uniform(-1, 1)))),
                "recommend": min(10, max(0, round(4 + 5 * progress + chance.uniform(-2, 2)))),
            }
            if chance.random() < 0.5:
                values["comment"] = chance.choice(
                    _EARLY_COMMENTS if chance.random() > progress else _LATE_COMMENTS
                )
            answers[user_id] = values
        period = simulate_week(
            demo.db,
            demo.deps.sending_client,
            "support-copilot",
            now - timedelta(weeks=weeks_ago),
            answers,
            demo.deps.analyzer,
        )
        demo.say(f"  {period}: {len(answers)} of {len(demo.people)} answered")


_EARLY_COMMENTS = [
    "Still no licence, IT has not set up my account",
    "Waiting on a seat, I cannot log in yet",
    "Not sure what I am allowed to paste into it",
]
_LATE_COMMENTS = [
    "It saves me an hour a day on ticket replies",
    "Great for first drafts, a real time saver",
    "Summaries of long threads are spot on now",
]


def _digest(demo: Demo) -> None:
    demo.step("Monday: the weekly digest in the leadership channel")
    demo.say("  $ pilot-pulse digest send support-copilot")
    result = post_digest(
        demo.db, demo.deps.client, "support-copilot", period=None, now=demo.deps.clock()
    )
    demo.say(f"  {result.note}")
    message = demo.slack.messages["C0DEMOLEADS"][-1]
    demo.show("Leadership (#ai-pilot-leadership)", render_blocks(message["blocks"]))
    demo.files.mkdir(parents=True, exist_ok=True)
    blocks = demo.files / "digest-blocks.json"
    blocks.write_text(json.dumps({"blocks": message["blocks"]}, indent=2, ensure_ascii=False))
    demo.say(f"\n  The digest's Block Kit (paste it into Block Kit Builder): {blocks}")
    for upload in demo.slack.uploads.values():
        chart = demo.files / "digest-chart.png"
        chart.write_bytes(upload["bytes"])
        demo.say(f"  The trend chart posted with it: {chart}")
        demo.say(indent(f"alt text: {upload['alt_txt']}", "    "))


# What the simulated people answer: the first click, then the modal, by question key.
_ANSWERS = [
    (
        "Daily",
        {
            "usefulness": "5",
            "time_saved": "1–2 h",
            "trust": "4",
            "recommend": "9",
            "comment": "Drafting replies is so much faster, ask ada@example.com for her prompts",
        },
    ),
    (
        "Several times",
        {
            "usefulness": "4",
            "time_saved": "30–60 min",
            "trust": "3",
            "recommend": "8",
            "comment": "Good for summaries but it made up a policy number once",
        },
    ),
    (
        "Several times",
        {"usefulness": "4", "time_saved": "30–60 min", "trust": "4", "recommend": "7"},
    ),
    (
        "Once or twice",
        {
            "usefulness": "2",
            "time_saved": "Under 30 min",
            "trust": "2",
            "recommend": "4",
            "comment": "Can't get a licence yet, and the login times out",
        },
    ),
    ("Daily", {"usefulness": "5", "time_saved": "Over 2 h", "trust": "4", "recommend": "10"}),
    (
        "Not at all",
        {
            "usefulness": "1",
            "trust": "1",
            "recommend": "2",
            "comment": "Not sure it is allowed for customer data",
        },
    ),
]


def _dm(demo: Demo, user_id: str, index: int = -1) -> dict:
    return demo.slack.messages["D" + user_id[1:]][index]


def _press(demo: Demo, user_id: str, label: str, message: dict) -> None:
    for block in message["blocks"]:
        for element in block.get("elements", []):
            if element.get("type") == "button" and element["text"]["text"] == label:
                demo.as_slack.action(
                    user_id,
                    element["action_id"],
                    element["value"],
                    message=message,
                    channel_id="D" + user_id[1:],
                    block_id=block.get("block_id", "block"),
                )
                return
    raise LookupError(label)


def _fill(view: dict, answers: dict[str, str], key_of: dict[str, str]) -> dict:
    values: dict = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        wanted = answers.get(key_of.get(block["label"]["text"], ""))
        element = block["element"]
        if element["type"] == "plain_text_input":
            values[block["block_id"]] = {"answer": {"type": "plain_text_input", "value": wanted}}
            continue
        chosen = next(
            (o for o in element["options"] if o["text"]["text"].split(" · ")[0] == wanted), None
        )
        values[block["block_id"]] = {"answer": {"type": element["type"], "selected_option": chosen}}
    return values


def _pulse(demo: Demo) -> None:
    slack = demo.slack
    demo.step("The weekly pulse goes out")
    demo.say("  $ pilot-pulse pulse send support-copilot")
    result = send_pulse(
        demo.db,
        demo.deps.sending_client,
        "support-copilot",
        now=demo.deps.clock(),
        options=demo.deps.send_options,
    )
    progress = result.progress
    assert progress is not None
    demo.say(
        f"  pulse for {result.period}: {progress.sent} sent, {progress.failed} failed for good"
    )
    first = demo.people[0]
    demo.show(f"{demo.names[first]}, in a DM", render_blocks(_dm(demo, first)["blocks"]))

    with demo.db.session() as session:
        key_of = {
            question.text.replace("{tool}", "GitHub Copilot"): question.key
            for question in session.exec(select(Question)).all()
        }
    for index, (user_id, (click, rest)) in enumerate(zip(demo.people, _ANSWERS, strict=False)):
        _press(demo, user_id, click, _dm(demo, user_id, 0))
        view = slack.wait_for("views.open", index + 1)[index].params["view"]
        if index == 0:
            demo.step(
                f"{demo.names[user_id]} clicks “{click}”; the answer is stored and the rest opens"
            )
            demo.show(demo.names[user_id], render_view(view))
        demo.as_slack.view_submission(user_id, view, _fill(view, rest, key_of))
        if index == 0:
            update = slack.wait_for("chat.update", 2)[1]
            demo.say(f"  …{demo.names[user_id]} sends the form; the DM becomes:")
            demo.say(indent(render_blocks(update.params["blocks"])))
    answered = [demo.names[u] for u in demo.people[: len(_ANSWERS)]]
    demo.say(f"\n  {', '.join(answered[1:])} answer too.")

    if len(demo.people) > len(_ANSWERS):
        pauser = demo.people[len(_ANSWERS)]
        demo.step(f"{demo.names[pauser]} is on leave and clicks “Pause for 2 weeks”")
        slack.clear()
        _press(demo, pauser, "Pause for 2 weeks", _dm(demo, pauser, 0))
        [confirmation] = slack.wait_for("response_url")
        demo.show(f"{demo.names[pauser]} (only they)", render_blocks(confirmation.params["blocks"]))

    demo.step("Thursday: one reminder to whoever has not answered (never to the paused)")
    demo.clock.move_to(demo.clock() + timedelta(days=2))
    demo.say("  $ pilot-pulse pulse remind support-copilot")
    reminded = send_reminder(
        demo.db,
        demo.deps.sending_client,
        "support-copilot",
        now=demo.deps.clock(),
        options=demo.deps.send_options,
    )
    sent = reminded.progress.sent if reminded.progress else 0
    demo.say(f"  reminder: {sent} sent")
    for user_id in demo.people[len(_ANSWERS) + 1 :][:1]:
        demo.show(f"{demo.names[user_id]}, in a DM", render_blocks(_dm(demo, user_id)["blocks"]))


# What the simulated people say in their check-ins, one reply per turn.
_CONVERSATIONS = [
    [
        "It saves me about an hour a day on drafting replies 🙌",
        "Mostly refund emails, the drafts need small edits only",
        "Honestly just more licences for the rest of the team",
    ],
    [
        "Good for summaries, but it made up a policy number once, so I double-check everything",
        "It quoted a warranty clause we don't have, Ada spotted it",
        "A licence for my colleague would help too",
    ],
    [
        "Can't get a licence yet, IT says next month",
        "I'd use it for ticket triage straight away",
        "no",
    ],
    [
        "The login keeps timing out and I lose my draft every time 😤",
        "Usually after lunch, the SSO page loops, call me on 07700 900123 if you need detail",
        "A saved draft would help",
    ],
    [
        "Not sure it's allowed for customer data, so I only use it for internal notes",
        "A one-page guide on what's allowed, and my login expires daily",
        "that's all",
    ],
    [
        "It saves time on summaries, but copy-pasting between Zendesk and the tool is a pain",
        "An integration with Zendesk, and a licence for the new starters",
        "nope",
    ],
]


def _converse(demo: Demo, user_id: str, replies: list[str], opener: int) -> list[tuple[str, str]]:
    """The person answers each question the bot asks, until it says thanks."""
    slack = demo.slack
    channel = "D" + user_id[1:]
    transcript = [("bot", slack.messages[channel][opener]["text"])]
    for index, words in enumerate(replies):
        seen = len(slack.messages[channel])
        demo.as_slack.event(
            {
                "type": "message",
                "channel_type": "im",
                "channel": channel,
                "user": user_id,
                "text": words,
                "ts": f"{1764100000 + index}.{seen:06d}",
                "event_ts": "1",
            }
        )
        transcript.append(("person", words))
        deadline = time.monotonic() + 10
        while len(slack.messages[channel]) <= seen and time.monotonic() < deadline:
            time.sleep(0.02)
        answer = slack.messages[channel][-1]["text"]
        transcript.append(("bot", answer))
        if answer.startswith("Thank"):
            break
    return transcript


def _checkins(demo: Demo) -> None:
    demo.step("Wednesday: a short check-in, in each person's own words")
    demo.say("  $ pilot-pulse checkin send support-copilot")
    people = demo.people[: len(_CONVERSATIONS)]
    before = {u: len(demo.slack.messages.get("D" + u[1:], [])) for u in people}
    result = send_checkins(
        demo.db,
        demo.deps.sending_client,
        "support-copilot",
        now=demo.deps.clock(),
        options=demo.deps.send_options,
    )
    demo.say(
        f"  check-in for {result.period}: {result.progress.sent if result.progress else 0} sent"
    )
    for index, (user_id, replies) in enumerate(zip(people, _CONVERSATIONS, strict=False)):
        transcript = _converse(demo, user_id, replies, before[user_id])
        if index == 0:
            demo.say(f"  The DM between {demo.names[user_id]} and pilot-pulse:")
            for who, text in transcript:
                speaker = "pilot-pulse" if who == "bot" else demo.names[user_id].split()[0]
                demo.say(indent(f"{speaker}: {_plain(text)}", "  │ "))
    demo.say(f"\n  {', '.join(demo.names[u] for u in people[1:])} have their check-ins too.")

    demo.step("What the analysis keeps: scrubbed words, sentiment, themes (never a name)")
    with demo.db.session() as session:
        rows = session.exec(
            select(Analysis).where(Analysis.source == "checkin").order_by(Analysis.id)
        ).all()
        for analysis in rows:
            themes = session.exec(
                select(AnalysisTheme.theme).where(AnalysisTheme.analysis_id == analysis.id)
            ).all()
            words = session.exec(
                select(CheckinMessage.text_scrubbed)
                .where(
                    CheckinMessage.checkin_id == analysis.source_id,
                    CheckinMessage.author == "participant",
                )
                .order_by(CheckinMessage.id)
            ).all()
            demo.say(
                f"  {analysis.sentiment:+.2f} {analysis.label:<8} {', '.join(themes)}  [{analysis.analyzer}]"
            )
            demo.say(indent(" / ".join(w for w in words if w), "      "))


def _plain(text: str) -> str:
    return text.replace("*", "").replace("_", "")
