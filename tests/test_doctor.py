"""`pilot-pulse doctor` through the real command line, against the Slack and OpenAI stand-ins:
one line per check, each failure followed by its fix, exit 1 when anything fails. Every test
that needs a database runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import socket
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import update

from bot.devkit.slack_standin import SlackStandIn
from bot.pilots.pilot import PilotSpec, create_pilot
from bot.runtime.cli import main
from bot.runtime.deps import Deps
from bot.runtime.doctor import BOT_SCOPES
from bot.runtime.heartbeat import STALE, beat
from storage import Database
from storage.database import MIGRATIONS
from storage.models import Participant
from storage.types import utcnow
from tests.openai_standin import OpenAIStandIn

ROOT = Path(__file__).resolve().parent.parent
PILOT = "support-copilot"
PEOPLE = [f"U0PERSON{i}" for i in range(1, 7)]


def doctor(capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    code = main(["doctor"])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def line(lines: list[str], start: str) -> str:
    """The one line that starts with `start` (a mark and a check's name)."""
    found = [text for text in lines if text.startswith(start)]
    assert len(found) == 1, f"expected one line starting {start!r} in:\n" + "\n".join(lines)
    return found[0]


def fix_after(lines: list[str], start: str) -> str:
    """The fix printed under the line that starts with `start`."""
    following = lines[lines.index(line(lines, start)) + 1]
    assert following.startswith("      fix: "), following
    return following


def make_pilot(deps: Deps, *, members: list[str] = PEOPLE, minimum: int = 5) -> None:
    create_pilot(
        deps.db,
        deps.client,
        PilotSpec(
            name=PILOT,
            tool="Copilot",
            leadership_channel="C0LEADERS",
            members=tuple(members),
            champions=("U0CHAMPION",),
            min_group_size=minimum,
        ),
    )


def healthy(deps: Deps) -> None:
    """A deployment with nothing wrong: a pilot with enough people, a clock that just ticked."""
    make_pilot(deps)
    now = utcnow()
    beat(deps.db, "clock-1", now - timedelta(hours=1), now)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def use_model(monkeypatch: pytest.MonkeyPatch, base_url: str, model: str | None = None) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-doctor")
    monkeypatch.setenv("OPENAI_BASE_URL", base_url)
    if model is not None:
        monkeypatch.setenv("OPENAI_MODEL", model)


# -- everything well ------------------------------------------------------------------------


def test_a_healthy_deployment_passes_every_check(
    env: dict,
    deps: Deps,
    slack: SlackStandIn,
    llm: OpenAIStandIn,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    healthy(deps)
    monkeypatch.setenv("SLACK_APP_TOKEN", slack.app_token)
    use_model(monkeypatch, llm.url)

    code, lines, err = doctor(capsys)

    assert code == 0, "\n".join(lines) + err
    assert err == ""
    assert lines and all(text.startswith("ok  ") for text in lines), lines
    names = [text.split(":")[0][6:] for text in lines]
    assert names == [
        "bot token",
        "app token",
        "scopes",
        "database",
        f"pilot '{PILOT}' leadership channel",
        f"pilot '{PILOT}' members",
        "model",
        "clock",
    ]
    assert "Stand-in Workspace (T0STANDIN)" in line(lines, "ok    bot token")
    assert "#ai-pilot-leads (C0LEADERS)" in line(lines, f"ok    pilot '{PILOT}' leadership")
    assert "6 people can be surveyed (minimum group 5)" in line(lines, f"ok    pilot '{PILOT}' m")
    # The app token was tried, but no Socket Mode connection was opened.
    [opened] = slack.calls_to("apps.connections.open")
    assert opened.headers["authorization"] == f"Bearer {slack.app_token}"
    with pytest.raises(AssertionError):
        slack.wait_socket_connected(0.2)
    assert [call.path for call in llm.calls] == ["/v1/models"]


def test_without_a_model_or_socket_mode_those_checks_are_skipped_not_failed(
    env: dict, deps: Deps, slack: SlackStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    healthy(deps)

    code, lines, err = doctor(capsys)

    assert code == 0, "\n".join(lines) + err
    assert line(lines, "skip  model") == "skip  model: not configured (local analyzer)"
    assert "HTTP mode" in line(lines, "skip  app token")
    assert slack.calls_to("apps.connections.open") == []
    assert sum(text.startswith("skip") for text in lines) == 2


def test_the_scopes_checked_are_the_manifests() -> None:
    manifest = json.loads((ROOT / "manifest.json").read_text())
    assert list(BOT_SCOPES) == manifest["oauth_config"]["scopes"]["bot"]


# -- Slack ----------------------------------------------------------------------------------


def test_missing_scopes_are_named_with_the_fix(
    env: dict, deps: Deps, slack: SlackStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    healthy(deps)
    # A workspace that installed the app before it asked for these.
    slack.scopes.remove("im:history")
    slack.scopes.remove("usergroups:read")

    code, lines, err = doctor(capsys)

    assert code == 1
    assert line(lines, "FAIL  scopes") == "FAIL  scopes: missing im:history, usergroups:read"
    fix = fix_after(lines, "FAIL  scopes")
    assert "OAuth & Permissions" in fix and "reinstall the app" in fix
    assert err.strip() == "pilot-pulse: 1 of 8 checks failed"


def test_a_leadership_channel_without_the_bot_fails_with_the_invite(
    env: dict, deps: Deps, slack: SlackStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    healthy(deps)
    slack.channels["C0LEADERS"]["is_member"] = False  # someone removed the bot

    code, lines, _ = doctor(capsys)

    assert code == 1
    failed = line(lines, f"FAIL  pilot '{PILOT}' leadership channel")
    assert "the bot is not in #ai-pilot-leads (C0LEADERS)" in failed
    assert "`/invite @pilot-pulse` in #ai-pilot-leads" in fix_after(lines, f"FAIL  pilot '{PILOT}'")
    # The rest still passes.
    assert sum(text.startswith("FAIL") for text in lines) == 1


def test_a_deleted_leadership_channel_fails_with_its_fix(
    env: dict, deps: Deps, slack: SlackStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    healthy(deps)
    del slack.channels["C0LEADERS"]

    code, lines, _ = doctor(capsys)

    assert code == 1
    assert "C0LEADERS is not found" in line(lines, f"FAIL  pilot '{PILOT}' leadership channel")
    assert f"pilot update {PILOT} --leadership-channel" in fix_after(
        lines, f"FAIL  pilot '{PILOT}'"
    )


def test_a_bad_bot_token_fails_with_the_fix_and_skips_what_needs_it(
    env: dict,
    deps: Deps,
    slack: SlackStandIn,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    healthy(deps)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-revoked-token")

    code, lines, err = doctor(capsys)

    assert code == 1
    assert "Traceback" not in err
    assert line(lines, "FAIL  bot token") == (
        "FAIL  bot token: Slack refused the bot token (invalid_auth)"
    )
    assert fix_after(lines, "FAIL  bot token").startswith("      fix: check SLACK_BOT_TOKEN")
    assert line(lines, "skip  scopes").endswith("the bot token did not work")
    assert line(lines, f"skip  pilot '{PILOT}' leadership channel").endswith(
        "C0LEADERS not checked: the bot token did not work"
    )
    # What does not need the token is still checked.
    assert line(lines, "ok    database")
    assert line(lines, f"ok    pilot '{PILOT}' members")


def test_an_unset_bot_token_is_a_failing_line(
    env: dict, deps: Deps, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN")

    code, lines, _ = doctor(capsys)

    assert code == 1
    assert line(lines, "FAIL  bot token") == "FAIL  bot token: SLACK_BOT_TOKEN is not set"


def test_a_refused_app_token_fails_with_the_fix(
    env: dict,
    deps: Deps,
    slack: SlackStandIn,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    healthy(deps)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-revoked")

    code, lines, _ = doctor(capsys)

    assert code == 1
    assert "Slack refused the app-level token (invalid_auth)" in line(lines, "FAIL  app token")
    assert "check SLACK_APP_TOKEN" in fix_after(lines, "FAIL  app token")


def test_slack_out_of_reach_is_a_failing_line_not_a_traceback(
    env: dict, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_API_URL", f"http://127.0.0.1:{closed_port()}/api/")

    code, lines, err = doctor(capsys)

    assert code == 1
    assert "Traceback" not in err
    assert "cannot reach Slack at http://127.0.0.1:" in line(lines, "FAIL  bot token")
    assert "check SLACK_API_URL" in fix_after(lines, "FAIL  bot token")
    assert line(lines, "ok    database")


def test_a_slack_api_url_that_is_not_slack_is_a_failing_line(
    env: dict,
    llm: OpenAIStandIn,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The two endpoints' URLs swapped: an API answers, but not Slack's.
    monkeypatch.setenv("SLACK_API_URL", llm.url + "/")

    code, lines, err = doctor(capsys)

    assert code == 1
    assert "Traceback" not in err
    assert "did not answer as Slack's Web API (HTTP 404)" in line(lines, "FAIL  bot token")
    assert "check SLACK_API_URL" in fix_after(lines, "FAIL  bot token")


def test_slack_rate_limiting_a_channel_check_is_a_failing_line(
    env: dict, deps: Deps, slack: SlackStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    healthy(deps)
    slack.fail("conversations.info", status=429, retry_after=1)

    code, lines, _ = doctor(capsys)

    assert code == 1
    assert "rate-limiting" in line(lines, f"FAIL  pilot '{PILOT}' leadership channel")


# -- the pilots' people ---------------------------------------------------------------------


def test_fewer_reachable_members_than_the_minimum_group_fails(
    env: dict, deps: Deps, capsys: pytest.CaptureFixture[str]
) -> None:
    make_pilot(deps, members=PEOPLE[:5], minimum=5)
    now = utcnow()
    beat(deps.db, "clock-1", now, now)
    with deps.db.transaction() as session:
        session.execute(
            update(Participant)
            .where(Participant.slack_user_id == "U0PERSON1")
            .values(opted_out_at=now)
        )
        session.execute(
            update(Participant).where(Participant.slack_user_id == "U0PERSON2").values(left_at=now)
        )
        # Paused people come back: they still count.
        session.execute(
            update(Participant)
            .where(Participant.slack_user_id == "U0PERSON3")
            .values(paused_until=now + timedelta(days=7))
        )

    code, lines, _ = doctor(capsys)

    assert code == 1
    failed = line(lines, f"FAIL  pilot '{PILOT}' members")
    # Five members, one opted out, one left; the champion is not surveyed.
    assert "3 people can be surveyed, fewer than its minimum group of 5" in failed
    fix = fix_after(lines, f"FAIL  pilot '{PILOT}' members")
    assert "--add-members" in fix and "--min-group-size" in fix


def test_an_ended_pilot_is_not_checked(
    env: dict, deps: Deps, slack: SlackStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    healthy(deps)
    assert main(["pilot", "end", PILOT]) == 0
    slack.channels["C0LEADERS"]["is_member"] = False
    capsys.readouterr()

    code, lines, _ = doctor(capsys)

    assert code == 0, "\n".join(lines)
    assert line(lines, "skip  pilots").startswith("skip  pilots: no active pilot")


# -- the database ---------------------------------------------------------------------------


def _downgrade_one_revision(url: str) -> str:
    """Take the database one migration back, as if the code had been upgraded but not it."""
    db = Database(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with db.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "-1")
        return db.current_revision() or "nothing"
    finally:
        db.dispose()


def test_a_database_behind_the_code_fails_and_is_not_upgraded(
    env: dict, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    behind = _downgrade_one_revision(db_url)

    code, lines, _ = doctor(capsys)

    assert code == 1
    assert f"has the schema at {behind}, not at" in line(lines, "FAIL  database")
    assert fix_after(lines, "FAIL  database") == "      fix: run `pilot-pulse db upgrade`"
    assert line(lines, "skip  pilots").endswith("the database is not ready")
    assert line(lines, "skip  clock").endswith("the database is not ready")
    # The doctor looks and changes nothing, even on SQLite (which `serve` would upgrade).
    db = Database(db_url)
    try:
        assert db.current_revision() == (None if behind == "nothing" else behind)
    finally:
        db.dispose()


def test_a_database_that_is_down_is_a_failing_line(
    slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack.bot_token)
    monkeypatch.setenv("SLACK_API_URL", slack.url)
    monkeypatch.setenv("DATABASE_URL", f"postgresql+psycopg://nobody@127.0.0.1:{closed_port()}/x")

    code, lines, err = doctor(capsys)

    assert code == 1
    assert "Traceback" not in err
    failed = line(lines, "FAIL  database")
    assert "does not answer: " in failed and "refused" in failed.lower()
    assert "check DATABASE_URL" in fix_after(lines, "FAIL  database")
    assert line(lines, "ok    bot token")


def test_a_missing_sqlite_file_is_reported_not_created(
    slack: SlackStandIn,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "nowhere" / "pulse.db"
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack.bot_token)
    monkeypatch.setenv("SLACK_API_URL", slack.url)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")

    code, lines, _ = doctor(capsys)

    assert code == 1
    assert line(lines, "FAIL  database") == f"FAIL  database: no SQLite database at {path}"
    assert not path.parent.exists()


# -- the clock ------------------------------------------------------------------------------


def test_the_clock_fails_without_a_heartbeat_or_with_a_stale_one_and_passes_with_a_fresh_one(
    env: dict, deps: Deps, capsys: pytest.CaptureFixture[str]
) -> None:
    make_pilot(deps)

    code, lines, _ = doctor(capsys)
    assert code == 1
    assert line(lines, "FAIL  clock") == "FAIL  clock: no clock has ticked in the last day"
    assert "pilot-pulse scheduler" in fix_after(lines, "FAIL  clock")
    assert "--no-scheduler" in fix_after(lines, "FAIL  clock")

    now = utcnow()
    beat(deps.db, "clock-1", now - timedelta(hours=2), now - STALE - timedelta(minutes=2))
    code, lines, _ = doctor(capsys)
    assert code == 1
    assert "7 min ago" in line(lines, "FAIL  clock")
    assert "the clock has stopped" in line(lines, "FAIL  clock")

    beat(deps.db, "clock-1", now - timedelta(hours=2), utcnow())
    code, lines, _ = doctor(capsys)
    assert code == 0, "\n".join(lines)
    assert line(lines, "ok    clock").startswith("ok    clock: last tick ")


# -- the model ------------------------------------------------------------------------------


def test_a_configured_model_that_answers_passes(
    env: dict,
    deps: Deps,
    llm: OpenAIStandIn,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    healthy(deps)
    use_model(monkeypatch, llm.url)

    code, lines, _ = doctor(capsys)

    assert code == 0, "\n".join(lines)
    assert line(lines, "ok    model") == f"ok    model: gpt-4o-mini at {llm.url} answers"
    [call] = llm.calls
    assert (call.method, call.path) == ("GET", "/v1/models")


def test_a_configured_model_out_of_reach_fails(
    env: dict, deps: Deps, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    healthy(deps)
    use_model(monkeypatch, f"http://127.0.0.1:{closed_port()}/v1")

    code, lines, err = doctor(capsys)

    assert code == 1
    assert "Traceback" not in err
    assert "cannot reach http://127.0.0.1:" in line(lines, "FAIL  model")
    assert "check OPENAI_BASE_URL" in fix_after(lines, "FAIL  model")


def test_a_model_the_endpoint_does_not_offer_fails(
    env: dict,
    deps: Deps,
    llm: OpenAIStandIn,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    healthy(deps)
    use_model(monkeypatch, llm.url, model="gpt-4o-mni")

    code, lines, _ = doctor(capsys)

    assert code == 1
    assert line(lines, "FAIL  model").endswith("does not offer gpt-4o-mni")
    assert "OPENAI_MODEL" in fix_after(lines, "FAIL  model")
    assert "gpt-4o-mini" in fix_after(lines, "FAIL  model")
