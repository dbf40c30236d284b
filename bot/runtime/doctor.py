"""`pilot-pulse doctor`: the checks of a deployment (Slack tokens and scopes, the database, each
active pilot's channel and group, the model, the clock), each a `Check` with its fix.

Every check turns what goes wrong (a Slack error, a network error, a database that is down)
into a failing `Check`, never an exception, so that one broken thing does not hide the others.
Nothing here changes anything: no schema upgrade, no message, no Socket Mode connection.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web import SlackResponse
from sqlalchemy import and_, case
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import func, select

from bot.runtime.heartbeat import STALE, last_beat
from bot.runtime.settings import Settings
from bot.runtime.slack_client import build_client
from storage import Database, DatabaseError
from storage.models import Participant, Pilot
from storage.types import utcnow

# The bot scopes manifest.json asks for (oauth_config.scopes.bot). The manifest is not part
# of the installed package, so the list lives here too; tests/test_doctor.py keeps the two
# the same.
BOT_SCOPES = (
    "chat:write",
    "commands",
    "im:write",
    "im:history",
    "im:read",
    "users:read",
    "channels:read",
    "groups:read",
    "files:write",
    "usergroups:read",
    "users:read.email",
    "files:read",
)

_SLACK_CODE = re.compile(r"[a-z0-9_.]+")
# Slack's answers to a token it does not accept.
_REFUSED_TOKEN = ("invalid_auth", "not_authed", "account_inactive", "token_revoked")
# A doctor run should answer in seconds, even when an endpoint hangs.
SLACK_TIMEOUT = 10
MODEL_TIMEOUT = 10.0

_SCOPES_FIX = (
    "add them under OAuth & Permissions → Bot Token Scopes (manifest.json lists them all), "
    "then reinstall the app to the workspace"
)
_CLOCK_FIX = (
    "run `pilot-pulse scheduler` (one per deployment), or `pilot-pulse serve` without "
    "`--no-scheduler`"
)


@dataclass(frozen=True)
class Check:
    """One check's result: `fix` says what to do when it failed; a skipped check (nothing to
    check, or it could not be checked because an earlier one failed) is not a failure."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None
    skipped: bool = False


def _passed(name: str, detail: str) -> Check:
    return Check(name, True, detail)


def _failed(name: str, detail: str, fix: str) -> Check:
    return Check(name, False, detail, fix)


def _skipped(name: str, detail: str) -> Check:
    return Check(name, True, detail, skipped=True)


def run_checks(settings: Settings, *, now: datetime | None = None) -> list[Check]:
    """Every check of the deployment that `settings` describe, in the order to read them."""
    now = now or utcnow()
    # One request per call: a doctor reports what is, and a retried blip would only slow it.
    client = build_client(settings, retries=False, timeout=SLACK_TIMEOUT)
    checks: list[Check] = []
    token_check, auth = check_bot_token(client, settings)
    checks.append(token_check)
    checks.append(check_app_token(client, settings))
    checks.append(check_scopes(auth))
    database_check, db = check_database(settings)
    checks.append(database_check)
    try:
        checks.extend(check_pilots(db, client if auth is not None else None))
        checks.append(check_model(settings))
        checks.append(check_clock(db, now))
    finally:
        if db is not None:
            db.dispose()
    return checks


# -- Slack ----------------------------------------------------------------------------------


def _slack_failure(exc: Exception, api_url: str, method: str) -> tuple[str, str]:
    """(what went wrong, what to do) for a call of Slack's `method` that raised."""
    if isinstance(exc, SlackApiError):
        response = exc.response
        error = str(response.get("error") or "") if response is not None else ""
        status = getattr(response, "status_code", None)
        if status == 429:
            return "Slack is rate-limiting the app", "run the doctor again in a minute"
        # Slack's errors are codes such as channel_not_found; slack_sdk puts a sentence in
        # `error` when the answer was not JSON at all.
        if _SLACK_CODE.fullmatch(error):
            return (
                f"Slack answered {error}",
                f"look {error} up under Errors at https://api.slack.com/methods/{method}",
            )
        if status is not None and status >= 500:
            return (
                f"Slack answered HTTP {status}",
                "Slack is in trouble: see https://slack-status.com and run the doctor later",
            )
        return (
            f"{api_url} did not answer as Slack's Web API (HTTP {status})",
            "check SLACK_API_URL: https://slack.com/api/ unless you use GovSlack or a stand-in",
        )
    # URLError, a refused connection, a timeout.
    reason = getattr(exc, "reason", None) or exc
    return (
        f"cannot reach Slack at {api_url} ({reason})",
        "check SLACK_API_URL and the network (a proxy or firewall between here and Slack)",
    )


