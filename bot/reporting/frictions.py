"""Frictions and wins: the themes people raised as getting in the way, or as helping, with how
many different people raised each, and up to two short scrubbed quotes.

A person raised a friction on a theme when their analysed words carry that theme and are
negative or mixed (a mixed reply always holds a complaint, the part to act on), or name a
blocker; a win when they are positive, or name a win. The counts are SQL aggregates (distinct
people). A theme is listed once, as a friction or as a win, on the side more people raised it
on; it is shown only when at least the minimum group of people raised it, and only a shown
theme is quoted, with words about that theme.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, bindparam, case, cast, distinct, func, or_
from sqlmodel import Session, select

from bot.analysis.local import themes_of
from bot.analysis.themes import theme_label
from bot.reporting.digest import ThemeVoice
from storage.models import (
    Analysis,
    AnalysisSource,
    AnalysisStatus,
    AnalysisTheme,
    Answer,
)

MOST = 3  # themes of each kind in a digest or a status reply
QUOTES = 2  # quotes per theme, each from a different person
QUOTE_LENGTH = 140
# Candidates looked at per theme when choosing its quotes: enough to find two people.
_CANDIDATES = 30
_NEGATIVE = ("negative", "mixed")
_POSITIVE = ("positive",)


@dataclass
class Voices:
    """The period's top frictions and wins, and how many themes were raised by too few people."""

    frictions: list[ThemeVoice] = field(default_factory=list)
    wins: list[ThemeVoice] = field(default_factory=list)
    withheld: int = 0  # themes raised, but by fewer people than the minimum group


def _names_some(column: object) -> object:
    """True where a JSON list column holds at least one phrase (portable: the stored JSON
    text of an empty list is `[]`)."""
    text = func.coalesce(cast(column, String), "[]")
    return text.notin_(["[]", "null"])


_FRICTION = or_(Analysis.label.in_(_NEGATIVE), _names_some(Analysis.blockers))
_WIN = or_(Analysis.label.in_(_POSITIVE), _names_some(Analysis.wins))


def _short(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= QUOTE_LENGTH:
        return text
    cut = text[: QUOTE_LENGTH - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


# The statements are built once, with the rounds (and the theme) as parameters: SQLAlchemy
# builds an IN list, an ORDER BY on an expression and the like with reference cycles, which
# only the garbage collector frees, so a statement built per call leaves garbage behind.
_ROUND_IDS = bindparam("round_ids", expanding=True)


def _quotes_statement(friction: bool) -> Any:
    return (
        select(
            Analysis.participant_id,
            Analysis.source,
            Analysis.source_id,
            Analysis.blockers if friction else Analysis.wins,
        )
        .join(AnalysisTheme, AnalysisTheme.analysis_id == Analysis.id)
        .where(
            Analysis.round_id.in_(_ROUND_IDS),
            Analysis.status == AnalysisStatus.DONE,
            AnalysisTheme.theme == bindparam("theme"),
            _FRICTION if friction else _WIN,
        )
        .order_by(Analysis.id.desc())
        .limit(_CANDIDATES)
    )


_QUOTES = {friction: _quotes_statement(friction) for friction in (True, False)}
# Distinct people where the condition holds (a CASE without ELSE is NULL, not counted).
_VOICES = (
    select(
        AnalysisTheme.theme,
        func.count(distinct(case((_FRICTION, Analysis.participant_id)))),
        func.count(distinct(case((_WIN, Analysis.participant_id)))),
    )
    .join(Analysis, Analysis.id == AnalysisTheme.analysis_id)
    .where(Analysis.round_id.in_(_ROUND_IDS), Analysis.status == AnalysisStatus.DONE)
    .group_by(AnalysisTheme.theme)
)


def _quotes(session: Session, round_ids: list[int], theme: str, friction: bool) -> tuple:
    """Up to two short quotes on `theme`, each from a different person, newest first: a
    blocker (or win) the analyzer named, else the person's own scrubbed words."""
    rows = session.exec(_QUOTES[friction], params={"round_ids": round_ids, "theme": theme}).all()
    quotes: list[str] = []
    quoted: set[int] = set()
    for participant_id, source, source_id, phrases in rows:
        if participant_id in quoted:
            continue
        # A named blocker (or win) that is itself about the theme; else a comment, which is
        # short and about one thing. A check-in's whole reply may be about anything else.
        about = [p for p in phrases or [] if p and p.strip() and theme in themes_of(p)]
        text = about[0] if about else None
        if text is None and source == AnalysisSource.ANSWER:
            text = _comment(session, source_id)
        if text:
            quotes.append(_short(text))
            quoted.add(participant_id)
        if len(quotes) == QUOTES:
            break
    return tuple(quotes)


def _comment(session: Session, answer_id: int) -> str | None:
    """A pulse comment's scrubbed words."""
    return session.exec(select(Answer.text_scrubbed).where(Answer.id == answer_id)).first()


def voices(
    session: Session, round_ids: list[int], minimum: int, *, most: int = MOST, quotes: bool = True
) -> Voices:
    """The top frictions and wins of the rounds, by how many different people raised each."""
    found = Voices()
    if not round_ids:
        return found
    rows = session.exec(_VOICES, params={"round_ids": round_ids}).all()
    few: set[str] = set()
    listed: set[str] = set()
    for kind, index in (("frictions", 1), ("wins", 2)):
        # A theme goes on the side more people raised it on (a friction when tied): "licences"
        # as both the top friction and the top win would tell a manager nothing.
        other = 3 - index
        ranked = sorted(
            (
                row
                for row in rows
                if row[index] and (row[index] > row[other] or (index == 1 and row[1] == row[2]))
            ),
            # "other" says least about what to do, so it comes last among equals.
            key=lambda row, i=index: (-row[i], row[0] == "other", row[0]),
        )
        few.update(row[0] for row in ranked if row[index] < minimum)
        shown = [row for row in ranked if row[index] >= minimum][:most]
        listed.update(row[0] for row in shown)
        voices_of_kind = [
            ThemeVoice(
                theme=theme,
                label=theme_label(theme),
                people=row[index],
                quotes=_quotes(session, round_ids, theme, kind == "frictions") if quotes else (),
            )
            for row in shown
            for theme in (row[0],)
        ]
        setattr(found, kind, voices_of_kind)
    found.withheld = len(few - listed)
    return found
