"""Hostile input: every kind of payload the app accepts, taken from what the app really sent
through the Slack stand-in and mutated by Hypothesis, sent Slack-signed over HTTP to the real
app. Whatever it holds, the app never answers with a 5xx, never changes anyone else's data and
never logs an unhandled exception. Also: bodies over the limit get 413 before any work;
unsigned, stale or tampered requests change nothing; the Events API de-dup table is pruned."""

from __future__ import annotations

import copy
import itertools
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlmodel import select

from bot.checkins.event import already_handled, mark_handled, prune_handled
from bot.devkit.slack_requests import SlackSender
from bot.devkit.slack_standin import SlackStandIn
from bot.outreach.sending import send_checkins, send_pulse
from bot.pilots.pilot import PilotSpec, create_pilot
from bot.runtime.deps import Deps
from bot.runtime.jobs import retention_job
from bot.runtime.server import MAX_BODY_BYTES
from storage import Database
from storage.models import SlackEvent
from tests.conftest import RunningApp
from tests.pulse_helpers import dm_channel, make_pilot, send

# Each property runs this many examples on SQLite and fewer on PostgreSQL (slower per request,
# and the same code paths): the whole file stays well under a minute on two cores.
EXAMPLES = {"sqlite": 80, "postgresql": 30}
# People who act in the generated requests. None of them has a role in pilot "alpha"; the
# champion of "beta" tries to reach alpha; the stranger is in no pilot.
ACTORS = ("U0PERSON1", "U0STRANGER", "U0CHAMPB")
# Everyone the generated values may name (alpha's admin and champion are left out of the
# people who act, so that the scene keeps a live pilot; their rows are still guarded).
PEOPLE = (*ACTORS, "U0PERSON2", "U0PERSON3", "U0PERSON6", "U0B1", "U0NOBODY", "U0GONE")
# Slack's plumbing: the URL the app answers on and the modal trigger. Only Slack can sign a
# request, and it always sends these, well formed; everything else of a payload is mutated.
PLUMBING = {"response_url", "trigger_id"}


def _settings(db: str, **kwargs: Any) -> Any:
    return settings(
        max_examples=EXAMPLES[db],
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        **kwargs,
    )


