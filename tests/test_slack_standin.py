"""The Slack stand-in, exercised through the real slack_sdk WebClient, Socket Mode client and a
Bolt app, so that what the rest of the suite relies on is what slack_sdk really sends."""

from __future__ import annotations

import json
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.webhook import WebhookClient

from bot.devkit.slack_standin import Call, SlackStandIn

REPO_ROOT = Path(__file__).resolve().parents[1]
TS_PATTERN = re.compile(r"^\d{10}\.\d{6}$")


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn() as slack:
        slack.add_user("U0ALICE", real_name="Alice Example", display_name="alice", tz="Asia/Tokyo")
        slack.add_user("U0BOB", real_name="Bob Example")
        slack.add_user("U0GONE", real_name="Gone Person", deleted=True)
        slack.add_user("U0OTHERBOT", real_name="Other Bot", is_bot=True)
        slack.add_channel("C0GENERAL", name="general", members=["U0ALICE", "U0BOB"])
        slack.add_channel("C0OUTSIDE", name="outside", members=["U0ALICE"], bot_is_member=False)
        slack.add_channel(
            "C0SECRET", name="secret", members=["U0ALICE"], bot_is_member=False, is_private=True
        )
        slack.add_channel("C0OLD", name="old", members=["U0ALICE"], is_archived=True)
        yield slack


@pytest.fixture
def client(standin: SlackStandIn) -> WebClient:
    # No retry handlers: tests want to see 429s and 5xx answers themselves.
    return WebClient(base_url=standin.url, token=standin.bot_token, retry_handlers=[])


def slack_error(call: object, *args: object, **kwargs: object) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return caught.value


def raw_post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


# -- users and conversations ----------------------------------------------------------------


def test_members_paginate_with_cursor_and_limit(standin: SlackStandIn, client: WebClient) -> None:
    people = [f"U{index:08d}" for index in range(250)]
    standin.add_channel("C0BIG", name="big", members=people)

    pages = []
    cursor = None
    while True:
        response = client.conversations_members(channel="C0BIG", limit=100, cursor=cursor)
        pages.append(response["members"])
        cursor = response["response_metadata"]["next_cursor"]
        if not cursor:
            break

    # The bot is a member too and is listed, as Slack lists it.
    assert [len(page) for page in pages] == [100, 100, 51]
    assert [member for page in pages for member in page] == [*people, standin.bot_user_id]
    assert all(call.params["limit"] == "100" for call in standin.calls_to("conversations.members"))
    # The SDK's own pagination iterator follows the same cursors.
    assert len(list(client.conversations_members(channel="C0BIG", limit=100))) == 3
    # Default limit is 100; a bogus cursor is refused.
    assert len(client.conversations_members(channel="C0BIG")["members"]) == 100
    error = slack_error(client.conversations_members, channel="C0BIG", cursor="bm9wZQ==")
    assert error.response["error"] == "invalid_cursor"


def test_members_of_unknown_or_hidden_channels(standin: SlackStandIn, client: WebClient) -> None:
    for channel in ("C0NOPE", "C0SECRET"):
        error = slack_error(client.conversations_members, channel=channel)
        assert error.response["error"] == "channel_not_found"
    # A public channel the bot is not in can still be read.
    assert client.conversations_members(channel="C0OUTSIDE")["members"] == ["U0ALICE"]


def test_users_info_shapes_and_errors(standin: SlackStandIn, client: WebClient) -> None:
    alice = client.users_info(user="U0ALICE")["user"]
    assert alice["tz"] == "Asia/Tokyo"
    assert alice["tz_offset"] == 9 * 3600
    assert alice["tz_label"] == "Japan Standard Time"
    assert alice["profile"]["display_name"] == "alice"
    assert alice["profile"]["real_name"] == "Alice Example"
    assert alice["is_bot"] is False and alice["deleted"] is False
    # Slack leaves display_name empty unless set; the bot user exists on its own.
    assert client.users_info(user="U0BOB")["user"]["profile"]["display_name"] == ""
    bot = client.users_info(user=standin.bot_user_id)["user"]
    assert bot["is_bot"] is True and bot["profile"]["bot_id"] == standin.bot_id
    assert client.users_info(user="U0GONE")["user"]["deleted"] is True

    error = slack_error(client.users_info, user="U0NOBODY")
    assert error.response.status_code == 200
    assert error.response["error"] == "user_not_found"


def test_users_list_paginates(standin: SlackStandIn, client: WebClient) -> None:
    ids = [user["id"] for page in client.users_list(limit=2) for user in page["members"]]
    assert sorted(ids) == sorted(standin.users)
    assert len(standin.calls_to("users.list")) == 3  # 5 users, 2 per page


def test_conversations_info_and_open(standin: SlackStandIn, client: WebClient) -> None:
    general = client.conversations_info(channel="C0GENERAL")["channel"]
    assert general["name"] == "general" and general["is_member"] is True
    assert general["num_members"] == 3  # Alice, Bob and the bot
    assert "members" not in general
    assert client.conversations_info(channel="C0OUTSIDE")["channel"]["is_member"] is False
    error = slack_error(client.conversations_info, channel="C0SECRET")
    assert error.response["error"] == "channel_not_found"

    opened = client.conversations_open(users="U0ALICE")
    assert opened["channel"]["id"] == "D0ALICE"
    assert opened["already_open"] is False
    assert client.conversations_open(users=["U0ALICE"])["already_open"] is True
    dm = client.conversations_info(channel="D0ALICE")["channel"]
    assert dm["is_im"] is True and dm["user"] == "U0ALICE"
    for user, expected in [
        ("U0NOBODY", "user_not_found"),
        ("U0GONE", "account_inactive"),
        ("U0OTHERBOT", "cannot_dm_bot"),
        (standin.bot_user_id, "cannot_dm_bot"),
    ]:
        assert slack_error(client.conversations_open, users=user).response["error"] == expected


# -- user groups and channel membership events ----------------------------------------------


@pytest.fixture
def groups(standin: SlackStandIn) -> SlackStandIn:
    standin.add_usergroup(
        "S0CREW", handle="pilot-crew", name="Pilot crew", users=["U0ALICE", "U0BOB"]
    )
    standin.add_usergroup("S0OLD", handle="old-crew", users=["U0ALICE"], disabled=True)
    return standin


