"""What SECURITY.md promises, proved where no other test proves it: after a whole week (a pulse,
a check-in, a usage export, the digest, a clock tick) no token, key or secret and no e-mail
address of anyone is stored, people's words as typed are only in the two raw-text columns and
only until retention; the model is sent exactly the scrubbed words and nothing at all when no
model is configured; each secret goes only to its own service; and the known limits are real.
Also keeps SECURITY.md honest: every test it names exists, and every table is accounted for.
Every database test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import ast
import io
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import func, select

from bot.devkit.slack_requests import SlackSender
from bot.devkit.slack_standin import SlackStandIn
from bot.outreach.digest import post_digest
from bot.outreach.sending import send_checkins
from bot.privacy.names import sync_names
from bot.privacy.own_data import erase
from bot.privacy.scrub import Scrubber
from bot.runtime.cli import main
from bot.runtime.clock import Clock
from bot.runtime.deps import Deps, build_deps
from bot.runtime.heartbeat import beat
from bot.runtime.jobs import retention_job
from bot.runtime.settings import Settings, SettingsError
from bot.usage.activity import import_usage
from storage import Database
from storage.models import (
    Analysis,
    AnalysisStatus,
    Answer,
    CheckinMessage,
    Participant,
    UsageDay,
    WorkspaceMember,
    metadata,
)
from tests.conftest import SIGNING_SECRET, RunningApp, make_settings
from tests.openai_standin import OpenAIStandIn
from tests.pulse_helpers import PEOPLE, answer_all, dm_channel, make_pilot, send

ROOT = Path(__file__).resolve().parent.parent
SECURITY_MD = ROOT / "SECURITY.md"

OPENAI_KEY = "sk-proj-SecurityProof0123456789abcdef"
PILOT = "support-copilot"

# What five people type as their pulse comment (each names a member, an e-mail address and a
# phone number), and what the sixth replies to the check-in; with what the scrubber makes of it.
_WEEKS = ("one", "two", "three", "four", "five")
COMMENTS = {
    person: f"No licence for week {word}: ask Ada Lovelace, mail ada.l{i}@example.com "
    f"or ring 07700 90012{i}"
    for i, (person, word) in enumerate(zip(PEOPLE[:5], _WEEKS, strict=True), start=1)
}
SCRUBBED_COMMENTS = {
    person: f"No licence for week {word}: ask [person], mail [email] or ring [phone]"
    for person, word in zip(PEOPLE[:5], _WEEKS, strict=True)
}
REPLIER = PEOPLE[5]
REPLY = (
    "Grace Hopper told me to call +44 20 7946 0958 or write grace.h@example.org, still no licence"
)
SCRUBBED_REPLY = "[person] told me to call [phone] or write [email], still no licence"
# Every e-mail address and phone number typed, and the typed words themselves.
TYPED = (
    *COMMENTS.values(),
    REPLY,
    *(f"ada.l{i}@example.com" for i in range(1, 6)),
    *(f"07700 90012{i}" for i in range(1, 6)),
    "grace.h@example.org",
    "+44 20 7946 0958",
)
# A member of the workspace who is in no pilot, and someone Slack has never heard of: both are
# in the usage export.
OUTSIDER = ("U0OUTSIDER", "Olga Outside", "olga.outside@example.net")
STRANGER = "stranger@elsewhere.example"

# Where people's words as typed may be stored (until retention), and where names may be.
RAW_COLUMNS = {("answer", "text_raw"), ("checkin_message", "text_raw")}
NAME_COLUMNS = {
    ("participant", "real_name"),
    ("participant", "display_name"),
    ("workspace_member", "real_name"),
    ("workspace_member", "display_name"),
}


def cells(db: Database) -> Iterator[tuple[str, str, str]]:
    """(table, column, value as text) of every non-null value of every table."""
    with db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(table.select()).mappings():
                for column, value in row.items():
                    if value is not None:
                        text = value if isinstance(value, str) else json.dumps(value, default=str)
                        yield table.name, column, text


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def _event_ids(db: Database) -> list[str]:
    with db.engine.connect() as conn:
        return sorted(row[0] for row in conn.exec_driver_sql("SELECT event_id FROM slack_event"))


def where(db: Database, needle: str) -> set[tuple[str, str]]:
    """Every (table, column) holding `needle` anywhere in a value, ignoring case."""
    lowered = needle.lower()
    return {(table, column) for table, column, text in cells(db) if lowered in text.lower()}


def wait(condition: Callable[[], object], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"waited in vain for {what}")


def _count(deps: Deps, statement: object) -> int:
    with deps.db.session() as session:
        return session.exec(statement).one()  # type: ignore[call-overload]


@dataclass
class Week:
    deps: Deps
    slack: SlackStandIn
    llm: OpenAIStandIn
    member_emails: list[str]
    digest_blocks: str


def live_a_week(
    deps: Deps, slack: SlackStandIn, sender: SlackSender, *, usage_and_clock: bool = True
) -> str:
    """A pilot's week through the running app: five people answer the pulse with a comment,
    the sixth replies to the check-in, a champion uploads the usage export in a DM, the digest
    is posted and the clock ticks. Returns the digest's blocks as JSON."""
    slack.add_user(OUTSIDER[0], real_name=OUTSIDER[1], email=OUTSIDER[2])
    make_pilot(deps)
    assert sync_names(deps.db, deps.client, deps.clock()) >= 8
    send(deps)
    for index, person in enumerate(PEOPLE[:5]):
        answer_all(
            sender,
            slack,
            person,
            "Daily",
            {"useful": "4", "got in the way": COMMENTS[person]},
            index,
        )
    checkins = send_checkins(
        deps.db, deps.sending_client, PILOT, now=deps.clock(), options=deps.send_options
    )
    assert checkins.progress is not None and checkins.progress.sent == 6
    ts = f"{time.time():.6f}"
    event = {
        "type": "message",
        "channel_type": "im",
        "channel": dm_channel(REPLIER),
        "user": REPLIER,
        "text": REPLY,
        "ts": ts,
        "event_ts": ts,
    }
    assert sender.event(event).status_code == 200
    # The pulse, the check-in's opening and the bot's answer to the reply.
    wait(lambda: len(slack.messages.get(dm_channel(REPLIER), [])) >= 3, "the bot's turn")
    done = select(func.count()).where(Analysis.status == AnalysisStatus.DONE)
    wait(lambda: _count(deps, done) == 6, "six analyses")
    unposted = select(func.count()).where(CheckinMessage.slack_ts.is_(None))
    wait(lambda: _count(deps, unposted) == 0, "the bot's turn marked posted")

    if usage_and_clock:
        today = datetime.now(UTC).date().isoformat()
        emails = [slack.users[person]["profile"]["email"] for person in PEOPLE]
        rows = [f"{email},{today},3" for email in [*emails, OUTSIDER[2], STRANGER]]
        export = ("user,date,uses\n" + "\n".join(rows) + "\n").encode()
        upload = slack.share_file_in_dm("U0CHAMPION", "usage.csv", export, text=PILOT)
        assert sender.event(upload).status_code == 200
        wait(
            lambda: any(
                "imported csv usage" in call.params.get("text", "")
                for call in slack.calls_to("chat.postMessage")
            ),
            "the import's summary",
        )

    posted = post_digest(deps.db, deps.client, PILOT, period=None, now=deps.clock(), llm=deps.llm)
    assert posted.posted, posted.note
    [digest] = slack.messages["C0LEADERS"]
    if usage_and_clock:
        Clock(deps).tick()
    return json.dumps(digest["blocks"], ensure_ascii=False)