def _backend(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


# -- the app at rest ----------------------------------------------------------------------------


class CountingExecutor(ThreadPoolExecutor):
    """A thread pool that knows how much work it holds, so a test can wait until the work a
    request left behind (after the ack) is done before looking at the database."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._count_lock = threading.Lock()
        self.in_flight = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:
        with self._count_lock:
            self.in_flight += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future) -> None:
        with self._count_lock:
            self.in_flight -= 1


def _count_work(deps: Deps) -> None:
    for name in ("executor", "slow_executor"):
        old: ThreadPoolExecutor = getattr(deps, name)
        setattr(deps, name, CountingExecutor(max_workers=old._max_workers))
        old.shutdown(wait=True)


def settle(deps: Deps, timeout: float = 20) -> None:
    """Wait until no work after an ack is queued, running or waiting on the timer."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 3:
        busy = (
            deps.executor.in_flight  # type: ignore[attr-defined]
            or deps.slow_executor.in_flight  # type: ignore[attr-defined]
            or deps.delayed._queue
        )
        quiet = 0 if busy else quiet + 1
        if time.monotonic() > deadline:
            raise AssertionError("the work after the ack did not finish")
        time.sleep(0.005)


class Errors(logging.Handler):
    """Every record at ERROR or above, from any logger."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[str]:
        taken, self.records = self.records, []
        return [
            f"{r.name}: {r.getMessage()}"
            + (f"\n{logging.Formatter().formatException(r.exc_info)}" if r.exc_info else "")
            for r in taken
        ]


@pytest.fixture
def errors() -> Iterator[Errors]:
    handler = Errors()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


# -- whose rows are whose ---------------------------------------------------------------------

# Each table's rows with the pilot they belong to and the person they are about (NULL: the
# pilot's own). Rows of the person acting, and of a pilot they run, may change; no other may.
_ROWS = {
    "pilot": "SELECT t.*, t.id AS _pilot, NULL AS _person FROM pilot t",
    "participant": "SELECT t.*, t.pilot_id AS _pilot, t.slack_user_id AS _person"
    " FROM participant t",
    "question_set": "SELECT t.*, t.pilot_id AS _pilot, NULL AS _person FROM question_set t",
    "question": "SELECT t.*, s.pilot_id AS _pilot, NULL AS _person FROM question t"
    " JOIN question_set s ON s.id = t.question_set_id",
    "round": "SELECT t.*, t.pilot_id AS _pilot, NULL AS _person FROM round t",
    "delivery": "SELECT t.*, r.pilot_id AS _pilot, p.slack_user_id AS _person FROM delivery t"
    " JOIN round r ON r.id = t.round_id JOIN participant p ON p.id = t.participant_id",
    "answer": "SELECT t.*, r.pilot_id AS _pilot, p.slack_user_id AS _person FROM answer t"
    " JOIN round r ON r.id = t.round_id JOIN delivery d ON d.id = t.delivery_id"
    " JOIN participant p ON p.id = d.participant_id",
    "checkin": "SELECT t.*, p.pilot_id AS _pilot, p.slack_user_id AS _person FROM checkin t"
    " JOIN participant p ON p.id = t.participant_id",
    "checkin_message": "SELECT t.*, p.pilot_id AS _pilot, p.slack_user_id AS _person"
    " FROM checkin_message t JOIN checkin c ON c.id = t.checkin_id"
    " JOIN participant p ON p.id = c.participant_id",
    "analysis": "SELECT t.*, p.pilot_id AS _pilot, p.slack_user_id AS _person FROM analysis t"
    " JOIN participant p ON p.id = t.participant_id",
    "analysis_theme": "SELECT t.*, p.pilot_id AS _pilot, p.slack_user_id AS _person"
    " FROM analysis_theme t JOIN analysis a ON a.id = t.analysis_id"
    " JOIN participant p ON p.id = a.participant_id",
    "goal": "SELECT t.*, t.pilot_id AS _pilot, NULL AS _person FROM goal t",
    "period_snapshot": "SELECT t.*, t.pilot_id AS _pilot, NULL AS _person FROM period_snapshot t",
    "digest": "SELECT t.*, t.pilot_id AS _pilot, NULL AS _person FROM digest t",
    "usage_day": "SELECT t.*, t.pilot_id AS _pilot, p.slack_user_id AS _person FROM usage_day t"
    " JOIN participant p ON p.id = t.participant_id",
}


def everything(db: Database) -> dict[str, set[tuple]]:
    """Every row of every table a person's data lives in, as comparable tuples."""
    rows: dict[str, set[tuple]] = {}
    with db.engine.connect() as conn:
        for table, query in _ROWS.items():
            rows[table] = {
                tuple(sorted((k, repr(v)) for k, v in row._mapping.items()))
                for row in conn.execute(text(query))
            }
    return rows


def others(db: Database, actor: str | None) -> dict[str, set[tuple]]:
    """The rows that `actor` may not change: other people's, in pilots they do not run."""
    with db.engine.connect() as conn:
        runs = {
            repr(pilot_id)
            for (pilot_id,) in conn.execute(
                text(
                    "SELECT pilot_id FROM participant WHERE slack_user_id = :actor"
                    " AND role IN ('champion', 'admin')"
                ),
                {"actor": actor or ""},
            )
        }
    guarded: dict[str, set[tuple]] = {}
    for table, rows in everything(db).items():
        guarded[table] = {
            row
            for row in rows
            if dict(row)["_pilot"] not in runs and dict(row)["_person"] != repr(actor)
        }
    return guarded


def changed(before: dict[str, set[tuple]], after: dict[str, set[tuple]]) -> dict[str, Any]:
    return {
        table: {"gone": before[table] - after[table], "new": after[table] - before[table]}
        for table in before
        if before[table] != after[table]
    }


# -- the scene: two pilots, a pulse and a check-in out, real messages and views ---------------


@dataclass
class Scene:
    """Real payloads, as Slack would send them back to the app, and the ids they name."""

    actions: list[dict] = field(default_factory=list)
    views: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    others: list[dict] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    strings: list[str] = field(default_factory=list)


def _elements(blocks: Any) -> Iterator[tuple[str, dict]]:
    for block in blocks or []:
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("action_id"):
                yield block.get("block_id", ""), element
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and accessory.get("action_id"):
            yield block.get("block_id", ""), accessory


def _click(slack: SlackStandIn, block_id: str, element: dict, where: dict) -> dict:
    """The block_actions payload Slack sends when someone clicks `element`."""
    action = {
        "action_id": element["action_id"],
        "block_id": block_id,
        "type": element.get("type", "button"),
        "action_ts": f"{time.time():.6f}",
    }
    if "value" in element:
        action["value"] = element["value"]
    if "text" in element:
        action["text"] = element["text"]
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": "U0PERSON1", "username": "person1", "team_id": slack.team_id},
        "api_app_id": slack.app_id,
        "token": "standin-verification-token",
        "team": {"id": slack.team_id, "domain": "standin"},
        "trigger_id": slack.new_trigger_id(),
        "actions": [action],
        **where,
    }
    if "view" not in where:
        # Slack gives a response_url to clicks in messages; a Home tab's have none.
        payload["response_url"] = slack.response_url("hostile")
    return payload


# What someone types in the set-up form's text inputs when they are empty.
_TYPED = {"setup_name": "gamma", "setup_tool": "Cursor", "setup_holidays": None}


