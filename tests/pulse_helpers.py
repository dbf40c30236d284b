"""Helpers for pulse tests: a pilot, sending a round, and people clicking and submitting as in Slack."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.devkit.slack_requests import SlackSender
from bot.devkit.slack_standin import SlackStandIn
from bot.outreach.reminder import send_reminder
from bot.outreach.sending import SendResult, send_pulse
from bot.pilots.pilot import PilotSpec, create_pilot
from bot.runtime.deps import Deps

PEOPLE = [f"U0PERSON{i}" for i in range(1, 7)]


def make_pilot(deps: Deps, name: str = "support-copilot", *, min_group_size: int = 5) -> None:
    create_pilot(
        deps.db,
        deps.client,
        PilotSpec(
            name=name,
            tool="Copilot",
            leadership_channel="C0LEADERS",
            members_from_channel="C0TEAM",
            champions=("U0CHAMPION",),
            min_group_size=min_group_size,
        ),
    )


def send(deps: Deps, name: str = "support-copilot") -> SendResult:
    return send_pulse(
        deps.db, deps.sending_client, name, now=deps.clock(), options=deps.send_options
    )


def remind(deps: Deps, name: str = "support-copilot") -> SendResult:
    return send_reminder(
        deps.db, deps.sending_client, name, now=deps.clock(), options=deps.send_options
    )


def tick_at(clock: Any, travel: Any, moment: datetime) -> None:
    """Move the test's time to `moment` and tick the clock there: the jobs, the sender and the
    app all see the same time."""
    travel.move_to(moment)
    clock.tick()


def dm_channel(user_id: str) -> str:
    return "D" + user_id[1:]


def pulse_message(slack: SlackStandIn, user_id: str, index: int = 0) -> dict[str, Any]:
    return slack.messages[dm_channel(user_id)][index]


def buttons(message: dict[str, Any], block_id: str) -> list[dict[str, Any]]:
    for block in message["blocks"]:
        if block.get("block_id") == block_id:
            return block["elements"]
    raise AssertionError(f"no block {block_id!r} in the message")


def click(
    sender: SlackSender,
    slack: SlackStandIn,
    user_id: str,
    label: str,
    *,
    block_id: str = "pulse_first",
    message_index: int = 0,
    **kwargs: Any,
):
    """The person clicks the button labelled `label` in their pulse DM."""
    message = pulse_message(slack, user_id, message_index)
    for element in buttons(message, block_id):
        if element["text"]["text"] == label:
            return sender.action(
                user_id,
                element["action_id"],
                element["value"],
                message=message,
                channel_id=dm_channel(user_id),
                block_id=block_id,
                **kwargs,
            )
    raise AssertionError(f"no button {label!r}")


def modal_values(view: dict[str, Any], choose: dict[str, Any]) -> dict[str, Any]:
    """Slack's `state.values` for the modal, picking by question key (via the label's position).

    `choose` maps an input block's label text (or a part of it) to an option label or, for
    a text input, the words typed.
    """
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        label = block["label"]["text"]
        wanted = next((v for k, v in choose.items() if k in label), None)
        element = block["element"]
        if element["type"] == "plain_text_input":
            values[block["block_id"]] = {"answer": {"type": "plain_text_input", "value": wanted}}
            continue
        selected = None
        if wanted is not None:
            selected = next(
                o for o in element["options"] if o["text"]["text"].split(" · ")[0] == str(wanted)
            )
        elif element.get("initial_option"):
            selected = element["initial_option"]
        values[block["block_id"]] = {
            "answer": {"type": element["type"], "selected_option": selected}
        }
    return values


def last_view(slack: SlackStandIn, count: int) -> dict[str, Any]:
    return slack.wait_for("views.open", count)[count - 1].params["view"]


def answer_all(
    sender: SlackSender,
    slack: SlackStandIn,
    user_id: str,
    first: str,
    rest: dict[str, Any],
    opened_before: int,
) -> None:
    """Click `first` in the DM, then fill the modal that opens with `rest` and send it."""
    assert click(sender, slack, user_id, first).status_code == 200
    view = last_view(slack, opened_before + 1)
    response = sender.view_submission(user_id, view, modal_values(view, rest))
    assert response.status_code == 200, response.text


def crowd(slack: SlackStandIn, prefix: str, count: int, channel: str, **profile: Any) -> list[str]:
    """`count` made-up people (user ids starting with `prefix`), all in `channel`."""
    people = [f"{prefix}{index:07d}" for index in range(count)]
    for user_id in people:
        slack.add_user(user_id, real_name=f"Person {user_id}", **profile)
    slack.add_channel(channel, name=channel.lower(), members=people)
    return people


def make_crowd_pilot(
    deps: Deps, slack: SlackStandIn, name: str, prefix: str, count: int
) -> list[str]:
    """A pilot of `count` made-up people, taken from a channel of their own."""
    channel = f"C0{name.upper()}"
    people = crowd(slack, prefix, count, channel)
    create_pilot(
        deps.db,
        deps.client,
        PilotSpec(
            name=name, tool="Copilot", leadership_channel="C0LEADERS", members_from_channel=channel
        ),
    )
    return people


def store_reply(
    deps: Deps, user_id: str, text: str, *, ts: str, now: Any, event_id: str | None = None
):
    """A check-in reply stored as the Events API listener stores it, with no bot turn after."""
    from bot.checkins.reply import record_reply

    return record_reply(
        deps.db,
        slack_user_id=user_id,
        channel_id=dm_channel(user_id),
        ts=ts,
        text=text,
        event_id=event_id,
        now=now,
    )
