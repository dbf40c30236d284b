"""The durable fan-out: senders claim pending delivery rows, post the DMs at Slack's pace, and
mark each row sent or failed for good.

Rows are claimed in short transactions (with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so two
senders never take the same row) and posted with no database lock held. A 429 pauses every
worker of the sender for `Retry-After` and slows the pace; transient failures (5xx, dropped
connections, timeouts) are retried with backoff, a few times at most. This loop is the only
layer that retries the sender's calls: its client has no slack_sdk retry handlers, so every
attempt is one request to Slack and waits its turn at the pacer.

A sender that is killed leaves its claimed rows in `sending`; they are taken again once their
lease runs out, or at once when the sender's process is known to be gone, so only the messages
in flight at the kill can be sent twice. A sender whose database restarts under it waits for it
to come back and goes on, its posts still being recorded as they end: it sends nothing twice.
One that gives up on it cancels the posts it has not begun."""

from __future__ import annotations

import logging
import os
import queue
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import and_, bindparam, case, func, literal, or_, update
from sqlmodel import Session, select

from bot.errors import PulseError
from bot.outreach.failures import (
    CONNECTION_ERRORS,
    FATAL_ERRORS,
    MAX_RATE_LIMITED_ATTEMPTS,
    MAX_TRANSIENT_ATTEMPTS,
    PERMANENT_ERRORS,
    TRANSIENT_STATUSES,
    describe,
    retry_after,
    status_and_error,
    transient_backoff,
)
from bot.outreach.pacer import Pacer
from bot.pilots.participant import first_name
from storage import Database
from storage.models import Answer, Delivery, DeliveryStatus, Participant, Purpose
from storage.types import utcnow

log = logging.getLogger(__name__)

# A claimed row whose sender has said nothing for this long is taken over by another sender.
LEASE = timedelta(minutes=2)
HEARTBEAT = 30.0  # a live sender renews its claims well within it, however slow Slack is
# How long a sender waits for its database to come back (a restart, a failover) before it
# gives up; meanwhile its workers go on posting the rows they hold, and their results wait.
DATABASE_PATIENCE = 60.0
_REASON_LENGTH = 200  # Delivery.failure_reason holds this many characters

# Counted apart from PENDING by `status_counts` when given a moment: rows not yet due (the
# person's slot or working hours have not come); a count's key, never a stored status.
WAITING = "waiting"


def _due(due_by: Any) -> Any:
    """The rows a sender may take at `due_by`: due by then (None: due at once)."""
    return or_(Delivery.due_at.is_(None), Delivery.due_at <= due_by)


_STATUS_OR_WAITING = case(  # built once: built per call, it left reference cycles behind
    (and_(Delivery.status == DeliveryStatus.PENDING, ~_due(bindparam("due_by"))), literal(WAITING)),
    else_=Delivery.status,
)


def status_counts(
    session: Session, round_id: int, purpose: str, due_by: datetime | None = None
) -> Counter[str]:
    """How many deliveries of the round and purpose are in each status; a status with none
    counts 0. With `due_by`, pending rows not due by then count as WAITING, not PENDING."""
    status: Any = Delivery.status if due_by is None else _STATUS_OR_WAITING
    rows = session.exec(
        select(status, func.count())
        .where(Delivery.round_id == round_id, Delivery.purpose == purpose)
        .group_by(status),
        params=None if due_by is None else {"due_by": due_by},
    ).all()
    return Counter({str(key): count for key, count in rows})


@dataclass(frozen=True)
class SendOptions:
    """How hard a sender may push: messages in flight, the pace's ceiling, the round's length."""

    concurrency: int = 8
    rate: float = 100.0
    round_close_days: int = 6
    # The time source (`Deps.clock`): when a message was sent, and whose claim has lapsed.
    clock: Callable[[], datetime] = utcnow


@dataclass(frozen=True)
class Outbound:
    """What a worker needs to message one person."""

    delivery_id: int
    participant_id: int
    slack_user_id: str
    first_name: str | None
    purpose: str
    invite_delivery_id: int
    slack_tz: str | None = None


