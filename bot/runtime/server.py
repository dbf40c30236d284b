"""The two Slack transports: HTTP (`POST /slack/events`, `GET /healthz`) on uvicorn, and Socket
Mode. Both stop cleanly on SIGTERM: requests in flight finish, work after the ack completes.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import uvicorn
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.runtime.deps import AckFirst
from bot.runtime.heartbeat import STALE
from storage import Database
from storage.types import utcnow

log = logging.getLogger(__name__)

# Slack gives up on a request after 3 s; anything slower is already lost, so don't wait longer.
GRACEFUL_SECONDS = 25
# The largest body Slack sends is a view submission: the whole view posted back (at most 100
# blocks, each text at most 3,000 characters) with its state, URL-encoded. That is a few hundred
# KB at worst (this app's own largest, the set-up form filled in, is under 20 KB); an event's
# message text is at most 40,000 characters. 512 KiB is room for all of it, and bounds what one
# request makes the server hold in memory; anything bigger is not from Slack.
MAX_BODY_BYTES = 512 * 1024


class ClockState(Protocol):
    """What `/healthz` reads of a clock ticking in this process (`bot.runtime.clock.Clock`)."""

    @property
    def last_tick(self) -> datetime | None: ...

    @property
    def started_at(self) -> datetime: ...


def clock_health(clock: ClockState, now: datetime) -> dict[str, Any]:
    """The clock's part of `/healthz`: its last tick, how long ago, and whether that is longer
    than a running clock ever takes (`heartbeat.STALE`)."""
    last_tick = clock.last_tick
    # Before the first tick, a clock is stale once its first tick is overdue by as much.
    since = now - (last_tick or clock.started_at)
    return {
        "last_tick": last_tick.isoformat() if last_tick is not None else None,
        "age_seconds": round(since.total_seconds(), 1) if last_tick is not None else None,
        "stale": since > STALE,
    }


async def read_body(request: Request, limit: int) -> bytes | None:
    """The request's body, or None when it is over `limit` bytes: refused on its Content-Length
    before a byte is read, and, whatever the header says (or with none, when chunked), as soon
    as the bytes that arrive pass the limit."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def build_web_app(
    bolt_app: App,
    db: Database,
    signing_secret: str,
    *,
    gate: AckFirst | None = None,
    clock: ClockState | None = None,
    now: Callable[[], datetime] = utcnow,
) -> Starlette:
    """The ASGI app: Slack's single request URL and a health check.

    A body over `MAX_BODY_BYTES` is a 413 before anything else, the signature included. The
    signature is checked here before the body is parsed, so an unsigned or tampered request is
    a 401 whatever it holds, and a signed but malformed one a 400, never a 5xx.
    Bolt checks it again in its own middleware.

    `/healthz` is 200 while the database answers and 503 otherwise (the operator contract);
    with `clock`, the clock ticking in this process, it also reports the clock's heartbeat. A
    stale clock does not make it 503: a load balancer that took this process out of service
    would stop Slack's requests, which do not need the clock, and fix nothing.
    """
    verifier = SignatureVerifier(signing_secret)

    async def slack_events(request: Request) -> Response:
        if gate is None:
            return await handle(request)
        gate.enter()
        try:
            return await handle(request)
        finally:
            gate.leave()

    async def handle(request: Request) -> Response:
        body = await read_body(request, MAX_BODY_BYTES)
        if body is None:
            return JSONResponse({"error": "request body too large"}, status_code=413)
        try:
            text = body.decode("utf-8")
            signed = verifier.is_valid_request(text, dict(request.headers))
        except (UnicodeDecodeError, ValueError):
            signed = False
        if not signed:
            return JSONResponse({"error": "invalid request signature"}, status_code=401)
        try:
            bolt_request = to_bolt_request(request, body)
        except (ValueError, UnicodeDecodeError, KeyError, TypeError, AttributeError, IndexError):
            # Bolt reads who and where a request is about as it parses it, and trips over a
            # field of the wrong type (`authorizations: [[…]]`, say): the body is at fault.
            return JSONResponse({"error": "malformed body"}, status_code=400)
        # Bolt is synchronous; running it on the thread pool keeps one slow request from
        # holding up the others.
        try:
            bolt_response = await run_in_threadpool(bolt_app.dispatch, bolt_request)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            # Bolt itself trips over some signed payloads of the wrong shape (a view with no
            # type, say) before any listener runs: the request is at fault, not the app.
            log.warning("a signed request of an unexpected shape was refused", exc_info=True)
            return JSONResponse({"error": "malformed payload"}, status_code=400)
        return to_starlette_response(bolt_response)

    async def healthz(_request: Request) -> Response:
        ok = await run_in_threadpool(db.ping)
        health: dict[str, Any] = {"ok": ok}
        if clock is not None:
            health["clock"] = clock_health(clock, now())
        return JSONResponse(health, status_code=200 if ok else 503)

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


