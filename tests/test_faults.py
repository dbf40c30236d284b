"""Faults, end to end on both databases: Slack rate-limiting a third of calls, answering 5xx and
timing out, a model that talks nonsense, fails or hangs, PostgreSQL restarted mid-run, and a
sender killed at ten random points. After each fault every answer given is stored once, everyone
has their DM (a second one only where a post's answer was lost), and the app answers again
without a restart.

Not repeated here: the sender's attempt counts and its shared 429 pause (test_sender.py), one
kill mid-run (test_pulse.py), each way a model call fails, one at a time (test_analysis.py), and
the backlog of analyses a crash left (test_checkins.py).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import select, text

from bot.analysis.queue import backlog
from bot.devkit.slack_requests import SlackSender
from bot.devkit.slack_standin import Call, SlackStandIn
from bot.outreach import failures
from bot.outreach.delivery import SendOptions
from bot.outreach.sending import send_checkins, send_pulse
from bot.pilots.question import DEFAULT_QUESTIONS
from bot.runtime.deps import build_deps
from bot.runtime.settings import Settings
from bot.runtime.slack_client import build_client
from bot.views.pulse import modal_delivery_id, parse_answer_value
from handlers.respond import SAVE_FAILED
from storage import Database
from storage.models import (
    Analysis,
    AnalysisStatus,
    Answer,
    CheckinMessage,
    Delivery,
    DeliveryStatus,
    MessageAuthor,
    Participant,
    Question,
)
from tests.conftest import (
    PG_ADMIN_URL,
    SIGNING_SECRET,
    RunningApp,
    command_now,
    make_settings,
)
from tests.openai_standin import OpenAIStandIn
from tests.pulse_helpers import (
    PEOPLE,
    buttons,
    dm_channel,
    make_crowd_pilot,
    make_pilot,
    modal_values,
    pulse_message,
    send,
)

VALUE = {spec.key: {o.label: o.value for o in spec.options} for spec in DEFAULT_QUESTIONS}
COMMENT = "What got in the way"
# What each of the six people answers: the first question in the DM, the rest in the modal.
GIVEN: dict[str, tuple[str, dict[str, str]]] = {
    person: (
        list(VALUE["usage"])[index % 4],
        {"useful": str(index % 5 + 1), "trust": str((index + 2) % 5 + 1)},
    )
    for index, person in enumerate(PEOPLE)
}


@pytest.fixture(autouse=True)
def _quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sender's pauses between transient attempts, in milliseconds (as test_sender.py)."""
    monkeypatch.setattr(failures, "TRANSIENT_BACKOFF", 0.005)


# -- what every fault test checks afterwards ---------------------------------------------------


def _dm_counts(slack: SlackStandIn, people: list[str]) -> dict[str, int]:
    return {person: len(slack.messages.get(dm_channel(person), [])) for person in people}


def _stored(db: Database) -> dict[str, dict[str, float | str]]:
    """slack user id → question key → the number or the words stored, each row counted."""
    with db.session() as session:
        rows = session.exec(
            select(Participant.slack_user_id, Question.key, Answer.value_number, Answer.text_raw)
            .join(Delivery, Delivery.id == Answer.delivery_id)
            .join(Participant, Participant.id == Delivery.participant_id)
            .join(Question, Question.id == Answer.question_id)
        ).all()
    stored: dict[str, dict[str, float | str]] = {}
    for person, key, number, words in rows:
        assert key not in stored.get(person, {}), f"{person} has {key} twice"
        stored.setdefault(person, {})[key] = words if number is None else number
    return stored


# The modal's questions, by (a part of) their label, and the key each is stored under.
_KEYS = {"useful": "usefulness", "trust": "trust", COMMENT: "comment"}


def _expected(given: dict[str, tuple[str, dict[str, str]]]) -> dict[str, dict[str, float | str]]:
    """What `_stored` must find when everyone in `given` has answered as it says."""
    return {
        person: {
            "usage": VALUE["usage"][first],
            **{
                _KEYS[label]: choice if label == COMMENT else float(choice)
                for label, choice in rest.items()
            },
        }
        for person, (first, rest) in given.items()
    }


