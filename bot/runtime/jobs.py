"""The clock's jobs: what each tick checks for every pilot, listed in `JOBS` in the order they
run.

Each job is safe to run on every tick and from two clocks at once: rounds and reminders have
unique keys, and the sender never takes a row another sender holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import select

from bot.analysis.queue import backlog
from bot.checkins.turn import answer, expire, post_turn, unanswered
from bot.errors import PulseError
from bot.outreach.digest import post_digest
from bot.outreach.reminder import send_reminder
from bot.outreach.round import find_round
from bot.outreach.sending import send_checkins, send_pulse, unsent
from bot.outreach.welcome import welcome
from bot.pilots.period import period_bounds, period_of, previous, shift
from bot.pilots.schedule import Slot, instant
from bot.pilots.update import reconcile_all
from bot.privacy.names import sync_names
from bot.privacy.retention import purge_raw_text
from bot.reporting.history import History
from bot.runtime.deps import Deps
from storage.models import Digest, DigestStatus, Pilot, Purpose, Round, RoundKind

log = logging.getLogger(__name__)

Job = Callable[[Deps, datetime], None]


@dataclass(frozen=True)
class ScheduledJob:
    """A job of the clock: run on every tick, or (`daily`) once per UTC day."""

    name: str
    run: Job
    daily: bool = False


def _active_pilots(deps: Deps) -> list[Pilot]:
    with deps.db.session() as session:
        return list(session.exec(select(Pilot).where(Pilot.ended_at.is_(None))).all())


def _this_weeks_pulse(deps: Deps, pilot: Pilot, now: datetime) -> tuple[str, Round | None]:
    period = period_of(now, pilot.timezone)
    with deps.db.session() as session:
        return period, find_round(session, pilot.id, RoundKind.PULSE, period)


def _due(pilot: Pilot, now: datetime, slot: Slot) -> bool:
    """True once this period's slot has come, unless the pilot was created after it (a pilot
    created on Thursday gets its first pulse next week, or when an operator sends one)."""
    at = instant(pilot, slot, period_of(now, pilot.timezone))
    return at <= now and at >= pilot.created_at


def pulse_job(deps: Deps, now: datetime) -> None:
    """Open and send this period's pulse once its slot has come; finish one left unsent."""
    for pilot in _active_pilots(deps):
        _, round_ = _this_weeks_pulse(deps, pilot, now)
        due = _due(pilot, now, Slot.PULSE)
        if round_ is None and not due:
            continue
        if round_ is not None and unsent(deps.db, round_.id, Purpose.INVITE) == 0:
            continue
        result = send_pulse(
            deps.db, deps.sending_client, pilot.name, now=now, options=deps.send_options
        )
        if result.progress is not None:
            log.info(
                "pulse for %s %s: %s sent, %s failed",
                pilot.name,
                result.period,
                result.progress.sent,
                result.progress.failed,
            )


def reminder_job(deps: Deps, now: datetime) -> None:
    """Send the round's one reminder once its slot has come (or finish one left unsent)."""
    for pilot in _active_pilots(deps):
        period, round_ = _this_weeks_pulse(deps, pilot, now)
        if round_ is None or round_.closes_at <= now:
            continue
        slot = instant(pilot, Slot.REMINDER, period)
        # Reminding within a day of the pulse is nagging, whatever the schedule says.
        if now < slot or (now - round_.opened_at).total_seconds() < 20 * 3600:
            continue
        try:
            result = send_reminder(
                deps.db, deps.sending_client, pilot.name, now=now, options=deps.send_options
            )
        except PulseError as exc:
            log.info("no reminder for %s: %s", pilot.name, exc)
            continue
        if result.progress is not None:
            log.info("reminder for %s %s: %s sent", pilot.name, period, result.progress.sent)


def checkin_job(deps: Deps, now: datetime) -> None:
    """Send this period's check-in question once its slot has come; finish one left unsent."""
    for pilot in _active_pilots(deps):
        period = period_of(now, pilot.timezone)
        with deps.db.session() as session:
            round_ = find_round(session, pilot.id, RoundKind.CHECKIN, period)
        if round_ is None and not _due(pilot, now, Slot.CHECKIN):
            continue
        if round_ is not None and unsent(deps.db, round_.id, Purpose.INVITE) == 0:
            continue
        send_checkins(deps.db, deps.sending_client, pilot.name, now=now, options=deps.send_options)