def _stop(running: RunningApp, deps: Deps) -> None:
    running.stop()
    deps.delayed.close()
    deps.executor.shutdown(wait=True)
    deps.slow_executor.shutdown(wait=True)


@pytest.fixture
def week(slack: SlackStandIn, db_url: str, db: Database, llm: OpenAIStandIn) -> Iterator[Week]:
    """A week lived with a model configured (OPENAI_API_KEY and OPENAI_BASE_URL), which finds
    every text negative and about licences, and names a member in its summary."""

    def respond(body: dict) -> dict:
        name = body["response_format"]["json_schema"]["name"]
        if name == "followup":
            return {"question": "What would help you get a licence sooner?"}
        if name == "digest_next_steps":
            return {
                "summary": "Licences are what holds people back this week.",
                "actions": [
                    "Ask IT to issue the missing licences this week.",
                    "Tell the team how to request a licence.",
                ],
            }
        return {
            "sentiment": -0.6,
            "label": "negative",
            "themes": ["access_licensing"],
            "summary": "Ada Lovelace has no licence yet.",
            "blockers": [],
            "wins": [],
        }

    llm.respond_with(respond)
    settings = make_settings(
        slack, db_url, openai_api_key=OPENAI_KEY, openai_base_url=llm.url, openai_timeout=5
    )
    deps = build_deps(settings, db=db)
    deps.checkin_settle = 0.0
    assert deps.llm is not None
    running = RunningApp(deps).start()
    try:
        sender = SlackSender(running.url, SIGNING_SECRET, slack)
        blocks = live_a_week(deps, slack, sender)
        emails = [slack.users[person]["profile"]["email"] for person in [*PEOPLE, "U0CHAMPION"]]
        yield Week(deps, slack, llm, emails, blocks)
    finally:
        _stop(running, deps)