def test_usergroups_list_leaves_out_disabled_users_and_counts(
    groups: SlackStandIn, client: WebClient
) -> None:
    [crew] = client.usergroups_list()["usergroups"]
    assert crew["id"] == "S0CREW" and crew["is_usergroup"] is True
    assert (crew["handle"], crew["name"], crew["team_id"]) == (
        "pilot-crew",
        "Pilot crew",
        groups.team_id,
    )
    assert crew["date_delete"] == 0 and crew["date_create"] > 0
    assert crew["prefs"] == {"channels": [], "groups": []}
    # Users and their count come only when asked for.
    assert "users" not in crew and "user_count" not in crew

    answer = client.usergroups_list(include_disabled=True, include_users=True, include_count=True)
    assert "response_metadata" not in answer.data  # Slack has no cursor here
    by_id = {group["id"]: group for group in answer["usergroups"]}
    assert sorted(by_id) == ["S0CREW", "S0OLD"]
    assert by_id["S0OLD"]["date_delete"] > 0 and by_id["S0OLD"]["name"] == "old-crew"
    assert by_id["S0CREW"]["users"] == ["U0ALICE", "U0BOB"]
    assert (by_id["S0CREW"]["user_count"], by_id["S0OLD"]["user_count"]) == (2, 1)
    # slack_sdk sends the booleans as "1"; team_id is ignored for a workspace's bot token.
    assert groups.calls_to("usergroups.list")[-1].params["include_users"] == "1"
    only_count = client.usergroups_list(include_count=True, team_id="T0OTHER")["usergroups"]
    assert [(g["user_count"], "users" in g) for g in only_count] == [(2, False)]


def test_usergroups_users_list_and_its_errors(groups: SlackStandIn, client: WebClient) -> None:
    answer = client.usergroups_users_list(usergroup="S0CREW")
    assert answer.data == {"ok": True, "users": ["U0ALICE", "U0BOB"]}
    assert len(list(answer)) == 1  # not paginated: the SDK's iterator stops at once

    # A test moves people in and out through the stored group.
    groups.add_user("U0CAROL", real_name="Carol Example")
    groups.usergroups["S0CREW"]["users"].remove("U0BOB")
    groups.usergroups["S0CREW"]["users"].append("U0CAROL")
    assert client.usergroups_users_list(usergroup="S0CREW")["users"] == ["U0ALICE", "U0CAROL"]

    # A disabled group is found only with include_disabled; disabling works on a stored group.
    error = slack_error(client.usergroups_users_list, usergroup="S0OLD")
    assert error.response["error"] == "no_such_subteam"
    old = client.usergroups_users_list(usergroup="S0OLD", include_disabled=True)
    assert old["users"] == ["U0ALICE"]
    groups.usergroups["S0CREW"]["date_delete"] = int(time.time())
    error = slack_error(client.usergroups_users_list, usergroup="S0CREW")
    assert error.response["error"] == "no_such_subteam"
    assert client.usergroups_list()["usergroups"] == []

    error = slack_error(client.usergroups_users_list, usergroup="S0NOPE")
    assert (error.response.status_code, error.response["error"]) == (200, "no_such_subteam")
    for params in ({}, {"usergroup": ""}):
        error = slack_error(client.api_call, "usergroups.users.list", params=params)
        assert error.response["error"] == "invalid_arguments"
        assert error.response["response_metadata"]["messages"] == [
            "[ERROR] missing required field: usergroup"
        ]


def test_auth_test_grants_the_manifests_bot_scopes_unless_told_otherwise(
    standin: SlackStandIn, client: WebClient
) -> None:
    manifest = json.loads((REPO_ROOT / "manifest.json").read_text())
    asked = manifest["oauth_config"]["scopes"]["bot"]
    answer = client.auth_test()
    assert answer.headers["X-OAuth-Scopes"].split(",") == asked
    assert standin.scopes == asked

    # A workspace that installed an older version of the app, before it asked for these.
    standin.scopes.remove("im:history")
    standin.scopes.remove("usergroups:read")
    granted = client.auth_test().headers["X-OAuth-Scopes"].split(",")
    assert sorted(set(asked) - set(granted)) == ["im:history", "usergroups:read"]


def test_usergroups_need_their_scope_and_a_bot_token(
    groups: SlackStandIn, client: WebClient
) -> None:
    answer = client.usergroups_list()
    assert "usergroups:read" in answer.headers["X-OAuth-Scopes"].split(",")

    # A workspace that installed the app before it asked for usergroups:read.
    groups.scopes.remove("usergroups:read")
    for call, kwargs in (
        (client.usergroups_list, {}),
        (client.usergroups_users_list, {"usergroup": "S0CREW"}),
    ):
        error = slack_error(call, **kwargs)
        assert error.response["error"] == "missing_scope"
        assert error.response["needed"] == "usergroups:read"
        assert "usergroups:read" not in error.response["provided"].split(",")
    assert "usergroups:read" not in client.auth_test().headers["X-OAuth-Scopes"]

    app_client = WebClient(base_url=groups.url, token=groups.app_token, retry_handlers=[])
    assert slack_error(app_client.usergroups_list).response["error"] == "not_allowed_token_type"


def test_add_usergroup_refuses_bad_ids_and_taken_handles(standin: SlackStandIn) -> None:
    with pytest.raises(ValueError, match="start with 'S'"):
        standin.add_usergroup("G0CREW", handle="crew")
    standin.add_usergroup("S0CREW", handle="crew")
    with pytest.raises(ValueError, match="already used by S0CREW"):
        standin.add_usergroup("S0OTHER", handle="crew")
    # Replacing a group keeps its own handle.
    replaced = standin.add_usergroup("S0CREW", handle="crew", users=["U0BOB"])
    assert standin.usergroups["S0CREW"] is replaced and replaced["users"] == ["U0BOB"]


