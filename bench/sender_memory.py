"""Peak memory of the sender: `pilot-pulse pulse send` for 1,000 and for 10,000 DMs (no latency,
no rate limit, so that only the sender's own bookkeeping grows), on SQLite and on PostgreSQL.
Target: the 10,000 run's peak at most 1.3 x the 1,000 run's.

    python bench/sender_memory.py [--quick] [--postgres-admin-url URL]
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from collections.abc import Iterator
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

SIZES = (1_000, 10_000)
QUICK_SIZES = (200, 2_000)


def measure(label: str, database_url: str, people: int, tmp: Path) -> float:
    standin = StandIn(users=people)
    try:
        make_pilot(database_url, people)
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_API_URL": standin.url,
            "DATABASE_URL": database_url,
            "SEND_RATE": "10000",
        }
        run = run_measured(["pulse", "send", "bench"], env, tmp)
    finally:
        standin.close()
    if run.returncode != 0:
        raise SystemExit(run.stdout)
    print(
        f"{label:<10} {people:>6} DMs: peak RSS {run.max_rss_mb:.1f} MiB, {run.seconds:.1f} s  "
        f"({run.stdout.strip().splitlines()[-1][:90]}…)"
    )
    return run.max_rss_mb


@contextlib.contextmanager
def database(label: str, tmp: Path, people: int, admin_url: str) -> Iterator[str]:
    if label == "SQLite":
        yield f"sqlite:///{tmp / f'memory-{people}.db'}"
    else:
        with temporary_postgres(admin_url, f"pp_bench_memory_{people}") as url:
            yield url


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="200 and 2,000 DMs")
    parser.add_argument("--postgres-admin-url", default=DEFAULT_PG_ADMIN)
    args = parser.parse_args()
    small_size, large_size = QUICK_SIZES if args.quick else SIZES
    passed = True
    with tempfile.TemporaryDirectory() as tmp:
        for label in ("SQLite", "PostgreSQL"):
            peaks = []
            for people in (small_size, large_size):
                with database(label, Path(tmp), people, args.postgres_admin_url) as url:
                    peaks.append(measure(label, url, people, Path(tmp)))
            small, large = peaks
            figure = record(
                Figure(
                    benchmark="sender memory",
                    database=label,
                    what=f"peak RSS of {large_size:,} DMs",
                    value=large,
                    baseline=small,
                    unit="MiB",
                    baseline_is=f"{small_size:,} DMs'",
                    ratio=large / small,
                    limit=1.3,
                    target=f"≤ 1.3 × {small_size:,} DMs'",
                )
            )
            passed = passed and figure.passed
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