@dataclass(frozen=True)
class DeliveryResult:
    """How one delivery ended for this sender: sent, failed (with why), skipped, or pending
    (not attempted, handed back)."""

    delivery_id: int
    status: str
    channel_id: str | None = None
    message_ts: str | None = None
    reason: str | None = None


@dataclass
class SendProgress:
    """Counts of one sender's run, updated as it goes."""

    total: int = 0
    done_before: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    started: float = field(default_factory=time.monotonic)
    failures: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    # Rows not yet due when the run began: they go out at each person's own time.
    waiting: int = 0

    @property
    def done(self) -> int:
        return self.done_before + self.sent + self.failed + self.skipped

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0


Composer = Callable[[Outbound], dict[str, Any]]


class FatalSlackError(PulseError):
    """The bot cannot post at all (token revoked, missing scope)."""


def sender_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _is_dead_here(claimed_by: str) -> bool:
    """True when `claimed_by` names a process on this host that no longer runs."""
    host, _, rest = claimed_by.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Sender:
    """Sends the deliveries of one round and purpose until none is left to send."""

    def __init__(
        self,
        db: Database,
        client: WebClient,
        compose: Composer,
        *,
        options: SendOptions | None = None,
        batch: int = 100,
        clock: Callable[[], datetime] | None = None,
        on_progress: Callable[[SendProgress], None] | None = None,
    ) -> None:
        self.db = db
        self.client = client
        self.compose = compose
        options = options or SendOptions()
        self.concurrency = options.concurrency
        self.pacer = Pacer(options.rate)
        self.batch = batch
        self.clock = clock or options.clock
        self.on_progress = on_progress
        self.me = sender_id()
        self._fatal: FatalSlackError | None = None
        # Rows this sender claimed and has not yet recorded: in a worker's hands, or done and
        # waiting to be written down.
        self._held: set[int] = set()

    # -- database ---------------------------------------------------------------------------

    def _counts(self, round_id: int, purpose: str, due_by: datetime) -> Counter[str]:
        def count() -> Counter[str]:
            with self.db.session() as session:
                return status_counts(session, round_id, purpose, due_by)

        return self.db.retrying(count, patience=DATABASE_PATIENCE)

    def _reclaimable_senders(self, round_id: int, purpose: str) -> list[str]:
        with self.db.session() as session:
            holders = session.exec(
                select(Delivery.claimed_by)
                .where(
                    Delivery.round_id == round_id,
                    Delivery.purpose == purpose,
                    Delivery.status == DeliveryStatus.SENDING,
                    Delivery.claimed_by.is_not(None),
                )
                .distinct()
            ).all()
        return [holder for holder in holders if holder and _is_dead_here(holder)]

    def _claim(
        self, round_id: int, purpose: str, limit: int, due_by: datetime | None = None
    ) -> tuple[list[Outbound], int]:
        """Take up to `limit` rows due by `due_by` for this sender; none is taken by two senders
        at once.

        Returns the rows to post, and how many were skipped (the person paused, stopped these
        messages, answered before their reminder went out, or never got the pulse).
        """
        return self.db.retrying(
            lambda: self._take(round_id, purpose, limit, due_by), patience=DATABASE_PATIENCE
        )

    def _take(
        self, round_id: int, purpose: str, limit: int, due_by: datetime | None
    ) -> tuple[list[Outbound], int]:
        now = self.clock()
        due_by = due_by or now
        dead = self._reclaimable_senders(round_id, purpose)
        takeable = or_(
            and_(Delivery.status == DeliveryStatus.PENDING, _due(due_by)),
            and_(Delivery.status == DeliveryStatus.SENDING, Delivery.claimed_at < now - LEASE),
            # Rows this sender claimed without learning which: the connection dropped as the
            # claim committed. They are no one else's, and would otherwise wait out the lease.
            and_(
                Delivery.status == DeliveryStatus.SENDING,
                Delivery.claimed_by == self.me,
                Delivery.id.not_in(list(self._held)),
            ),
            *(
                [and_(Delivery.status == DeliveryStatus.SENDING, Delivery.claimed_by.in_(dead))]
                if dead
                else []
            ),
        )
        candidates = (
            select(Delivery.id)
            .where(Delivery.round_id == round_id, Delivery.purpose == purpose, takeable)
            .order_by(Delivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        with self.db.transaction() as session:
            claimed = session.execute(
                update(Delivery)
                .where(Delivery.id.in_(candidates.scalar_subquery()))
                .values(
                    status=DeliveryStatus.SENDING,
                    claimed_by=self.me,
                    claimed_at=now,
                    attempts=Delivery.attempts + 1,
                    updated_at=now,
                )
                .returning(Delivery.id, Delivery.participant_id)
                .execution_options(synchronize_session=False)
            ).all()
            if not claimed:
                return [], 0
            by_participant = {
                participant_id: delivery_id for delivery_id, participant_id in claimed
            }
            people = session.exec(
                select(Participant).where(Participant.id.in_(list(by_participant)))
            ).all()
            invites: dict[int, int] = {}
            answered: set[int] = set()
            undelivered: set[int] = set()
            if purpose != Purpose.INVITE:
                rows = session.exec(
                    select(Delivery.participant_id, Delivery.id, Delivery.status).where(
                        Delivery.round_id == round_id,
                        Delivery.purpose == Purpose.INVITE,
                        Delivery.participant_id.in_(list(by_participant)),
                    )
                ).all()
                invites = {participant_id: delivery_id for participant_id, delivery_id, _ in rows}
                # A reminder of a pulse that never reached the person (it failed, or it was
                # cancelled) would remind them of nothing.
                undelivered = {
                    delivery_id for _, delivery_id, status in rows if status != DeliveryStatus.SENT
                }
                answered = set(
                    session.exec(
                        select(Answer.delivery_id)
                        .where(Answer.delivery_id.in_(list(invites.values())))
                        .distinct()
                    ).all()
                )
        outbound: list[Outbound] = []
        skipped: list[DeliveryResult] = []
        for person in people:
            delivery_id = by_participant[person.id]
            invite_id = invites.get(person.id, delivery_id)
            reason = None
            if person.opted_out_at is not None:
                reason = "opted_out"
            elif person.paused_until is not None and person.paused_until > now:
                reason = "paused"
            elif purpose == Purpose.REMINDER and invite_id in answered:
                reason = "answered"
            elif purpose == Purpose.REMINDER and invite_id in undelivered:
                reason = "pulse not delivered"
            if reason is not None:
                skipped.append(DeliveryResult(delivery_id, DeliveryStatus.SKIPPED, reason=reason))
                continue
            outbound.append(
                Outbound(
                    delivery_id=delivery_id,
                    participant_id=person.id,
                    slack_user_id=person.slack_user_id,
                    first_name=first_name(person.real_name, person.display_name),
                    purpose=purpose,
                    invite_delivery_id=invite_id,
                    slack_tz=person.slack_tz,
                )
            )
        self._write(skipped)
        return outbound, len(skipped)

    def _record(self, results: list[DeliveryResult]) -> None:
        """Write finished deliveries in one transaction, waiting for the database if it is
        restarting: a post not written down would be posted again by the next sender."""
        if results:
            self.db.retrying(lambda: self._write(results), patience=DATABASE_PATIENCE)

    def _write(self, results: list[DeliveryResult]) -> None:
        if not results:
            return
        now = self.clock()
        statement = (
            update(Delivery)
            .where(Delivery.id == bindparam("_id"), Delivery.status != DeliveryStatus.SENT)
            .values(
                status=bindparam("_status"),
                channel_id=bindparam("_channel"),
                message_ts=bindparam("_ts"),
                failure_reason=bindparam("_reason"),
                sent_at=bindparam("_sent_at"),
                claimed_by=None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        rows = [
            {
                "_id": result.delivery_id,
                "_status": result.status,
                "_channel": result.channel_id,
                "_ts": result.message_ts,
                "_reason": result.reason,
                "_sent_at": now if result.status == DeliveryStatus.SENT else None,
            }
            for result in results
        ]
        with self.db.transaction() as session:
            session.connection().execute(statement, rows)

    # -- Slack ------------------------------------------------------------------------------

    def _post_into(self, item: Outbound, finished: queue.Queue[DeliveryResult]) -> None:
        try:
            result = self._post(item)
        except Exception as exc:
            # A bug in composing one message must not stall the run or lose the row.
            log.exception("delivery %s could not be sent", item.delivery_id)
            result = DeliveryResult(
                item.delivery_id, DeliveryStatus.FAILED, reason=f"internal: {type(exc).__name__}"
            )
        finished.put(result)

    def _post(self, item: Outbound) -> DeliveryResult:
        """Post one message, trying again while Slack may still take it.

        Every attempt waits its turn at the pacer and is one request to Slack: at most
        MAX_TRANSIENT_ATTEMPTS of them for 5xx answers and lost connections together, each
        after a growing pause; 429s pause the whole sender and are counted apart.
        """
        message = self.compose(item)  # the same message on every attempt
        transient = 0
        limited = 0
        while True:
            if self._fatal is not None:
                # Leave the row for a later run; the lease hands it back.
                return DeliveryResult(item.delivery_id, DeliveryStatus.PENDING)
            self.pacer.acquire()
            try:
                response = self.client.chat_postMessage(channel=item.slack_user_id, **message)
            except SlackApiError as exc:
                status, error = status_and_error(exc)
                if status == 429:
                    limited += 1
                    self.pacer.on_rate_limited(retry_after(exc))
                    if limited >= MAX_RATE_LIMITED_ATTEMPTS:
                        return _failed(item, "ratelimited")
                    continue
                if error in FATAL_ERRORS:
                    self._fatal = FatalSlackError(
                        f"Slack refused to post ({error}); check SLACK_BOT_TOKEN and the app's scopes"
                    )
                    return DeliveryResult(item.delivery_id, DeliveryStatus.PENDING)
                if error in PERMANENT_ERRORS or (
                    status >= 400 and status not in TRANSIENT_STATUSES
                ):
                    return _failed(item, error)
                # A 5xx, or a 200 with an error Slack does not call final (internal_error,
                # fatal_error, request_timeout): it may well pass next time.
                last_error = error
            except CONNECTION_ERRORS as exc:
                # The message may have reached Slack before the connection dropped; trying
                # again risks a second copy, which beats a person never getting the first.
                last_error = f"connection: {describe(exc)}"
            else:
                self.pacer.on_success()
                return DeliveryResult(
                    item.delivery_id,
                    DeliveryStatus.SENT,
                    channel_id=response.get("channel"),
                    message_ts=response.get("ts"),
                )
            transient += 1
            if transient >= MAX_TRANSIENT_ATTEMPTS:
                return _failed(item, f"gave up: {last_error}")
            log.info(
                "delivery %s: attempt %d of %d failed (%s); trying again",
                item.delivery_id,
                transient,
                MAX_TRANSIENT_ATTEMPTS,
                last_error,
            )
            time.sleep(transient_backoff(transient))

    # -- the run ----------------------------------------------------------------------------

    def run(
        self, round_id: int, purpose: str = Purpose.INVITE, due_by: datetime | None = None
    ) -> SendProgress:
        """Send every row of the round and purpose that is due by `due_by` (now by default);
        returns when none is left to send. Rows due later wait for a later run (the clock's)."""
        due_by = due_by or self.clock()
        counts = self._counts(round_id, purpose, due_by)
        progress = SendProgress(
            total=sum(counts.values()) - counts[WAITING],
            waiting=counts[WAITING],
            done_before=sum(
                counts[s]
                for s in (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED)
            ),
        )
        finished: queue.Queue[DeliveryResult] = queue.Queue()
        in_flight = 0
        last_report = 0.0
        last_heartbeat = time.monotonic()
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="send")
        try:
            # Hold enough rows to keep every worker busy, claimed in chunks rather than one by
            # one, but no more than they can start soon: rows held are rows no one else sends.
            held = self.concurrency * 4
            while True:
                room = held - in_flight
                claimed: list[Outbound] = []
                skipped = 0
                if room >= held // 2 and self._fatal is None:
                    claimed, skipped = self._claim(round_id, purpose, min(room, self.batch), due_by)
                    self._held.update(item.delivery_id for item in claimed)
                    progress.skipped += skipped
                    for item in claimed:
                        # The worker logs under the run's pilot and job.
                        pool.submit(copy_context().run, self._post_into, item, finished)
                    in_flight += len(claimed)
                if in_flight == 0:
                    if skipped:
                        continue
                    if self._fatal is not None:
                        raise self._fatal
                    left = self._counts(round_id, purpose, due_by)
                    if left[DeliveryStatus.PENDING] + left[DeliveryStatus.SENDING] == 0:
                        break
                    # Another sender holds the rest; wait for it, or for its lease to run out.
                    time.sleep(0.5)
                    continue
                results = self._drain(finished, timeout=0.05)
                in_flight -= len(results)
                self._record([o for o in results if o.status != DeliveryStatus.PENDING])
                self._release([o for o in results if o.status == DeliveryStatus.PENDING])
                self._held.difference_update(o.delivery_id for o in results)
                for result in results:
                    if result.status == DeliveryStatus.SENT:
                        progress.sent += 1
                    elif result.status == DeliveryStatus.FAILED:
                        progress.failed += 1
                        progress.failures[result.reason or "unknown"] += 1
                progress.rate_limited = self.pacer.rate_limited
                if time.monotonic() - last_heartbeat > HEARTBEAT:
                    last_heartbeat = time.monotonic()
                    self._renew_claims()
                if self.on_progress is not None and time.monotonic() - last_report > 0.2:
                    last_report = time.monotonic()
                    self.on_progress(progress)
        finally:  # posts begun but not written down would go out again from the next sender
            pool.shutdown(wait=True, cancel_futures=True)
        if self.on_progress is not None:
            self.on_progress(progress)
        return progress

    @staticmethod
    def _drain(finished: queue.Queue[DeliveryResult], *, timeout: float) -> list[DeliveryResult]:
        """The results finished so far, waiting up to `timeout` for the first."""
        results: list[DeliveryResult] = []
        try:
            results.append(finished.get(timeout=timeout) if timeout else finished.get_nowait())
        except queue.Empty:
            return results
        while len(results) < 200:
            try:
                results.append(finished.get_nowait())
            except queue.Empty:
                break
        return results

    def _renew_claims(self) -> None:
        """Tell other senders this one is alive: its rows stay its own."""

        def renew() -> None:
            with self.db.transaction() as session:
                session.execute(
                    update(Delivery)
                    .where(
                        Delivery.claimed_by == self.me, Delivery.status == DeliveryStatus.SENDING
                    )
                    .values(claimed_at=self.clock())
                    .execution_options(synchronize_session=False)
                )

        self.db.retrying(renew, patience=DATABASE_PATIENCE)

    def _release(self, results: list[DeliveryResult]) -> None:
        """Hand rows that were not attempted back to the pool, for this or another sender."""
        if not results:
            return

        def release() -> None:
            with self.db.transaction() as session:
                session.execute(
                    update(Delivery)
                    .where(
                        Delivery.id.in_([o.delivery_id for o in results]),
                        Delivery.status == DeliveryStatus.SENDING,
                        Delivery.claimed_by == self.me,
                    )
                    .values(status=DeliveryStatus.PENDING, claimed_by=None, claimed_at=None)
                    .execution_options(synchronize_session=False)
                )

        self.db.retrying(release, patience=DATABASE_PATIENCE)


def _failed(item: Outbound, reason: str) -> DeliveryResult:
    return DeliveryResult(item.delivery_id, DeliveryStatus.FAILED, reason=reason[:_REASON_LENGTH])
