"""The factory that builds the Bolt `App` from `Deps` and registers every handler module on it.

Nothing here touches the network when imported or built; Bolt asks Slack who the bot is
(`auth.test`) on the first request only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import App, BoltContext, BoltResponse

from bot.runtime.deps import Deps, build_deps

log = logging.getLogger(__name__)

__all__ = ["Deps", "build_app", "build_deps"]


def build_app(deps: Deps, *, socket_mode: bool = False) -> App:
    """The Bolt app with every handler registered.

    In HTTP mode every request's signature is checked against `SLACK_SIGNING_SECRET`; in
    Socket Mode requests arrive over the app's own authenticated WebSocket instead.
    """
    from handlers import register_all  # the runtime is the only layer that imports handlers

    settings = deps.settings
    app = App(
        signing_secret=settings.slack_signing_secret or "",
        client=deps.client,
        # Don't call auth.test at construction; Bolt resolves the bot on the first request.
        token_verification_enabled=False,
        request_verification_enabled=not socket_mode,
        # A listener stores what it must, calls ack() and hands slow work to `deps.later`,
        # so Slack's answer goes out as soon as the listener returns. (Bolt's other mode
        # polls for the ack every 10 ms, which adds that much to every click.)
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
