"""Shared set-up for the benchmarks: a stand-in of Slack in its own process, a pilot with N
people written straight into the database, and timing a `pilot-pulse` command as a child."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BOT_TOKEN = "xoxb-standin-token"

# A benchmark runs at whatever moment it is started, and nobody gets a DM outside their
# working hours (20:00 to 08:00 and non-working days wait). So the benchmark's pilot works
# every day, and its people live where it is early afternoon now: every DM is due at once,
# and what is measured is the fan-out, not the wait for somebody's morning.
EVERY_DAY = "mon-sun"


def civil_zone() -> str:
    """A fixed-offset zone where it is 13:00 to 13:59 now (Etc/GMT signs are inverted)."""
    offset = (13 - time.gmtime().tm_hour + 12) % 24 - 12
    return "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"


class StandIn:
    """`python -m bot.devkit.slack_standin` in a child process, so its memory and CPU are its own."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        rates: dict[str, int] | None = None,
        users: int = 0,
        tz: str | None = None,
    ) -> None:
        args = [
            sys.executable,
            "-m",
            "bot.devkit.slack_standin",
            "--latency",
            str(latency),
            "--no-record",
            "--users",
            str(users),
            "--tz",
            tz or civil_zone(),
        ]
        for method, per_second in (rates or {}).items():
            args += ["--rate", f"{method}={per_second}"]
        self.process = subprocess.Popen(
            args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http"):
            raise RuntimeError("the stand-in did not start")

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def make_pilot(database_url: str, people: int, *, name: str = "bench") -> None:
    """A pilot whose people are the stand-in's generated users U00000001…

    Done in a child process: the benchmark process itself stays small, because a child's
    peak-memory figure (ru_maxrss) starts from its parent's size at fork.
    """
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "setup_pilot.py"), database_url, str(people), name],
        check=True,
        cwd=ROOT,
    )


@dataclass
class Run:
    seconds: float
    max_rss_mb: float
    stdout: str
    returncode: int


def run_measured(args: list[str], env: dict[str, str], cwd: Path) -> Run:
    """Like run_command, with the child's peak resident memory from wait4()."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        env={**os.environ, **env},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output = process.stdout.read().decode() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Run(seconds, usage.ru_maxrss / 1024, output, process.returncode)


DEFAULT_PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextlib.contextmanager
def temporary_postgres(admin_url: str, prefix: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one benchmark run, dropped afterwards; yields its URL."""
    import psycopg

    admin_url = admin_url.replace("postgresql+psycopg://", "postgresql://")
    name = f"{prefix}_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
