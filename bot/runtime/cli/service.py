"""`serve`, `scheduler`, `db upgrade` and `demo`: running the app."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from bot.runtime.cli.common import (
    add_command,
    add_group,
    freeze_start_up,
    load_settings,
    open_database,
    port,
    slack_deps,
)
from bot.runtime.deps import build_deps
from storage import Database

log = logging.getLogger("pilot_pulse")


def cmd_db_upgrade(_args: argparse.Namespace) -> int:
    settings = load_settings()
    db = Database(settings.database_url)
    try:
        before, after = db.upgrade()
    finally:
        db.dispose()
    if before == after:
        print(f"database {db.describe()} is up to date (revision {after})")
    else:
        print(f"database {db.describe()} upgraded from {before or 'empty'} to {after}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.runtime.app import build_app
    from bot.runtime.server import build_web_app, http_server, run_http, run_socket_mode

    settings = load_settings()
    socket_mode = args.socket or (not args.http and settings.slack_app_token is not None)
    settings.require(
        "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN" if socket_mode else "SLACK_SIGNING_SECRET"
    )
    # Every request thread and every worker after an ack may hold a connection at once.
    deps = build_deps(settings, db=open_database(settings, pool_size=24))
    bolt_app = build_app(deps, socket_mode=socket_mode)
    freeze_start_up()
    clock = scheduler = None
    if not args.no_scheduler:
        from bot.runtime.clock import Clock

        clock = Clock(deps)
        scheduler = clock.start()
    try:
        if socket_mode:
            run_socket_mode(bolt_app, settings.slack_app_token or "", gate=deps.ack_first)
        else:
            port = args.port or settings.port
            log.info("serving Slack over HTTP on port %s (POST /slack/events, GET /healthz)", port)
            web_app = build_web_app(
                bolt_app,
                deps.db,
                settings.slack_signing_secret or "",
                gate=deps.ack_first,
                # /healthz reports the heartbeat of the clock ticking in this process.
                clock=clock,
                now=deps.clock,
            )
            run_http(http_server(web_app, port=port))
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        deps.close(wait=True)
    log.info("stopped")
    return 0


def cmd_scheduler(_args: argparse.Namespace) -> int:
    from bot.runtime.clock import Clock

    settings = load_settings()
    deps = slack_deps(settings)
    freeze_start_up()
    try:
        Clock(deps).run()
    finally:
        deps.close(wait=True)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    # The one place the product reaches into the devkit, and only when the demo is asked for:
    # nothing else may import it (tests/test_architecture.py).
    from bot.devkit.demo import run_demo

    # The demo prints what people see; the app's own logs would only get in the way.
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    return run_demo(people=args.people, out=sys.stdout, files=args.out)


def add_serve_commands(commands: Any) -> None:
    """Declare `serve` and `scheduler` on the top-level parser's sub-commands."""
    serve = add_command(
        commands, "serve", cmd_serve, "Serve Slack over HTTP or Socket Mode, with the clock."
    )
    transport = serve.add_mutually_exclusive_group()
    transport.add_argument(
        "--http", action="store_true", help="serve POST /slack/events and GET /healthz"
    )
    transport.add_argument(
        "--socket", action="store_true", help="connect over Socket Mode (SLACK_APP_TOKEN)"
    )
    serve.add_argument("--port", type=port, help="HTTP port (default: PORT or 3000)")
    serve.add_argument(
        "--no-scheduler", action="store_true", help="do not run the clock in this process"
    )

    add_command(
        commands,
        "scheduler",
        cmd_scheduler,
        "Run the clock alone: pulses, reminders and check-ins on each pilot's schedule.",
    )


def add_commands(commands: Any) -> None:
    """Declare `db upgrade` and `demo` on the top-level parser's sub-commands."""
    db_commands = add_group(commands, "db", "Database schema.")
    add_command(
        db_commands, "upgrade", cmd_db_upgrade, "Bring the database schema to the latest revision."
    )

    demo = add_command(
        commands, "demo", cmd_demo, "Run the whole loop offline, with no Slack account."
    )
    demo.add_argument(
        "--people", type=int, default=8, help="simulated people (default 8, at least 8)"
    )
    demo.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="where the digest's Block Kit JSON and chart go (default: ./pilot-pulse-demo)",
    )