def _statuses(db: Database) -> Counter[str]:
    with db.session() as session:
        return Counter(session.exec(select(Delivery.status)).all())


def _still_answers(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn, figures: str = "sent to 6"
) -> None:
    """The app, not restarted, answers a champion's `/pilot-status` with the figures."""

    def answered(call: Call) -> bool:
        return call.status == 200

    before = len(slack.wait_for("response_url", 0, where=answered))
    response = sender.command("U0CHAMPION")
    assert response.status_code == 200
    reply = slack.wait_for("response_url", before + 1, where=answered, timeout=10)[-1]
    assert "support-copilot" in json.dumps(reply.params)
    assert figures in json.dumps(reply.params)


# -- people answering, as Slack sends their clicks --------------------------------------------


def _delivery_of(slack: SlackStandIn, person: str) -> int:
    first = buttons(pulse_message(slack, person), "pulse_first")[0]
    return parse_answer_value(first["value"])[0]


def _opened_modal(slack: SlackStandIn, delivery_id: int, *, timeout: float = 10) -> Call:
    """The views.open call that opened `delivery_id`'s modal."""
    [opened] = slack.wait_for(
        "views.open",
        timeout=timeout,
        where=lambda call: (
            call.status == 200
            and call.response is not None
            and call.response.get("ok") is True
            and modal_delivery_id(call.params["view"]) == delivery_id
        ),
    )[-1:]
    return opened


def _click(sender: SlackSender, slack: SlackStandIn, person: str, label: str) -> Any:
    """The person clicks `label` in their pulse DM."""
    message = pulse_message(slack, person)
    button = next(b for b in buttons(message, "pulse_first") if b["text"]["text"] == label)
    return sender.action(
        person,
        button["action_id"],
        button["value"],
        message=message,
        channel_id=dm_channel(person),
        block_id="pulse_first",
    )


def _answer(
    sender: SlackSender, slack: SlackStandIn, person: str, first: str, rest: dict[str, str]
) -> float:
    """The person clicks `first` in their DM and sends the modal that opens with `rest`;
    returns how long after the click the modal opened."""
    clicked = time.monotonic()
    response = _click(sender, slack, person, first)
    assert response.status_code == 200, response.text
    opened = _opened_modal(slack, _delivery_of(slack, person))
    view = opened.params["view"]
    submitted = sender.view_submission(person, view, modal_values(view, rest))
    assert submitted.status_code == 200 and not submitted.content, submitted.text
    return opened.at - clicked


def _all_at_once(work: Callable[[str], Any], people: list[str]) -> dict[str, Any]:
    """`work(person)` for everyone at once, as a burst of people would; re-raises a failure."""
    results: dict[str, Any] = {}
    errors: list[BaseException] = []

    def run(person: str) -> None:
        try:
            results[person] = work(person)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results


def _thanked(slack: SlackStandIn, person: str) -> bool:
    return "your answers are in" in json.dumps(pulse_message(slack, person))