def test_join_and_leave_change_members_and_build_events(
    standin: SlackStandIn, client: WebClient
) -> None:
    standin.add_channel("C0PRIV", name="priv", members=["U0ALICE"], is_private=True)
    bot = standin.bot_user_id
    # A private channel the bot is in can be read.
    assert client.conversations_members(channel="C0PRIV")["members"] == ["U0ALICE", bot]

    joined = standin.join_channel("U0BOB", "C0PRIV", inviter="U0ALICE")
    assert joined == {
        "type": "member_joined_channel",
        "user": "U0BOB",
        "channel": "C0PRIV",
        "channel_type": "C",
        "team": standin.team_id,
        "inviter": "U0ALICE",
        "event_ts": joined["event_ts"],
    }
    assert TS_PATTERN.match(joined["event_ts"])
    assert client.conversations_members(channel="C0PRIV")["members"] == ["U0ALICE", "U0BOB", bot]

    left = standin.leave_channel("U0ALICE", "C0PRIV")
    assert {key: left[key] for key in ("type", "user", "channel", "channel_type")} == {
        "type": "member_left_channel",
        "user": "U0ALICE",
        "channel": "C0PRIV",
        "channel_type": "C",
    }
    assert "inviter" not in left and left["event_ts"] > joined["event_ts"]
    assert client.conversations_members(channel="C0PRIV")["members"] == ["U0BOB", bot]
    assert client.conversations_info(channel="C0PRIV")["channel"]["num_members"] == 2

    # When the bot leaves a private channel, the channel disappears for it, as on Slack.
    standin.leave_channel(bot, "C0PRIV")
    error = slack_error(client.conversations_members, channel="C0PRIV")
    assert error.response["error"] == "channel_not_found"
    assert standin.join_channel(bot, "C0PRIV")["user"] == bot
    assert client.conversations_members(channel="C0PRIV")["members"] == ["U0BOB", bot]

    # Joining a public channel the bot is not in; a bot listed in members leaves for real.
    assert "inviter" not in standin.join_channel("U0BOB", "C0OUTSIDE")
    assert client.conversations_members(channel="C0OUTSIDE")["members"] == ["U0ALICE", "U0BOB"]
    standin.add_channel("C0LISTED", name="listed", members=["U0ALICE", bot])
    standin.leave_channel(bot, "C0LISTED")
    assert client.conversations_members(channel="C0LISTED")["members"] == ["U0ALICE"]


def test_member_event_helpers_refuse_what_slack_never_sends(standin: SlackStandIn) -> None:
    with pytest.raises(ValueError, match="already a member"):
        standin.join_channel("U0ALICE", "C0GENERAL")
    with pytest.raises(ValueError, match="already a member"):
        standin.join_channel(standin.bot_user_id, "C0GENERAL")
    with pytest.raises(ValueError, match="not a member"):
        standin.leave_channel("U0BOB", "C0OUTSIDE")
    with pytest.raises(ValueError, match="unknown channel"):
        standin.join_channel("U0BOB", "C0NOPE")
    with pytest.raises(ValueError, match="archived"):
        standin.leave_channel("U0ALICE", "C0OLD")

    # The builders alone change nothing; old private channels (G ids) say "G".
    standin.add_channel("G0LEGACY", name="legacy", members=["U0ALICE"], is_private=True)
    event = standin.member_left_channel_event("U0ALICE", "G0LEGACY")
    assert (event["type"], event["channel_type"]) == ("member_left_channel", "G")
    assert standin.channels["G0LEGACY"]["members"] == ["U0ALICE"]
    joined = standin.member_joined_channel_event("U0BOB", "C0GENERAL", inviter="U0ALICE")
    assert (joined["channel_type"], joined["inviter"]) == ("C", "U0ALICE")
    assert standin.channels["C0GENERAL"]["members"] == ["U0ALICE", "U0BOB"]


def test_bolt_receives_member_events_over_socket_mode(standin: SlackStandIn) -> None:
    app = App(
        token=standin.bot_token,
        client=WebClient(base_url=standin.url, token=standin.bot_token),
        signing_secret="x",
        token_verification_enabled=False,
    )
    seen: queue.Queue[tuple[dict, list[str]]] = queue.Queue()

    def on_member(event: dict, client: WebClient) -> None:
        # What an app would do next: read the channel's members as they now are.
        seen.put((event, client.conversations_members(channel=event["channel"])["members"]))

    app.event("member_joined_channel")(on_member)
    app.event("member_left_channel")(on_member)
    bot = standin.bot_user_id
    handler = SocketModeHandler(app, app_token=standin.app_token)
    try:
        handler.connect()
        standin.wait_socket_connected(5)
        # Bolt acks before its listener runs, so wait for each event before the next change.
        left = standin.leave_channel("U0BOB", "C0GENERAL")
        assert standin.socket_send("events_api", standin.event_payload(left)) == {}
        event, members = seen.get(timeout=5)
        assert (event["type"], event["user"], members) == (
            "member_left_channel",
            "U0BOB",
            ["U0ALICE", bot],
        )

        joined = standin.join_channel("U0BOB", "C0GENERAL", inviter="U0ALICE")
        assert standin.socket_send("events_api", standin.event_payload(joined)) == {}
        event, members = seen.get(timeout=5)
        assert event == joined
        assert members == ["U0ALICE", "U0BOB", bot]
    finally:
        handler.close()


# -- messages -------------------------------------------------------------------------------