# -- what is stored, and for how long ---------------------------------------------------------


def test_no_secret_and_no_e_mail_is_stored_and_typed_words_only_until_retention(
    week: Week,
) -> None:
    db, slack = week.deps.db, week.slack
    # The week left rows in every table it touches, so the scans below look at real data.
    with db.session() as session:
        assert len(session.exec(select(UsageDay)).all()) == 6  # the six members' day
        assert session.get(WorkspaceMember, OUTSIDER[0]) is not None
    for table in ("slack_event", "clock_beat", "digest", "analysis", "usage_day"):
        assert any(name == table for name, _, _ in cells(db)), table
    events = _event_ids(db)

    # No token, key or secret, anywhere.
    for secret in (slack.bot_token, slack.app_token, SIGNING_SECRET, OPENAI_KEY):
        assert where(db, secret) == set(), secret
    # No e-mail address from Slack's profiles or from the export, a non-member's least of all.
    for email in (*week.member_emails, OUTSIDER[2], STRANGER):
        assert where(db, email) == set(), email
    # The only e-mail addresses anywhere are those people typed, in their raw words.
    assert {(t, c) for t, c, text in cells(db) if _EMAIL.search(text)} <= RAW_COLUMNS
    # The words as typed are in the raw columns and nowhere else.
    for typed in TYPED:
        assert where(db, typed) and where(db, typed) <= RAW_COLUMNS, typed
    # Names are in the raw words and in the name columns (kept to scrub them), nowhere else:
    # not in the scrubbed words, the analyses (the model's summary named Ada), or the digest.
    for name in ("Lovelace", "Hopper", "Olga"):
        assert where(db, name) <= RAW_COLUMNS | NAME_COLUMNS, name
        assert where(db, name) & NAME_COLUMNS, name
    with db.session() as session:
        summaries = set(session.exec(select(Analysis.summary)).all())
        scrubbed = set(session.exec(select(Answer.text_scrubbed)).all())
    assert summaries == {"[person] has no licence yet."}
    with db.session() as session:
        bot_turns = session.exec(
            select(CheckinMessage.text_raw).where(CheckinMessage.author == "bot")
        ).all()
    # The bot's turns keep their words as written only until Slack has them.
    assert bot_turns == [None]  # the follow-up, posted
    assert set(SCRUBBED_COMMENTS.values()) <= scrubbed

    # The clock's daily retention job. Slack's event ids (the de-duplication of its retries)
    # go after a day; the typed words a day past RETENTION_DAYS, while the scrubbed words,
    # names and usage days stay.
    assert week.deps.settings.retention_days == 90
    now = datetime.now(UTC)
    assert events
    retention_job(week.deps, now + timedelta(hours=23))
    assert _event_ids(db) == events
    retention_job(week.deps, now + timedelta(days=89))
    assert _event_ids(db) == []
    assert where(db, COMMENTS[PEOPLE[0]]) == {("answer", "text_raw")}
    retention_job(week.deps, now + timedelta(days=91))
    for typed in TYPED:
        assert where(db, typed) == set(), typed
    for name in ("Lovelace", "Hopper"):
        assert where(db, name) <= NAME_COLUMNS
    with db.session() as session:
        assert set(SCRUBBED_COMMENTS.values()) <= set(
            session.exec(select(Answer.text_scrubbed)).all()
        )
        participant = session.exec(
            select(CheckinMessage.text_scrubbed).where(CheckinMessage.author == "participant")
        ).all()
        assert participant == [SCRUBBED_REPLY]
        assert len(session.exec(select(UsageDay)).all()) == 6


