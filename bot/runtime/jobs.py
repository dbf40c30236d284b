"""The clock's jobs: what each tick checks for every pilot, listed in `JOBS` in the order they
run.

Each job is safe to run on every tick and from two clocks at once: rounds and reminders have
unique keys, and the sender never takes a row another sender holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import select

from bot.analysis.queue import backlog
from bot.checkins.event import prune_handled
from bot.checkins.turn import answer, expire, post_turn, unanswered
from bot.errors import PulseError
from bot.outreach.digest import post_digest
from bot.outreach.round import add_reminders, earliest_slot, has_reminders, lapse_unsent
from bot.outreach.sending import open_on_schedule, send_due
from bot.outreach.welcome import send_welcomes, welcome
from bot.pilots.participant import refresh_time_zones
from bot.pilots.period import period_bounds, period_of, previous, shift
from bot.pilots.schedule import Slot, instant
from bot.pilots.update import reconcile_all
from bot.privacy.names import sync_names
from bot.privacy.retention import purge_raw_text
from bot.reporting.history import History
from bot.runtime.deps import Deps
from bot.runtime.logs import log_context
from storage.models import Digest, DigestStatus, Pilot, Purpose, Round, RoundKind

log = logging.getLogger(__name__)

Job = Callable[[Deps, datetime], None]


@dataclass(frozen=True)
class ScheduledJob:
    """A job of the clock: run on every tick, or (`daily`) once per UTC day."""

    name: str
    run: Job
    daily: bool = False


def _active_pilots(deps: Deps) -> Iterator[Pilot]:
    """The pilots that have not ended, each while its lines are logged under its name."""
    with deps.db.session() as session:
        pilots = list(session.exec(select(Pilot).where(Pilot.ended_at.is_(None))).all())
    for pilot in pilots:
        with log_context(pilot=pilot.name):
            yield pilot


def _open_rounds(deps: Deps, pilot: Pilot, kind: RoundKind, now: datetime) -> list[Round]:
    """The pilot's rounds of `kind` still taking answers (last week's can still be open)."""
    with deps.db.session() as session:
        return list(
            session.exec(
                select(Round).where(
                    Round.pilot_id == pilot.id, Round.kind == kind, Round.closes_at > now
                )
            ).all()
        )


def _rounds_on_schedule(deps: Deps, now: datetime, kind: RoundKind, slot: Slot) -> None:
    """Open each pilot's round of `kind` once its slot comes in the earliest zone, then send
    whatever is due: each person's message at their own slot (or one left unsent)."""
    for pilot in _active_pilots(deps):
        this_week = period_of(now, pilot.timezone)
        # The next period too: its slot comes in the zones east of the pilot's (Sydney, for a
        # pilot in London) before the pilot's own week has begun.
        for period in (this_week, shift(this_week, 1)):
            open_on_schedule(deps.db, pilot, kind, slot, period, now, deps.send_options)
        for round_ in _open_rounds(deps, pilot, kind, now):
            progress = send_due(
                deps.db, deps.sending_client, pilot, round_, Purpose.INVITE, now, deps.send_options
            )
            if progress is not None:
                log.info(
                    "%s for %s %s: %s sent, %s failed, %s due later",
                    kind,
                    pilot.name,
                    round_.period,
                    progress.sent,
                    progress.failed,
                    progress.waiting,
                )


def pulse_job(deps: Deps, now: datetime) -> None:
    """The pulse, at each person's own slot."""
    _rounds_on_schedule(deps, now, RoundKind.PULSE, Slot.PULSE)


def checkin_job(deps: Deps, now: datetime) -> None:
    """The check-in question, at each person's own slot."""
    _rounds_on_schedule(deps, now, RoundKind.CHECKIN, Slot.CHECKIN)


def reminder_job(deps: Deps, now: datetime) -> None:
    """Set up each open pulse's one reminder once the reminder's slot comes in the earliest
    zone, then send those due: each at the person's own slot, at least 20 working hours after
    their pulse, never to someone who has answered."""
    for pilot in _active_pilots(deps):
        for round_ in _open_rounds(deps, pilot, RoundKind.PULSE, now):
            with deps.db.session() as session:
                set_up = has_reminders(session, round_.id)
                first = (
                    None
                    if set_up
                    else earliest_slot(session, pilot, Slot.REMINDER, round_.period, now)
                )
            if first is not None and first <= now:
                add_reminders(deps.db, pilot, round_, now, slot=Slot.REMINDER)
            progress = send_due(
                deps.db,
                deps.sending_client,
                pilot,
                round_,
                Purpose.REMINDER,
                now,
                deps.send_options,
            )
            if progress is not None:
                log.info(
                    "reminder for %s %s: %s sent, %s due later",
                    pilot.name,
                    round_.period,
                    progress.sent,
                    progress.waiting,
                )


def welcome_job(deps: Deps, now: datetime) -> None:
    """Send the welcome DMs that waited for their people's working hours."""
    sent = send_welcomes(deps.db, deps.client, now)
    if sent:
        log.info("%s welcome DMs sent", sent)


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
    """End the check-ins of closed rounds, and let go of the messages still due when their round
    closed (someone whose working hours never came while it was open)."""
    expired = expire(deps.db, now)
    if expired:
        log.info("%s check-ins ended with their round", expired)
    lapsed = lapse_unsent(deps.db, now)
    if lapsed:
        log.info("%s messages not sent: their round closed first", lapsed)


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
            welcome(deps.db, deps.client, pilot_name, change.joined, now)
            log.info(
                "%s: %s joined, %s left since the events last said",
                pilot_name,
                len(change.joined),
                len(change.left),
            )


def time_zone_job(deps: Deps, now: datetime) -> None:
    """Learn each person's time zone again (daily; Slack's `user_change` tells us as it
    happens, this catches what was missed)."""
    changed = refresh_time_zones(deps.db, deps.client)
    if changed:
        log.info("%s people's time zones changed", changed)


def names_job(deps: Deps, now: datetime) -> None:
    """Learn the workspace's names, for the scrubber (daily)."""
    log.info("learnt %s workspace names", sync_names(deps.db, deps.client, now))


def retention_job(deps: Deps, now: datetime) -> None:
    """Delete raw text past its retention period, and the Events API ids Slack no longer
    retries (daily)."""
    purged = purge_raw_text(deps.db, now, deps.settings.retention_days)
    if purged.answers or purged.checkin_messages:
        log.info(
            "retention: raw text of %s comments and %s replies deleted",
            purged.answers,
            purged.checkin_messages,
        )
    pruned = prune_handled(deps.db, now)
    if pruned:
        log.info("retention: %s handled event ids forgotten", pruned)


JOBS: tuple[ScheduledJob, ...] = (
    ScheduledJob("pulse", pulse_job),
    ScheduledJob("reminder", reminder_job),
    ScheduledJob("check-in", checkin_job),
    ScheduledJob("welcomes", welcome_job),
    ScheduledJob("analysis backlog", analysis_job),
    ScheduledJob("check-in turns", checkin_turn_job),
    ScheduledJob("check-in expiry", expiry_job),
    ScheduledJob("digest", digest_job),
    ScheduledJob("kept weeks", history_job, daily=True),
    ScheduledJob("members", membership_job, daily=True),
    ScheduledJob("time zones", time_zone_job, daily=True),
    ScheduledJob("workspace names", names_job, daily=True),
    ScheduledJob("retention", retention_job, daily=True),
)