def _slack_error(exc: Exception) -> str | None:
    response = getattr(exc, "response", None)
    return response.get("error") if isinstance(exc, SlackApiError) and response else None


# Exceptions a Slack call may raise: Slack's own errors (an answer that is not Slack's JSON
# included), and the network's (OSError covers URLError, refused connections and timeouts).
_SLACK_FAILURES = (SlackClientError, OSError)


def check_bot_token(client: WebClient, settings: Settings) -> tuple[Check, SlackResponse | None]:
    """`auth.test` on the bot token: the check, and Slack's answer (None when it failed)."""
    name = "bot token"
    fix = (
        "check SLACK_BOT_TOKEN: it is the Bot User OAuth Token (xoxb-…) on the app's "
        "OAuth & Permissions page; reinstall the app if it was revoked"
    )
    if not settings.slack_bot_token:
        return _failed(name, "SLACK_BOT_TOKEN is not set", fix), None
    try:
        auth = client.auth_test()
    except _SLACK_FAILURES as exc:
        if _slack_error(exc) in _REFUSED_TOKEN:
            return _failed(name, f"Slack refused the bot token ({_slack_error(exc)})", fix), None
        return _failed(name, *_slack_failure(exc, settings.slack_api_url, "auth.test")), None
    bot = auth.get("user") or auth.get("user_id")
    return _passed(name, f"@{bot} in {auth.get('team')} ({auth.get('team_id')})"), auth


def check_app_token(client: WebClient, settings: Settings) -> Check:
    """In Socket Mode, `apps.connections.open` on the app-level token. The URL it hands out
    is never connected to: it expires unused, and the running app's connections are left be."""
    name = "app token"
    if not settings.slack_app_token:
        return _skipped(name, "HTTP mode (SLACK_APP_TOKEN is not set), no app-level token needed")
    try:
        client.apps_connections_open(app_token=settings.slack_app_token)
    except _SLACK_FAILURES as exc:
        error = _slack_error(exc)
        if error in (*_REFUSED_TOKEN, "not_allowed_token_type"):
            return _failed(
                name,
                f"Slack refused the app-level token ({error})",
                "check SLACK_APP_TOKEN: an app-level token (xapp-…) with connections:write, "
                "from the app's Basic Information page (App-Level Tokens)",
            )
        return _failed(name, *_slack_failure(exc, settings.slack_api_url, "apps.connections.open"))
    return _passed(name, "Socket Mode accepts it (a connection URL was issued, not opened)")


def _header(response: SlackResponse, name: str) -> str | None:
    # slack_sdk keeps the header names as the server wrote them.
    for key, value in (response.headers or {}).items():
        if key.lower() == name:
            return value[0] if isinstance(value, list) else str(value)
    return None


def check_scopes(auth: SlackResponse | None) -> Check:
    """The scopes granted to the bot token (auth.test's `x-oauth-scopes`) against the ones the
    app asks for."""
    name = "scopes"
    if auth is None:
        return _skipped(name, "not checked: the bot token did not work")
    header = _header(auth, "x-oauth-scopes")
    if header is None:
        return _failed(
            name,
            "Slack's answer to auth.test did not say which scopes the token has",
            "check that SLACK_API_URL points at Slack's Web API, not at a proxy that drops "
            "the x-oauth-scopes header",
        )
    granted = {scope.strip() for scope in header.split(",") if scope.strip()}
    missing = [scope for scope in BOT_SCOPES if scope not in granted]
    if missing:
        return _failed(name, f"missing {', '.join(missing)}", _SCOPES_FIX)
    return _passed(name, f"all {len(BOT_SCOPES)} the app asks for are granted")


# -- the database ---------------------------------------------------------------------------


def _first_line(exc: BaseException) -> str:
    message = str(getattr(exc, "orig", None) or exc).strip()
    return message.splitlines()[0] if message else type(exc).__name__


def _missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file `url` names when it does not exist (opening it would create it)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database).expanduser()
    return None if path.exists() else path.absolute()