def _fill(view: dict) -> dict[str, Any]:
    """`state.values` as Slack sends them for `view` filled in plausibly: initial values kept,
    the rest given something of the element's type."""
    values: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block["element"]
        kind = element["type"]
        state: dict[str, Any] = {"type": kind}
        if kind == "plain_text_input":
            state["value"] = element.get("initial_value") or _TYPED.get(
                block["block_id"], "It helped with the hard tickets"
            )
        elif kind == "number_input":
            state["value"] = element.get("initial_value") or "5"
        elif kind in ("static_select", "radio_buttons"):
            state["selected_option"] = element.get("initial_option") or element["options"][0]
        elif kind == "checkboxes":
            state["selected_options"] = element.get("initial_options") or element["options"][:2]
        elif kind == "timepicker":
            state["selected_time"] = element.get("initial_time") or "09:30"
        elif kind == "multi_users_select":
            state["selected_users"] = element.get("initial_users") or ["U0PERSON2", "U0B1"]
        elif kind == "multi_conversations_select":
            state["selected_conversations"] = element.get("initial_conversations") or ["C0TEAM"]
        elif kind == "conversations_select":
            state["selected_conversation"] = element.get("initial_conversation") or "C0LEADERS"
        values[block["block_id"]] = {element["action_id"]: state}
    return values


def _submission(slack: SlackStandIn, view: dict) -> dict:
    submitted = copy.deepcopy(view)
    submitted["state"] = {"values": _fill(view)}
    return {
        "type": "view_submission",
        "team": {"id": slack.team_id, "domain": "standin"},
        "user": {"id": "U0PERSON1", "username": "person1", "team_id": slack.team_id},
        "api_app_id": slack.app_id,
        "token": "standin-verification-token",
        "trigger_id": slack.new_trigger_id(),
        "view": submitted,
        "response_urls": [],
    }


