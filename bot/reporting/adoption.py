"""Adoption figures drawn from the pulse's own questions: the share who used the tool at least
weekly, the NPS-style recommend score, and the hours the tool saved. Each is derived from a
question's answers counted by value, with the minimum-group rule applied."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.models import Question

# The default questions' keys (bot/pilots/question.py); a pilot whose questions lack one simply
# has no such figure.
USAGE, RECOMMEND, TIME_SAVED = "usage", "recommend", "time_saved"
# NPS buckets on the 0–10 recommend scale.
PROMOTER_FROM, DETRACTOR_TO = 9, 6


@dataclass(frozen=True)
class AdoptionFigures:
    """None wherever too few people stand behind a figure (or the question is not asked)."""

    weekly_usage: float | None = None  # share 0..1 who used the tool at least once that week
    weekly_usage_n: int | None = None
    nps: float | None = None  # % promoters − % detractors, −100..100
    nps_n: int | None = None
    hours_total: float | None = None  # hours a week saved, across the people who answered
    hours_per_person: float | None = None
    hours_n: int | None = None


def _question(questions: Sequence[Question], key: str) -> Question | None:
    return next((q for q in questions if q.key == key), None)


def adoption_figures(
    questions: Sequence[Question],
    histograms: Mapping[str, Mapping[float, int]],
    time_saved_mean: float | None,
    minimum: int,
) -> AdoptionFigures:
    """The adoption figures of one round, from `histograms` (question key → value → people)
    and the time-saved question's mean (minutes, already withheld where it must be)."""
    weekly = weekly_n = nps = nps_n = hours_total = per_person = hours_n = None

    usage = _question(questions, USAGE)
    if usage is not None and usage.options:
        counts = histograms.get(USAGE, {})
        lowest = min(float(option["value"]) for option in usage.options)
        n = sum(counts.values())
        unused = counts.get(lowest, 0)
        used = n - unused
        # Two groups, used and not: with n shown, the share gives both counts away, so both
        # must stand for enough people (or none at all).
        if n >= minimum and not (0 < used < minimum) and not (0 < unused < minimum):
            weekly, weekly_n = round(used / n, 3), n

    recommend = _question(questions, RECOMMEND)
    if recommend is not None and (recommend.min_value, recommend.max_value) == (0, 10):
        counts = histograms.get(RECOMMEND, {})
        n = sum(counts.values())
        if n >= minimum:
            promoters = sum(c for value, c in counts.items() if value >= PROMOTER_FROM)
            detractors = sum(c for value, c in counts.items() if value <= DETRACTOR_TO)
            nps, nps_n = round(100 * (promoters - detractors) / n, 1), n

    if _question(questions, TIME_SAVED) is not None and time_saved_mean is not None:
        n = sum(histograms.get(TIME_SAVED, {}).values())
        if n >= minimum:
            # The answers are the middles of time bands in minutes a week.
            per_person = round(time_saved_mean / 60, 2)
            hours_total, hours_n = round(time_saved_mean * n / 60, 1), n
    return AdoptionFigures(weekly, weekly_n, nps, nps_n, hours_total, per_person, hours_n)
