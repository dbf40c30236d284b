"""The command line as an operator meets it: real processes, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from bot.devkit.slack_requests import SlackSender
from bot.devkit.slack_standin import SlackStandIn
from tests.conftest import SIGNING_SECRET, command_now, free_port

ROOT = Path(__file__).resolve().parent.parent


def pilot_pulse(
    *args: str, env: dict[str, str] | None = None, cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command_now(*args),
        capture_output=True,
        text=True,
        env=_env(env),
        cwd=cwd,
        timeout=timeout,
    )


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "OPENAI_", "DATABASE_URL", "PORT"))
    }
    base["PYTHONPATH"] = str(ROOT)
    base.update(extra or {})
    return base


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["serve"],
        ["scheduler"],
        ["pilot"],
        ["pilot", "create"],
        ["pilot", "list"],
        ["db", "upgrade"],
        ["doctor"],
        ["demo"],
    ],
)
def test_every_command_has_help(command: list[str], tmp_path: Path) -> None:
    result = pilot_pulse(*command, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "usage: pilot-pulse" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysql://root@localhost/pulse"),
        ("SLACK_BOT_TOKEN", "xapp-wrong-kind"),
        ("PORT", "http"),
        ("SLACK_API_URL", "not-a-url"),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable(
    variable: str, value: str, tmp_path: Path
) -> None:
    result = pilot_pulse("pilot", "list", env={variable: value}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"pilot-pulse: {variable}: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_a_bad_setting_in_dotenv_is_reported_too(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DATABASE_URL=oracle://x/y\n")
    result = pilot_pulse("pilot", "list", cwd=tmp_path)
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr


def test_db_upgrade_is_safe_to_run_twice(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"}
    first = pilot_pulse("db", "upgrade", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "upgraded from empty to" in first.stdout
    second = pilot_pulse("db", "upgrade", env=env, cwd=tmp_path)
    assert second.returncode == 0
    assert "is up to date" in second.stdout


def test_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    result = pilot_pulse("pilot", "list", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("pilot-pulse: cannot reach the database")
    assert result.stderr.count("\n") == 1


def test_unreachable_slack_and_a_refused_token_are_one_line(
    tmp_path: Path, slack: SlackStandIn
) -> None:
    args = (
        "pilot",
        "create",
        "p",
        "--tool",
        "Claude",
        "--leadership-channel",
        "C0LEADERS",
        "--members",
        "U0PERSON1",
    )
    unreachable = pilot_pulse(
        *args,
        env={"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_API_URL": "http://127.0.0.1:1/api/"},
        cwd=tmp_path,
    )
    assert unreachable.returncode == 1
    assert "cannot reach Slack" in unreachable.stderr
    assert unreachable.stderr.count("\n") == 1
    refused = pilot_pulse(
        *args, env={"SLACK_BOT_TOKEN": "xoxb-revoked", "SLACK_API_URL": slack.url}, cwd=tmp_path
    )
    assert refused.returncode == 1
    assert "Slack refused the bot token (invalid_auth): check SLACK_BOT_TOKEN" in refused.stderr


def _start(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command_now(*args),
        env=_env(env),
        cwd=cwd,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_healthy(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"serve exited early: {process.stderr.read() if process.stderr else ''}"
            )
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("serve did not become healthy")


def test_serve_http_answers_slack_and_stops_cleanly_on_sigterm(
    tmp_path: Path, slack: SlackStandIn
) -> None:
    port = free_port()
    env = {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
    }
    process = _start(["serve", "--http", "--port", str(port), "--no-scheduler"], env, tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        sender = SlackSender(url, SIGNING_SECRET, slack)
        assert sender.command("U0PERSON1").status_code == 200
        [reply] = slack.wait_for("response_url")
        assert "No pilot is set up yet" in reply.params["text"]

        # A request in flight when SIGTERM arrives still gets its answer.
        slack.latency = 1.0
        outcome: dict[str, int] = {}
        thread = threading.Thread(
            target=lambda: outcome.update(status=sender.command("U0PERSON2").status_code)
        )
        thread.start()
        time.sleep(0.3)
        process.send_signal(signal.SIGTERM)
        thread.join(timeout=20)
        assert outcome.get("status") == 200
        assert process.wait(timeout=30) == 0
        replies = slack.wait_for("response_url", 2, timeout=10)
        assert "No pilot is set up yet" in replies[1].params["text"]
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def test_serve_socket_mode_answers_a_slash_command_and_stops_on_sigterm(
    tmp_path: Path, slack: SlackStandIn
) -> None:
    env = {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_APP_TOKEN": slack.app_token,
        "SLACK_API_URL": slack.url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'socket.db'}",
    }
    process = _start(["serve", "--socket", "--no-scheduler"], env, tmp_path)
    try:
        slack.wait_socket_connected(timeout=30)
        ack = slack.socket_send(
            "slash_commands",
            {
                "token": "t",
                "team_id": slack.team_id,
                "user_id": "U0PERSON1",
                "command": "/pilot-status",
                "text": "",
                "channel_id": "C0LEADERS",
                "response_url": slack.response_url("socket"),
                "trigger_id": "1.2",
                "api_app_id": "A0PULSE",
            },
        )
        assert ack is not None
        [reply] = slack.wait_for("response_url", timeout=10)
        assert "No pilot is set up yet" in reply.params["text"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def test_serve_without_its_secret_names_the_variable(tmp_path: Path) -> None:
    result = pilot_pulse("serve", "--http", env={"SLACK_BOT_TOKEN": "xoxb-1"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("pilot-pulse: SLACK_SIGNING_SECRET: is not set")
    result = pilot_pulse("serve", "--socket", env={"SLACK_BOT_TOKEN": "xoxb-1"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("pilot-pulse: SLACK_APP_TOKEN: is not set")


def test_pilot_list_json_on_a_fresh_sqlite_default(tmp_path: Path) -> None:
    result = pilot_pulse("pilot", "list", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
    # The zero-setup default created and migrated the SQLite file where the command ran.
    assert (tmp_path / "pilot_pulse.db").exists()