def build_scene(app: RunningApp, slack: SlackStandIn, sender: SlackSender) -> Scene:
    """Two pilots with their pulse and check-in out, someone's answer, someone's pause, the Home
    tabs and /pilot-status of the people who run them, and the modals they open; the payloads
    Slack would send back for every button and view of them."""
    deps = app.deps
    slack.add_user("U0STRANGER", real_name="Sam Stranger", tz="Europe/London")
    slack.add_user("U0CHAMPB", real_name="Bea Champion", tz="Europe/London")
    slack.add_user("U0ADMIN", real_name="Avery Admin", tz="Europe/London")
    for index in range(1, 4):
        slack.add_user(f"U0B{index}", real_name=f"Beta Person{index}", tz="America/New_York")
    slack.add_user("U0NEWBIE", real_name="Noor Newbie", tz="Europe/London")
    slack.add_channel("C0BETA", name="beta-team", members=["U0CHAMPB", slack.bot_user_id])
    create_pilot(
        deps.db,
        deps.client,
        PilotSpec(
            name="alpha",
            tool="Copilot",
            leadership_channel="C0LEADERS",
            members_from_channel="C0TEAM",
            champions=("U0CHAMPION",),
            admins=("U0ADMIN",),
            min_group_size=3,
        ),
    )
    create_pilot(
        deps.db,
        deps.client,
        PilotSpec(
            name="beta",
            tool="Claude",
            leadership_channel="C0LEADERS",
            members=("U0PERSON1", "U0PERSON2", "U0B1", "U0B2", "U0B3"),
            members_from_channel="C0BETA",
            champions=("U0CHAMPB",),
            admins=("U0CHAMPB", "U0ADMIN"),
            min_group_size=3,
        ),
    )
    for name in ("alpha", "beta"):
        for send_round in (send_pulse, send_checkins):
            send_round(
                deps.db, deps.sending_client, name, now=deps.clock(), options=deps.send_options
            )
    settle(deps)
    scene = Scene()
    # The pulse DMs: everyone's buttons, so that one person may press another's.
    for channel, messages in list(slack.messages.items()):
        for message in messages:
            for block_id, element in _elements(message.get("blocks")):
                where = {
                    "container": {
                        "type": "message",
                        "message_ts": message["ts"],
                        "channel_id": channel,
                        "is_ephemeral": False,
                    },
                    "channel": {"id": channel, "name": "directmessage"},
                    "message": message,
                }
                scene.actions.append(_click(slack, block_id, element, where))
    # Someone answers (which opens the pulse modal for them) and someone else pauses, so that
    # there is data to guard and there are modals to send back.
    opened: list[tuple[str, dict]] = []
    for payload in list(scene.actions):
        user = payload["container"]["channel_id"].replace("D", "U", 1)
        action = payload["actions"][0]["action_id"]
        if (user, action) in {
            ("U0PERSON1", "pulse_answer_1"),
            ("U0PERSON2", "pulse_answer_2"),
            ("U0PERSON3", "pulse_pause"),
        }:
            assert sender.interaction({**payload, "user": {"id": user}}).status_code == 200
            settle(deps)
            if action.startswith("pulse_answer"):
                opened.append((user, slack.calls_to("views.open")[-1].params["view"]))
    sender.event(
        {
            "type": "message",
            "channel_type": "im",
            "channel": dm_channel("U0PERSON2"),
            "user": "U0PERSON2",
            "text": "It saved me an hour on the release notes",
            "ts": "1764000000.000100",
        }
    )
    # The Home tabs and /pilot-status of those who run the pilots, and of a member.
    for user in ("U0ADMIN", "U0CHAMPB", "U0PERSON1"):
        sender.event({"type": "app_home_opened", "user": user, "channel": "D0X", "tab": "home"})
        sender.command(user, "")
        sender.command(user, "alpha")
    settle(deps)
    for home in slack.home_views.values():
        for block_id, element in _elements(home.get("blocks")):
            where = {"container": {"type": "view", "view_id": home["id"]}, "view": home}
            scene.actions.append(_click(slack, block_id, element, where))
    for reply in slack.responses:
        for block_id, element in _elements(reply.get("blocks")):
            scene.actions.append(_click(slack, block_id, element, {}))
    for update in slack.calls_to("chat.update"):
        message = {"type": "message", **update.params}
        where = {
            "container": {
                "type": "message",
                "message_ts": update.params["ts"],
                "channel_id": update.params["channel"],
                "is_ephemeral": False,
            },
            "channel": {"id": update.params["channel"], "name": "directmessage"},
            "message": message,
        }
        for block_id, element in _elements(update.params.get("blocks")):
            scene.actions.append(_click(slack, block_id, element, where))
    # The set-up form, new and editing each pilot, as their admin opens it.
    for payload in list(scene.actions):
        if payload["actions"][0]["action_id"] in ("home_new_pilot", "home_edit_pilot"):
            sender.interaction({**payload, "user": {"id": "U0ADMIN"}})
            settle(deps)
            opened.append(("U0ADMIN", slack.calls_to("views.open")[-1].params["view"]))
    scene.views = [_submission(slack, view) for _, view in opened]
    assert {v["view"]["callback_id"] for v in scene.views} == {"pulse_modal", "pilot_setup"}
    # Sent back as they are, by whoever opened them, they are taken: the seeds are sound.
    for user, view in opened:
        if view["callback_id"] == "pulse_modal" or "beta" in view["private_metadata"]:
            response = sender.interaction(as_actor(_submission(slack, view), user))
            assert response.status_code == 200 and not response.content, response.text
    settle(deps)
    # Events, as the Events API sends them.
    for event in (
        {
            "type": "message",
            "channel_type": "im",
            "channel": dm_channel("U0PERSON1"),
            "user": "U0PERSON1",
            "text": "Mostly good, the setup was slow",
            "ts": "1764000100.000200",
            "client_msg_id": "6f1c2c4e",
        },
        {
            "type": "message",
            "channel_type": "im",
            "channel": dm_channel("U0PERSON1"),
            "user": "U0PERSON1",
            "text": "and one more thing",
            "ts": "1764000101.000300",
            "thread_ts": "1764000100.000200",
        },
        slack.share_file_in_dm(
            "U0CHAMPB",
            "usage.csv",
            b"date,user,active\n2026-01-05,U0B1,1\n",
            text="beta usage",
        ),
        {"type": "app_home_opened", "user": "U0PERSON1", "channel": "D0X", "tab": "home"},
        {"type": "app_home_opened", "user": "U0PERSON1", "channel": "D0X", "tab": "messages"},
        slack.member_joined_channel_event("U0NEWBIE", "C0BETA"),
        slack.member_joined_channel_event("U0PERSON1", "C0TEAM", inviter="U0ADMIN"),
        slack.member_left_channel_event("U0PERSON1", "C0TEAM"),
        {
            "type": "user_change",
            "user": {
                "id": "U0PERSON1",
                "name": "person1",
                "tz": "Asia/Tokyo",
                "tz_offset": 32400,
                "profile": {"real_name": "Ada Lovelace"},
            },
            "cache_ts": 1764000000,
        },
        {"type": "file_shared", "file_id": "F0123", "user_id": "U0PERSON1", "channel_id": "D0X"},
        {"type": "reaction_added", "user": "U0PERSON1", "reaction": "tada"},
    ):
        scene.events.append(slack.event_payload(event))
    # Payload types the app registers nothing for.
    scene.others += [
        {
            "type": "block_suggestion",
            "user": {"id": "U0PERSON1"},
            "action_id": "value",
            "block_id": "members_group",
            "value": "sup",
            "view": scene.views[0]["view"],
            "team": {"id": slack.team_id},
        },
        {"type": "view_closed", "user": {"id": "U0PERSON1"}, "view": scene.views[0]["view"]},
        {
            "type": "shortcut",
            "callback_id": "pilot_setup",
            "user": {"id": "U0PERSON1"},
            "trigger_id": slack.new_trigger_id(),
        },
    ]
    with deps.db.engine.connect() as conn:
        for table in ("delivery", "participant", "question", "round", "pilot"):
            scene.numbers += [i for (i,) in conn.execute(text(f"SELECT id FROM {table}"))]
    scene.strings = ["alpha", "beta", "ALPHA", "new", "me", *PEOPLE, "C0TEAM", "C0BETA"]
    return scene