def check_database(settings: Settings) -> tuple[Check, Database | None]:
    """The database answers and its schema is at the latest revision; the database is handed
    back for the checks that read it only when both hold (else None)."""
    name = "database"
    missing = _missing_sqlite_file(settings.database_url)
    if missing is not None:
        return _failed(
            name,
            f"no SQLite database at {missing}",
            "run `pilot-pulse db upgrade` to create it, or point DATABASE_URL at the right file",
        ), None
    try:
        db = Database(settings.database_url, pool_size=2)
    except DatabaseError as exc:
        return _failed(name, str(exc), "check DATABASE_URL"), None
    fix = "check DATABASE_URL, and that the database server is running and reachable from here"
    try:
        if not db.ping():
            # `ping` keeps the reason to itself; the revision query meets the same failure
            # and tells it (refused, unknown host, bad password…).
            db.current_revision()
        current, head = db.current_revision(), db.head_revision()
    except SQLAlchemyError as exc:
        db.dispose()
        return _failed(name, f"{db.describe()} does not answer: {_first_line(exc)}", fix), None
    if current != head:
        db.dispose()
        return _failed(
            name,
            f"{db.describe()} has the schema at {current or 'nothing'}, not at {head}",
            "run `pilot-pulse db upgrade`",
        ), None
    return _passed(name, f"{db.describe()} answers, schema at the latest revision ({head})"), db


# -- pilots ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ActivePilot:
    name: str
    leadership_channel: str
    min_group_size: int
    reachable: int


def _active_pilots(db: Database) -> list[_ActivePilot]:
    """Each pilot not ended, with how many people a round can reach: surveyed, still in the
    pilot and not opted out (paused people come back, so they count)."""
    reachable = func.count(
        case(
            (
                and_(
                    Participant.surveyed.is_(True),
                    Participant.left_at.is_(None),
                    Participant.opted_out_at.is_(None),
                ),
                1,
            )
        )
    )
    with db.session() as session:
        rows = session.exec(
            select(Pilot, reachable)
            .join(Participant, Participant.pilot_id == Pilot.id, isouter=True)
            .where(Pilot.ended_at.is_(None))
            .group_by(Pilot.id)
            .order_by(Pilot.name)
        ).all()
    return [
        _ActivePilot(pilot.name, pilot.leadership_channel, pilot.min_group_size, count)
        for pilot, count in rows
    ]


def check_pilots(db: Database | None, client: WebClient | None) -> Iterator[Check]:
    """For each active pilot, its leadership channel (when the bot token works) and its
    group of reachable people."""
    if db is None:
        yield _skipped("pilots", "not checked: the database is not ready")
        return
    try:
        pilots = _active_pilots(db)
    except SQLAlchemyError as exc:
        yield _failed(
            "pilots",
            f"cannot read the pilots ({_first_line(exc)})",
            "run the doctor again; if this stays, look at the database server's own log",
        )
        return
    if not pilots:
        yield _skipped("pilots", "no active pilot (create one with `pilot-pulse pilot create`)")
        return
    for pilot in pilots:
        yield check_leadership_channel(client, pilot.name, pilot.leadership_channel)
        yield _check_group(pilot)


def check_leadership_channel(client: WebClient | None, pilot: str, channel_id: str) -> Check:
    """The pilot's leadership channel exists, is live, and has the bot in it (the digest is
    posted there)."""
    name = f"pilot {pilot!r} leadership channel"
    if client is None:
        return _skipped(name, f"{channel_id} not checked: the bot token did not work")
    another = f"choose another: pilot-pulse pilot update {pilot} --leadership-channel ID"
    try:
        channel = client.conversations_info(channel=channel_id)["channel"]
    except _SLACK_FAILURES as exc:
        if _slack_error(exc) == "channel_not_found":
            return _failed(
                name,
                f"{channel_id} is not found: deleted, or private and the bot is not in it",
                f"type `/invite @pilot-pulse` in that channel, or {another}",
            )
        detail, fix = _slack_failure(exc, client.base_url, "conversations.info")
        return _failed(name, f"{channel_id}: {detail}", fix)
    shown = f"#{channel.get('name')} ({channel_id})" if channel.get("name") else channel_id
    if channel.get("is_archived"):
        return _failed(name, f"{shown} is archived", f"unarchive it, or {another}")
    if channel.get("is_im") or channel.get("is_mpim"):
        return _failed(name, f"{shown} is a direct message, not a channel", another)
    if not channel.get("is_member"):
        return _failed(
            name,
            f"the bot is not in {shown}, so the digest cannot be posted there",
            f"type `/invite @pilot-pulse` in {shown}",
        )
    return _passed(name, f"{shown}, the bot is in it")