def test_post_message_to_user_id_lands_in_the_dm(standin: SlackStandIn, client: WebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*How is it going?*"}}]
    first = client.chat_postMessage(channel="U0ALICE", text="Pulse", blocks=blocks)
    second = client.chat_postMessage(channel="U0ALICE", text="Again", thread_ts=first["ts"])

    assert first["channel"] == "D0ALICE"
    assert TS_PATTERN.match(first["ts"])
    assert float(second["ts"]) > float(first["ts"])
    assert first["message"]["user"] == standin.bot_user_id
    assert first["message"]["bot_id"] == standin.bot_id
    assert first["message"]["blocks"] == blocks
    stored = standin.messages["D0ALICE"]
    assert [m["text"] for m in stored] == ["Pulse", "Again"]
    assert stored[0]["blocks"] == blocks and stored[0]["thread_ts"] == first["ts"]
    assert stored[1]["thread_ts"] == first["ts"]
    # slack_sdk sends blocks in a JSON body; the recorded params hold real lists.
    call = standin.calls_to("chat.postMessage")[0]
    assert call.headers["content-type"].startswith("application/json")
    assert call.headers["authorization"] == f"Bearer {standin.bot_token}"
    assert call.params["blocks"] == blocks
    assert call.response is not None and call.response["ts"] == first["ts"]

    for user, expected in [
        ("U0NOBODY", "user_not_found"),
        ("U0GONE", "account_inactive"),
        ("U0OTHERBOT", "cannot_dm_bot"),
    ]:
        error = slack_error(client.chat_postMessage, channel=user, text="hi")
        assert error.response["error"] == expected


def test_post_message_channel_rules(standin: SlackStandIn, client: WebClient) -> None:
    for channel, expected in [
        ("C0OUTSIDE", "not_in_channel"),
        ("C0SECRET", "channel_not_found"),
        ("C0OLD", "is_archived"),
        ("C0NOPE", "channel_not_found"),
    ]:
        error = slack_error(client.chat_postMessage, channel=channel, text="hi")
        assert error.response["error"] == expected, channel
    with pytest.warns(UserWarning):
        error = slack_error(client.chat_postMessage, channel="C0GENERAL")
    assert error.response["error"] == "no_text"
    too_many = [{"type": "divider"}] * 51
    error = slack_error(client.chat_postMessage, channel="C0GENERAL", text="x", blocks=too_many)
    assert error.response["error"] == "invalid_blocks"
    assert standin.messages == {}

    client.chat_postMessage(channel="#general", text="by name")
    assert standin.messages["C0GENERAL"][0]["text"] == "by name"


def test_chat_update_edits_in_place(standin: SlackStandIn, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C0GENERAL", text="Round open")
    new_blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "Round closed"}}]
    updated = client.chat_update(
        channel="C0GENERAL", ts=posted["ts"], text="Round closed", blocks=new_blocks
    )

    assert updated["ts"] == posted["ts"] and updated["text"] == "Round closed"
    assert updated["message"]["blocks"] == new_blocks
    [message] = standin.messages["C0GENERAL"]
    assert message["text"] == "Round closed" and message["blocks"] == new_blocks

    error = slack_error(client.chat_update, channel="C0GENERAL", ts="1.000001", text="x")
    assert error.response["error"] == "message_not_found"
    # Like Slack, edits need the conversation id the post answered with, not a user id.
    dm = client.chat_postMessage(channel="U0BOB", text="hello")
    error = slack_error(client.chat_update, channel="U0BOB", ts=dm["ts"], text="x")
    assert error.response["error"] == "channel_not_found"
    assert client.chat_update(channel=dm["channel"], ts=dm["ts"], text="hi")["text"] == "hi"


def test_history_and_replies_follow_threads(standin: SlackStandIn, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C0GENERAL", text="Week 1")
    client.chat_postMessage(channel="C0GENERAL", text="detail", thread_ts=parent["ts"])
    later = client.chat_postMessage(channel="C0GENERAL", text="Week 2")

    history = client.conversations_history(channel="C0GENERAL")["messages"]
    assert [m["text"] for m in history] == ["Week 2", "Week 1"]  # newest first, no replies
    assert history[1]["reply_count"] == 1
    replies = client.conversations_replies(channel="C0GENERAL", ts=parent["ts"])["messages"]
    assert [m["text"] for m in replies] == ["Week 1", "detail"]
    older = client.conversations_history(channel="C0GENERAL", latest=later["ts"])["messages"]
    assert [m["text"] for m in older] == ["Week 1"]
    error = slack_error(client.conversations_history, channel="C0OUTSIDE")
    assert error.response["error"] == "not_in_channel"


def test_ephemeral_and_delete(standin: SlackStandIn, client: WebClient) -> None:
    answer = client.chat_postEphemeral(channel="C0GENERAL", user="U0BOB", text="only you")
    assert TS_PATTERN.match(answer["message_ts"])
    assert standin.ephemerals[0]["user"] == "U0BOB"
    assert standin.ephemerals[0]["text"] == "only you"
    error = slack_error(client.chat_postEphemeral, channel="C0GENERAL", user="U0GONE", text="x")
    assert error.response["error"] == "user_not_in_channel"

    posted = client.chat_postMessage(channel="C0GENERAL", text="oops")
    assert client.chat_delete(channel="C0GENERAL", ts=posted["ts"])["ts"] == posted["ts"]
    assert standin.messages["C0GENERAL"] == []
    error = slack_error(client.chat_delete, channel="C0GENERAL", ts=posted["ts"])
    assert error.response["error"] == "message_not_found"


def test_views_open_update_and_publish(standin: SlackStandIn, client: WebClient) -> None:
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Pulse"}, "blocks": []}
    error = slack_error(client.views_open, trigger_id="", view=modal)
    assert error.response["error"] == "invalid_trigger_id"
    long_title = {**modal, "title": {"type": "plain_text", "text": "x" * 25}}
    error = slack_error(client.views_open, trigger_id="1.2.abc", view=long_title)
    assert error.response["error"] == "invalid_arguments"

    opened = client.views_open(trigger_id="1.2.abc", view={**modal, "callback_id": "pulse"})
    view_id = opened["view"]["id"]
    assert view_id.startswith("V") and opened["view"]["callback_id"] == "pulse"
    assert standin.views[view_id]["title"]["text"] == "Pulse"

    error = slack_error(client.views_update, view_id=view_id, hash="stale", view=modal)
    assert error.response["error"] == "hash_conflict"
    changed = {**modal, "blocks": [{"type": "divider"}]}
    updated = client.views_update(view_id=view_id, hash=opened["view"]["hash"], view=changed)
    assert updated["view"]["id"] == view_id
    assert standin.views[view_id]["blocks"] == [{"type": "divider"}]
    error = slack_error(client.views_update, view_id="V404", view=modal)
    assert error.response["error"] == "not_found"

    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hi"}}],
    }
    assert client.views_publish(user_id="U0ALICE", view=home)["view"]["type"] == "home"
    assert standin.home_views["U0ALICE"]["blocks"] == home["blocks"]
    assert slack_error(client.views_publish, user_id="U0X", view=home).response["error"] == (
        "user_not_found"
    )


# -- fault injection ------------------------------------------------------------------------


def test_fail_with_429_and_retry_after(standin: SlackStandIn, client: WebClient) -> None:
    standin.fail("users.info", status=429, retry_after=7, times=2)
    for _ in range(2):
        error = slack_error(client.users_info, user="U0ALICE")
        assert error.response.status_code == 429
        assert error.response.headers["Retry-After"] == "7"
        assert error.response["error"] == "ratelimited"
    assert client.users_info(user="U0ALICE")["user"]["id"] == "U0ALICE"
    assert [call.status for call in standin.calls_to("users.info")] == [429, 429, 200]
    assert standin.sent_count("users.info") == 1


def test_fail_with_500_answers_plain_text(standin: SlackStandIn, client: WebClient) -> None:
    standin.fail("chat.postMessage", status=500)
    error = slack_error(client.chat_postMessage, channel="C0GENERAL", text="hi")
    assert error.response.status_code == 500
    [call] = standin.calls_to("chat.postMessage")
    assert call.status == 500 and call.response is None
    assert "C0GENERAL" not in standin.messages
    assert client.chat_postMessage(channel="C0GENERAL", text="hi")["ok"] is True