# -- mutation -------------------------------------------------------------------------------


# What is only shown to people (a view's texts, a message's blocks, a button's confirmation):
# replaced or taken out whole, never mutated inside, so that mutations go where the app reads.
_SHOWN = {"message", "title", "close", "submit", "label", "hint", "placeholder", "text"}
_SHOWN |= {"confirm", "elements", "accessory", "element", "options", "authorizations"}
# A button's message and Home tab: the app reads no more of them than their type.
_READ_WHOLE = frozenset({"view", "message"})


def _paths(node: Any, path: tuple = (), opaque: frozenset = frozenset()) -> Iterator[tuple]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in PLUMBING:
                continue
            yield (*path, key)
            if key not in opaque and not (path and key in _SHOWN):
                yield from _paths(value, (*path, key), opaque)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*path, index)
            yield from _paths(value, (*path, index), opaque)


def _get(node: Any, path: tuple) -> Any:
    for step in path:
        node = node[step]
    return node


# Numbers as text that Python's int() and float() read in surprising ways, or not at all.
TRICKY_NUMBERS = ("²", "١٢", "１２", "1_0", " 7 ", "+3", "-1", "0x10", "1e3", "nan", "inf", "")


def hostile_values(scene: Scene) -> st.SearchStrategy[Any]:
    numbers = st.one_of(
        st.sampled_from(scene.numbers),
        st.sampled_from([0, -1, 2**31, 2**63, 10**30]),
        st.integers(),
    )
    return st.one_of(
        st.none(),
        st.booleans(),
        numbers,
        st.floats(),
        st.text(max_size=30),
        st.sampled_from(scene.strings),
        numbers.map(str),
        st.sampled_from(TRICKY_NUMBERS),
        st.builds(lambda n, c: c * n, st.integers(3_000, 150_000), st.sampled_from("xé💥\x00")),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=3),
    )


def _renumber(draw: st.DrawFn, value: Any, scene: Scene) -> Any:
    """Another id where the value holds one: a button's `12:3:4`, a subject's `d:12`, the
    JSON in a modal's private_metadata, a plain number."""
    numbers = st.one_of(st.sampled_from(scene.numbers), st.sampled_from([0, 2**31, 10**30]))
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return value
    if not isinstance(value, str):
        return draw(numbers)
    if draw(st.booleans()):
        numbers = st.one_of(numbers, st.sampled_from(TRICKY_NUMBERS))
    try:
        decoded = json.loads(value)
    except ValueError:
        decoded = None
    if isinstance(decoded, dict):
        key = draw(st.sampled_from(sorted(decoded) or ["delivery_id"]))
        decoded[key] = draw(st.one_of(numbers, st.sampled_from(scene.strings), st.none()))
        return json.dumps(decoded)
    return re.sub(r"\d+", lambda _m: str(draw(numbers)), value)


def _kind_of(payload: dict) -> str:
    if payload.get("type") == "block_actions":
        return re.sub(r"\d+$", "N", payload["actions"][0]["action_id"])
    if payload.get("type") == "view_submission":
        return payload["view"]["callback_id"] + payload["view"]["private_metadata"]
    if payload.get("type") == "event_callback":
        return payload["event"]["type"] + str(payload["event"].get("subtype"))
    return str(payload.get("type"))


@st.composite
def mutated(draw: st.DrawFn, seeds: list[dict], scene: Scene) -> dict:
    """A real payload, sent by one of `ACTORS`, with up to four things changed: a value
    replaced (another person's id, another pilot's name, a wrong type, a huge string), a key
    taken out, an id renumbered, a value wrapped in a list, a list repeated.

    Each kind of payload (a button's action_id, a modal, an event type) is as likely as any
    other, however many of it the scene holds."""
    kinds: dict[str, list[dict]] = {}
    for seed in seeds:
        kinds.setdefault(_kind_of(seed), []).append(seed)
    kind = draw(st.sampled_from(sorted(kinds)))
    payload = as_actor(draw(st.sampled_from(kinds[kind])), draw(st.sampled_from(ACTORS)))
    for _ in range(draw(st.integers(0, 4))):
        paths = list(_paths(payload, opaque=_READ_WHOLE if "actions" in payload else frozenset()))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, key = _get(payload, path[:-1]), path[-1]
        operation = draw(st.sampled_from(["replace", "delete", "renumber", "wrap", "repeat"]))
        if operation == "replace":
            parent[key] = draw(hostile_values(scene))
        elif operation == "delete":
            del parent[key]
        elif operation == "renumber":
            parent[key] = _renumber(draw, parent[key], scene)
        elif operation == "wrap":
            parent[key] = [parent[key]]
        elif isinstance(parent[key], list):
            parent[key] = parent[key] * draw(st.integers(2, 50))
    return payload


