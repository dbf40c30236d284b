"""Importing a usage export: 1,000 people by 90 days (90,000 rows of the generic CSV, people
named by e-mail, so matched through `users.list`), with the whole `pilot-pulse usage import`
command timed, Python start-up included, on PostgreSQL (the target: at most 10 s) and SQLite;
then the same file again (nothing changes, every day is rewritten as it was).

    python bench/usage_import.py [--people 1000] [--days 90] [--quick] [--postgres-admin-url URL]
"""

from __future__ import annotations

import argparse
import random
import tempfile
from datetime import date, timedelta
from pathlib import Path

from common import (
    BOT_TOKEN,
    DEFAULT_PG_ADMIN,
    StandIn,
    make_pilot,
    run_measured,
    temporary_postgres,
)
from results import Figure, record

TARGET_SECONDS = 10.0


def write_export(path: Path, people: int, days: int) -> int:
    """A generic CSV: every person every day, a third of the days unused."""
    chance = random.Random(90)
    first = date(2026, 8, 31)
    with path.open("w", encoding="utf-8") as out:
        out.write("user,date,uses\n")
        for index in range(1, people + 1):
            for offset in range(days):
                uses = 0 if chance.random() < 0.33 else chance.randint(1, 40)
                out.write(f"user{index}@example.com,{first + timedelta(days=offset)},{uses}\n")
    return people * days


def measure(label: str, database_url: str, standin: StandIn, people: int, days: int) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        make_pilot(database_url, people)
        export = Path(tmp) / "usage.csv"
        rows = write_export(export, people, days)
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_API_URL": standin.url,
            "DATABASE_URL": database_url,
        }
        first = run_measured(["usage", "import", "bench", str(export)], env, Path(tmp))
        again = run_measured(["usage", "import", "bench", str(export)], env, Path(tmp))
    if first.returncode or again.returncode:
        print(first.stdout, again.stdout)
        return False
    summary = first.stdout.strip().splitlines()[0]
    print(f"{label:<10} {summary}")
    print(
        f"{label:<10} {rows:,} rows: {first.seconds:.2f} s the first time, {again.seconds:.2f} s "
        f"again (the whole command; peak RSS {first.max_rss_mb:.0f} MiB)"
    )
    figure = record(
        Figure(
            benchmark="usage import",
            database=label,
            what=f"{rows:,} rows, the whole command",
            value=first.seconds,
            baseline=TARGET_SECONDS,
            unit="s",
            baseline_is="the target's",
            ratio=first.seconds / TARGET_SECONDS,
            limit=1.0,
            target=f"≤ {TARGET_SECONDS:.0f} s",
        )
    )
    return figure.passed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--quick", action="store_true", help="200 people by 30 days")
    parser.add_argument("--postgres-admin-url", default=DEFAULT_PG_ADMIN)
    args = parser.parse_args()
    if args.quick:
        args.people, args.days = 200, 30
    standin = StandIn(users=args.people)
    try:
        with temporary_postgres(args.postgres_admin_url, "pp_bench_usage") as url:
            met = measure("PostgreSQL", url, standin, args.people, args.days)
        with tempfile.TemporaryDirectory() as tmp:
            met = (
                measure(
                    "SQLite",
                    f"sqlite:///{Path(tmp) / 'bench.db'}",
                    standin,
                    args.people,
                    args.days,
                )
                and met
            )
    finally:
        standin.close()
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
