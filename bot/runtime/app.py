"""The factory that builds the Bolt `App` from `Deps` and registers every handler module on it.

Nothing here touches the network when imported or built; Bolt asks Slack who the bot is
(`auth.test`) on the first request only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse

from bot.runtime.deps import Deps, build_deps
from bot.runtime.logs import log_context

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
        actions = body.get("actions") or [{}]
        kind, name = "action", actions[0].get("action_id") if isinstance(actions[0], dict) else None
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


class _App(App):
    """Bolt's App, with each request's log lines named after what it asks for.

    This cannot be a global middleware: in Bolt for Python (sync) `next()` only marks the
    middleware as passed, and the listener runs after every middleware has returned, so a
    middleware has no "after the listener" in which to undo what it set. `dispatch` is where
    both transports (HTTP and Socket Mode) hand a request to Bolt, and with
    `process_before_response=True` the listener runs inside it, on the same thread.
    """

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        job = request_job(req.body)
        started = time.perf_counter()
        with log_context(job=job):
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
    app = _App(
        signing_secret=settings.slack_signing_secret or "",
        client=deps.client,
        # Don't call auth.test at construction; Bolt resolves the bot on the first request.
        token_verification_enabled=False,
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
        next()

    app.middleware(provide_deps)
    register_all(app)
    return app