def _check_group(pilot: _ActivePilot) -> Check:
    name = f"pilot {pilot.name!r} members"
    if pilot.reachable < pilot.min_group_size:
        return _failed(
            name,
            f"{pilot.reachable} people can be surveyed, fewer than its minimum group of "
            f"{pilot.min_group_size}, so none of its figures can be shown",
            f"add members (pilot-pulse pilot update {pilot.name} --add-members U1,U2,…), or "
            f"lower the minimum (pilot-pulse pilot update {pilot.name} --min-group-size N, "
            "at least 3)",
        )
    return _passed(
        name,
        f"{pilot.reachable} people can be surveyed (minimum group {pilot.min_group_size})",
    )


# -- the model and the clock ----------------------------------------------------------------


def check_model(settings: Settings) -> Check:
    """The configured model's endpoint answers `GET /models` and offers the model."""
    name = "model"
    if settings.openai_api_key is None:
        return _skipped(name, "not configured (local analyzer)")
    import openai  # loaded only when a model is configured, as in bot.runtime.deps

    client = openai.OpenAI(
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url,
        timeout=min(settings.openai_timeout, MODEL_TIMEOUT),
        # One request: the doctor reports what the endpoint does now.
        max_retries=0,
    )
    where = str(client.base_url).rstrip("/")
    try:
        offered = {model.id for model in client.models.list()}
    except openai.AuthenticationError:
        return _failed(name, f"{where} refused the key (HTTP 401)", "check OPENAI_API_KEY")
    except openai.APIStatusError as exc:
        return _failed(
            name,
            f"{where} answered HTTP {exc.status_code}",
            "check OPENAI_BASE_URL and OPENAI_API_KEY",
        )
    except (openai.APIError, OSError) as exc:  # refused, timed out, no such host
        return _failed(
            name,
            f"cannot reach {where} ({_model_failure(exc)})",
            "check OPENAI_BASE_URL and the network; or unset OPENAI_API_KEY to analyse locally",
        )
    except Exception as exc:
        # An answer that is not an API's (a web page, broken JSON) surfaces from inside the SDK
        # as whatever its parsing ran into (AttributeError, JSONDecodeError…), undocumented;
        # the doctor reports it rather than stop, the others' checks still to come.
        return _failed(
            name,
            f"{where} did not answer as an OpenAI-compatible API ({type(exc).__name__})",
            "check OPENAI_BASE_URL: it ends where the API's /models and /chat/completions "
            "begin, often in /v1",
        )
    # Some compatible servers list nothing; only a list that leaves the model out is wrong.
    if offered and settings.openai_model not in offered:
        examples = ", ".join(sorted(offered)[:5])
        return _failed(
            name,
            f"{where} does not offer {settings.openai_model}",
            f"set OPENAI_MODEL to a model it offers ({examples})",
        )
    return _passed(name, f"{settings.openai_model} at {where} answers")


def _model_failure(exc: BaseException) -> str:
    """A few words on why the model's endpoint gave no answer."""
    if "Timeout" in type(exc).__name__:
        return "no answer in time"
    # The SDK's own message is a generic "Connection error."; the cause says which.
    cause = exc.__cause__ or exc
    message = str(cause).strip().splitlines()
    return message[0] if message else type(cause).__name__


def _ago(age: timedelta) -> str:
    seconds = max(0, int(age.total_seconds()))
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def check_clock(db: Database | None, now: datetime) -> Check:
    """Some clock ticked within `STALE` (every clock writes its tick to the database)."""
    name = "clock"
    if db is None:
        return _skipped(name, "not checked: the database is not ready")
    try:
        beat = last_beat(db)
    except SQLAlchemyError as exc:
        return _failed(name, f"cannot read the clock's heartbeat ({_first_line(exc)})", _CLOCK_FIX)
    if beat is None:
        return _failed(name, "no clock has ticked in the last day", _CLOCK_FIX)
    age = now - beat
    if age > STALE:
        return _failed(
            name,
            f"the last tick was {_ago(age)} ({beat:%Y-%m-%d %H:%M} UTC): the clock has stopped",
            _CLOCK_FIX,
        )
    return _passed(name, f"last tick {_ago(age)}")