def test_rate_limit_sliding_window(standin: SlackStandIn, client: WebClient) -> None:
    standin.rate_limit("chat.postMessage", 20)
    started = time.monotonic()
    outcomes: list[int] = []
    retry_after: set[str] = set()
    for index in range(30):
        try:
            client.chat_postMessage(channel="C0GENERAL", text=f"m{index}")
            outcomes.append(200)
        except SlackApiError as exc:
            outcomes.append(exc.response.status_code)
            retry_after.add(exc.response.headers["Retry-After"])
    burst = time.monotonic() - started

    assert outcomes[:20] == [200] * 20
    if burst < 1.0:  # on any sane machine: the 21st call is inside the first call's second
        assert outcomes[20:] == [429] * 10
    assert retry_after <= {"1"}
    # Whatever the machine's speed, each answer obeys the window: refused exactly when 20
    # calls were accepted in the second before it arrived.
    calls = standin.calls_to("chat.postMessage")
    accepted = [call.at for call in calls if call.status == 200]
    for call in calls:
        recent = sum(1 for at in accepted if call.at - 1.0 < at < call.at)
        assert (call.status == 429) == (recent >= 20)
    assert len(standin.messages["C0GENERAL"]) == outcomes.count(200)

    time.sleep(max(0.0, calls[-1].at + 1.05 - time.monotonic()))
    assert client.chat_postMessage(channel="C0GENERAL", text="later")["ok"] is True
    standin.rate_limit("chat.postMessage", None)
    for index in range(25):
        client.chat_postMessage(channel="C0GENERAL", text=f"free {index}")


def test_error_only_for_matching_params(standin: SlackStandIn, client: WebClient) -> None:
    standin.error(
        "chat.postMessage",
        "channel_not_found",
        times=2,
        when=lambda params: "boom" in params.get("text", ""),
    )
    assert client.chat_postMessage(channel="C0GENERAL", text="fine")["ok"] is True
    for _ in range(2):
        error = slack_error(client.chat_postMessage, channel="C0GENERAL", text="boom")
        assert error.response.status_code == 200
        assert error.response["error"] == "channel_not_found"
    assert client.chat_postMessage(channel="C0GENERAL", text="boom")["ok"] is True
    assert [m["text"] for m in standin.messages["C0GENERAL"]] == ["fine", "boom"]


def test_latency_is_added_to_answers(standin: SlackStandIn, client: WebClient) -> None:
    standin.latency = 0.25
    started = time.monotonic()
    client.auth_test()
    assert time.monotonic() - started >= 0.25
    standin.latency = 0.0
    started = time.monotonic()
    client.auth_test()
    assert time.monotonic() - started < 0.25


# -- auth and protocol errors ---------------------------------------------------------------


