"""Requests to the app shaped and signed exactly as Slack sends them: Slack's side of the
conversation, used by `pilot-pulse demo` and by the tests."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.devkit.slack_standin import SlackStandIn

_ids = itertools.count(1)


class SlackSender:
    """Posts Slack-signed requests to a running app's `/slack/events`."""

    def __init__(self, app_url: str, signing_secret: str, slack: SlackStandIn) -> None:
        self.url = f"{app_url}/slack/events"
        self.verifier = SignatureVerifier(signing_secret)
        self.slack = slack
        self.http = httpx.Client(timeout=10)

    def signed_headers(self, body: str, *, timestamp: int | None = None) -> dict[str, str]:
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        return {
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": self.verifier.generate_signature(timestamp=stamp, body=body) or "",
        }

    def post(
        self,
        body: str,
        content_type: str,
        *,
        signed: bool = True,
        timestamp: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        all_headers = {"Content-Type": content_type}
        if signed:
            all_headers.update(self.signed_headers(body, timestamp=timestamp))
        all_headers.update(headers or {})
        return self.http.post(self.url, content=body.encode("utf-8"), headers=all_headers)

    def form(self, fields: dict[str, str], **kwargs: Any) -> httpx.Response:
        return self.post(urlencode(fields), "application/x-www-form-urlencoded", **kwargs)

    def command(
        self, user_id: str, text: str = "", *, command: str = "/pilot-status", **kwargs: Any
    ) -> httpx.Response:
        fields = {
            "token": "legacy-verification-token",
            "team_id": self.slack.team_id,
            "team_domain": "standin",
            "channel_id": "C0LEADERS",
            "channel_name": "ai-pilot-leads",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0PULSE",
            "is_enterprise_install": "false",
            "response_url": self.slack.response_url(f"cmd-{next(_ids)}"),
            "trigger_id": self.slack.new_trigger_id(),
        }
        return self.form(fields, **kwargs)

    def interaction(self, payload: dict[str, Any], **kwargs: Any) -> httpx.Response:
        return self.form({"payload": json.dumps(payload)}, **kwargs)

    def action(
        self,
        user_id: str,
        action_id: str,
        value: str | None = None,
        *,
        message: dict[str, Any] | None = None,
        channel_id: str | None = None,
        selected_option: dict[str, Any] | None = None,
        block_id: str = "block",
        **kwargs: Any,
    ) -> httpx.Response:
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id,
            "type": "button" if selected_option is None else "static_select",
            "action_ts": f"{time.time():.6f}",
        }
        if value is not None:
            action["value"] = value
        if selected_option is not None:
            action["selected_option"] = selected_option
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": self.slack.team_id, "domain": "standin"},
            "user": {"id": user_id, "team_id": self.slack.team_id},
            "api_app_id": "A0PULSE",
            "token": "legacy-verification-token",
            "trigger_id": self.slack.new_trigger_id(),
            "response_url": self.slack.response_url(f"act-{next(_ids)}"),
            "actions": [action],
        }
        if message is not None:
            payload["container"] = {
                "type": "message",
                "message_ts": message["ts"],
                "channel_id": channel_id,
                "is_ephemeral": False,
            }
            payload["message"] = message
            payload["channel"] = {"id": channel_id}
        return self.interaction(payload, **kwargs)

    def view_submission(
        self, user_id: str, view: dict[str, Any], values: dict[str, Any], **kwargs: Any
    ) -> httpx.Response:
        submitted = dict(view)
        submitted.setdefault("id", f"V{next(_ids):08d}")
        submitted["state"] = {"values": values}
        payload = {
            "type": "view_submission",
            "team": {"id": self.slack.team_id, "domain": "standin"},
            "user": {"id": user_id, "team_id": self.slack.team_id},
            "api_app_id": "A0PULSE",
            "token": "legacy-verification-token",
            "trigger_id": self.slack.new_trigger_id(),
            "view": submitted,
        }
        return self.interaction(payload, **kwargs)

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        body = {
            "token": "legacy-verification-token",
            "team_id": self.slack.team_id,
            "api_app_id": "A0PULSE",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_ids):010d}",
            "event_time": int(time.time()),
            "authorizations": [
                {"team_id": self.slack.team_id, "user_id": self.slack.bot_user_id, "is_bot": True}
            ],
        }
        headers = dict(kwargs.pop("headers", None) or {})
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        return self.post(json.dumps(body), "application/json", headers=headers, **kwargs)