# -- what leaves the machine ------------------------------------------------------------------


def _user_message(body: dict) -> str:
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


def test_the_model_is_sent_only_scrubbed_words_and_each_secret_goes_only_to_its_service(
    week: Week,
) -> None:
    llm, slack = week.llm, week.slack
    calls = [call for call in llm.calls if call.path.endswith("/chat/completions")]
    by_schema: dict[str, list[str]] = {}
    for call in calls:
        name = call.body["response_format"]["json_schema"]["name"]
        by_schema.setdefault(name, []).append(_user_message(call.body))

    # Each analysis is sent exactly one person's scrubbed words, between tags.
    expected = {*SCRUBBED_COMMENTS.values(), SCRUBBED_REPLY}
    assert sorted(by_schema["text_analysis"]) == sorted(
        f"<participant_words>\n{words}\n</participant_words>" for words in expected
    )
    # The follow-up is sent the conversation, scrubbed.
    [conversation] = by_schema["followup"]
    assert f"participant: {SCRUBBED_REPLY}" in conversation
    # The digest's next steps are sent figures and the shown quotes, scrubbed.
    [digest_data] = by_schema["digest_next_steps"]
    assert "ask [person], mail [email] or ring [phone]" in digest_data

    sent_to_model = json.dumps([(call.body, call.headers) for call in llm.calls])
    for typed in (*TYPED, "Lovelace", "Hopper", "Ada", "Grace", "U0PERSON", PILOT):
        assert typed not in sent_to_model, typed
    for secret in (slack.bot_token, slack.app_token, SIGNING_SECRET):
        assert secret not in sent_to_model
    assert {call.headers["authorization"] for call in llm.calls} == {f"Bearer {OPENAI_KEY}"}

    # Slack gets the Slack token and never the model's key; the digest in the leadership
    # channel quotes the scrubbed words, never the typed ones.
    sent_to_slack = json.dumps([(call.params, call.headers) for call in slack.calls], default=str)
    assert OPENAI_KEY not in sent_to_slack and slack.bot_token in sent_to_slack
    assert "ask [person], mail [email] or ring [phone]" in week.digest_blocks
    for typed in (*TYPED, "Lovelace", "Hopper"):
        assert typed not in week.digest_blocks, typed
    # The non-members of the export are told only to the champion who uploaded it, in their DM.
    told = [call for call in slack.calls if STRANGER in json.dumps(call.params, default=str)]
    assert told and all(
        call.method == "chat.postMessage" and call.params["channel"] == dm_channel("U0CHAMPION")
        for call in told
    )


