"""`pilot-pulse report`: one pilot's figures for one period, as JSON or CSV.

The figures come from `bot.reporting.metrics` (SQL aggregates, minimum-group rule applied); every null
carries its reason.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from bot.outreach.round import chosen_period
from bot.pilots.pilot import get_pilot
from bot.reporting.metrics import period_figures
from storage import Database

CSV_COLUMNS = ("pilot", "period", "metric", "key", "label", "value", "n", "withheld")


def build_report(
    db: Database, pilot_name: str, period: str | None, now: datetime
) -> dict[str, Any]:
    """The report of the operator contract for `pilot_name` and `period` (default: the current)."""
    with db.session() as session:
        pilot = get_pilot(session, pilot_name)
        period = chosen_period(session, pilot, period, now)
        figures = period_figures(session, pilot, period, now=now)
    return figures.as_report()


def report_csv(report: dict[str, Any]) -> str:
    """The report as CSV: one row per figure, with `withheld` saying why a value is empty."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    pilot, period = report["pilot"], report["period"]
    withheld = report.get("withheld", {})

    def row(
        metric: str,
        value: Any,
        *,
        key: str = "",
        label: str = "",
        n: Any = "",
        reason: str | None = None,
    ) -> None:
        shown = "" if value is None else value
        writer.writerow(
            [pilot, period, metric, key, label, shown, "" if n is None else n, reason or ""]
        )

    for metric in ("invited", "addressed", "failed", "pending", "waiting"):
        row(metric, report[metric])
    row("responded", report["responded"], reason=withheld.get("responded"))
    row("response_rate", report["response_rate"], reason=withheld.get("response_rate"))
    for question in report["questions"]:
        reason = question.get("withheld")
        row(
            "mean",
            question["mean"],
            key=question["key"],
            label=question["text"],
            n=question["n"],
            reason=reason,
        )
        for option in question.get("distribution") or []:
            row(
                "count",
                option["count"],
                key=question["key"],
                label=option["label"],
                reason=option.get("withheld"),
            )
    sentiment = report["sentiment"]
    row("sentiment", sentiment["mean"], n=sentiment["n"], reason=withheld.get("sentiment"))
    adoption = report.get("adoption") or {}
    for metric, value, n, reason in (
        ("weekly_usage", "weekly_usage", "weekly_usage_n", "adoption.weekly_usage"),
        ("nps", "nps", "nps_n", "adoption.nps"),
        ("hours_saved_per_week", "hours_saved_per_week", "hours_saved_n", "adoption.hours_saved"),
        (
            "hours_saved_per_person",
            "hours_saved_per_person",
            "hours_saved_n",
            "adoption.hours_saved",
        ),
    ):
        row(metric, adoption.get(value), n=adoption.get(n), reason=withheld.get(reason))
    usage = report.get("usage")
    if usage is not None:
        for metric in ("active_users", "active_share", "uses_per_active_user"):
            row(
                f"usage_{metric}",
                usage[metric],
                key=usage["source"],
                reason=withheld.get(f"usage.{metric}"),
            )
    for theme in report["themes"]:
        row("theme", theme["count"], key=theme["theme"])
    if report.get("themes_withheld"):
        row(
            "themes_withheld",
            report["themes_withheld"],
            reason=f"each from fewer than {report['min_group_size']} people",
        )
    row("checkins_started", report["checkins"]["started"], reason=withheld.get("checkins.started"))
    row("paused", report["people"]["paused"], reason=withheld.get("paused"))
    row("opted_out", report["people"]["opted_out"], reason=withheld.get("opted_out"))
    row(
        "checkins_completed",
        report["checkins"]["completed"],
        reason=withheld.get("checkins.completed"),
    )
    return out.getvalue()
