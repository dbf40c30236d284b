"""Logs: one line per event (text or JSON) naming its pilot, job and outcome; no token and no
person's words in them, at DEBUG too, proved on the real app; and the clock's heartbeat on
`/healthz`."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import IntegrityError

from bot.analysis.model import ModelAnalyzer, ModelClient
from bot.devkit.slack_requests import SlackSender
from bot.devkit.slack_standin import SlackStandIn
from bot.runtime.app import build_app, request_job
from bot.runtime.clock import Clock
from bot.runtime.deps import Deps, build_deps
from bot.runtime.logs import (
    THIRD_PARTY_FLOORS,
    configure_logging,
    current_context,
    log_context,
    redact,
)
from bot.runtime.server import BackgroundServer
from bot.runtime.settings import Settings, SettingsError
from storage import Database
from tests.conftest import SIGNING_SECRET, RunningApp, make_settings
from tests.openai_standin import OpenAIStandIn
from tests.pulse_helpers import (
    dm_channel,
    last_view,
    make_pilot,
    modal_values,
    send,
)

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("bot.test_logs")


@contextmanager
def captured(level: str = "DEBUG", log_format: str = "json") -> Iterator[io.StringIO]:
    """Logging set up as `main` sets it up, writing to a buffer; put back as it was after."""
    root = logging.getLogger()
    handlers, root_level = list(root.handlers), root.level
    names = [*THIRD_PARTY_FLOORS, "slack_sdk.web", "slack_bolt"]
    levels = {name: logging.getLogger(name).level for name in names}
    buffer = io.StringIO()
    configure_logging(level, log_format, stream=buffer)
    try:
        yield buffer
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(root_level)
        for name, old in levels.items():
            logging.getLogger(name).setLevel(old)


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    """Every line of the buffer, each of which must be one JSON object."""
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


# -- the format and the context -------------------------------------------------------------


def test_json_lines_carry_pilot_job_and_outcome_and_contexts_nest() -> None:
    with captured("DEBUG", "json") as buffer:
        log.debug("outside")
        with log_context(pilot="support-copilot", job="pulse"):
            log.info("outer")
            with log_context(job="reminder"):
                log.warning("inner job, pilot inherited")
                with log_context(pilot="second"):
                    log.error("both overridden")
            log.info("outer again")
        log.info("outside again")
    got = lines(buffer)
    assert [line["message"] for line in got] == [
        "outside",
        "outer",
        "inner job, pilot inherited",
        "both overridden",
        "outer again",
        "outside again",
    ]
    assert [(line["pilot"], line["job"], line["outcome"]) for line in got] == [
        (None, None, "ok"),
        ("support-copilot", "pulse", "ok"),
        ("support-copilot", "reminder", "warning"),
        ("second", "reminder", "error"),
        ("support-copilot", "pulse", "ok"),
        (None, None, "ok"),
    ]
    first = got[0]
    assert set(first) >= {"time", "level", "logger", "message", "pilot", "job", "outcome", "error"}
    assert first["level"] == "DEBUG" and first["logger"] == "bot.test_logs"
    assert first["time"].endswith("+00:00") and "T" in first["time"]  # ISO 8601, UTC
    assert first["error"] is None
    assert current_context() == {"pilot": None, "job": None}


def test_extra_overrides_the_context() -> None:
    with captured("INFO", "json") as buffer, log_context(pilot="support-copilot", job="pulse"):
        log.info("skipped", extra={"outcome": "skipped", "pilot": "other"})
        log.warning("given an ok outcome", extra={"outcome": "ok", "job": "digest"})
    skipped, warned = lines(buffer)
    assert (skipped["pilot"], skipped["job"], skipped["outcome"]) == (
        "other",
        "pulse",
        "skipped",
    )
    assert (warned["pilot"], warned["job"], warned["outcome"]) == (
        "support-copilot",
        "digest",
        "ok",
    )


def test_a_traceback_stays_inside_its_one_line() -> None:
    with captured("INFO", "json") as buffer, log_context(job="digest"):
        try:
            {}["missing"]
        except KeyError:
            log.exception("the digest failed")
    text = buffer.getvalue()
    assert text.count("\n") == 1
    [line] = lines(buffer)
    assert line["message"] == "the digest failed" and line["outcome"] == "error"
    assert line["error"].startswith("Traceback (most recent call last):")
    assert "KeyError: 'missing'" in line["error"] and "\n" in line["error"]


def test_the_text_format_is_todays_line_with_the_fields_that_say_something() -> None:
    with captured("INFO", "text") as buffer:
        log.info("plain")
        with log_context(pilot="support-copilot", job="pulse"):
            log.info("6 sent")
            log.error("given", extra={"outcome": "retried"})
    plain, sent, given = buffer.getvalue().splitlines()
    assert plain.endswith(" INFO bot.test_logs: plain")
    assert sent.endswith(" INFO bot.test_logs: 6 sent [pilot=support-copilot job=pulse]")
    assert given.endswith(" given [pilot=support-copilot job=pulse outcome=retried]")


def test_the_settings_choose_the_format_and_refuse_a_wrong_one_in_one_line() -> None:
    assert Settings.from_env({}, dotenv=None).log_format == "text"
    assert Settings.from_env({"LOG_FORMAT": " JSON "}, dotenv=None).log_format == "json"
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"LOG_FORMAT": "xml"}, dotenv=None)
    assert str(refused.value) == "LOG_FORMAT: expected text or json, got 'xml'"


def test_the_command_line_writes_json_and_names_a_bad_format(tmp_path: Path) -> None:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "OPENAI_", "DATABASE_URL", "LOG_"))
    }
    environment |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'pulse.db'}",
        "LOG_FORMAT": "json",
        "PYTHONPATH": str(ROOT),
    }
    script = (
        "import logging, sys\n"
        "from bot.runtime.cli import main\n"
        "code = main(['pilot', 'list'])\n"
        "logging.getLogger('bot.check').warning('after the command')\n"
        "sys.exit(code)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    last = json.loads(run.stderr.splitlines()[-1])
    assert (last["message"], last["level"], last["outcome"]) == (
        "after the command",
        "WARNING",
        "warning",
    )
    environment["LOG_FORMAT"] = "xml"
    run = subprocess.run(
        [sys.executable, "-m", "bot", "pilot", "list"],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert run.stderr == "pilot-pulse: LOG_FORMAT: expected text or json, got 'xml'\n"


def test_configure_leaves_someone_elses_handlers_alone_and_replaces_its_own() -> None:
    root = logging.getLogger()
    foreign = logging.NullHandler()
    handlers, level = list(root.handlers), root.level
    root.addHandler(foreign)
    try:
        # pytest's own handlers are there too: without a stream, nothing is added.
        assert configure_logging("DEBUG", "json") is None
        assert root.level == level
        with captured("INFO", "json") as first:
            second = io.StringIO()
            configure_logging("INFO", "text", stream=second)
            log.warning("once")
            assert first.getvalue() == ""
            assert second.getvalue().count("once") == 1
    finally:
        root.removeHandler(foreign)
        assert list(root.handlers) == handlers


def test_each_slack_request_names_its_job() -> None:
    assert request_job({"command": "/pilot-status", "text": "anything typed"}) == (
        "command:/pilot-status"
    )
    action = {"type": "block_actions", "actions": [{"action_id": "pulse_answer_3", "value": "x"}]}
    assert request_job(action) == "action:pulse_answer_3"
    view = {"type": "view_submission", "view": {"callback_id": "pulse_modal", "state": {}}}
    assert request_job(view) == "view:pulse_modal"
    event = {"type": "event_callback", "event": {"type": "message", "text": "my own words"}}
    assert request_job(event) == "event:message"
    assert request_job({"type": "url_verification"}) == "url_verification"
    assert request_job({"type": "block_actions", "actions": []}) == "action"
    assert request_job(None) == "request"


# -- redaction ------------------------------------------------------------------------------

SLACK_TOKENS = (
    "xoxb-1234-5678-AbCdEfGh",
    "xoxp-1-2-3-abc",
    "xapp-1-A0PULSE-99-deadbeef",
    "xoxe-1-refreshtoken",
)
OPENAI_KEY = "sk-proj-LogProof0123456789abcdef"


def test_the_token_filter_masks_tokens_wherever_they_are_logged() -> None:
    with captured("DEBUG", "json") as buffer:
        for token in SLACK_TOKENS:
            log.debug("calling Slack with %s", token)
        log.info("Authorization: Bearer %s", "abc.def-ghi")
        log.warning(f"the key {OPENAI_KEY} was refused")
        log.info("as an extra", extra={"header": "Bearer xoxb-1-2-extra"})
        try:
            raise RuntimeError(f"token {SLACK_TOKENS[0]} revoked")
        except RuntimeError:
            log.exception("Slack refused")
    text = buffer.getvalue()
    for secret in (*SLACK_TOKENS, "abc.def-ghi", OPENAI_KEY, "xoxb-1-2-extra"):
        assert secret not in text
    messages = [line["message"] for line in lines(buffer)]
    assert messages[:4] == [
        "calling Slack with xoxb-***",
        "calling Slack with xoxp-***",
        "calling Slack with xapp-***",
        "calling Slack with xoxe-***",
    ]
    assert "Authorization: Bearer ***" in messages and "the key sk-*** was refused" in messages
    assert "RuntimeError: token xoxb-*** revoked" in lines(buffer)[-1]["error"]
    # Words that merely look a little like keys are left alone.
    assert redact("a risk-free task-manager, sk-short") == "a risk-free task-manager, sk-short"


def test_a_failed_statements_values_never_reach_the_log() -> None:
    words = "my manager reads every ticket I write"
    error = IntegrityError(
        "INSERT INTO answer (text_raw) VALUES (?)", {"text_raw": words}, Exception("UNIQUE")
    )
    with captured("DEBUG", "text") as buffer:
        try:
            raise error
        except IntegrityError as exc:
            log.exception("could not store pulse answers")
            log.warning("again: %s", exc)
    text = buffer.getvalue()
    assert words not in text
    assert "[parameters: hidden]" in text and "INSERT INTO answer" in text


def _wait(condition: Any, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"waited in vain for {what}")


# Words people type in this test, each distinct enough to be found anywhere it leaks.
PULSE_COMMENT = "Quokka spreadsheets keep eating my refunds"
CHECKIN_REPLY = "The marzipan dashboard hides every invoice from me"


def test_people_s_words_and_secrets_never_reach_the_logs_even_at_debug(
    deps: Deps, slack: SlackStandIn, llm: OpenAIStandIn
) -> None:
    settings = Settings.from_env({"LOG_LEVEL": "debug", "LOG_FORMAT": "json"}, dotenv=None)
    with captured(settings.log_level, settings.log_format) as buffer:
        # The model analyses check-in replies; it answers with a follow-up that repeats the
        # person's words (and a mention, so it is rejected and logged as rejected).
        def respond(body: dict) -> dict:
            if body["response_format"]["json_schema"]["name"] == "followup":
                return {"question": f"Why do you say '{CHECKIN_REPLY}', @ada?"}
            return {
                "sentiment": -0.5,
                "label": "negative",
                "themes": ["access_licensing"],
                "summary": f"Says: {CHECKIN_REPLY}",
                "blockers": [CHECKIN_REPLY],
                "wins": [],
            }

        llm.respond_with(respond)
        deps.analyzer = ModelAnalyzer(
            ModelClient(api_key=OPENAI_KEY, model="gpt-4o-mini", base_url=llm.url, timeout=2)
        )
        running = RunningApp(deps).start()
        sender = SlackSender(running.url, SIGNING_SECRET, slack)
        try:
            make_pilot(deps)
            send(deps)

            # A pulse answered with a comment, through the one-click button and the modal.
            message = slack.messages[dm_channel("U0PERSON1")][0]
            daily = next(
                element
                for block in message["blocks"]
                if block.get("block_id") == "pulse_first"
                for element in block["elements"]
                if element["text"]["text"] == "Daily"
            )
            clicked = sender.action(
                "U0PERSON1",
                daily["action_id"],
                daily["value"],
                message=message,
                channel_id=dm_channel("U0PERSON1"),
                block_id="pulse_first",
            )
            assert clicked.status_code == 200
            view = last_view(slack, 1)
            values = modal_values(view, {"useful": "4", "got in the way": PULSE_COMMENT})
            assert sender.view_submission("U0PERSON1", view, values).status_code == 200

            # A check-in, replied to; the model is asked about the reply.
            from bot.outreach.sending import send_checkins

            send_checkins(
                deps.db,
                deps.sending_client,
                "support-copilot",
                now=deps.clock(),
                options=deps.send_options,
            )
            ts = f"{time.time():.6f}"
            event = {
                "type": "message",
                "channel_type": "im",
                "channel": dm_channel("U0PERSON2"),
                "user": "U0PERSON2",
                "text": CHECKIN_REPLY,
                "ts": ts,
                "event_ts": ts,
            }
            assert sender.event(event).status_code == 200
            _wait(lambda: len(slack.messages.get(dm_channel("U0PERSON2"), [])) >= 3, "a follow-up")
            llm.wait_for(2)

            # Each person opens their Home tab, which shows them their own words.
            for person in ("U0PERSON1", "U0PERSON2"):
                count = len(slack.calls_to("views.publish")) + 1
                home = {"type": "app_home_opened", "user": person, "tab": "home", "channel": "D0"}
                assert sender.event(home).status_code == 200
                slack.wait_for("views.publish", count)
            assert sender.command("U0CHAMPION", "support-copilot").status_code == 200

            # A token logged by mistake is masked.
            log.debug("calling Slack with %s", slack.bot_token)
        finally:
            running.stop()
            deps.delayed.close()
            deps.executor.shutdown(wait=True)
            deps.slow_executor.shutdown(wait=True)
        output = buffer.getvalue()

    # The words did pass through the Slack and model clients, so a library logging their bodies
    # would have put them in the output.
    published = json.dumps([call.params for call in slack.calls_to("views.publish")])
    assert PULSE_COMMENT in published and CHECKIN_REPLY in published
    assert CHECKIN_REPLY in json.dumps([call.body for call in llm.calls])

    got = lines(io.StringIO(output))
    assert len(got) > 20
    assert all({"pilot", "job", "outcome"} <= set(line) for line in got)
    ours = [line for line in got if line["logger"].startswith("bot.") and line["level"] == "DEBUG"]
    requests = {line["job"] for line in ours if line["logger"] == "bot.runtime.app"}
    assert {"view:pulse_modal", "event:message", "event:app_home_opened"} <= requests
    assert "command:/pilot-status" in requests
    assert any(job.startswith("action:pulse_answer_") for job in requests)
    # Work after the ack, on another thread, carries the job of the request that handed it over.
    after_ack = {line["job"] for line in ours if line["logger"] == "bot.runtime.deps"}
    assert "event:app_home_opened" in after_ack
    assert any(line["message"].startswith("model follow-up rejected") for line in got)
    assert "calling Slack with xoxb-***" in output

    decoded = json.dumps(got, ensure_ascii=False)
    for secret in (slack.bot_token, SIGNING_SECRET, OPENAI_KEY):
        assert secret not in output and secret not in decoded
    for words in (PULSE_COMMENT, CHECKIN_REPLY, "Quokka", "marzipan"):
        assert words not in output and words not in decoded, words


# -- /healthz and the clock ---------------------------------------------------------------


def _health(url: str) -> httpx.Response:
    return httpx.get(f"{url}/healthz", timeout=5)


def test_healthz_without_a_clock_has_no_clock_key(deps: Deps) -> None:
    running = RunningApp(deps).start()
    try:
        response = _health(running.url)
    finally:
        running.stop()
    assert response.status_code == 200 and response.json() == {"ok": True}


def test_healthz_reports_the_heartbeat_of_the_clock_in_this_process(deps: Deps) -> None:
    clock = Clock(deps, jobs=())
    server = BackgroundServer(
        build_app(deps), deps.db, SIGNING_SECRET, clock=clock, now=deps.clock
    ).start()
    try:
        before = _health(server.url)
        assert before.status_code == 200
        assert before.json() == {
            "ok": True,
            "clock": {"last_tick": None, "age_seconds": None, "stale": False},
        }

        ticked = deps.clock() - timedelta(seconds=12)
        clock.tick(ticked)
        health = _health(server.url).json()
        assert health["ok"] is True and health["clock"]["last_tick"] == ticked.isoformat()
        assert 12 <= health["clock"]["age_seconds"] < 30
        assert health["clock"]["stale"] is False

        # A clock that stopped ticking is reported stale; the status stays the database's.
        clock.tick(deps.clock() - timedelta(minutes=6))
        stale = _health(server.url)
        assert stale.status_code == 200
        assert stale.json()["clock"]["stale"] is True and stale.json()["clock"]["age_seconds"] > 300
    finally:
        server.stop()


def test_healthz_is_503_on_the_database_whatever_the_clock_says(slack: SlackStandIn) -> None:
    down = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    deps = build_deps(make_settings(slack, down.url), db=down)
    clock = Clock(deps, jobs=())
    server = BackgroundServer(build_app(deps), down, SIGNING_SECRET, clock=clock).start()
    try:
        response = _health(server.url)
    finally:
        server.stop()
        deps.close(wait=True)
    assert response.status_code == 503
    assert response.json()["ok"] is False and response.json()["clock"]["last_tick"] is None
