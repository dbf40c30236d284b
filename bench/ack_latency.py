"""Acknowledging a button click: 16 clicks in flight at once against the real app served by
`pilot-pulse serve --http`, on SQLite and on PostgreSQL, then the same clicks against a bare
Bolt app that only acknowledges (bench/bare_bolt.py), served the same way. Every click is
stored before Slack is acknowledged; the modal and the message update follow the ack. Target:
p99 at most 1.5 x the bare app's p99 + 20 ms.

Two clients, both measured:
- `wrk` (apt-get install wrk) keeps 16 connections busy back to back for 10 s: a steady
  load far above what 16 people clicking make, so its tail is the harsher figure;
- a burst client: 16 processes click at the same moment, each on a kept-alive connection,
  then again 0.3 s after the last answer, 50 times.

    python bench/ack_latency.py [--clicks 800] [--quick] [--postgres-admin-url URL]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from common import (
    BOT_TOKEN,
    DEFAULT_PG_ADMIN,
    EVERY_DAY,
    ROOT,
    StandIn,
    civil_zone,
    temporary_postgres,
)
from results import Figure, record

sys.path.insert(0, str(ROOT))

from slack_sdk.signature import SignatureVerifier

SECRET = "bench-signing-secret-0123456789"
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "16"))
PEOPLE = 200
PAUSE_BETWEEN_BURSTS = 0.3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pilot_pulse(*args: str, env: dict[str, str], cwd: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**os.environ, **env},
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def deliveries(database_url: str) -> list[tuple[int, str, int, str, str]]:
    """(delivery id, Slack user, first question id, DM channel, message ts) of the pulse sent."""
    query = (
        "SELECT d.id, p.slack_user_id, (SELECT min(q.id) FROM question q WHERE q.question_set_id = r.question_set_id), "
        "d.channel_id, d.message_ts "
        "FROM delivery d JOIN participant p ON p.id = d.participant_id JOIN round r ON r.id = d.round_id ORDER BY d.id"
    )
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
            return list(conn.execute(query))
    import psycopg

    with psycopg.connect(database_url.replace("postgresql+psycopg", "postgresql")) as conn:
        return list(conn.execute(query))


def click_body(
    delivery_id: int, user_id: str, question_id: int, channel: str, ts: str, value: int
) -> str:
    payload = {
        "type": "block_actions",
        "team": {"id": "T0STANDIN"},
        "user": {"id": user_id},
        "api_app_id": "A0PULSE",
        "trigger_id": f"{time.time()}.trigger",
        "response_url": "http://127.0.0.1:9/unused",
        "container": {"type": "message", "channel_id": channel, "message_ts": ts},
        "channel": {"id": channel},
        "actions": [
            {
                "action_id": f"pulse_answer_{value}",
                "block_id": "pulse_first",
                "type": "button",
                "value": f"{delivery_id}:{question_id}:{value}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def _clicker(port: int, requests: list[tuple[str, str, str]], barrier: Any, results: Any) -> None:
    """One person's browser, in its own process: a kept-alive connection, one click per burst."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    timings = []
    for number, (stamp, signature, body) in enumerate(requests):
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature,
        }
        # Between bursts, the modals and message updates of the last burst get done, as they
        # would between the moments when many people happen to click together.
        time.sleep(PAUSE_BETWEEN_BURSTS)
        barrier.wait()  # all clickers press at the same moment
        started = time.perf_counter()
        connection.request("POST", "/slack/events", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise SystemExit(f"status {response.status}")
        if number >= 2:  # the first bursts warm up Bolt (auth.test), the pools and the caches
            timings.append(elapsed)
    results.put(timings)


def burst_clicks(
    port: int,
    targets: list[tuple[int, str, int, str, str]],
    verifier: SignatureVerifier,
    clicks: int,
) -> list[float]:
    """Bursts of 16 clicks at the same instant, from 16 processes, until `clicks` are timed."""
    rounds = clicks // CONCURRENCY + 2
    stamp = str(int(time.time()))
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(CONCURRENCY)
    results = context.Queue()
    workers = []
    for worker in range(CONCURRENCY):
        requests = []
        for round_number in range(rounds):
            body = click_body(
                *targets[(worker + round_number * CONCURRENCY) % len(targets)], round_number % 4
            )
            requests.append((stamp, verifier.generate_signature(timestamp=stamp, body=body), body))
        workers.append(context.Process(target=_clicker, args=(port, requests, barrier, results)))
    for process in workers:
        process.start()
    timings = [t for _ in workers for t in results.get(timeout=300)]
    for process in workers:
        process.join()
    return timings


def run_wrk(
    url: str, targets: list[tuple[int, str, int, str, str]], verifier: SignatureVerifier, tmp: Path
) -> str:
    """wrk with 16 connections for 10 s, replaying signed clicks; returns its latency lines."""
    clicks_file = tmp / "clicks.tsv"
    stamp = str(int(time.time()))
    with clicks_file.open("w") as out:
        for round_number in range(4):
            for target in targets:
                body = click_body(*target, round_number)
                out.write(
                    f"{stamp}\t{verifier.generate_signature(timestamp=stamp, body=body)}\t{body}\n"
                )
    result = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{CONCURRENCY}",
            "-d10s",
            "--latency",
            "-s",
            str(ROOT / "bench" / "clicks.lua"),
            url,
        ],
        env={**os.environ, "CLICKS_FILE": str(clicks_file)},
        capture_output=True,
        text=True,
        check=True,
    )
    if "status " in result.stderr:
        raise SystemExit(f"wrk saw non-200 answers: {result.stderr[:300]}")
    lines = result.stdout.splitlines()
    keep = [
        line.strip()
        for line in lines
        if line.strip().startswith(("50%", "90%", "99%", "Requests/sec", "Latency "))
    ]
    return " · ".join(keep)


