"""The HTTP app for real: uvicorn, Bolt and its signature checks, against the stand-in."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from bot.devkit.slack_requests import SlackSender
from bot.devkit.slack_standin import SlackStandIn
from bot.pilots.pilot import PilotSpec, create_pilot
from bot.runtime.deps import build_deps
from storage import Database
from storage.models import SlackEvent
from tests.conftest import RunningApp, make_settings


def test_healthz_answers_ok_while_the_database_answers(app: RunningApp) -> None:
    response = httpx.get(f"{app.url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True}


def test_healthz_is_503_when_the_database_is_down(slack: SlackStandIn, tmp_path) -> None:
    down = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    deps = build_deps(make_settings(slack, down.url), db=down)
    running = RunningApp(deps).start()
    try:
        response = httpx.get(f"{running.url}/healthz")
        assert response.status_code == 503
        assert response.json() == {"ok": False}
    finally:
        running.stop()


def _status_body(sender: SlackSender) -> str:
    return (
        "token=t&team_id=T0STANDIN&user_id=U0CHAMPION&command=%2Fpilot-status&text="
        f"&response_url={sender.slack.response_url('x')}&trigger_id=1.2"
    )


@pytest.mark.parametrize("case", ["unsigned", "wrong", "stale", "future", "garbage-timestamp"])
def test_bad_signatures_get_401_and_change_nothing(
    case: str, sender: SlackSender, slack: SlackStandIn, db: Database
) -> None:
    body = _status_body(sender)
    if case == "unsigned":
        response = sender.post(body, "application/x-www-form-urlencoded", signed=False)
    elif case == "wrong":
        headers = sender.signed_headers(body)
        headers["X-Slack-Signature"] = "v0=" + "0" * 64
        response = sender.post(
            body, "application/x-www-form-urlencoded", signed=False, headers=headers
        )
    elif case == "stale":
        response = sender.post(
            body, "application/x-www-form-urlencoded", timestamp=int(time.time()) - 301
        )
    elif case == "future":
        response = sender.post(
            body, "application/x-www-form-urlencoded", timestamp=int(time.time()) + 301
        )
    else:
        headers = {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=abc"}
        response = sender.post(
            body, "application/x-www-form-urlencoded", signed=False, headers=headers
        )
    assert response.status_code == 401
    time.sleep(0.2)
    assert slack.calls == []
    assert slack.responses == []


def test_a_signed_event_with_a_tampered_body_gets_401(sender: SlackSender, db: Database) -> None:
    body = json.dumps(
        {
            "type": "event_callback",
            "event_id": "Ev1",
            "event": {"type": "app_home_opened", "user": "U1"},
        }
    )
    headers = sender.signed_headers(body)
    tampered = body.replace("U1", "U2")
    response = sender.post(tampered, "application/json", signed=False, headers=headers)
    assert response.status_code == 401
    with db.session() as session:
        assert session.get(SlackEvent, "Ev1") is None


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ("payload=%7Bnot-json", "application/x-www-form-urlencoded"),
        ('{"type": "something_new"}', "application/json"),
        ("payload=%7B%22type%22%3A%22mystery%22%7D", "application/x-www-form-urlencoded"),
        ("", "application/json"),
        ("\u00ff\u00fe", "text/plain"),
    ],
)
def test_malformed_or_unknown_signed_bodies_never_get_a_5xx(
    body: str, content_type: str, sender: SlackSender
) -> None:
    response = sender.post(body, content_type)
    assert response.status_code < 500
    assert response.status_code in (200, 400, 404)


def test_url_verification_challenge_is_answered(sender: SlackSender) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "t"})
    response = sender.post(body, "application/json")
    assert response.status_code == 200
    assert "abc123" in response.text


def test_pilot_status_with_no_pilot_says_how_to_create_one(
    sender: SlackSender, slack: SlackStandIn
) -> None:
    started = time.monotonic()
    response = sender.command("U0PERSON1")
    assert response.status_code == 200
    assert time.monotonic() - started < 3
    [reply] = slack.wait_for("response_url")
    assert "No pilot is set up yet" in reply.params["text"]
    assert reply.params["response_type"] == "ephemeral"


def _make_pilot(
    app: RunningApp, name: str = "support-copilot", champions: tuple[str, ...] = ("U0CHAMPION",)
) -> None:
    create_pilot(
        app.deps.db,
        app.deps.client,
        PilotSpec(
            name=name,
            tool="Copilot",
            leadership_channel="C0LEADERS",
            members_from_channel="C0TEAM",
            champions=champions,
        ),
    )


def test_pilot_status_for_a_champion_shows_the_pilots_figures(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    _make_pilot(app)
    slack.clear()
    response = sender.command("U0CHAMPION")
    assert response.status_code == 200
    [reply] = slack.wait_for("response_url")
    text = json.dumps(reply.params["blocks"])
    assert "support-copilot" in text
    assert "6 people in the pilot" in text
    assert "No pulse has gone out this period yet" in text


def test_pilot_status_for_anyone_else_is_a_polite_refusal(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    _make_pilot(app)
    slack.clear()
    for text in ("", "support-copilot", "no-such-pilot"):
        sender.command("U0PERSON1", text)
    replies = slack.wait_for("response_url", 3)
    for reply in replies:
        assert reply.params.get("blocks") in (None, [])
        assert "champions" in reply.params["text"]
        assert "support-copilot" not in reply.params["text"]


def test_a_champion_of_several_pilots_gets_a_choice_then_the_figures(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    _make_pilot(app, "alpha")
    _make_pilot(app, "beta")
    slack.clear()
    sender.command("U0CHAMPION")
    [choice] = slack.wait_for("response_url")
    buttons = choice.params["blocks"][1]["elements"]
    assert [b["value"] for b in buttons] == ["alpha", "beta"]
    sender.action("U0CHAMPION", buttons[1]["action_id"], buttons[1]["value"])
    replies = slack.wait_for("response_url", 2)
    assert "beta" in json.dumps(replies[1].params["blocks"])
    sender.command("U0CHAMPION", "ALPHA")
    replies = slack.wait_for("response_url", 3)
    assert "alpha · Copilot" in json.dumps(replies[2].params["blocks"], ensure_ascii=False)


def test_app_home_shows_the_persons_pilots_and_who_sees_what(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    _make_pilot(app)
    sender.event(
        {"type": "app_home_opened", "user": "U0PERSON2", "channel": "D0PERSON2", "tab": "home"}
    )
    [publish] = slack.wait_for("views.publish")
    assert publish.params["user_id"] == "U0PERSON2"
    text = json.dumps(publish.params["view"])
    assert "support-copilot" in text
    assert "your name is never attached" in text


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "block_actions", "actions": [{"action_id": "pulse_answer_0", "value": "1:1:1"}]},
        {
            "type": "block_actions",
            "user": {"id": "U0PERSON1"},
            "actions": [{"action_id": "pulse_pause", "value": 12}],
        },
        {
            "type": "block_actions",
            "user": {"id": "U0PERSON1"},
            "actions": [{"action_id": "pulse_answer_0", "value": 5}],
        },
        {
            "type": "block_actions",
            "user": {"id": "U0PERSON1"},
            "actions": [{"action_id": "status_nudge"}],
        },
        {
            "type": "view_submission",
            "user": {"id": "U0PERSON1"},
            "view": {"callback_id": "pulse_modal", "private_metadata": "{}", "blocks": []},
        },
        {
            "type": "view_submission",
            "user": {"id": "U0PERSON1"},
            "view": {
                "callback_id": "pulse_modal",
                "private_metadata": "[1]",
                "state": {"values": {"q_x": {}}},
            },
        },
        {
            "type": "block_actions",
            "user": {"id": "U0PERSON1"},
            "view": {"type": "home"},
            "actions": [{"action_id": "own_data_erase", "value": "me"}],
        },
    ],
)
def test_signed_payloads_of_the_wrong_shape_get_a_4xx_or_a_quiet_200(
    payload: dict, sender: SlackSender
) -> None:
    response = sender.interaction({"team": {"id": "T0STANDIN"}, "api_app_id": "A0PULSE", **payload})
    assert response.status_code in (200, 400, 404)


@pytest.mark.parametrize(
    "event",
    [
        {
            "type": "message",
            "channel_type": "im",
            "channel": "D0PERSON1",
            "user": "U0PERSON1",
            "text": 42,
            "ts": "1.2",
        },
        {
            "type": "message",
            "channel_type": "im",
            "channel": "D0PERSON1",
            "text": "no user",
            "ts": "1.3",
        },
        {"type": "message", "channel_type": "im", "user": "U0PERSON1", "text": "no channel or ts"},
        {"type": "app_home_opened", "tab": "home"},
    ],
)
def test_signed_events_of_the_wrong_shape_never_get_a_5xx(event: dict, sender: SlackSender) -> None:
    response = sender.event(event)
    assert response.status_code in (200, 400)
