"""How long the figures behind `/pilot-status` and `report` take for a large pilot: 10,000
people, a pulse delivered to all, 8,000 of them answering every question, on SQLite and on
PostgreSQL. Slack's 3-second limit is met by acknowledging first; this is the time until the
figures follow.

    python bench/status_time.py [--people 10000] [--quick] [--postgres-admin-url URL]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import DEFAULT_PG_ADMIN, temporary_postgres
from results import Figure, record
from sqlalchemy import text

from bot.pilots.period import period_of
from bot.pilots.question import install_default_questions, questions_of
from bot.reporting.status import status_reply
from storage import Database
from storage.models import (
    Answer,
    Delivery,
    DeliveryStatus,
    Participant,
    Pilot,
    Role,
    Round,
    RoundKind,
)
from storage.types import utcnow
from storage.upsert import insert_ignore


def populate(db: Database, people: int) -> None:
    rng = random.Random(7)
    now = utcnow()
    with db.transaction() as session:
        pilot = Pilot(name="big", tool="Copilot", leadership_channel="C0G", timezone="UTC")
        session.add(pilot)
        session.flush()
        question_set = install_default_questions(session, pilot)
        questions = questions_of(session, question_set.id)
        insert_ignore(
            session,
            Participant,
            [
                {
                    "pilot_id": pilot.id,
                    "slack_user_id": f"U{i:08d}",
                    "role": Role.CHAMPION if i == 1 else Role.MEMBER,
                }
                for i in range(1, people + 1)
            ],
            key=["pilot_id", "slack_user_id"],
        )
        ids = session.exec(text("SELECT id FROM participant ORDER BY id")).scalars().all()
        round_ = Round(
            pilot_id=pilot.id,
            kind=RoundKind.PULSE,
            period=period_of(now, "UTC"),
            question_set_id=question_set.id,
            opened_at=now,
            closes_at=now + timedelta(days=6),
        )
        session.add(round_)
        session.flush()
        insert_ignore(
            session,
            Delivery,
            [
                {
                    "round_id": round_.id,
                    "participant_id": pid,
                    "status": DeliveryStatus.SENT,
                    "created_at": now,
                    "updated_at": now,
                }
                for pid in ids
            ],
            key=["round_id", "participant_id", "purpose"],
        )
        deliveries = session.exec(text("SELECT id FROM delivery ORDER BY id")).scalars().all()
        round_id = session.exec(text("SELECT round_id FROM delivery LIMIT 1")).scalars().one()
        rows = []
        for delivery_id in deliveries[: int(people * 0.8)]:
            for question in questions:
                if question.kind == "text":
                    rows.append(
                        {
                            "delivery_id": delivery_id,
                            "round_id": round_id,
                            "question_id": question.id,
                            "text_raw": "fine",
                            "text_scrubbed": "fine",
                            "answered_at": now,
                            "updated_at": now,
                        }
                    )
                else:
                    values = (
                        [o["value"] for o in question.options]
                        if question.options
                        else list(range(question.min_value, question.max_value + 1))
                    )
                    rows.append(
                        {
                            "delivery_id": delivery_id,
                            "round_id": round_id,
                            "question_id": question.id,
                            "value_number": float(rng.choice(values)),
                            "answered_at": now,
                            "updated_at": now,
                        }
                    )
        for start in range(0, len(rows), 5000):
            insert_ignore(
                session, Answer, rows[start : start + 5000], key=["delivery_id", "question_id"]
            )


TARGET_SECONDS = 3.0


def measure(name: str, url: str, people: int) -> bool:
    db = Database(url)
    db.upgrade()
    started = time.perf_counter()
    populate(db, people)
    setup = time.perf_counter() - started
    timings = []
    for _ in range(7):
        started = time.perf_counter()
        reply = status_reply(db, "U00000001", None, utcnow())
        timings.append(time.perf_counter() - started)
    assert reply.figures is not None and reply.figures.responded == int(people * 0.8)
    db.dispose()
    print(
        f"{name:<10} {people} people, {int(people * 0.8)} answered: /pilot-status figures in median "
        f"{statistics.median(timings) * 1000:.0f} ms, max {max(timings) * 1000:.0f} ms (set-up {setup:.1f} s)"
    )
    median = statistics.median(timings)
    return record(
        Figure(
            benchmark="/pilot-status",
            database=name,
            what=f"figures for {people:,} people (median of 7)",
            value=median,
            baseline=TARGET_SECONDS,
            unit="s",
            baseline_is="the target's",
            ratio=median / TARGET_SECONDS,
            limit=1.0,
            target="< 3 s",
        )
    ).passed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="1,000 people")
    parser.add_argument("--postgres-admin-url", default=DEFAULT_PG_ADMIN)
    args = parser.parse_args()
    people = 1000 if args.quick else args.people
    with tempfile.TemporaryDirectory() as tmp:
        passed = measure("SQLite", f"sqlite:///{Path(tmp) / 'status.db'}", people)
    with temporary_postgres(args.postgres_admin_url, "pp_bench_status") as url:
        passed = measure("PostgreSQL", url, people) and passed
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
