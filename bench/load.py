"""Load: 1,000 Slack-signed interactions, 32 at a time, against `pilot-pulse serve --http`: pulse
clicks, modal submissions, check-in replies in DMs and `/pilot-status`, mixed and shuffled, on
SQLite and on PostgreSQL; then the same requests against a bare Bolt app that only
acknowledges (bench/bare_bolt.py), served the same way.

Each client is a process of its own with a kept-alive connection, sending its share back to
back. Checked: no 5xx (every request is a valid one, so anything but 200 counts), every one
answered within Slack's 3 s, and every answer and reply stored exactly once, none lost. Shown:
p50 and p99 by kind, beside bare Bolt's.

    python bench/load.py [--interactions 1000] [--quick] [--postgres-admin-url URL]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from ack_latency import (
    SECRET,
    click_body,
    create_pilot,
    deliveries,
    free_port,
    percentile,
    pilot_pulse,
    server_env,
    wait_healthy,
)
from common import (
    DEFAULT_PG_ADMIN,
    ROOT,
    StandIn,
    temporary_postgres,
)
from results import Figure, record
from slack_sdk.signature import SignatureVerifier

CONCURRENCY = 32
LIMIT_SECONDS = 3.0
CHAMPION = "U00000001"
# Of every 20 interactions: 8 clicks, 5 modals, 4 replies, 3 /pilot-status.
MIX = {"click": 8, "modal": 5, "reply": 4, "status": 3}


def _query(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
            return list(conn.execute(sql))
    import psycopg

    with psycopg.connect(database_url.replace("postgresql+psycopg", "postgresql")) as conn:
        return list(conn.execute(sql))


def _questions(database_url: str) -> list[tuple[int, str, list[float]]]:
    """(id, kind, the values one may choose) of the pulse's questions, in order."""
    rows = _query(
        database_url,
        "SELECT q.id, q.kind, q.options, q.min_value, q.max_value FROM question q "
        "JOIN round r ON r.question_set_id = q.question_set_id WHERE r.kind = 'pulse' "
        "ORDER BY q.position, q.id",
    )
    questions = []
    for question_id, kind, options, low, high in rows:
        if isinstance(options, str):
            options = json.loads(options)
        values = (
            [float(o["value"]) for o in options]
            if options
            else [float(v) for v in range(int(low or 0), int(high or 0) + 1)]
        )
        questions.append((question_id, kind, values))
    return questions