def _wait_until(condition: Callable[[], bool], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


# -- Slack: a third of calls answered 429 -------------------------------------------------------


def test_the_stand_in_answers_every_third_call_badly_until_told_to_stop(
    slack: SlackStandIn,
) -> None:
    client = WebClient(
        token=slack.bot_token,
        base_url=slack.url,
        timeout=0.3,  # type: ignore[arg-type]
        retry_handlers=[],
    )

    def status() -> int | str:
        try:
            return client.auth_test().status_code
        except SlackApiError as exc:
            return exc.response.status_code
        except TimeoutError:
            return "timeout"

    slack.flaky("auth.test", 3, status=429, retry_after=2)
    assert [status() for _ in range(6)] == [200, 200, 429, 200, 200, 429]
    # A held-back answer: the call took effect, its answer came after the client gave up.
    slack.flaky("auth.test", 2, status=None, stall=0.5)
    assert [status() for _ in range(2)] == [200, "timeout"]
    late = slack.wait_for("auth.test", 1, where=lambda call: call.late > 0)
    assert [(call.status, call.late) for call in late] == [(200, 0.5)]
    slack.flaky("auth.test", None)
    assert [status() for _ in range(3)] == [200, 200, 200]


def test_slack_rate_limiting_a_third_of_calls_loses_and_repeats_nothing(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    make_pilot(app.deps)
    # Every third call of each kind the app makes for a pulse and its answers gets a 429.
    methods = ("chat.postMessage", "views.open", "chat.update", "response_url")
    for method in methods:
        slack.flaky(method, 3, status=429, retry_after=1)

    result = send(app.deps)
    assert result.progress is not None
    assert (result.progress.sent, result.progress.failed) == (6, 0)
    assert result.progress.rate_limited >= 2
    assert _dm_counts(slack, PEOPLE) == dict.fromkeys(PEOPLE, 1)

    # Everyone answers at once: each click is stored, each modal opens in the three seconds
    # Slack gives it, each DM turns into a thank-you.
    opened_after = _all_at_once(
        lambda person: _answer(sender, slack, person, *GIVEN[person]), PEOPLE
    )
    assert max(opened_after.values()) < 3.0, opened_after
    assert _stored(app.deps.db) == _expected(GIVEN)
    assert _wait_until(lambda: all(_thanked(slack, person) for person in PEOPLE)), [
        (p, pulse_message(slack, p)["text"]) for p in PEOPLE
    ]

    # /pilot-status three times: the third reply meets a 429 too, and still arrives.
    for _ in range(3):
        _still_answers(app, sender, slack)
    limited = {call.method for call in slack.calls if call.status == 429}
    assert limited == set(methods)
    assert _statuses(app.deps.db) == {DeliveryStatus.SENT: 6}


# -- Slack: 5xx and timeouts ---------------------------------------------------------------------


@contextmanager
def _running(settings: Settings, db: Database, **clients: WebClient) -> Iterator[RunningApp]:
    """The real app over HTTP, built from `settings` as `serve` builds it (with `clients` in
    place of the ones it would build)."""
    deps = build_deps(settings, db=db, client=clients.get("client"))
    deps.sending_client = clients.get("sending_client", deps.sending_client)
    deps.checkin_settle = 0.0
    running = RunningApp(deps).start()
    try:
        yield running
    finally:
        running.stop()
        deps.delayed.close()
        deps.executor.shutdown(wait=True)
        deps.slow_executor.shutdown(wait=True)


@pytest.fixture
def impatient_app(settings: Settings, db: Database) -> Iterator[RunningApp]:
    """The app with clients that wait one second for Slack, so that an answer Slack holds back
    is a timeout in a second rather than in fifteen."""
    with _running(
        settings,
        db,
        client=build_client(settings, timeout=1),
        sending_client=build_client(settings, retries=False, timeout=1),
    ) as running:
        yield running


def _updated_to(slack: SlackStandIn, person: str, words: str) -> bool:
    return any(
        call.params.get("channel") == dm_channel(person) and words in call.params.get("text", "")
        for call in slack.calls_to("chat.update")
        if call.status == 200
    )


def test_slack_answering_5xx_and_timing_out_loses_nothing(
    impatient_app: RunningApp, slack: SlackStandIn
) -> None:
    app = impatient_app
    sender = SlackSender(app.url, SIGNING_SECRET, slack)
    make_pilot(app.deps)
    slack.flaky("chat.postMessage", 3, status=503)
    result = send(app.deps)
    assert result.progress is not None
    assert (result.progress.sent, result.progress.failed) == (6, 0)
    assert _dm_counts(slack, PEOPLE) == dict.fromkeys(PEOPLE, 1)

    # The app's first request since it started comes while Slack answers auth.test with 503s,
    # and the modal it opens is answered too late: the click needs nothing from Slack before
    # its ack, so it is stored and acked in time, and the DM still says "Got it".
    slack.fail("auth.test", status=503, times=20)
    slack.flaky("views.open", 1, status=None, stall=1.5)
    person, (first, rest) = "U0PERSON1", GIVEN["U0PERSON1"]
    started = time.monotonic()
    assert _click(sender, slack, person, first).status_code == 200
    assert time.monotonic() - started < 3
    assert _stored(app.deps.db) == {person: {"usage": VALUE["usage"][first]}}
    view = _opened_modal(slack, _delivery_of(slack, person)).params["view"]
    assert _wait_until(lambda: _updated_to(slack, person, "Got it"))

    # A third of modals open but their answer times out; a third of message updates get a
    # gateway's 502, a third of replies through response_url a 500.
    slack.flaky("views.open", 3, status=None, stall=1.5)
    slack.flaky("chat.update", 3, status=502)
    slack.flaky("response_url", 3, status=500)
    assert sender.view_submission(person, view, modal_values(view, rest)).status_code == 200
    others = PEOPLE[1:]
    opened_after = _all_at_once(lambda who: _answer(sender, slack, who, *GIVEN[who]), others)
    assert max(opened_after.values()) < 3.0, opened_after
    assert any(call.late for call in slack.calls_to("views.open"))
    assert _stored(app.deps.db) == _expected(GIVEN)
    assert _wait_until(lambda: all(_thanked(slack, who) for who in PEOPLE))
    for _ in range(3):
        _still_answers(app, sender, slack)

    # The check-in goes out while a third of posts time out after Slack took them: each of
    # those is tried again, so its person has it twice; nobody else does, and nobody has none.
    slack.flaky("chat.postMessage", 3, status=None, stall=1.5)
    slack.clear()
    checkins = send_checkins(
        app.deps.db,
        app.deps.sending_client,
        "support-copilot",
        now=app.deps.clock(),
        options=app.deps.send_options,
    )
    assert checkins.progress is not None
    assert (checkins.progress.sent, checkins.progress.failed) == (6, 0)
    # A held-back answer is recorded when it finally goes out, after the sender gave up on it.
    assert _wait_until(
        lambda: (
            len(slack.calls_to("chat.postMessage")) == sum(_dm_counts(slack, PEOPLE).values()) - 6
        )
    )
    timed_out = Counter(
        call.params["channel"] for call in slack.calls_to("chat.postMessage") if call.late
    )
    assert timed_out
    assert _dm_counts(slack, PEOPLE) == {who: 2 + timed_out[who] for who in PEOPLE}
    assert _statuses(app.deps.db) == {DeliveryStatus.SENT: 12}


# -- the model: nonsense, 500s, hanging --------------------------------------------------------

GOOD_ANALYSIS = {
    "sentiment": 0.6,
    "label": "positive",
    "themes": ["time_saved"],
    "summary": "Saves time on replies.",
    "blockers": [],
    "wins": ["faster replies"],
}


def _analyses(db: Database) -> list[Analysis]:
    with db.session() as session:
        return list(session.exec(select(Analysis).order_by(Analysis.id)).all())


def _analysed(db: Database, count: int, timeout: float = 15) -> list[Analysis]:
    """The first `count` analyses, once all of them are done."""
    done: list[Analysis] = []

    def finished() -> bool:
        done[:] = _analyses(db)
        return len(done) >= count and all(a.status == AnalysisStatus.DONE for a in done[:count])

    assert _wait_until(finished, timeout), [(a.status, a.error) for a in done]
    return done[:count]


def test_a_model_that_talks_nonsense_fails_or_hangs_delays_and_loses_nothing(
    slack: SlackStandIn, db_url: str, db: Database, llm: OpenAIStandIn
) -> None:
    settings = make_settings(
        slack, db_url, openai_api_key="sk-test", openai_base_url=llm.url, openai_timeout=1
    )
    faults: list[tuple[str, Callable[[], None], str]] = [
        ("invalid JSON", lambda: llm.queue_text('{"sentiment": 0.5, "label": '), "schema"),
        (
            "the wrong schema",
            lambda: llm.queue_json({"sentiment": "very", "themes": ["vibes"]}),
            "schema",
        ),
        ("a 500, twice", lambda: llm.queue_status(500, times=2), "HTTP 500"),
        ("a hang, twice", lambda: llm.queue_hang(10, times=2), "timeout"),
        ("a good answer", lambda: llm.queue_json(GOOD_ANALYSIS), ""),
    ]
    with _running(settings, db) as app:
        sender = SlackSender(app.url, SIGNING_SECRET, slack)
        make_pilot(app.deps)
        send(app.deps)
        given: dict[str, tuple[str, dict[str, str]]] = {}
        for index, ((_, queue, reason), person) in enumerate(zip(faults, PEOPLE, strict=False)):
            queue()
            first, rest = GIVEN[person]
            words = f"It drafts replies for me, {index} minutes saved"
            given[person] = (first, {**rest, COMMENT: words})
            started = time.monotonic()
            _answer(sender, slack, person, first, {**rest, COMMENT: words})
            # The modal was answered at once, whatever the model does afterwards...
            assert time.monotonic() - started < 2.5
            if reason == "timeout":
                # ...and so is a champion while the model hangs.
                _still_answers(app, sender, slack)
            [*_, analysis] = _analysed(app.deps.db, index + 1)
            if reason:
                assert analysis.analyzer == "local" and analysis.sentiment > 0
                assert reason in (analysis.error or ""), analysis.error
            else:
                assert analysis.analyzer == "openai:gpt-4o-mini" and analysis.error is None
        assert _stored(app.deps.db) == _expected(given)

        # A check-in reply while the model answers nonsense: the analysis falls back, the
        # follow-up question comes from the bank, and it is posted.
        llm.queue_text("Sure! Here is my analysis: it is positive.", times=2)
        send_checkins(
            app.deps.db,
            app.deps.sending_client,
            "support-copilot",
            now=app.deps.clock(),
            options=app.deps.send_options,
        )
        person = PEOPLE[-1]
        before = len(slack.messages[dm_channel(person)])
        event = {
            "type": "message",
            "channel_type": "im",
            "channel": dm_channel(person),
            "user": person,
            "text": "The login from home keeps failing, so I gave up on it",
            "ts": "1764000000.000100",
            "event_ts": "1764000000.000100",
        }
        assert sender.event(event).status_code == 200
        assert _wait_until(lambda: len(slack.messages[dm_channel(person)]) == before + 1)
        assert slack.messages[dm_channel(person)][-1]["text"].endswith("?")
        analyses = _analysed(app.deps.db, len(faults) + 1)
        assert "schema" in (analyses[-1].error or "") and analyses[-1].analyzer == "local"
        with app.deps.db.session() as session:
            [question] = session.exec(
                select(CheckinMessage).where(CheckinMessage.author == MessageAuthor.BOT)
            ).all()
        assert question.generator == "local"
        assert llm.pending == 0
        assert len(_analyses(app.deps.db)) == len(faults) + 1


# -- PostgreSQL restarted mid-run -----------------------------------------------------------------


LOCAL = ("127.0.0.1", "localhost", "::1", None)


def _postgresql_restarter() -> Callable[[], None]:
    """A restart of the PostgreSQL the tests use, when it is this machine's own cluster (the
    machine's shared one: it is left running, whatever happens)."""
    clusters = Path("/etc/postgresql")
    host = make_url(PG_ADMIN_URL).host
    if shutil.which("pg_ctlcluster") is None or not clusters.is_dir() or host not in LOCAL:
        pytest.skip("restarts the PostgreSQL cluster of this machine, which is not the one used")
    [version] = [path.name for path in clusters.iterdir()]

    def cluster(action: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
            capture_output=True,
            text=True,
            timeout=60,
        )

    def restart() -> None:
        try:
            restarted = cluster("restart")
            assert restarted.returncode == 0, restarted.stderr
        finally:
            if cluster("status").returncode != 0:
                cluster("start")

    return restart


only_postgresql = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def _when_it_answers(work: Callable[[], Any], timeout: float = 20) -> Any:
    """`work()` once the database answers again (the test's own reads ride out a restart)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return work()
        except OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@only_postgresql
def test_postgresql_restarted_mid_fan_out_sends_everyone_one_dm(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    restart = _postgresql_restarter()
    people = make_crowd_pilot(app.deps, slack, "restart", "U5", 60)
    make_pilot(app.deps)
    # About three seconds of sending, paced at 20 a second, with the restart in the middle.
    options = SendOptions(concurrency=4, rate=20, clock=app.deps.clock)
    results: list[Any] = []
    fan_out = threading.Thread(
        target=lambda: results.append(
            send_pulse(
                app.deps.db,
                app.deps.sending_client,
                "restart",
                now=app.deps.clock(),
                options=options,
            )
        )
    )
    fan_out.start()
    assert _wait_until(lambda: slack.sent_count("chat.postMessage") >= 10)
    restart()
    during = slack.sent_count("chat.postMessage")
    fan_out.join(timeout=60)
    assert during < len(people), "the restart came mid-run"
    assert any("cannot be reached" in r.getMessage() for r in caplog.records), "and was met"
    [result] = results
    assert result.progress is not None
    assert (result.progress.sent, result.progress.failed) == (len(people), 0)
    # Nobody was killed, so nobody has a second DM; and nobody has none.
    assert _dm_counts(slack, people) == dict.fromkeys(people, 1)
    # The app answers again, without a restart of its own.
    send(app.deps)
    first, rest = GIVEN["U0PERSON1"]
    _answer(sender, slack, "U0PERSON1", first, rest)
    assert _stored(app.deps.db) == _expected({"U0PERSON1": GIVEN["U0PERSON1"]})
    _still_answers(app, sender, slack)
    assert _statuses(app.deps.db) == {DeliveryStatus.SENT: len(people) + 6}


class _Person:
    """Someone in the burst. Slack retries no click: a person whose click or modal the app
    turns down (an error, or 200 with an apology) does it again; counts how often."""

    def __init__(self, app: RunningApp, sender: SlackSender, slack: SlackStandIn, who: str):
        self.app, self.sender, self.slack, self.who = app, sender, slack, who
        self.turned_down = 0

    def click(self, label: str) -> None:
        """Click `label` until the app stores it and opens the modal."""
        message = pulse_message(self.slack, self.who)
        button = next(b for b in buttons(message, "pulse_first") if b["text"]["text"] == label)
        delivery_id = parse_answer_value(button["value"])[0]
        value = parse_answer_value(button["value"])[2]
        for attempt in range(40):
            # The click's own response_url, to tell its replies from the others'.
            key = f"{self.who}-{attempt}"
            payload = {
                "type": "block_actions",
                "team": {"id": self.slack.team_id, "domain": "standin"},
                "user": {"id": self.who, "team_id": self.slack.team_id},
                "api_app_id": "A0PULSE",
                "trigger_id": f"{key}.trigger",
                "response_url": self.slack.response_url(key),
                "container": {
                    "type": "message",
                    "message_ts": message["ts"],
                    "channel_id": dm_channel(self.who),
                    "is_ephemeral": False,
                },
                "message": message,
                "channel": {"id": dm_channel(self.who)},
                "actions": [
                    {
                        "action_id": button["action_id"],
                        "block_id": "pulse_first",
                        "type": "button",
                        "value": button["value"],
                        "action_ts": f"{time.time():.6f}",
                    }
                ],
            }
            if self.sender.interaction(payload).status_code == 200:
                stored = self._stored_or_apologised(key, delivery_id, value)
                if stored and self._modal_opened(key):
                    return
            self.turned_down += 1
            time.sleep(0.2)
        raise AssertionError(f"{self.who}'s click never went through")

    def _stored_or_apologised(self, key: str, delivery_id: int, value: float) -> bool:
        """A click answered 200 was stored before the ack (True), or the person is told it was
        not (False); anything else is a click lost."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if any(SAVE_FAILED in json.dumps(r.params) for r in self._replies(key)):
                return False
            if _when_it_answers(lambda: self._usage(delivery_id)) == value:
                return True
            time.sleep(0.05)
        raise AssertionError(f"{self.who}'s click was answered 200, then lost")

    def _replies(self, key: str) -> list[Call]:
        return [c for c in self.slack.calls_to("response_url") if c.path.endswith(f"/{key}")]

    def _usage(self, delivery_id: int) -> float | None:
        with self.app.deps.db.session() as session:
            return session.exec(
                select(Answer.value_number)
                .join(Question, Question.id == Answer.question_id)
                .where(Answer.delivery_id == delivery_id, Question.key == "usage")
            ).first()

    def _modal_opened(self, key: str) -> bool:
        try:
            self.slack.wait_for(
                "views.open",
                timeout=3,
                where=lambda call: call.params.get("trigger_id") == f"{key}.trigger",
            )
        except AssertionError:
            return False  # the work after the ack met the restart: the person clicks again
        return True

    def submit(self, rest: dict[str, str]) -> None:
        """Send the last modal opened until the app takes it."""
        [opened] = self.slack.wait_for(
            "views.open",
            where=lambda call: call.params.get("trigger_id", "").startswith(f"{self.who}-"),
        )[-1:]
        view = opened.params["view"]
        for _ in range(40):
            response = self.sender.view_submission(self.who, view, modal_values(view, rest))
            if response.status_code == 200 and not response.content:
                return
            # Turned down: the modal stays open, with the apology beside its first question.
            assert response.status_code != 200 or SAVE_FAILED in response.text, response.text
            self.turned_down += 1
            time.sleep(0.2)
        raise AssertionError(f"{self.who}'s modal never went through")


def _postmaster_started(db: Database) -> datetime:
    """When the PostgreSQL server last started (waiting for it to answer again)."""
    return db.retrying(lambda: _one(db, "SELECT pg_postmaster_start_time()"), patience=60)


def _one(db: Database, sql: str) -> Any:
    with db.session() as session:
        return session.exec(text(sql)).one()[0]


@only_postgresql
def test_postgresql_restarted_mid_burst_of_answers_keeps_every_answer_once(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    restart = _postgresql_restarter()
    make_pilot(app.deps)
    people = make_crowd_pilot(app.deps, slack, "burst", "U6", 48)
    send(app.deps, "burst")
    given = {
        who: (
            list(VALUE["usage"])[index % 4],
            {"useful": str(index % 5 + 1), "trust": "4", COMMENT: f"Words of {who}"},
        )
        for index, who in enumerate(people)
    }
    waiting = list(reversed(people))
    done: list[str] = []
    turned_down: list[int] = []
    stop = threading.Event()

    def keep_answering(_lane: str) -> None:
        # People come one after another, four at a time, until the restart is well behind.
        while not stop.is_set() and waiting:
            who = waiting.pop()
            person = _Person(app, sender, slack, who)
            first, rest = given[who]
            person.click(first)
            time.sleep(0.3)  # reading the modal
            person.submit(rest)
            done.append(who)
            turned_down.append(person.turned_down)

    window: list[int] = []
    started_at: list[datetime] = []

    def restart_mid_burst() -> None:
        _wait_until(lambda: len(done) >= 3)
        window.append(len(done))
        started_at.append(_postmaster_started(app.deps.db))
        restart()
        started_at.append(_postmaster_started(app.deps.db))
        window.append(len(done))
        _wait_until(lambda: len(done) >= window[-1] + 6)
        stop.set()

    restarter = threading.Thread(target=restart_mid_burst)
    restarter.start()
    _all_at_once(keep_answering, [str(lane) for lane in range(4)])
    restarter.join(timeout=60)
    [before, after] = window
    assert before >= 3 and after + 6 <= len(done), "people answered before, during and after"
    # The server really went down and came back in the middle of the burst (whether a request
    # met it depends on the moment: a click that waited for it was not turned down).
    assert len(started_at) == 2 and started_at[1] > started_at[0]

    # Every answer given is stored, once, and nobody else's; the comments' analyses that the
    # restart interrupted are done by the clock's backlog pass.
    assert _stored(app.deps.db) == _expected({who: given[who] for who in done})
    backlog(app.deps.db, app.deps.analyzer, app.deps.clock() + timedelta(minutes=1))
    analyses = _analyses(app.deps.db)
    assert len(analyses) == len(done)
    assert {a.status for a in analyses} == {AnalysisStatus.DONE}
    _still_answers(app, sender, slack, figures="support-copilot")


# -- the sender killed at ten random points -------------------------------------------------------


def _no_transaction_in_flight(db: Database) -> bool:
    """Whether no other connection to the database is in the middle of a statement or a
    transaction. A sender killed just after sending COMMIT leaves its server process to finish
    it: until then, what it wrote is neither there nor surely lost."""
    if db.is_sqlite:
        return True  # no server: a killed writer's transaction is committed or it is not
    with db.session() as session:
        busy = session.exec(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')"
            )
        ).one()
    return busy[0] == 0


def _sent_people(db: Database) -> set[str]:
    with db.session() as session:
        return set(
            session.exec(
                select(Participant.slack_user_id)
                .join(Delivery, Delivery.participant_id == Participant.id)
                .where(Delivery.status == DeliveryStatus.SENT)
            ).all()
        )


@pytest.mark.slow
def test_a_sender_killed_at_ten_random_points_sends_again_only_what_was_in_flight(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn, db_url: str, tmp_path: Path
) -> None:
    """test_pulse.py kills one `pulse send` mid-run; this kills ten in a row, each at a point
    drawn (seeded) from the whole run: starting up, opening the round, claiming, posting."""
    people = make_crowd_pilot(app.deps, slack, "kills", "U7", 150)
    slack.latency = 0.01
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))},
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.url,
        "DATABASE_URL": db_url,
        "SEND_CONCURRENCY": "8",
    }
    draw = random.Random(20261)
    again: Counter[str] = Counter()  # who will get their DM once more, and how many times

    def posted() -> list[Call]:
        return [c for c in slack.calls_to("chat.postMessage") if c.status == 200]

    def settled() -> bool:
        # Every post Slack took is recorded once its answer has gone (or failed to go) out.
        return len(posted()) == sum(len(slack.messages.get(dm_channel(p), [])) for p in people)

    for _ in range(10):
        calls_before = len(posted())
        run = subprocess.Popen(
            command_now("pulse", "send", "kills"),
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if draw.random() < 0.3:
            time.sleep(draw.uniform(0.2, 1.2))  # starting up, or opening the round
        else:
            until = calls_before + draw.randint(1, 10)  # posts of this run
            assert _wait_until(lambda until=until: len(posted()) >= until, timeout=20)
        assert run.poll() is None, "killed mid-run, not after it had finished"
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
        assert _wait_until(settled)
        assert _wait_until(lambda: _no_transaction_in_flight(app.deps.db))
        # Posts of this run whose row it had not yet marked sent: the next run sends them again.
        unrecorded = {c.params["channel"] for c in posted()[calls_before:]} - _sent_people(
            app.deps.db
        )
        again.update(unrecorded)
        assert len(unrecorded) <= 2 * 8, "only the messages in flight at the kill"

    finish = subprocess.run(
        command_now("pulse", "send", "kills"),
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finish.returncode == 0, finish.stderr
    assert "interrupted" in finish.stdout
    assert _dm_counts(slack, people) == {person: 1 + again[person] for person in people}
    assert _sent_people(app.deps.db) == set(people)
    assert _statuses(app.deps.db) == {DeliveryStatus.SENT: len(people)}
    # The app answers as ever: a click on the DM is stored.
    assert _click(sender, slack, people[0], "Daily").status_code == 200
    assert _stored(app.deps.db) == {people[0]: {"usage": VALUE["usage"]["Daily"]}}