# -- sending and checking -------------------------------------------------------------------


_fresh = itertools.count(1)


def actor_of(payload: Any) -> str | None:
    """Who Slack says is acting: the person the request is about."""
    if not isinstance(payload, dict):
        return None
    if isinstance(payload.get("event"), dict):
        user = payload["event"].get("user")
        user = user.get("id") if isinstance(user, dict) else user
    elif "user_id" in payload:
        user = payload["user_id"]
    else:
        user = payload.get("user")
        user = user.get("id") if isinstance(user, dict) else None
    return user if isinstance(user, str) else None


def as_actor(payload: dict, actor: str) -> dict:
    """A copy of `payload` as `actor` sends it; an event gets an id and a time of its own, as
    Slack gives each event, so that it is not taken for a retry of the one it was made from."""
    payload = copy.deepcopy(payload)
    if isinstance(payload.get("event"), dict):
        event = payload["event"]
        if isinstance(event.get("user"), dict):
            event["user"]["id"] = actor
        elif "user" in event:
            event["user"] = actor
        payload["event_id"] = f"Ev{next(_fresh):010d}"
        if "ts" in event:
            event["ts"] = event["event_ts"] = f"{time.time():.6f}"
    elif "user_id" in payload:
        payload["user_id"] = actor
    else:
        payload["user"] = {"id": actor, "team_id": "T0STANDIN"}
    return payload


def post(sender: SlackSender, payload: dict, kind: str) -> httpx.Response:
    if kind == "event":
        return sender.post(json.dumps(payload), "application/json")
    if kind == "command":
        return sender.form({k: str(v) for k, v in payload.items()})
    return sender.interaction(payload)


def check(app: RunningApp, sender: SlackSender, errors: Errors, payload: dict, kind: str) -> None:
    """Send `payload` signed; no 5xx, nobody else's rows changed, no error logged."""
    deps = app.deps
    actor = actor_of(payload)
    before = others(deps.db, actor)
    response = post(sender, payload, kind)
    settle(deps)
    assert response.status_code < 500, (response.status_code, response.text)
    assert response.status_code in (200, 400, 404, 413), (response.status_code, response.text)
    difference = changed(before, others(deps.db, actor))
    assert not difference, f"{actor} changed someone else's data: {difference}"
    logged = errors.take()
    assert not logged, "\n".join(logged)


@pytest.fixture
def scene(
    app: RunningApp, slack: SlackStandIn, sender: SlackSender, errors: Errors
) -> Iterator[Scene]:
    _count_work(app.deps)
    built = build_scene(app, slack, sender)
    assert errors.take() == []
    yield built


# -- the properties -------------------------------------------------------------------------


def test_block_actions_of_any_shape_from_anyone(
    db_url: str, app: RunningApp, sender: SlackSender, scene: Scene, errors: Errors
) -> None:
    """Every button the app draws (pulse DMs, replies, Home tabs, /pilot-status), pressed by
    someone with no right to it, with its value, ids and shape mutated."""
    assert {p["actions"][0]["action_id"] for p in scene.actions} >= {
        "pulse_answer_0",
        "pulse_pause",
        "pulse_stop",
        "pulse_continue",
        "pulse_change",
        "pulse_resume",
        "own_data_erase",
        "home_new_pilot",
        "home_edit_pilot",
        "home_send_pulse",
        "home_send_digest",
        "home_end_pilot",
        "status_nudge",
        "status_pick_0",
    }

    @_settings(_backend(db_url))
    @given(payload=mutated(scene.actions + scene.others, scene))
    def prop(payload: dict) -> None:
        check(app, sender, errors, payload, "action")

    prop()


def test_view_submissions_of_any_shape_from_anyone(
    db_url: str, app: RunningApp, sender: SlackSender, scene: Scene, errors: Errors
) -> None:
    """The pulse modal (one's own and someone else's) and the set-up form (new, and editing
    each pilot), sent back with random state values and private_metadata."""

    @_settings(_backend(db_url))
    @given(payload=mutated(scene.views, scene))
    def prop(payload: dict) -> None:
        check(app, sender, errors, payload, "view")

    prop()


def test_events_of_any_shape(
    db_url: str, app: RunningApp, sender: SlackSender, scene: Scene, errors: Errors
) -> None:
    """Every event the app subscribes to (and some it does not), mutated."""

    @_settings(_backend(db_url))
    @given(payload=mutated(scene.events, scene))
    def prop(payload: dict) -> None:
        check(app, sender, errors, payload, "event")

    prop()


