"""Importing an export into the pilot's members' days, and reading a week's actual usage.

People in the export are matched to the pilot's members by Slack id or e-mail (the members'
Slack profile e-mails, read with `users.list`), through `--identities` where the tool names them
otherwise (a GitHub login). Only members' days are stored; everyone else is counted as
unmatched and forgotten. The whole file is checked before anything is stored; storing is one
transaction, and a newer export of the same day replaces it, so importing twice changes
nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import bindparam, case, distinct, func
from sqlmodel import Session, or_, select

from bot.errors import PulseError, slack_error_code
from bot.pilots.period import parse_period, period_of
from bot.pilots.pilot import get_pilot
from bot.usage.formats import Format, Parsed, UsageFormatError, decode, parse, parse_identities
from bot.usage.formats import week_of as iso_week
from storage import Database
from storage.models import Participant, Pilot, UsageDay
from storage.upsert import upsert_many

SHOWN_UNMATCHED = 5


@dataclass
class ImportSummary:
    """What an import did, for the one who ran it."""

    pilot: str
    format: Format
    rows: int  # data rows read
    people: int  # members matched
    days: int  # member-days stored (new or replaced)
    unmatched: int  # distinct identities that are not members
    unmatched_shown: list[str] = field(default_factory=list)
    weeks: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        weeks = (
            f"{self.weeks[0]} to {self.weeks[-1]} ({len(self.weeks)} weeks)"
            if len(self.weeks) > 1
            else (self.weeks[0] if self.weeks else "none")
        )
        lines = [
            f"imported {self.format} usage for {self.pilot}: {self.rows} rows read, "
            f"{self.people} member{'' if self.people == 1 else 's'} matched, "
            f"{self.days} member-days stored, weeks {weeks}"
        ]
        if self.unmatched:
            more = self.unmatched - len(self.unmatched_shown)
            lines.append(
                f"{self.unmatched} identities are not members of the pilot and were ignored: "
                + ", ".join(self.unmatched_shown)
                + (f" and {more} more" if more > 0 else "")
            )
        return lines


def _member_emails(client: WebClient, members: dict[str, int]) -> dict[str, int]:
    """e-mail → participant id, for the members, from every page of `users.list` (e-mails of
    anyone else are read past, never kept)."""
    emails: dict[str, int] = {}
    try:
        for page in client.users_list(limit=200):
            for user in page.get("members", []):
                participant = members.get(user.get("id"))
                email = (user.get("profile") or {}).get("email")
                if participant is not None and email:
                    emails[email.strip().lower()] = participant
    except SlackApiError as exc:
        raise PulseError(
            f"cannot read the members' e-mails from Slack ({slack_error_code(exc)})"
        ) from None
    return emails


def _members(session: Session, pilot: Pilot) -> dict[str, int]:
    """Slack id → participant id of everyone who is or was a member of the pilot."""
    rows = session.exec(
        select(Participant.slack_user_id, Participant.id).where(
            Participant.pilot_id == pilot.id,
            or_(Participant.surveyed.is_(True), Participant.left_at.is_not(None)),
        )
    ).all()
    return dict(rows)


def import_usage(
    db: Database,
    client: WebClient,
    pilot_name: str,
    data: bytes,
    *,
    format: Format | None = None,
    identities: bytes | None = None,
    now: datetime,
) -> ImportSummary:
    """Check the whole export, match its people to the pilot's members, and store their days."""
    parsed: Parsed = parse(decode(data), format)
    mapping = parse_identities(decode(identities)) if identities is not None else {}
    if parsed.format == Format.GITHUB and not mapping:
        raise PulseError(
            "GitHub Copilot names people by their GitHub login: give --identities FILE, a CSV "
            "with the header identity,user mapping each login to an e-mail or Slack user ID"
        )
    with db.session() as session:
        pilot = get_pilot(session, pilot_name)
        members = _members(session, pilot)
    needs_email = any("@" in mapping.get(row.identity, row.identity) for row in parsed.rows)
    emails = _member_emails(client, members) if needs_email and members else {}
    if needs_email and members and not emails:
        raise PulseError(
            "Slack gave no e-mail for any member: the app needs the users:read.email scope "
            "(manifest.json has it) to match people by e-mail; reinstall the app"
        )

    stored: dict[tuple[int, date], dict] = {}
    unmatched: Counter[str] = Counter()
    for row in parsed.rows:
        target = mapping.get(row.identity, row.identity)
        participant = members.get(target) if target[:1] in ("U", "W") else emails.get(target)
        if participant is None:
            unmatched[row.identity] += 1
            continue
        # Later rows of the same person and day win, as a newer export does.
        stored[(participant, row.day)] = {
            "pilot_id": pilot.id,
            "participant_id": participant,
            "day": row.day,
            "active": row.active,
            "uses": row.uses,
            "source": str(parsed.format),
            "tool": row.tool,
            "imported_at": now,
        }
    with db.transaction() as session:
        upsert_many(
            session,
            UsageDay,
            list(stored.values()),
            key=["participant_id", "day"],
            update=["active", "uses", "source", "tool", "imported_at"],
        )
    return ImportSummary(
        pilot=pilot.name,
        format=parsed.format,
        rows=parsed.lines,
        people=len({participant for participant, _ in stored}),
        days=len(stored),
        unmatched=len(unmatched),
        unmatched_shown=[identity for identity, _ in unmatched.most_common(SHOWN_UNMATCHED)],
        weeks=sorted({iso_week(day) for _, day in stored}),
    )