def _form(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def modal_body(delivery_id: int, user: str, questions: list[tuple[int, str, list[float]]]) -> str:
    """The pulse modal sent with every question after the first answered."""
    values: dict[str, Any] = {}
    for question_id, kind, choices in questions[1:]:
        if kind == "text":
            values[f"q_{question_id}"] = {
                "answer": {"type": "plain_text_input", "value": "Drafts are quicker now."}
            }
        else:
            values[f"q_{question_id}"] = {
                "answer": {
                    "type": "radio_buttons",
                    "selected_option": {"value": str(choices[len(choices) // 2])},
                }
            }
    view = {
        "id": f"V{delivery_id:09d}",
        "type": "modal",
        "callback_id": "pulse_modal",
        "private_metadata": json.dumps({"delivery_id": delivery_id}),
        "blocks": [{"type": "input", "block_id": block} for block in values],
        "state": {"values": values},
    }
    return _form(
        {
            "type": "view_submission",
            "team": {"id": "T0STANDIN"},
            "user": {"id": user},
            "api_app_id": "A0PULSE",
            "trigger_id": f"{time.time()}.trigger",
            "view": view,
        }
    )


def reply_body(user: str, number: int) -> str:
    ts = f"{int(time.time())}.{number:06d}"
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": "T0STANDIN",
            "api_app_id": "A0PULSE",
            "event_id": f"Ev{number:010d}",
            "event_time": int(time.time()),
            "event": {
                "type": "message",
                "channel_type": "im",
                "channel": "D" + user[1:],
                "user": user,
                "text": "It saves me time on first drafts, but the login keeps timing out.",
                "ts": ts,
                "event_ts": ts,
            },
        }
    )


def status_body(response_url: str) -> str:
    return urlencode(
        {
            "command": "/pilot-status",
            "text": "",
            "user_id": CHAMPION,
            "team_id": "T0STANDIN",
            "channel_id": "C0GENERAL",
            "response_url": response_url,
            "trigger_id": f"{time.time()}.trigger",
            "api_app_id": "A0PULSE",
        }
    )


def plan(database_url: str, standin_url: str, total: int) -> tuple[list[tuple[str, str]], dict]:
    """The interactions, shuffled: (kind, body); and what the database must hold after."""
    pulses = [row for row in deliveries(database_url) if row[2] is not None]
    questions = _questions(database_url)
    checkin_users = [
        user
        for (user,) in _query(
            database_url,
            "SELECT p.slack_user_id FROM delivery d JOIN participant p ON p.id = d.participant_id "
            "JOIN round r ON r.id = d.round_id WHERE r.kind = 'checkin' AND d.status = 'sent' "
            "ORDER BY d.id",
        )
    ]
    counts = {kind: total * share // sum(MIX.values()) for kind, share in MIX.items()}
    counts["click"] += total - sum(counts.values())
    if counts["click"] + counts["modal"] > len(pulses) or counts["reply"] > len(checkin_users):
        raise SystemExit("too few people for that many interactions")
    base = standin_url.rstrip("/").removesuffix("/api")
    requests: list[tuple[str, str]] = []
    expected: set[tuple[int, int]] = set()
    for delivery_id, user, first, channel, ts in pulses[: counts["click"]]:
        requests.append(("click", click_body(delivery_id, user, first, channel, ts, 3)))
        expected.add((delivery_id, first))
    modal_people = pulses[counts["click"] : counts["click"] + counts["modal"]]
    for delivery_id, user, _, _, _ in modal_people:
        requests.append(("modal", modal_body(delivery_id, user, questions)))
        expected.update((delivery_id, question_id) for question_id, _, _ in questions[1:])
    for number, user in enumerate(checkin_users[: counts["reply"]], start=1):
        requests.append(("reply", reply_body(user, number)))
    for number in range(counts["status"]):
        requests.append(("status", status_body(f"{base}/response/T0STANDIN/status-{number}")))
    random.Random(1000).shuffle(requests)
    return requests, {"answers": expected, "replies": counts["reply"]}


def _client(port: int, requests: list[tuple[str, str, str, str]], results: Any) -> None:
    """One client process: a kept-alive connection, its requests back to back."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    timings = []
    for kind, stamp, signature, body in requests:
        content_type = (
            "application/json" if kind == "reply" else "application/x-www-form-urlencoded"
        )
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature,
        }
        started = time.perf_counter()
        connection.request("POST", "/slack/events", body=body.encode(), headers=headers)
        response = connection.getresponse()
        response.read()
        timings.append((kind, response.status, time.perf_counter() - started))
    results.put(timings)


def fire(port: int, requests: list[tuple[str, str]]) -> list[tuple[str, int, float]]:
    """All requests, split over CONCURRENCY client processes; (kind, status, seconds) each."""
    verifier = SignatureVerifier(SECRET)
    stamp = str(int(time.time()))
    signed = [
        (kind, stamp, verifier.generate_signature(timestamp=stamp, body=body), body)
        for kind, body in requests
    ]
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [
        context.Process(target=_client, args=(port, signed[index::CONCURRENCY], results))
        for index in range(CONCURRENCY)
    ]
    for process in workers:
        process.start()
    timings = [t for _ in workers for t in results.get(timeout=600)]
    for process in workers:
        process.join()
    return timings


def summary(who: str, timings: list[tuple[str, int, float]]) -> str:
    by_kind: dict[str, list[float]] = defaultdict(list)
    for kind, _, seconds in timings:
        by_kind[kind].append(seconds)
        by_kind["all"].append(seconds)
    return f"{who:<11} " + " · ".join(
        f"{kind} p50 {percentile(times, 0.5):.0f} p99 {percentile(times, 0.99):.0f} ms"
        for kind, times in sorted(by_kind.items())
    )


def measure(label: str, database_url: str, total: int, tmp: Path) -> bool:
    people = max(200, total)
    standin = StandIn(users=people)
    port = free_port()
    env = server_env(standin.url, database_url)
    try:
        create_pilot(env, tmp, "--champions", CHAMPION)
        pilot_pulse("pulse", "send", "bench", env=env, cwd=tmp)
        pilot_pulse("checkin", "send", "bench", env=env, cwd=tmp)
        requests, expected = plan(database_url, standin.url, total)
        results = {}
        for who, command in (
            ("pilot-pulse", [sys.executable, "-m", "bot", "serve", "--http", "--no-scheduler"]),
            ("bare Bolt", [sys.executable, str(ROOT / "bench" / "bare_bolt.py")]),
        ):
            args = (
                [*command, "--port", str(port)]
                if who == "pilot-pulse"
                else [*command, str(port), SECRET]
            )
            server = subprocess.Popen(
                args,
                env={**os.environ, **env},
                cwd=tmp,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                wait_healthy(f"http://127.0.0.1:{port}")
                results[who] = fire(port, requests)
                if who == "pilot-pulse":
                    # The work after the acks (modal updates, check-in turns) finishes.
                    time.sleep(5)
            finally:
                server.terminate()
                server.wait(timeout=60)
    finally:
        standin.close()

    timings = results["pilot-pulse"]
    for who, measured in results.items():
        print(f"{label:<10} {summary(who, measured)}")
    refused = [status for _, status, _ in results["bare Bolt"] if status != 200]
    if refused:
        raise SystemExit(f"the bare Bolt app answered {len(refused)} requests with {refused[:5]}")
    bad = [(kind, status) for kind, status, _ in timings if status != 200]
    slowest = max(seconds for _, _, seconds in timings)
    rows = [
        tuple(row) for row in _query(database_url, "SELECT delivery_id, question_id FROM answer")
    ]
    stored = set(rows)
    (replies,) = _query(
        database_url, "SELECT count(*) FROM checkin_message WHERE author = 'participant'"
    )[0]
    lost = len(expected["answers"] - stored) + len(stored - expected["answers"])
    lost += len(rows) - len(stored)
    lost += abs(replies - expected["replies"])
    print(
        f"{label:<10} {len(timings)} interactions: {len(bad)} not 200 "
        f"({', '.join(sorted({f'{k} {s}' for k, s in bad})) or 'none'}), slowest "
        f"{slowest * 1000:.0f} ms; {len(stored)} answers stored of {len(expected['answers'])} "
        f"given, {replies} replies of {expected['replies']}"
    )
    all_times = [seconds for _, _, seconds in timings]
    bare_times = [seconds for _, _, seconds in results["bare Bolt"]]
    figures = [
        record(
            Figure(
                benchmark="load",
                database=label,
                what=f"slowest of {len(timings):,} interactions, {CONCURRENCY} at once",
                value=slowest * 1000,
                baseline=LIMIT_SECONDS * 1000,
                unit="ms",
                baseline_is="Slack's limit",
                ratio=slowest / LIMIT_SECONDS,
                limit=1.0 if not bad else 0.0,
                target="every one 200 within 3 s",
            )
        ),
        record(
            Figure(
                benchmark="load",
                database=label,
                what="answers and replies lost or doubled",
                value=lost,
                baseline=len(expected["answers"]) + expected["replies"],
                unit="",
                baseline_is="given",
                ratio=lost / (len(expected["answers"]) + expected["replies"]),
                limit=0.0,
                target="none",
            )
        ),
        record(
            Figure(
                benchmark="load",
                database=label,
                what=f"p99 of {len(timings):,} interactions, {CONCURRENCY} at once",
                value=percentile(all_times, 0.99),
                baseline=percentile(bare_times, 0.99),
                unit="ms",
                baseline_is="bare Bolt's",
                ratio=percentile(all_times, 0.99) / percentile(bare_times, 0.99),
                limit=float("inf"),
                target="(shown beside bare Bolt)",
            )
        ),
    ]
    return all(figure.passed for figure in figures)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--interactions", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="300 interactions")
    parser.add_argument("--postgres-admin-url", default=DEFAULT_PG_ADMIN)
    args = parser.parse_args()
    total = 300 if args.quick else args.interactions
    with tempfile.TemporaryDirectory() as tmp:
        passed = measure("SQLite", f"sqlite:///{Path(tmp) / 'load.db'}", total, Path(tmp))
        with temporary_postgres(args.postgres_admin_url, "pp_bench_load") as url:
            passed = measure("PostgreSQL", url, total, Path(tmp)) and passed
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