def test_nothing_is_sent_to_a_model_when_none_is_configured(
    slack: SlackStandIn,
    db_url: str,
    db: Database,
    llm: OpenAIStandIn,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # An endpoint is set, in the settings and in the environment the openai SDK reads, but no
    # key: no model is configured.
    monkeypatch.setenv("OPENAI_BASE_URL", llm.url)
    settings = make_settings(slack, db_url, openai_base_url=llm.url)
    deps = build_deps(settings, db=db)
    deps.checkin_settle = 0.0
    assert deps.llm is None
    running = RunningApp(deps).start()
    try:
        sender = SlackSender(running.url, SIGNING_SECRET, slack)
        digest = live_a_week(deps, slack, sender, usage_and_clock=False)
    finally:
        _stop(running, deps)
    monkeypatch.setattr("sys.stdin", io.StringIO(REPLY + "\n"))
    assert main(["analyze"]) == 0
    assert "negative" in capsys.readouterr().out
    # Everything was analysed and the digest written, by the local analyzer and the rules.
    with db.session() as session:
        analyzers = session.exec(select(Analysis.analyzer)).all()
    assert analyzers == ["local"] * 6
    assert "ask [person], mail [email] or ring [phone]" in digest
    assert llm.calls == []


# -- the known limits, as SECURITY.md states them ----------------------------------------------


def _status(sender: SlackSender, slack: SlackStandIn, count: int) -> str:
    sender.command("U0CHAMPION")
    reply = slack.wait_for("response_url", count)[count - 1]
    return json.dumps(reply.params["blocks"], ensure_ascii=False)


def test_live_figures_looked_at_before_and_after_one_answer_give_that_answer_away(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    make_pilot(app.deps)
    send(app.deps)
    for index, person in enumerate(PEOPLE[:5]):
        answer_all(sender, slack, person, "Daily", {"useful": "4"}, index)
    before = _status(sender, slack, 1)
    # Five answers, all 4: the mean says what each of the five answered. And with the
    # deliveries shown, the count of those who have not answered (one) shows too.
    assert "sent to 6 · delivered 6 · failed 0" in before and "Answered*: 5 (83%)" in before
    assert "Usefulness: *4.0* / 5" in before
    answer_all(sender, slack, PEOPLE[5], "Daily", {"useful": "1"}, 5)
    after = _status(sender, slack, 2)
    assert "Answered*: 6 (100%)" in after and "Usefulness: *3.5* / 5" in after
    # Six times the new mean, minus five times the old: the sixth person's answer.
    assert 6 * 3.5 - 5 * 4.0 == 1


@pytest.mark.parametrize(
    "text",
    [
        "My customer Mrs Featherstonehaugh hates it",  # a name from outside the workspace
        "as the only night nurse on ward 7 I gave up",  # a description that points at someone
        "my badge is 48213 if you want to check",  # a number too short to be a phone number
    ],
)
def test_the_scrubber_leaves_what_it_cannot_know(text: str) -> None:
    scrubber = Scrubber(["Ada Lovelace", "Grace Hopper"], workspace_names=["Olga Outside"])
    assert scrubber.scrub(text) == text


def test_the_digest_holds_a_surveyed_reader_to_the_plain_minimum(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    from bot.pilots.pilot import PilotSpec, create_pilot
    from bot.reporting.status import status_reply
    from bot.reporting.weekly_digest import compose_digest

    # U0PERSON1 champions the pilot and is surveyed in it; five people answer, they among them.
    create_pilot(
        app.deps.db,
        app.deps.client,
        PilotSpec(
            name=PILOT,
            tool="Copilot",
            leadership_channel="C0LEADERS",
            members=tuple(PEOPLE),
            champions=("U0PERSON1",),
        ),
    )
    send(app.deps)
    for index, person in enumerate(PEOPLE[:5]):
        answer_all(sender, slack, person, "Daily", {"useful": "4"}, index)
    now = app.deps.clock()
    status = json.dumps(status_reply(app.deps.db, "U0PERSON1", PILOT, now).blocks)
    assert "fewer than 6 people so far" in status and "Usefulness" not in status
    # The digest is for a channel, whoever reads it: the minimum is the pilot's own.
    digest = compose_digest(app.deps.db, PILOT, None, now)
    assert digest.participation.responded == 5
    assert {score.key: score.mean for score in digest.scores}["usefulness"] == 4.0


def test_erasing_ones_answers_keeps_ones_name_membership_and_usage_days(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    make_pilot(app.deps)
    send(app.deps)
    answer_all(sender, slack, "U0PERSON1", "Daily", {"got in the way": "no licence yet"}, 0)
    today = datetime.now(UTC).date().isoformat()
    import_usage(
        app.deps.db,
        app.deps.client,
        PILOT,
        f"user,date,uses\nU0PERSON1,{today},3\n".encode(),
        now=app.deps.clock(),
    )
    erased = erase(app.deps.db, "U0PERSON1")
    assert erased.answers == 2  # the usage question and the comment
    with app.deps.db.session() as session:
        assert session.exec(select(Answer)).all() == []
        person = session.exec(
            select(Participant).where(Participant.slack_user_id == "U0PERSON1")
        ).one()
        assert person.real_name == "Ada Lovelace" and person.left_at is None
        assert [row.uses for row in session.exec(select(UsageDay)).all()] == [3]


def test_workspace_names_stay_after_their_owner_is_deactivated(
    deps: Deps, slack: SlackStandIn
) -> None:
    slack.add_user(OUTSIDER[0], real_name=OUTSIDER[1])
    sync_names(deps.db, deps.client, deps.clock())
    slack.add_user(OUTSIDER[0], real_name=OUTSIDER[1], deleted=True)
    sync_names(deps.db, deps.client, deps.clock() + timedelta(days=400))
    with deps.db.session() as session:
        kept = session.get(WorkspaceMember, OUTSIDER[0])
    assert kept is not None and kept.real_name == OUTSIDER[1]


@pytest.mark.parametrize(
    ("variable", "value", "shown"),
    [
        ("SLACK_BOT_TOKEN", "xoxp-1234-5678-TopSecretValue", "xoxp-…"),
        ("SLACK_APP_TOKEN", "xoxb-1234-5678-TopSecretValue", "xoxb-…"),
    ],
)
def test_a_token_of_the_wrong_kind_is_named_by_its_kind_only(
    variable: str, value: str, shown: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({variable: value}, dotenv=None)
    assert shown in str(refused.value) and "TopSecretValue" not in str(refused.value)


def test_clock_heartbeats_are_forgotten_after_a_day(db: Database) -> None:
    start = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
    beat(db, "old-host:11:aaaa", start, start)
    beat(db, "new-host:22:bbbb", start, start + timedelta(hours=23))

    def clocks() -> list[str]:
        with db.engine.connect() as conn:
            return sorted(row[0] for row in conn.exec_driver_sql("SELECT clock_id FROM clock_beat"))

    assert clocks() == ["new-host:22:bbbb", "old-host:11:aaaa"]
    beat(db, "new-host:22:bbbb", start, start + timedelta(days=1, minutes=1))
    assert clocks() == ["new-host:22:bbbb"]


# -- SECURITY.md stays honest ---------------------------------------------------------------

_REFERENCE = re.compile(r"\btests/([\w/]+\.py)::(\w+)")


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    }


def test_every_test_security_md_names_exists() -> None:
    references = _REFERENCE.findall(SECURITY_MD.read_text(encoding="utf-8"))
    assert len(references) >= 30
    missing = []
    for file, name in references:
        path = ROOT / "tests" / file
        if not path.is_file() or name not in _tests_in(path):
            missing.append(f"tests/{file}::{name}")
    assert missing == [], "SECURITY.md names tests that do not exist"


def test_every_table_is_accounted_for_in_security_md() -> None:
    text = SECURITY_MD.read_text(encoding="utf-8")
    assert [table for table in metadata.tables if f"`{table}`" not in text] == []
