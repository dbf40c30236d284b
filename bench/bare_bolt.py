"""The baseline of the acknowledgement benchmarks: a bare Bolt app that only acknowledges, served
the way `pilot-pulse serve --http` serves the real one: the same uvicorn settings, Bolt's
Starlette request conversion, Bolt on the thread pool, request signatures checked,
`process_before_response=True`.

Whatever the real app takes beyond this is pilot-pulse's own: storing the answer, the checks,
the work handed on after the ack.

    SLACK_API_URL=URL python bench/bare_bolt.py PORT SIGNING_SECRET
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from slack_bolt import Ack, App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk import WebClient
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.runtime.server import http_server, run_http

EVERYTHING = re.compile(".*")


def bare_app(signing_secret: str) -> Starlette:
    """Bolt acknowledging every action, view, command, option request and event at once."""
    # The app's one auth.test (Bolt checks who the bot is on the first request) goes to the
    # same Slack stand-in the real app's does.
    client = WebClient(
        token=os.environ.get("SLACK_BOT_TOKEN", "xoxb-standin-token"),
        base_url=os.environ.get("SLACK_API_URL", "https://slack.com/api/"),
    )
    bolt = App(
        client=client,
        signing_secret=signing_secret,
        token_verification_enabled=False,
        process_before_response=True,
    )

    def ack_only(ack: Ack) -> None:
        ack()

    bolt.action(EVERYTHING)(ack_only)
    bolt.view(EVERYTHING)(ack_only)
    bolt.command(EVERYTHING)(ack_only)
    bolt.options(EVERYTHING)(ack_only)
    bolt.event(EVERYTHING)(lambda: None)

    async def events(request: Request) -> Response:
        # As the real app does: Bolt (synchronous) on the thread pool; Bolt checks the
        # signature in its own middleware.
        body = await request.body()
        response = await run_in_threadpool(bolt.dispatch, to_bolt_request(request, body))
        return to_starlette_response(response)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/slack/events", events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


def main() -> int:
    port, secret = int(sys.argv[1]), sys.argv[2]
    run_http(http_server(bare_app(secret), host="127.0.0.1", port=port, access_log=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
