"""The factory that builds the Bolt `App` from `Deps` and registers every handler module on it.

Nothing here touches the network when imported or built, nor before a request is answered:
who the bot is (`auth.test`) is learnt after the first request's ack (`BotIdentity`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_sdk import WebClient

from bot.runtime.deps import Deps, build_deps
from bot.runtime.logs import log_context
from bot.runtime.slack_client import BotIdentity, RetryingRespond

log = logging.getLogger(__name__)

__all__ = ["Deps", "build_app", "build_deps", "request_job"]


def request_job(body: Any) -> str:
    """What a request from Slack asks for, as the `job` its log lines carry:
    `action:<action_id>`, `view:<callback_id>`, `command:/pilot-status`, `event:<type>`...

    Built only from the names Slack and the app give things, never from what a person typed.
    """
    if not isinstance(body, dict):
        return "request"
    kind = body.get("type")
    name: Any = None
    if body.get("command"):
        kind, name = "command", body["command"]
    elif kind == "block_actions":
        actions = body.get("actions")
        first = actions[0] if isinstance(actions, list) and actions else None
        kind, name = "action", first.get("action_id") if isinstance(first, dict) else None
    elif kind in ("view_submission", "view_closed"):
        view = body.get("view")
        kind, name = "view", view.get("callback_id") if isinstance(view, dict) else None
    elif kind == "event_callback":
        event = body.get("event")
        kind, name = "event", event.get("type") if isinstance(event, dict) else None
    elif kind in ("shortcut", "message_action"):
        kind, name = "shortcut", body.get("callback_id")
    elif kind == "block_suggestion":
        kind, name = "options", body.get("action_id")
    job = f"{kind or 'request'}:{name}" if isinstance(name, str) and name else kind or "request"
    return str(job)[:100]


_INTERACTIONS = (
    "block_actions",
    "block_suggestion",
    "view_submission",
    "view_closed",
    "shortcut",
    "message_action",
)


_OBJECTS = ("event", "user", "view", "container", "message", "channel", "team", "enterprise")


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _dict_of_dicts(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, dict) for v in value.values())


def _view_problem(view: Any) -> str | None:
    if not isinstance(view, dict):
        return "view"
    if not _text(view.get("callback_id", "")) or not _text(view.get("private_metadata", "")):
        return "view.callback_id or view.private_metadata"
    blocks = view.get("blocks", [])
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        return "view.blocks"
    state = view.get("state", {})
    values = state.get("values", {}) if isinstance(state, dict) else None
    if not _dict_of_dicts(values) or not all(_dict_of_dicts(v) for v in values.values()):
        return "view.state.values"
    return None


def shape_problem(body: Any) -> str | None:
    """The field of a Slack payload that does not have the shape Slack always gives it (and
    Bolt's routing and the listeners rely on), or None when the envelope is sound.

    Names fields, never values: what people typed stays out of the logs.
    """
    if not isinstance(body, dict):
        return "body"
    kind = body.get("type")
    if "command" in body:
        fields = ("command", "user_id", "response_url")
        if all(_text(body.get(f)) for f in fields) and _text(body.get("text", "")):
            return None
        return "command fields"
    if not _text(kind or ""):
        return "type"
    # Objects whenever Slack sends them, and read as such by Bolt whatever the payload's type.
    for key in _OBJECTS:
        if body.get(key) is not None and not isinstance(body[key], dict):
            return key
    if kind in _INTERACTIONS:
        user = body.get("user")
        if not isinstance(user, dict) or not _text(user.get("id")):
            return "user.id"
        for key in ("callback_id", "action_id", "block_id", "value"):
            if key in body and not _text(body[key]):
                return key
    if kind == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions:
            return "actions"
        for action in actions:
            if not isinstance(action, dict) or not _text(action.get("action_id")):
                return "actions[].action_id"
            if not all(_text(action.get(k, "")) for k in ("block_id", "value")):
                return "actions[].block_id or value"
        if "view" in body:
            return _view_problem(body["view"])
    if kind in ("view_submission", "view_closed"):
        return _view_problem(body.get("view"))
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not _text(event.get("type")):
            return "event.type"
    return None


class _App(App):
    """Bolt's App, with each request's log lines named after what it asks for.

    This cannot be a global middleware: in Bolt for Python (sync) `next()` only marks the
    middleware as passed, and the listener runs after every middleware has returned, so a
    middleware has no "after the listener" in which to undo what it set. `dispatch` is where
    both transports (HTTP and Socket Mode) hand a request to Bolt, and with
    `process_before_response=True` the listener runs inside it, on the same thread.

    A payload whose envelope is not Slack's shape (`shape_problem`) gets a 400 here, before
    Bolt's own middleware and routing, which trip over such fields, and before any listener,
    with a line that names the field. A listener's own failure still goes to `@app.error` with
    its traceback: that is a bug.
    """

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        job = request_job(req.body)
        started = time.perf_counter()
        with log_context(job=job):
            problem = shape_problem(req.body)
            if problem is not None:
                log.warning("refused a payload of the wrong shape: %s", problem)
                return BoltResponse(status=400, body="")
            response = super().dispatch(req)
            log.debug(
                "%s answered %s in %.1f ms",
                job,
                response.status,
                (time.perf_counter() - started) * 1000,
                extra={"outcome": "error"} if response.status >= 500 else None,
            )
        return response


def build_app(deps: Deps, *, socket_mode: bool = False) -> App:
    """The Bolt app with every handler registered.

    In HTTP mode every request's signature is checked against `SLACK_SIGNING_SECRET`; in
    Socket Mode requests arrive over the app's own authenticated WebSocket instead.
    """
    from handlers import register_all  # the runtime is the only layer that imports handlers

    settings = deps.settings
    identity = BotIdentity(deps.client, deps.later)
    app = _App(
        signing_secret=settings.slack_signing_secret or "",
        # The token comes from `authorize`, so that Bolt never asks Slack who the bot is while a
        # request waits; each request's client is a copy of this one, with the token set.
        client=WebClient(
            token=None,
            base_url=deps.client.base_url,
            timeout=deps.client.timeout,
            retry_handlers=deps.client.retry_handlers,
        ),
        authorize=identity,
        request_verification_enabled=not socket_mode,
        # A listener stores what it must, calls ack() and hands slow work to `deps.later`,
        # so Slack's answer goes out as soon as the listener returns. (Bolt's other mode
        # polls for the ack every 10 ms, which adds that much to every click.)
        # It also keeps each listener on the request's thread, where `dispatch` has named the
        # request's job for its log lines.
        process_before_response=True,
        listener_executor=deps.executor,
        raise_error_for_unhandled_request=False,
        logger=logging.getLogger("slack_bolt"),
    )

    @app.error
    def _on_error(error: Exception, body: dict, logger: logging.Logger) -> BoltResponse | None:
        # One place where a listener's failure is logged with its context. A payload of the
        # wrong shape (a field missing, a number where text belongs) is the sender's fault:
        # Slack gets a 400, not a 500, and the traceback stays in the log for a real bug.
        kind = (
            (body.get("type") or body.get("command") or "request")
            if isinstance(body, dict)
            else "request"
        )
        logger.exception("listener for %s failed: %s", kind, error)
        if isinstance(error, KeyError | TypeError | ValueError | AttributeError | IndexError):
            return BoltResponse(status=400, body="")
        return None

    def provide_deps(context: BoltContext, next: Callable[[], None]) -> None:
        # Every listener that names a `deps` parameter gets it from here (Bolt passes context
        # entries as arguments), so listeners are plain functions, not closures.
        context["deps"] = deps
        if context.response_url:
            # Replies through response_url are retried like Web API calls (429s, 5xx).
            context["respond"] = RetryingRespond(
                response_url=context.response_url,
                proxy=context.client.proxy,
                ssl=context.client.ssl,
            )
        next()

    app.middleware(provide_deps)
    register_all(app)
    return app