# -- a week's figures -------------------------------------------------------------------------


@dataclass(frozen=True)
class UsageFigures:
    """What the tool's own data says of one ISO week, for the pilot's members; None where fewer
    people than the minimum group stand behind a figure."""

    source: str
    members: int
    active_users: int | None
    active_share: float | None
    uses_per_active_user: float | None  # None too where the export has no counts
    withheld: dict[str, str] = field(default_factory=dict)

    def as_report(self) -> dict:
        return {
            "source": self.source,
            "active_users": self.active_users,
            "active_share": self.active_share,
            "uses_per_active_user": self.uses_per_active_user,
        }


def _days(period: str) -> tuple[date, date]:
    """The Monday and Sunday of an ISO week (usage dates are UTC dates, counted by ISO week)."""
    year, week = parse_period(period)
    monday = date.fromisocalendar(year, week, 1)
    return monday, monday + timedelta(days=6)


# Built once, the pilot and the days as parameters: the expressions below, built per call,
# leave reference cycles behind for the garbage collector.
_ACTIVE = case((UsageDay.active.is_(True), UsageDay.participant_id))
_USAGE = select(
    func.count(),
    func.count(distinct(_ACTIVE)),
    func.sum(case((UsageDay.active.is_(True), UsageDay.uses))),
    func.count(case((UsageDay.active.is_(True) & UsageDay.uses.is_(None), 1))),
    func.min(UsageDay.source),
    func.max(UsageDay.source),
).where(
    UsageDay.pilot_id == bindparam("pilot_id"),
    UsageDay.day >= bindparam("first"),
    UsageDay.day <= bindparam("last"),
)


def usage_figures(
    session: Session, pilot: Pilot, period: str, members: int, minimum: int
) -> UsageFigures | None:
    """The week's actual usage; None when nothing was imported for it."""
    first, last = _days(period)
    row = session.exec(_USAGE, params={"pilot_id": pilot.id, "first": first, "last": last}).one()
    rows, active_users, uses, uncounted, first_source, last_source = row
    if not rows:
        return None
    source = first_source if first_source == last_source else f"{first_source}+{last_source}"
    reason = f"fewer than {minimum} people"
    inactive = members - active_users
    # Active and not: with the members shown, either count gives the other away, so both must
    # stand for enough people (or none at all), as the self-reported weekly use does.
    if active_users < minimum or 0 < inactive < minimum:
        withheld = {
            "usage.active_users": reason,
            "usage.active_share": reason,
            "usage.uses_per_active_user": reason,
        }
        return UsageFigures(source, members, None, None, None, withheld)
    per_user = None
    withheld: dict[str, str] = {}
    if uncounted or uses is None:
        withheld["usage.uses_per_active_user"] = "this export has no counts of uses"
    else:
        per_user = round(uses / active_users, 1)
    share = round(active_users / members, 3) if members else None
    return UsageFigures(source, members, active_users, share, per_user, withheld)


def baseline_share(
    session: Session, pilot: Pilot, members: int, minimum: int
) -> tuple[str, float | None, str | None] | None:
    """The last week before the pilot began with usage imported, its active share and, where
    that share is withheld, why: what the digest compares now against ("31% before the
    pilot"). None when no usage from before the pilot was imported."""
    started = period_of(pilot.created_at, pilot.timezone)
    before = session.exec(
        select(func.max(UsageDay.day)).where(
            UsageDay.pilot_id == pilot.id, UsageDay.day < _days(started)[0]
        )
    ).one()
    if before is None:
        return None
    period = iso_week(before)
    figures = usage_figures(session, pilot, period, members, minimum)
    if figures is None:
        return None
    return period, figures.active_share, figures.withheld.get("usage.active_share")


__all__ = [
    "ImportSummary",
    "UsageFigures",
    "UsageFormatError",
    "baseline_share",
    "import_usage",
    "usage_figures",
]