def test_auth_errors(standin: SlackStandIn) -> None:
    def call(token: str | None, method: str = "auth.test") -> str:
        web = WebClient(base_url=standin.url, token=token, retry_handlers=[])
        try:
            web.api_call(method)
        except SlackApiError as exc:
            return exc.response["error"]
        return "ok"

    assert call(None) == "not_authed"
    assert call("xoxb-wrong") == "invalid_auth"
    assert call(standin.app_token) == "not_allowed_token_type"
    assert call(standin.bot_token) == "ok"
    assert call(standin.bot_token, "apps.connections.open") == "not_allowed_token_type"
    assert call(standin.app_token, "apps.connections.open") == "ok"

    # The token may also travel as a form field instead of the header.
    status, answer = raw_post(
        f"{standin.url}auth.test",
        f"token={standin.bot_token}".encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (status, answer["user_id"]) == (200, standin.bot_user_id)
    assert "token" not in standin.calls_to("auth.test")[-1].params


def test_unknown_method_and_malformed_json(standin: SlackStandIn, client: WebClient) -> None:
    error = slack_error(client.api_call, "chat.postMessagee")
    assert error.response.status_code == 404
    assert error.response["error"] == "unknown_method"

    status, answer = raw_post(
        f"{standin.url}chat.postMessage",
        b'{"channel": "C0GENERAL", "text": ',
        {"Content-Type": "application/json", "Authorization": f"Bearer {standin.bot_token}"},
    )
    assert (status, answer) == (200, {"ok": False, "error": "invalid_json"})
    assert "C0GENERAL" not in standin.messages


# -- files ----------------------------------------------------------------------------------


def test_files_upload_v2_end_to_end(standin: SlackStandIn, client: WebClient) -> None:
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    response = client.files_upload_v2(
        channel="C0GENERAL",
        content=data,
        filename="adoption.png",
        title="Adoption this week",
        initial_comment="Week 3",
    )

    file_id = response["file"]["id"]
    assert response["file"]["mimetype"] == "image/png"
    assert response["file"]["size"] == len(data)
    assert response["file"]["title"] == "Adoption this week"
    assert standin.uploads[file_id] == {
        "filename": "adoption.png",
        "title": "Adoption this week",
        "bytes": data,
        "channel_id": "C0GENERAL",
        "channels": ["C0GENERAL"],
        "initial_comment": "Week 3",
        "thread_ts": None,
        "alt_txt": None,
    }
    methods = [call.method for call in standin.calls]
    assert methods == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    get_url, upload, complete = standin.calls
    assert get_url.params == {"filename": "adoption.png", "length": str(len(data))}
    assert "authorization" not in upload.headers and upload.response is None
    assert complete.params["files"] == [{"id": file_id, "title": "Adoption this week"}]
    assert client.files_info(file=file_id)["file"]["name"] == "adoption.png"


def test_files_upload_v2_errors(standin: SlackStandIn, client: WebClient) -> None:
    error = slack_error(client.files_upload_v2, channel="C0OUTSIDE", content=b"x", filename="a.txt")
    assert error.response["error"] == "not_in_channel"
    assert standin.uploads == {}
    error = slack_error(client.files_completeUploadExternal, files=[{"id": "F404", "title": "x"}])
    assert error.response["error"] == "file_not_found"
    # A failed upload POST is not a SlackApiError: slack_sdk lets urllib's HTTPError escape.
    standin.fail("upload", status=500)
    with pytest.raises(urllib.error.HTTPError) as caught:
        client.files_upload_v2(channel="C0GENERAL", content=b"x", filename="a.txt")
    assert caught.value.code == 500
    caught.value.close()  # slack_sdk leaves the failed upload's response open
    assert [call.status for call in standin.calls_to("upload")] == [200, 500]
    assert len(standin.calls_to("files.completeUploadExternal")) == 2  # none after the failure


# -- files people share in their DM with the app -------------------------------------------

EXPORT = b"user_id,day,prompts\nU0ALICE,2024-05-01,12\nU0BOB,2024-05-01,3\n"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_share_file_in_dm_returns_the_file_share_event(
    standin: SlackStandIn, client: WebClient
) -> None:
    event = standin.share_file_in_dm("U0ALICE", "usage-may.csv", EXPORT, text="May's export")

    [shared] = event.pop("files")
    assert TS_PATTERN.match(event["ts"]) and event["event_ts"] == event["ts"]
    blocks = event.pop("blocks")
    assert blocks[0]["type"] == "rich_text"
    assert blocks[0]["elements"][0]["elements"] == [{"type": "text", "text": "May's export"}]
    assert event.pop("client_msg_id")
    assert event == {
        "type": "message",
        "subtype": "file_share",
        "user": "U0ALICE",
        "channel": "D0ALICE",
        "channel_type": "im",
        "text": "May's export",
        "upload": True,
        "display_as_bot": False,
        "ts": event["ts"],
        "event_ts": event["ts"],
    }
    file_id = shared["id"]
    base = f"{standin.url.removesuffix('api/')}files-pri/{standin.team_id}-{file_id}"
    assert shared["url_private"] == f"{base}/usage-may.csv"
    assert shared["url_private_download"] == f"{base}/download/usage-may.csv"
    assert {key: shared[key] for key in ("name", "title", "mimetype", "filetype", "size")} == {
        "name": "usage-may.csv",
        "title": "usage-may.csv",
        "mimetype": "text/csv",
        "filetype": "csv",
        "size": len(EXPORT),
    }
    assert (shared["user"], shared["mode"], shared["is_public"]) == ("U0ALICE", "hosted", False)
    assert shared["file_access"] == "visible"
    # Where a file was shared is for files.info; message events leave it out.
    assert not {"shares", "channels", "ims", "alt_txt"} & set(shared)

    # The message is in the DM, as conversations.history shows it.
    [message] = client.conversations_history(channel="D0ALICE")["messages"]
    assert message["ts"] == event["ts"] and message["subtype"] == "file_share"
    assert message["files"] == [shared] and message["user"] == "U0ALICE"
    assert client.conversations_open(users="U0ALICE")["already_open"] is True

    # No words: text is empty and there are no blocks. Other files are typed by name/content.
    bare = standin.share_file_in_dm("U0BOB", "usage.ndjson", b'{"user_id": "U0BOB"}\n')
    assert bare["text"] == "" and "blocks" not in bare and bare["channel"] == "D0BOB"
    assert (bare["files"][0]["filetype"], bare["files"][0]["mimetype"]) == ("text", "text/plain")
    forced = standin.share_file_in_dm("U0BOB", "usage.ndjson", b"{}\n", filetype="json")
    assert (forced["files"][0]["filetype"], forced["files"][0]["pretty_type"]) == ("json", "JSON")
    binary = standin.share_file_in_dm("U0BOB", "usage.bin", b"\x00\xff\x10")
    assert binary["files"][0]["filetype"] == "binary"
    assert binary["files"][0]["mimetype"] == "application/octet-stream"
    assert len({bare["files"][0]["id"], forced["files"][0]["id"], file_id}) == 3

    for user, error in [
        ("U0NOBODY", "user_not_found"),
        ("U0GONE", "account_inactive"),
        ("U0OTHERBOT", "cannot_dm_bot"),
        (standin.bot_user_id, "cannot_dm_bot"),
    ]:
        with pytest.raises(ValueError, match=error):
            standin.share_file_in_dm(user, "a.csv", b"x")
    assert standin.calls_to("files.download") == []


def test_shared_file_downloads_only_with_the_bot_token(standin: SlackStandIn) -> None:
    shared = standin.share_file_in_dm("U0ALICE", "usage-may.csv", EXPORT)["files"][0]

    with httpx.Client(timeout=5) as http:
        answer = http.get(shared["url_private_download"], headers=bearer(standin.bot_token))
        assert (answer.status_code, answer.content) == (200, EXPORT)
        assert answer.headers["content-type"] == "text/csv"
        assert answer.headers["content-disposition"].startswith("attachment;")
        answer = http.get(shared["url_private"], headers=bearer(standin.bot_token))
        assert (answer.status_code, answer.content) == (200, EXPORT)
        assert "content-disposition" not in answer.headers

        # Slack's classic pitfall: no (usable) token is not an error status but a sign-in page.
        for headers in ({}, bearer("xoxb-wrong"), bearer(standin.app_token)):
            answer = http.get(shared["url_private_download"], headers=headers)
            assert answer.status_code == 200
            assert answer.headers["content-type"].startswith("text/html")
            assert b"Sign in" in answer.content and EXPORT not in answer.content

        # Downloads need files:read too; a workspace that installed the app before lacks it.
        standin.scopes.remove("files:read")
        answer = http.get(shared["url_private_download"], headers=bearer(standin.bot_token))
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
        standin.scopes.append("files:read")

        missing = shared["url_private_download"].replace(shared["id"], "F0MISSING")
        assert http.get(missing, headers=bearer(standin.bot_token)).status_code == 404
        standin.fail("files.download", status=503)
        assert http.get(shared["url_private"], headers=bearer(standin.bot_token)).status_code == 503

    # urllib (what slack_sdk uses) sees the same.
    request = urllib.request.Request(shared["url_private_download"])
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200 and response.headers.get_content_type() == "text/html"
    request = urllib.request.Request(
        shared["url_private_download"], headers=bearer(standin.bot_token)
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.read() == EXPORT

    # Every GET is recorded; only real downloads count as sent.
    downloads = standin.calls_to("files.download")
    assert [(call.params["authorized"], call.status) for call in downloads] == [
        (True, 200),
        (True, 200),
        (False, 200),
        (False, 200),
        (False, 200),
        (False, 200),
        (True, 404),
        (False, 503),
        (False, 200),
        (True, 200),
    ]
    assert downloads[0].params == {
        "file_id": shared["id"],
        "download": True,
        "authorized": True,
        "length": len(EXPORT),
    }
    assert downloads[0].headers["authorization"] == f"Bearer {standin.bot_token}"
    assert downloads[1].params["download"] is False
    assert downloads[0].path.endswith("/download/usage-may.csv")
    assert standin.sent_count("files.download") == 3
    assert len(standin.wait_for("files.download", 3, where=lambda c: c.params["authorized"])) == 4


def test_files_info_for_a_shared_file_needs_files_read(
    standin: SlackStandIn, client: WebClient
) -> None:
    event = standin.share_file_in_dm("U0ALICE", "usage-may.csv", EXPORT, text="May")
    shared = event["files"][0]

    info = client.files_info(file=shared["id"])
    assert info["comments"] == []
    described = info["file"]
    assert {key: described[key] for key in shared} == shared
    assert described["ims"] == ["D0ALICE"] and described["channels"] == []
    assert described["shares"]["private"]["D0ALICE"][0]["ts"] == event["ts"]
    headers = {name.lower(): value for name, value in info.headers.items()}
    assert "files:read" in headers["x-oauth-scopes"].split(",")
    error = slack_error(client.files_info, file="F0NOPE")
    assert error.response["error"] == "file_not_found"

    standin.scopes.remove("files:read")
    error = slack_error(client.files_info, file=shared["id"])
    assert error.response["error"] == "missing_scope"
    assert error.response["needed"] == "files:read"
    assert "files:read" not in error.response["provided"].split(",")


def test_files_delete_only_the_apps_own_files(standin: SlackStandIn, client: WebClient) -> None:
    shared = standin.share_file_in_dm("U0ALICE", "usage-may.csv", EXPORT)["files"][0]
    error = slack_error(client.files_delete, file=shared["id"])
    assert error.response["error"] == "cant_delete_file"
    assert client.files_info(file=shared["id"])["file"]["user"] == "U0ALICE"

    # What the app uploaded is downloadable the same way, and the app may delete it.
    own = client.files_upload_v2(
        channel="C0GENERAL", content=b"week,rate\n1,0.5\n", filename="a.csv"
    )
    own_id = own["file"]["id"]
    with httpx.Client(timeout=5) as http:
        url = own["file"]["url_private_download"]
        assert http.get(url, headers=bearer(standin.bot_token)).content == b"week,rate\n1,0.5\n"
        assert client.files_delete(file=own_id)["ok"] is True
        assert http.get(url, headers=bearer(standin.bot_token)).status_code == 404
    for call in (client.files_info, client.files_delete):
        assert slack_error(call, file=own_id).response["error"] == "file_deleted"
    assert slack_error(client.files_delete, file="F0NOPE").response["error"] == "file_not_found"


def test_emails_need_users_read_email(standin: SlackStandIn, client: WebClient) -> None:
    alice_email = standin.users["U0ALICE"]["profile"]["email"]
    assert client.users_info(user="U0ALICE")["user"]["profile"]["email"] == alice_email
    listed = {user["id"]: user for user in client.users_list()["members"]}
    assert listed["U0BOB"]["profile"]["email"] == standin.users["U0BOB"]["profile"]["email"]
    assert "email" not in listed[standin.bot_user_id]["profile"]  # bots have none
    found = client.users_lookupByEmail(email=alice_email.upper())["user"]
    assert found["id"] == "U0ALICE" and found["profile"]["email"] == alice_email
    error = slack_error(client.users_lookupByEmail, email="nobody@example.com")
    assert error.response["error"] == "users_not_found"

    # Without the scope Slack leaves the field out (no error), and refuses lookups by email.
    standin.scopes.remove("users:read.email")
    alice = client.users_info(user="U0ALICE")["user"]
    assert "email" not in alice["profile"] and alice["profile"]["real_name"] == "Alice Example"
    assert all("email" not in user["profile"] for user in client.users_list()["members"])
    error = slack_error(client.users_lookupByEmail, email=alice_email)
    assert (error.response["error"], error.response["needed"]) == (
        "missing_scope",
        "users:read.email",
    )
    # The workspace still knows the address; only the app's answers change.
    assert standin.users["U0ALICE"]["profile"]["email"] == alice_email


def test_bolt_app_fetches_a_file_shared_in_its_dm(standin: SlackStandIn) -> None:
    app = App(
        token=standin.bot_token,
        client=WebClient(base_url=standin.url, token=standin.bot_token),
        signing_secret="x",
        token_verification_enabled=False,
    )
    fetched: queue.Queue[tuple[dict, bytes, str]] = queue.Queue()

    @app.event({"type": "message", "subtype": "file_share"})
    def on_file(event: dict, client: WebClient) -> None:
        [shared] = event["files"]
        answer = httpx.get(shared["url_private_download"], headers=bearer(client.token or ""))
        fetched.put((event, answer.content, answer.headers["content-type"]))

    handler = SocketModeHandler(app, app_token=standin.app_token)
    try:
        handler.connect()
        standin.wait_socket_connected(5)
        event = standin.share_file_in_dm("U0ALICE", "usage-may.csv", EXPORT)
        assert standin.socket_send("events_api", standin.event_payload(event)) == {}
        seen, content, content_type = fetched.get(timeout=5)
        assert seen == event
        assert (content, content_type) == (EXPORT, "text/csv")
        [download] = standin.wait_for("files.download")
        assert download.params["authorized"] is True
    finally:
        handler.close()


# -- recording ------------------------------------------------------------------------------


def test_response_url_posts_are_recorded(standin: SlackStandIn) -> None:
    url = standin.response_url("cmd-1")
    assert url.startswith(standin.url.removesuffix("api/"))
    answer = WebhookClient(url).send(text="Done", replace_original=True)
    assert answer.status_code == 200

    [call] = standin.wait_for("response_url")
    assert call.params == {"text": "Done", "replace_original": True}
    assert call.path.endswith("/cmd-1")
    assert standin.responses == [{"text": "Done", "replace_original": True}]
    assert standin.response_url() != standin.response_url()


def test_wait_for_blocks_until_calls_arrive(standin: SlackStandIn, client: WebClient) -> None:
    timer = threading.Timer(0.2, lambda: client.chat_postMessage(channel="U0BOB", text="late"))
    timer.start()
    started = time.monotonic()
    [call] = standin.wait_for(
        "chat.postMessage", timeout=3, where=lambda c: c.params.get("text") == "late"
    )
    assert 0.15 < time.monotonic() - started < 2
    assert isinstance(call, Call) and call.status == 200
    timer.join()


def test_wait_for_timeout_names_method_and_counts(standin: SlackStandIn, client: WebClient) -> None:
    client.chat_postMessage(channel="C0GENERAL", text="one")
    started = time.monotonic()
    with pytest.raises(AssertionError) as caught:
        standin.wait_for("chat.postMessage", 2, timeout=0.3)
    message = str(caught.value)
    assert "'chat.postMessage'" in message
    assert "2 call(s)" in message and "saw 1" in message
    assert 0.3 <= time.monotonic() - started < 2


def test_sent_count_without_recording_and_clear(client: WebClient) -> None:
    with SlackStandIn(record_calls=False) as quiet:
        quiet.add_channel("C1", name="bench")
        web = WebClient(base_url=quiet.url, token=quiet.bot_token, retry_handlers=[])
        for index in range(5):
            web.chat_postMessage(channel="C1", text=str(index))
        with pytest.raises(SlackApiError):
            web.chat_postMessage(channel="C404", text="x")
        assert quiet.sent_count("chat.postMessage") == 5
        assert quiet.calls == []
        with pytest.raises(AssertionError, match="record_calls"):
            quiet.wait_for("chat.postMessage")
        quiet.clear()
        assert quiet.sent_count("chat.postMessage") == 0
        assert len(quiet.messages["C1"]) == 5  # workspace content survives clear()


# -- Socket Mode ----------------------------------------------------------------------------


def test_socket_mode_with_builtin_client(standin: SlackStandIn) -> None:
    raw_messages: list[dict] = []
    greeted = threading.Event()

    def on_message(message: str) -> None:
        raw_messages.append(json.loads(message))
        greeted.set()

    def on_request(sm_client: SocketModeClient, request: SocketModeRequest) -> None:
        if request.type == "interactive":
            return  # never acked: socket_send must time out with None
        payload = {"echo": request.payload["n"]} if request.type == "slash_commands" else None
        sm_client.send_socket_mode_response(SocketModeResponse(request.envelope_id, payload))

    web = WebClient(base_url=standin.url, token=standin.bot_token)
    sm_client = SocketModeClient(
        app_token=standin.app_token, web_client=web, on_message_listeners=[on_message]
    )
    sm_client.socket_mode_request_listeners.append(on_request)
    try:
        sm_client.connect()
        assert standin.wait_socket_connected(5) is True
        assert greeted.wait(5)
        assert raw_messages[0]["type"] == "hello"
        [opened] = standin.calls_to("apps.connections.open")
        assert opened.response is not None and opened.response["url"].startswith("ws://")

        assert standin.socket_send("slash_commands", {"n": 1}) == {"echo": 1}
        assert standin.socket_send("events_api", standin.event_payload({"type": "x"})) == {}
        assert standin.socket_send("interactive", {"n": 2}, timeout=0.3) is None
        envelope = raw_messages[-1]
        assert envelope["type"] == "interactive" and envelope["accepts_response_payload"] is True
    finally:
        sm_client.close()


def test_bolt_slash_command_over_socket_mode(standin: SlackStandIn) -> None:
    app = App(
        token=standin.bot_token,
        client=WebClient(base_url=standin.url, token=standin.bot_token),
        signing_secret="x",
        token_verification_enabled=False,
    )

    @app.command("/pulse")
    def pulse(ack, command, client, respond) -> None:  # type: ignore[no-untyped-def]
        ack(f"Checking {command['text']}...")
        client.chat_postMessage(channel=command["user_id"], text="Your pulse is ready")
        respond("Sent you a DM")

    handler = SocketModeHandler(app, app_token=standin.app_token)
    try:
        handler.connect()
        standin.wait_socket_connected(5)
        payload = standin.slash_command_payload(
            "/pulse", "status", user_id="U0ALICE", channel_id="C0GENERAL"
        )
        ack = standin.socket_send("slash_commands", payload)
        assert ack == {"text": "Checking status..."}

        [posted] = standin.wait_for("chat.postMessage")
        assert posted.status == 200 and posted.params["channel"] == "U0ALICE"
        assert standin.messages["D0ALICE"][0]["text"] == "Your pulse is ready"
        [responded] = standin.wait_for("response_url")
        assert responded.params["text"] == "Sent you a DM"
        assert standin.calls_to("auth.test"), "Bolt authorizes with auth.test on first request"
    finally:
        handler.close()


def test_stop_closes_the_websocket_server() -> None:
    standin = SlackStandIn().start()
    web = WebClient(base_url=standin.url, token=standin.bot_token)
    closed = threading.Event()
    sm_client = SocketModeClient(
        app_token=standin.app_token,
        web_client=web,
        auto_reconnect_enabled=False,
        on_close_listeners=[lambda code, reason: closed.set()],
    )
    try:
        sm_client.connect()
        standin.wait_socket_connected(5)
        ws_port = int(standin.start_socket_mode().rsplit(":", 1)[1].split("/")[0])
        started = time.monotonic()
        standin.stop()
        assert time.monotonic() - started < 3
        assert closed.wait(3), "the client saw the close frame"
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", ws_port), timeout=1).close()
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{standin.port}/api/auth.test", timeout=1)
    finally:
        sm_client.close()
        standin.stop()


def test_socket_rejects_unissued_tickets(standin: SlackStandIn) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    base = standin.start_socket_mode()
    with pytest.raises(InvalidStatus) as caught:
        connect(f"{base}?ticket=made-up", open_timeout=3)
    assert caught.value.response.status_code == 401


# -- command line ---------------------------------------------------------------------------


def test_command_line_serves_until_sigterm() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot.devkit.slack_standin",
            "--users",
            "3",
            "--rate",
            "users.list=1",
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/", url), url
        web = WebClient(base_url=url, token="xoxb-standin-token", retry_handlers=[])
        members = web.users_list()["members"]
        assert sorted(m["id"] for m in members) == [
            "U00000001",
            "U00000002",
            "U00000003",
            "U0PULSEBOT",
        ]
        assert slack_error(web.users_list).response.status_code == 429
        assert web.conversations_members(channel="C0GENERAL")["members"][:3] == [
            "U00000001",
            "U00000002",
            "U00000003",
        ]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_importing_needs_only_the_standard_library() -> None:
    code = (
        "import sys, bot.devkit.slack_standin; "
        "loaded = {m.split('.')[0] for m in sys.modules}; "
        "print(sorted(loaded & {'websockets', 'slack_sdk', 'slack_bolt'}))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert output.stdout.strip() == "[]"