def test_pilot_status_with_any_text(
    db_url: str, app: RunningApp, slack: SlackStandIn, sender: SlackSender, scene: Scene, errors
) -> None:
    """`/pilot-status` with any text at all, and its other fields changed."""

    @_settings(_backend(db_url))
    @given(
        command_text=st.one_of(st.text(), st.sampled_from(scene.strings), st.just("alpha " * 2000)),
        actor=st.sampled_from(ACTORS),
        extra=st.dictionaries(
            st.sampled_from(["channel_id", "command", "team_id", "user_name", "api_app_id"]),
            st.text(max_size=40),
            max_size=2,
        ),
    )
    def prop(command_text: str, actor: str, extra: dict[str, str]) -> None:
        fields = slack.slash_command_payload(
            "/pilot-status", command_text, user_id=actor, channel_id="C0LEADERS"
        )
        check(app, sender, errors, {**fields, **extra}, "command")

    prop()


# -- replays --------------------------------------------------------------------------------


def test_a_click_that_is_unsigned_stale_or_tampered_changes_nothing(
    db_url: str, app: RunningApp, slack: SlackStandIn, sender: SlackSender, scene: Scene, errors
) -> None:
    """A real answer click, which would store an answer, sent with no signature, another
    request's, a timestamp over five minutes off, or a body changed after signing: 401, and
    not a row of the database changes, nor does the app call Slack."""
    own = next(
        p
        for p in scene.actions
        if p.get("container", {}).get("channel_id") == dm_channel("U0PERSON1")
        and p["actions"][0]["action_id"] == "pulse_answer_3"
    )
    body = urlencode({"payload": json.dumps(own)})
    kind = "application/x-www-form-urlencoded"

    @_settings(_backend(db_url))
    @given(
        fault=st.sampled_from(["unsigned", "other", "stale", "future", "tampered", "scheme"]),
        # Over five minutes off even after the second the request takes to arrive.
        seconds=st.integers(310, 10**8),
        index=st.integers(0, len(body) - 1),
        byte=st.characters(codec="ascii", exclude_characters="\r\n"),
    )
    def prop(fault: str, seconds: int, index: int, byte: str) -> None:
        before = everything(app.deps.db)
        calls = len(slack.calls)
        now = int(time.time())
        sent, headers = body, sender.signed_headers(body)
        if fault == "unsigned":
            headers = {}
        elif fault == "other":
            headers = sender.signed_headers(urlencode({"payload": "{}"}))
        elif fault in ("stale", "future"):
            stamp = now - seconds if fault == "stale" else now + seconds
            headers = sender.signed_headers(body, timestamp=stamp)
        elif fault == "tampered":
            if body[index] == byte:
                byte = "A" if byte != "A" else "B"
            sent = body[:index] + byte + body[index + 1 :]
        else:
            headers["X-Slack-Signature"] = headers["X-Slack-Signature"].replace("v0=", "v1=")
        response = sender.post(sent, kind, signed=False, headers=headers)
        assert response.status_code == 401
        settle(app.deps)
        assert everything(app.deps.db) == before
        assert len(slack.calls) == calls
        assert errors.take() == []

    prop()
    # The same click, signed as Slack signs it, does store the answer.
    before = everything(app.deps.db)
    assert sender.post(body, kind).status_code == 200
    settle(app.deps)
    assert changed(before, everything(app.deps.db))


# -- body limits ----------------------------------------------------------------------------


def _raw_post(url: str, content_length: int, body: bytes) -> bytes:
    """The status line and headers of a POST whose Content-Length says `content_length`,
    of which only `body` is sent: what httpx will not do."""
    address = httpx.URL(url)
    with socket.create_connection((address.host, address.port), timeout=5) as conn:
        conn.sendall(
            f"POST {address.path} HTTP/1.1\r\nHost: {address.host}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {content_length}\r\n\r\n".encode()
            + body
        )
        return conn.recv(4096)


