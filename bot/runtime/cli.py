"""The `pilot-pulse` command line (also `python -m bot`).

Every sub-command exits 0 on success and non-zero with one line on stderr on failure, and is
safe to run twice.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any
from urllib.error import URLError

from slack_sdk.errors import SlackApiError

from bot import __version__
from bot.errors import PulseError
from bot.pilots.period import PeriodError
from bot.runtime.deps import Deps, build_deps
from bot.runtime.settings import Settings, SettingsError
from storage import Database, DatabaseError

log = logging.getLogger("pilot_pulse")

EXIT_USAGE = 2
EXIT_FAILED = 1


class Failure(Exception):
    """A one-line reason to stop a command."""


def _configure_logging(level: str, *, long_running: bool) -> None:
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not long_running:
        # A one-shot command reports its own failure in one line; the SDK's error log of the
        # same failure would only repeat it.
        logging.getLogger("bot.runtime.slack_client").setLevel(logging.CRITICAL)
    # The SDKs are chatty at INFO about every retry; their warnings are enough.
    for noisy in ("slack_sdk", "slack_bolt", "httpx", "openai", "apscheduler.executors", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


def load_settings() -> Settings:
    return Settings.from_env()


def open_database(settings: Settings, *, pool_size: int = 5) -> Database:
    """The database, checked to answer and to have the latest schema (SQLite is upgraded)."""
    db = Database(settings.database_url, pool_size=pool_size)
    db.ensure_ready(auto_upgrade=True)
    return db


def slack_deps(settings: Settings) -> Deps:
    """Deps for a command that talks to Slack: the bot token must be set."""
    settings.require("SLACK_BOT_TOKEN")
    return build_deps(settings, db=open_database(settings))


def _print_table(rows: list[list[str]], headers: list[str]) -> None:
    widths = [
        max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)
    ]
    for row in [headers, *rows]:
        print(
            "  ".join(
                str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)
            ).rstrip()
        )


# -- commands -------------------------------------------------------------------------------


def cmd_pilot_create(args: argparse.Namespace) -> int:
    from bot.pilots.pilot import PilotSpec, check_spec, create_pilot, split_ids

    settings = load_settings()
    spec = PilotSpec(
        name=args.name,
        tool=args.tool,
        leadership_channel=args.leadership_channel,
        members=split_ids(args.members),
        members_from_channel=args.members_from_channel,
        champions=split_ids(args.champions),
        admins=split_ids(args.admins),
        timezone=args.timezone,
        min_group_size=args.min_group_size,
        workflow=args.workflow,
    )
    check_spec(spec)
    deps = slack_deps(settings)
    try:
        result = create_pilot(deps.db, deps.client, spec)
    finally:
        deps.close()
    if not result.created:
        print(f"pilot {result.pilot.name!r} exists already; nothing changed")
        return 0
    pilot = result.pilot
    print(
        f"created pilot {pilot.name!r} ({pilot.tool}): {result.members} members, "
        f"{result.champions} champion{'' if result.champions == 1 else 's'} or admin{'' if result.champions == 1 else 's'}, time zone {pilot.timezone}, "
        f"minimum group {pilot.min_group_size}"
    )
    for user_id, why in sorted(result.left_out.items()):
        print(f"  left out {user_id}: {why}")
    return 0


def cmd_pilot_list(args: argparse.Namespace) -> int:
    from bot.pilots.pilot import list_pilots

    db = open_database(load_settings())
    try:
        with db.session() as session:
            pilots = list_pilots(session)
    finally:
        db.dispose()
    if args.format == "json":
        print(json.dumps([p.__dict__ for p in pilots], indent=2))
        return 0
    if not pilots:
        print("no pilots yet; create one with `pilot-pulse pilot create`")
        return 0
    _print_table(
        [
            [
                p.name,
                p.tool,
                str(p.members),
                str(p.champions),
                p.leadership_channel,
                p.timezone,
                str(p.min_group_size),
                p.created,
            ]
            for p in pilots
        ],
        ["NAME", "TOOL", "MEMBERS", "CHAMPIONS", "LEADERSHIP", "TIME ZONE", "MIN GROUP", "CREATED"],
    )
    return 0


class ProgressLine:
    """Progress of a fan-out on a terminal: done/total, failures, pace; silent when piped."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.shown = False

    def __call__(self, progress: Any) -> None:
        if not self.live:
            return
        line = (
            f"\r  {progress.done}/{progress.total} done · {progress.failed} failed · "
            f"{progress.per_second:.0f}/s"
        )
        self.stream.write(line.ljust(60))
        self.stream.flush()
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def _print_send(result: Any, what: str) -> None:
    progress = result.progress
    if progress is None:
        print(result.note)
        return
    if result.note:
        print(result.note)
    failures = ", ".join(f"{reason} {count}" for reason, count in progress.failures.most_common())
    print(
        f"{what} for {result.period}: {progress.sent} sent now"
        + (f" ({progress.done_before} before)" if progress.done_before else "")
        + f", {progress.failed} failed for good"
        + (f" ({failures})" if failures else "")
        + f", {progress.skipped} skipped (paused, stopped or answered); "
        f"{progress.done} of {progress.total} done in {progress.seconds:.1f} s "
        f"({progress.per_second:.0f}/s"
        + (f", {progress.rate_limited} rate-limited" if progress.rate_limited else "")
        + ")"
    )