def http_server(
    web_app: Starlette, *, host: str = "0.0.0.0", port: int = 3000, access_log: bool = True
) -> uvicorn.Server:
    """A uvicorn server for `web_app`; SIGTERM and SIGINT make it finish in-flight requests."""
    config = uvicorn.Config(
        web_app,
        host=host,
        port=port,
        lifespan="off",
        access_log=access_log,
        log_config=None,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        proxy_headers=True,
        forwarded_allow_ips="*",
    )
    return uvicorn.Server(config)


def run_http(server: uvicorn.Server, *, sock: socket.socket | None = None) -> None:
    """Serve until SIGTERM/SIGINT (or `server.should_exit`); returns once in-flight work is done."""
    if threading.current_thread() is threading.main_thread():
        # uvicorn handles the signal itself, then raises it again once it has shut down so
        # that outer handlers see it; ours just lets the caller go on to stop the clock and
        # finish the work that follows acks, instead of dying on the re-raised signal.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: setattr(server, "should_exit", True))
    server.run(sockets=[sock] if sock is not None else None)


class BackgroundServer:
    """The real app served by uvicorn on a free local port in a background thread.

    For the demo and the tests: the same HTTP stack as `serve --http`, without taking over the
    process's signals.
    """

    def __init__(
        self,
        bolt_app: App,
        db: Database,
        signing_secret: str,
        *,
        gate: AckFirst | None = None,
        clock: ClockState | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.server = http_server(
            build_web_app(bolt_app, db, signing_secret, gate=gate, clock=clock, now=now),
            host="127.0.0.1",
            port=0,
            access_log=False,
        )
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True, name="http"
        )

    def start(self, *, timeout: float = 10) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the HTTP server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=GRACEFUL_SECONDS + 5)
        self.sock.close()


class _AckFirstSocketMode(SocketModeHandler):
    """Bolt's Socket Mode handler, with each envelope counted by the ack gate from when it is
    taken until its ack has been sent back."""

    gate: AckFirst | None = None

    def handle(self, client: Any, req: Any) -> None:
        if self.gate is None:
            super().handle(client, req)
            return
        self.gate.enter()
        try:
            super().handle(client, req)
        finally:
            self.gate.leave()


def run_socket_mode(
    bolt_app: App,
    app_token: str,
    *,
    stop: threading.Event | None = None,
    on_connected: Callable[[], None] | None = None,
    gate: AckFirst | None = None,
) -> None:
    """Serve over Socket Mode until SIGTERM/SIGINT (or `stop` is set).

    With `gate`, acks come first as over HTTP: work after an ack waits while other envelopes
    still wait for theirs."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    # The Socket Mode client logs every envelope it receives or sends (DM texts, modal values)
    # at DEBUG, so it keeps a logger under `slack_sdk`, which is held at WARNING, not ours.
    handler = _AckFirstSocketMode(
        bolt_app, app_token=app_token, logger=logging.getLogger("slack_sdk.socket_mode")
    )
    handler.gate = gate
    handler.connect()
    log.info("connected to Slack over Socket Mode")
    if on_connected is not None:
        on_connected()
    stop.wait()
    log.info("closing the Socket Mode connection")
    handler.close()
