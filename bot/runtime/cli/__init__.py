"""The `pilot-pulse` command line (also `python -m bot`): the parser and `main`.

Every sub-command exits 0 on success and non-zero with one line on stderr on failure, and is
safe to run twice. Each group of commands lives in a module of its own, which declares its
parsers (`add_commands`) beside the code that runs them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from urllib.error import URLError

from slack_sdk.errors import SlackApiError

from bot import __version__
from bot.errors import PulseError
from bot.pilots.period import PeriodError
from bot.runtime.cli import doctor, outreach, pilots, reporting, service, usage, words
from bot.runtime.cli.common import Failure
from bot.runtime.logs import configure_logging
from bot.runtime.settings import Settings, SettingsError
from storage import DatabaseError

EXIT_USAGE = 2
EXIT_FAILED = 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pilot-pulse",
        description="Weekly pulse surveys and check-ins for an AI-tool pilot in Slack.",
    )
    parser.add_argument("--version", action="version", version=f"pilot-pulse {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    # In the order `--help` lists them.
    service.add_serve_commands(commands)
    pilots.add_commands(commands)
    outreach.add_commands(commands)
    words.add_commands(commands)
    reporting.add_commands(commands)
    usage.add_commands(commands)
    words.add_question_commands(commands)
    service.add_commands(commands)
    doctor.add_commands(commands)
    return parser


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
        settings = Settings.from_env()
        level, log_format = settings.log_level, settings.log_format
    except SettingsError:
        level, log_format = "INFO", "text"  # the command itself reports the bad setting
    configure_logging(level, log_format, long_running=args.command in ("serve", "scheduler"))
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