def analysis_job(deps: Deps, now: datetime) -> None:
    """Analyse what a crash or an unreachable model left pending."""
    done = backlog(deps.db, deps.analyzer, now)
    if done:
        log.info("analysed %s texts from the backlog", done)


def checkin_turn_job(deps: Deps, now: datetime) -> None:
    """Answer replies the bot left unanswered (a crash after storing them, a failed post)."""
    pending, untaken = unanswered(deps.db, now)
    for message_id in pending:
        post_turn(deps.db, deps.client, message_id)
    for checkin_id in untaken:
        answer(deps.db, deps.analyzer, deps.client, checkin_id, deps.clock)


def expiry_job(deps: Deps, now: datetime) -> None:
    expired = expire(deps.db, now)
    if expired:
        log.info("%s check-ins ended with their round", expired)


# A digest that Slack refused (the bot not in the channel, say) is tried again after this long,
# not on every tick.
DIGEST_RETRY = timedelta(hours=1)


def digest_job(deps: Deps, now: datetime) -> None:
    """Post each pilot's digest of the week just ended, once its digest slot has come (Monday
    11:00 in the pilot's time zone by default, after that week's pulse has closed)."""
    for pilot in _active_pilots(deps):
        this_week = period_of(now, pilot.timezone)
        slot = instant(pilot, Slot.DIGEST, this_week)
        week = previous(this_week)
        if now < slot or period_bounds(week, pilot.timezone)[1] <= pilot.created_at:
            continue  # not yet; or the pilot did not exist that week
        with deps.db.session() as session:
            digest = session.exec(
                select(Digest).where(Digest.pilot_id == pilot.id, Digest.period == week)
            ).first()
        if digest is not None and (
            digest.status == DigestStatus.POSTED
            or (digest.claimed_at is not None and digest.claimed_at > now - DIGEST_RETRY)
        ):
            continue
        try:
            result = post_digest(
                deps.db, deps.client, pilot.name, period=week, now=now, llm=deps.llm
            )
        except PulseError as exc:
            log.warning("no digest for %s %s: %s", pilot.name, week, exc)
            continue
        log.info("digest for %s %s: %s", pilot.name, week, result.note)


def history_job(deps: Deps, now: datetime) -> None:
    """Keep each pilot's last weeks once they are final (daily), so that Monday's digest reads
    last week from its kept figures instead of counting its answers again."""
    for pilot in _active_pilots(deps):
        this_week = period_of(now, pilot.timezone)
        with deps.db.session() as session:
            history = History(session, pilot, now)
            history.weeks([shift(this_week, -2), previous(this_week)])
        history.save(deps.db)


def membership_job(deps: Deps, now: datetime) -> None:
    """Bring each pilot in line with the channel or group it follows, and drop deactivated
    accounts (daily: the events catch the rest as they happen); welcome those who joined."""
    for pilot_name, change in reconcile_all(deps.db, deps.client, now).items():
        if change:
            welcome(deps.db, deps.client, pilot_name, change.joined)
            log.info(
                "%s: %s joined, %s left since the events last said",
                pilot_name,
                len(change.joined),
                len(change.left),
            )


def names_job(deps: Deps, now: datetime) -> None:
    """Learn the workspace's names, for the scrubber (daily)."""
    log.info("learnt %s workspace names", sync_names(deps.db, deps.client, now))


def retention_job(deps: Deps, now: datetime) -> None:
    """Delete raw text past its retention period (daily)."""
    purged = purge_raw_text(deps.db, now, deps.settings.retention_days)
    if purged.answers or purged.checkin_messages:
        log.info(
            "retention: raw text of %s comments and %s replies deleted",
            purged.answers,
            purged.checkin_messages,
        )


JOBS: tuple[ScheduledJob, ...] = (
    ScheduledJob("pulse", pulse_job),
    ScheduledJob("reminder", reminder_job),
    ScheduledJob("check-in", checkin_job),
    ScheduledJob("analysis backlog", analysis_job),
    ScheduledJob("check-in turns", checkin_turn_job),
    ScheduledJob("check-in expiry", expiry_job),
    ScheduledJob("digest", digest_job),
    ScheduledJob("kept weeks", history_job, daily=True),
    ScheduledJob("members", membership_job, daily=True),
    ScheduledJob("workspace names", names_job, daily=True),
    ScheduledJob("retention", retention_job, daily=True),
)