def test_a_body_over_the_limit_gets_413_before_the_signature_is_read(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    assert 256 * 1024 <= MAX_BODY_BYTES < 1_000_000
    huge = urlencode({"payload": json.dumps({"type": "block_actions", "pad": "x" * 1_000_000})})
    # Signed or not, a megabyte is refused for its size alone.
    for signed in (True, False):
        response = sender.post(huge, "application/x-www-form-urlencoded", signed=signed)
        assert response.status_code == 413
    # A Content-Length that claims too much is refused before the body is read.
    assert _raw_post(sender.url, MAX_BODY_BYTES + 1, b"payload=").startswith(b"HTTP/1.1 413")
    # A body just under the limit is read and judged on its signature as usual.
    under = "payload=" + "x" * (MAX_BODY_BYTES - 9)
    assert sender.post(under, "application/x-www-form-urlencoded", signed=False).status_code == 401
    assert slack.calls == []


def test_a_chunked_body_over_the_limit_gets_413_whatever_it_claims(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    """No Content-Length (chunked transfer): the bytes are counted as they arrive."""

    def chunks() -> Iterator[bytes]:
        yield b"payload="
        for _ in range(64):
            yield b"x" * 16_384

    headers = {
        **sender.signed_headers("payload="),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    response = httpx.post(sender.url, content=chunks(), headers=headers)
    assert response.status_code == 413
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    # A chunked body within the limit is read whole.
    small = urlencode({"payload": json.dumps({"type": "block_actions"})})
    response = httpx.post(
        sender.url,
        content=iter([small.encode()]),
        headers={**sender.signed_headers(small), "Content-Type": headers["Content-Type"]},
    )
    assert response.status_code in (200, 400, 404)
    # Bolt asks Slack who the bot is on its first signed request; nothing else was called.
    assert {call.method for call in slack.calls} <= {"auth.test"}


# -- the Events API de-dup table ------------------------------------------------------------


def test_handled_event_ids_are_kept_a_day_then_pruned(db: Database, deps: Deps) -> None:
    now = deps.clock()
    ages = {"Ev-old": timedelta(days=3), "Ev-day": timedelta(hours=25), "Ev-new": timedelta(0)}
    ages["Ev-recent"] = timedelta(hours=23)
    with db.transaction() as session:
        for event_id, age in ages.items():
            session.add(SlackEvent(event_id=event_id, received_at=now - age))
    retention_job(deps, now)
    with db.session() as session:
        kept = set(session.exec(select(SlackEvent.event_id)).all())
    assert kept == {"Ev-new", "Ev-recent"}
    # Pruning again changes nothing; a new mark is recorded as before.
    assert prune_handled(db, now) == 0
    with db.transaction() as session:
        assert mark_handled(session, "Ev-later")
        assert not mark_handled(session, "Ev-new")
    assert already_handled(db, "Ev-later")


def test_only_message_events_are_checked_against_the_de_dup_table(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    """The table guards what is not idempotent by itself (a DM's reply and the bot's answer);
    other events are not looked up: a Home tab opened again is published again."""
    _count_work(app.deps)
    with app.deps.db.transaction() as session:
        mark_handled(session, "EvSEEN")
    home = {"type": "app_home_opened", "user": "U0PERSON1", "channel": "D0X", "tab": "home"}
    assert sender.event(home, event_id="EvSEEN", retry_num=1).status_code == 200
    slack.wait_for("views.publish")
    message = {
        "type": "message",
        "channel_type": "im",
        "channel": "D0PERSON1",
        "user": "U0PERSON1",
        "text": "hello",
        "ts": "1764000000.000100",
    }
    assert sender.event(message, event_id="EvSEEN", retry_num=1).status_code == 200
    settle(app.deps)
    assert slack.calls_to("chat.postMessage") == []
    # A DM event with no id Slack could have given cannot be kept: refused, not half-handled.
    assert sender.event(message, event_id="Ev" + "x" * 100).status_code == 400
    # The same DM under an id of its own is answered (nobody is in a pilot: the answer says so).
    assert sender.event(message, event_id="EvNEW").status_code == 200
    slack.wait_for("chat.postMessage")


def test_a_file_link_that_is_not_slacks_is_never_fetched_with_the_token(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn
) -> None:
    """A usage export's link elsewhere than Slack's hosts (here another name for this very
    machine, listening) gets no request, so the bot token goes nowhere; the champion is told."""
    make_pilot(app.deps)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    event = slack.share_file_in_dm(
        "U0CHAMPION", "usage.csv", b"date,user,active\n", text="support-copilot"
    )
    for key in ("url_private", "url_private_download"):
        event["files"][0][key] = f"http://localhost:{port}/files-pri/usage.csv"
    assert sender.event(event).status_code == 200
    [reply] = slack.wait_for(
        "chat.postMessage", where=lambda c: c.params["channel"] == "D0CHAMPION"
    )
    assert "not Slack's" in reply.params["text"]
    with pytest.raises(TimeoutError), listener:
        listener.accept()


def test_nudge_on_the_home_tab_is_answered_on_the_home_tab(
    app: RunningApp, sender: SlackSender, slack: SlackStandIn, errors: Errors
) -> None:
    """Found by the properties above: a Home tab's click has no response_url, so the champion's
    "Nudge non-responders" there is answered in the tab's notice (it was a traceback, and the
    champion heard nothing)."""
    _count_work(app.deps)
    make_pilot(app.deps)
    send(app.deps)
    home = {"type": "app_home_opened", "user": "U0CHAMPION", "channel": "D0X", "tab": "home"}
    sender.event(home)
    settle(app.deps)
    tab = slack.home_views["U0CHAMPION"]
    [(block_id, button)] = [
        (block_id, element)
        for block_id, element in _elements(tab["blocks"])
        if element["action_id"] == "status_nudge"
    ]
    where = {"container": {"type": "view", "view_id": tab["id"]}, "view": tab}
    click = as_actor(_click(slack, block_id, button, where), "U0CHAMPION")
    assert "response_url" not in click
    assert sender.interaction(click).status_code == 200
    settle(app.deps)
    notice = json.dumps(slack.calls_to("views.publish")[-1].params["view"]["blocks"][0])
    assert "reminder is on its way" in notice
    assert errors.take() == []