def server_env(standin_url: str, database_url: str) -> dict[str, str]:
    """The settings of a `pilot-pulse` run against the stand-in."""
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": standin_url,
        "DATABASE_URL": database_url,
        "SEND_RATE": "5000",
        "LOG_LEVEL": "WARNING",
    }


def create_pilot(env: dict[str, str], cwd: Path, *options: str) -> None:
    """The schema, then a pilot of everyone in #general, working every day in a zone where
    it is working hours now (see bench/common.py)."""
    pilot_pulse("db", "upgrade", env=env, cwd=cwd)
    pilot_pulse(
        "pilot",
        "create",
        "bench",
        "--tool",
        "Copilot",
        "--leadership-channel",
        "C0GENERAL",
        "--members-from-channel",
        "C0GENERAL",
        "--timezone",
        civil_zone(),
        "--working-days",
        EVERY_DAY,
        *options,
        env=env,
        cwd=cwd,
    )


def wait_healthy(url: str) -> None:
    for _ in range(400):
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1).read()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{url} did not start")


def measure(
    database_url: str, clicks: int, tmp: Path
) -> tuple[list[float], list[float], str | None]:
    standin = StandIn(users=PEOPLE)
    port = free_port()
    env = server_env(standin.url, database_url)
    server = None
    try:
        create_pilot(env, tmp)
        pilot_pulse("pulse", "send", "bench", env=env, cwd=tmp)
        server = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--http", "--no-scheduler", "--port", str(port)],
            env={**os.environ, **env},
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url)
        targets = deliveries(database_url)
        verifier = SignatureVerifier(SECRET)
        timings = burst_clicks(port, targets, verifier, clicks)
        # wrk last: its steady overload leaves a backlog of work after acks for a while.
        wrk_summary = run_wrk(url, targets, verifier, tmp) if shutil.which("wrk") else None
        server.terminate()
        server.wait(timeout=30)
        server = None
        # The baseline, in the same run, with the same clicks: Bolt that only acknowledges.
        bare = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "bare_bolt.py"), str(port), SECRET],
            env={**os.environ, **env},
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_healthy(url)
            bare_timings = burst_clicks(port, targets, verifier, clicks)
        finally:
            bare.terminate()
            bare.wait(timeout=30)
        return timings, bare_timings, wrk_summary
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        standin.close()


def percentile(timings: list[float], q: float) -> float:
    """The `q` quantile of `timings`, in ms (the nearest rank)."""
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def report(name: str, measured: tuple[list[float], list[float], str | None]) -> bool:
    timings, bare, wrk_summary = measured
    if wrk_summary:
        print(f"{name:<10} wrk, {CONCURRENCY} connections for 10 s: {wrk_summary}")
    for who, times in (("pilot-pulse", timings), ("bare Bolt", bare)):
        print(
            f"{name:<10} {who:<11} {len(times)} clicks, {CONCURRENCY} at once: "
            f"p50 {percentile(times, 0.50):.1f} ms, p95 {percentile(times, 0.95):.1f} ms, "
            f"p99 {percentile(times, 0.99):.1f} ms, max {max(times) * 1000:.1f} ms, "
            f"mean {statistics.mean(times) * 1000:.1f} ms"
        )
    p99, bare_p99 = percentile(timings, 0.99), percentile(bare, 0.99)
    allowed = 1.5 * bare_p99 + 20
    return record(
        Figure(
            benchmark="click ack",
            database=name,
            what=f"p99 of {len(timings)} clicks, {CONCURRENCY} at once",
            value=p99,
            baseline=bare_p99,
            unit="ms",
            baseline_is="bare Bolt's",
            ratio=p99 / bare_p99,
            limit=allowed / bare_p99,
            target="≤ 1.5 × bare Bolt's p99 + 20 ms",
        )
    ).passed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clicks", type=int, default=800)
    parser.add_argument("--quick", action="store_true", help="200 clicks")
    parser.add_argument("--postgres-admin-url", default=DEFAULT_PG_ADMIN)
    args = parser.parse_args()
    clicks = 200 if args.quick else args.clicks
    with tempfile.TemporaryDirectory() as tmp:
        passed = report("SQLite", measure(f"sqlite:///{Path(tmp) / 'ack.db'}", clicks, Path(tmp)))
        with temporary_postgres(args.postgres_admin_url, "pp_bench_ack") as url:
            passed = report("PostgreSQL", measure(url, clicks, Path(tmp))) and passed
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
