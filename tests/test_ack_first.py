"""Acks first over Socket Mode as over HTTP: while an envelope waits for its ack, the ack gate
counts it, so work after other acks waits its turn; once acked, the gate is free again."""

from __future__ import annotations

import threading
import time

from slack_bolt import Ack

from bot.devkit.slack_standin import SlackStandIn
from bot.runtime.app import build_app
from bot.runtime.deps import Deps
from bot.runtime.server import run_socket_mode


def test_socket_mode_envelopes_are_counted_by_the_ack_gate_until_acked(
    deps: Deps, slack: SlackStandIn
) -> None:
    bolt = build_app(deps, socket_mode=True)
    seen: list[int] = []

    def probe(ack: Ack) -> None:
        seen.append(deps.ack_first._waiting)
        ack()

    bolt.command("/probe")(probe)
    stop = threading.Event()
    thread = threading.Thread(
        target=run_socket_mode,
        args=(bolt, slack.app_token),
        kwargs={"stop": stop, "gate": deps.ack_first},
        daemon=True,
    )
    thread.start()
    try:
        slack.wait_socket_connected(timeout=30)
        payload = {
            "token": "t",
            "team_id": slack.team_id,
            "user_id": "U0PERSON1",
            "command": "/probe",
            "text": "",
            "channel_id": "C0LEADERS",
            "response_url": slack.response_url("probe"),
            "trigger_id": "1.2",
            "api_app_id": "A0PULSE",
        }
        assert slack.socket_send("slash_commands", payload) is not None
        assert seen == [1]
        # The gate is freed just after the ack has gone out, on the handler's thread.
        deadline = time.monotonic() + 5
        while deps.ack_first._waiting and time.monotonic() < deadline:
            time.sleep(0.01)
        assert deps.ack_first._waiting == 0
    finally:
        stop.set()
        thread.join(timeout=30)