def _send(args: argparse.Namespace, action: Callable[..., Any], what: str) -> int:
    deps = slack_deps(load_settings())
    line = ProgressLine()
    try:
        result = action(
            deps.db,
            deps.sending_client,
            args.name,
            now=deps.clock(),
            options=deps.send_options,
            on_progress=line,
        )
    finally:
        line.finish()
        deps.close()
    _print_send(result, what)
    return 0


def cmd_pulse_send(args: argparse.Namespace) -> int:
    from bot.outreach.pulse import send_pulse

    return _send(args, send_pulse, "pulse")


def cmd_pulse_remind(args: argparse.Namespace) -> int:
    from bot.outreach.pulse import send_reminder

    return _send(args, send_reminder, "reminder")


def cmd_checkin_send(args: argparse.Namespace) -> int:
    from bot.checkins.conversation import send_checkins

    return _send(args, send_checkins, "check-in")


def cmd_analyze(args: argparse.Namespace) -> int:
    from bot.privacy.scrub import Scrubber
    from bot.runtime.deps import build_analyzer

    settings = load_settings()
    names: list[str] = []
    if args.pilot:
        from bot.pilots.participant import pilot_names
        from bot.pilots.pilot import get_pilot

        db = open_database(settings)
        try:
            with db.session() as session:
                names = pilot_names(session, get_pilot(session, args.pilot).id)
        finally:
            db.dispose()
    scrubber = Scrubber(names)
    analyzer = build_analyzer(settings)
    if args.file in (None, "-"):
        lines = sys.stdin
    else:
        try:
            lines = open(args.file, encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise Failure(f"cannot read {args.file}: {exc.strerror}") from None
    try:
        for line in lines:
            text = line.strip()
            if not text:
                continue
            scrubbed = scrubber.scrub(text)
            result = analyzer.analyze(scrubbed)
            if args.format == "json":
                print(
                    json.dumps(
                        {
                            "text": scrubbed,
                            "sentiment": result.sentiment,
                            "label": result.label,
                            "themes": result.themes,
                            "analyzer": result.analyzer,
                        },
                        ensure_ascii=False,
                    ),
                    flush=True,
                )
            else:
                themes = ", ".join(result.themes)
                note = f" ({result.note})" if result.note else ""
                print(
                    f"{scrubbed}\n  {result.sentiment:+.2f} {result.label} · {themes} · {result.analyzer}{note}",
                    flush=True,
                )
    except UnicodeDecodeError:
        raise Failure("the input is not UTF-8 text") from None
    finally:
        if lines is not sys.stdin:
            lines.close()
    return 0


def cmd_retention_run(_args: argparse.Namespace) -> int:
    from bot.privacy.retention import purge_raw_text
    from storage.types import utcnow

    settings = load_settings()
    db = open_database(settings)
    try:
        purged = purge_raw_text(db, utcnow(), settings.retention_days)
    finally:
        db.dispose()
    print(
        f"deleted the raw text of {purged.answers} comments and {purged.checkin_messages} check-in "
        f"replies older than {settings.retention_days} days; the scrubbed text stays for reporting"
    )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from bot.reporting.report import build_report, report_csv
    from storage.types import utcnow

    db = open_database(load_settings())
    try:
        report = build_report(db, args.name, args.period, utcnow())
    finally:
        db.dispose()
    if args.format == "csv":
        sys.stdout.write(report_csv(report))
    else:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


def cmd_questions_export(args: argparse.Namespace) -> int:
    from bot.pilots.pilot import get_pilot
    from bot.pilots.question import current_specs, export_toml

    db = open_database(load_settings())
    try:
        with db.session() as session:
            pilot = get_pilot(session, args.name)
            specs, version = current_specs(session, pilot.id)
    finally:
        db.dispose()
    sys.stdout.write(export_toml(specs, pilot=pilot.name, version=version))
    return 0


def cmd_questions_import(args: argparse.Namespace) -> int:
    from bot.pilots.pilot import get_pilot
    from bot.pilots.question import import_questions, parse_toml

    try:
        if args.file == "-":
            text = sys.stdin.read()
        else:
            with open(args.file, encoding="utf-8") as handle:
                text = handle.read()
    except OSError as exc:
        raise Failure(f"cannot read {args.file}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise Failure(f"{args.file} is not UTF-8 text") from None
    specs = parse_toml(text)
    db = open_database(load_settings())
    try:
        with db.transaction() as session:
            pilot = get_pilot(session, args.name)
            version, changed = import_questions(session, pilot, specs)
    finally:
        db.dispose()
    if changed:
        print(
            f"questions of {args.name!r} are now version {version} ({len(specs)} questions); used from the next round on"
        )
    else:
        print(f"the questions of {args.name!r} are unchanged (still version {version})")
    return 0


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
    # What is loaded by now lives as long as the process: keeping it out of the collector's
    # sweeps spares requests the pauses of full collections.
    gc.collect()
    gc.freeze()
    clock = None
    if not args.no_scheduler:
        from bot.runtime.clock import start_clock

        clock = start_clock(deps)
    try:
        if socket_mode:
            run_socket_mode(bolt_app, settings.slack_app_token or "")
        else:
            port = args.port or settings.port
            log.info("serving Slack over HTTP on port %s (POST /slack/events, GET /healthz)", port)
            web_app = build_web_app(
                bolt_app, deps.db, settings.slack_signing_secret or "", gate=deps.ack_first
            )
            run_http(http_server(web_app, port=port))
    finally:
        if clock is not None:
            clock.shutdown(wait=True)
        deps.close(wait=True)
    log.info("stopped")
    return 0


def cmd_scheduler(_args: argparse.Namespace) -> int:
    from bot.runtime.clock import run_clock

    settings = load_settings()
    deps = slack_deps(settings)
    try:
        run_clock(deps)
    finally:
        deps.close(wait=True)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.devkit.demo import run_demo

    # The demo prints what people see; the app's own logs would only get in the way.
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    return run_demo(people=args.people, out=sys.stdout)


# -- parser ---------------------------------------------------------------------------------


def _add(
    subparsers: Any, name: str, handler: Callable[[argparse.Namespace], int], help_text: str
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(handler=handler)
    return parser


def _group(commands: Any, name: str, help_text: str) -> Any:
    """A command with sub-commands of its own (`pilot create`, `pulse send`…)."""
    parser = commands.add_parser(name, help=help_text, description=help_text)
    return parser.add_subparsers(dest=f"{name}_command", metavar="ACTION", required=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pilot-pulse",
        description="Weekly pulse surveys and check-ins for an AI-tool pilot in Slack.",
    )
    parser.add_argument("--version", action="version", version=f"pilot-pulse {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = _add(
        commands, "serve", cmd_serve, "Serve Slack over HTTP or Socket Mode, with the clock."
    )
    transport = serve.add_mutually_exclusive_group()
    transport.add_argument(
        "--http", action="store_true", help="serve POST /slack/events and GET /healthz"
    )
    transport.add_argument(
        "--socket", action="store_true", help="connect over Socket Mode (SLACK_APP_TOKEN)"
    )
    serve.add_argument("--port", type=_port, help="HTTP port (default: PORT or 3000)")
    serve.add_argument(
        "--no-scheduler", action="store_true", help="do not run the clock in this process"
    )

    _add(
        commands,
        "scheduler",
        cmd_scheduler,
        "Run the clock alone: pulses, reminders and check-ins on each pilot's schedule.",
    )

    pilot_commands = _group(commands, "pilot", "Create and list pilots.")
    create = _add(pilot_commands, "create", cmd_pilot_create, "Create a pilot and its people.")
    create.add_argument("name", help="the pilot's name, e.g. support-copilot")
    create.add_argument(
        "--tool", required=True, help="the AI tool being adopted, e.g. 'GitHub Copilot'"
    )
    create.add_argument(
        "--leadership-channel",
        required=True,
        metavar="CHANNEL_ID",
        help="where the weekly digest goes; the bot must be a member",
    )
    create.add_argument(
        "--members-from-channel",
        metavar="CHANNEL_ID",
        help="take every person in this channel as a member",
    )
    create.add_argument("--members", metavar="U1,U2,...", help="members by Slack user ID")
    create.add_argument("--champions", metavar="U1,U2,...", help="who may run /pilot-status")
    create.add_argument(
        "--admins", metavar="U1,U2,...", help="like champions, for whoever runs the pilot"
    )
    create.add_argument(
        "--timezone", help="IANA time zone of the schedule (default: the members' most common)"
    )
    create.add_argument(
        "--min-group-size",
        type=int,
        default=5,
        help="no figure from fewer people is shown (default 5, at least 3)",
    )
    create.add_argument("--workflow", help="the one workflow the pilot sets out to improve")
    listing = _add(pilot_commands, "list", cmd_pilot_list, "List pilots with their head counts.")
    listing.add_argument("--format", choices=("table", "json"), default="table")

    pulse_commands = _group(commands, "pulse", "Send the weekly pulse and its reminder.")
    send = _add(
        pulse_commands,
        "send",
        cmd_pulse_send,
        "Open this period's pulse round now and deliver it (once per period).",
    )
    send.add_argument("name", help="the pilot")
    remind = _add(
        pulse_commands,
        "remind",
        cmd_pulse_remind,
        "Remind, once, those who have not answered this period's pulse.",
    )
    remind.add_argument("name", help="the pilot")

    checkin_commands = _group(commands, "checkin", "Start this period's conversational check-ins.")
    checkin_send = _add(
        checkin_commands,
        "send",
        cmd_checkin_send,
        "DM everyone this period's check-in question now (once per period).",
    )
    checkin_send.add_argument("name", help="the pilot")

    analyze = _add(
        commands, "analyze", cmd_analyze, "Scrub and analyse texts, one per line, as the app would."
    )
    analyze.add_argument(
        "file", nargs="?", help="a file with one text per line (default: standard input)"
    )
    analyze.add_argument("--pilot", metavar="NAME", help="also scrub this pilot's members' names")
    analyze.add_argument(
        "--format", choices=("text", "json"), default="text", help="json: one object per line"
    )

    retention_commands = _group(commands, "retention", "Delete raw text past its retention period.")
    _add(
        retention_commands,
        "run",
        cmd_retention_run,
        "Delete raw text older than RETENTION_DAYS (scrubbed text stays).",
    )

    report = _add(
        commands, "report", cmd_report, "A pilot's figures for one period, as JSON or CSV."
    )
    report.add_argument("name", help="the pilot")
    report.add_argument("--format", choices=("json", "csv"), default="json")
    report.add_argument("--period", help="an ISO week such as 2026-W48 (default: the current one)")

    question_commands = _group(commands, "questions", "Export and import a pilot's questions.")
    export = _add(
        question_commands,
        "export",
        cmd_questions_export,
        "Print the pilot's current questions as TOML.",
    )
    export.add_argument("name", help="the pilot")
    load = _add(
        question_commands,
        "import",
        cmd_questions_import,
        "Make the questions in FILE the pilot's next version.",
    )
    load.add_argument("name", help="the pilot")
    load.add_argument("file", help="a TOML file as written by `questions export` (- for stdin)")

    db_commands = _group(commands, "db", "Database schema.")
    _add(
        db_commands, "upgrade", cmd_db_upgrade, "Bring the database schema to the latest revision."
    )

    demo = _add(commands, "demo", cmd_demo, "Run the whole loop offline, with no Slack account.")
    demo.add_argument(
        "--people", type=int, default=8, help="simulated people (default 8, at least 8)"
    )
    return parser


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {value!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, got {port}")
    return port


def _slack_failure(exc: SlackApiError) -> str:
    response = exc.response
    error = response.get("error") if response is not None else None
    status = getattr(response, "status_code", None)
    if error in ("invalid_auth", "not_authed", "account_inactive", "token_revoked"):
        return f"Slack refused the bot token ({error}): check SLACK_BOT_TOKEN"
    if status == 429:
        return "Slack kept rate-limiting the request; try again in a minute"
    return f"Slack answered {error or f'HTTP {status}'}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        level = Settings.from_env().log_level
    except SettingsError:
        level = "INFO"  # the command itself reports the bad setting
    _configure_logging(level, long_running=args.command in ("serve", "scheduler"))
    try:
        return args.handler(args)
    except (SettingsError, PulseError, DatabaseError, PeriodError, Failure) as exc:
        print(f"pilot-pulse: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, SettingsError) else EXIT_FAILED
    except SlackApiError as exc:
        print(f"pilot-pulse: {_slack_failure(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except (URLError, ConnectionError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        print(
            f"pilot-pulse: cannot reach Slack ({reason}); check SLACK_API_URL and the network",
            file=sys.stderr,
        )
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("pilot-pulse: interrupted", file=sys.stderr)
        return 130
