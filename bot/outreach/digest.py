"""Posting the weekly digest to the pilot's leadership channel, once per pilot and period.

The `digest` row is claimed before anything is posted, so two clocks or a CLI run at the same
time post once; a claim left by a poster that died is taken over after a few minutes. The
chart is uploaded first (`files_upload_v2`, into the channel), then the message; a chart that
cannot be uploaded leaves the message saying so. When Slack refuses the channel itself
(`not_in_channel`, `channel_not_found`) nothing is marked posted and the operator gets one line:
invite the bot.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import update
from sqlmodel import select

from bot.errors import PulseError, slack_error_code
from bot.outreach.round import chosen_period
from bot.pilots.period import day_label, zone
from bot.pilots.pilot import get_pilot
from bot.reporting.chart import render_trend_chart
from bot.reporting.weekly_digest import compose_digest
from bot.views.digest import digest_blocks, digest_notification
from storage import Database
from storage.models import Digest, DigestStatus
from storage.upsert import insert_ignore

if TYPE_CHECKING:
    from bot.analysis.model import ModelClient
    from bot.reporting.digest import DigestContent

log = logging.getLogger(__name__)

# A claim this old was left by a poster that died; another takes the row over.
CLAIM_LEASE = timedelta(minutes=10)
# Slack's answers that mean the bot cannot post to the channel at all.
CHANNEL_REFUSALS = frozenset(
    {"not_in_channel", "channel_not_found", "is_archived", "restricted_action", "not_allowed"}
)


@dataclass
class DigestPost:
    """What became of one attempt to post a digest."""

    pilot: str
    period: str
    posted: bool
    note: str
    channel_id: str | None = None
    message_ts: str | None = None
    chart_attached: bool = False
    content: DigestContent | None = None


def _when(moment: datetime | None, tz: str) -> str:
    return day_label(moment.astimezone(zone(tz))) if moment else "an earlier run"


def claim(db: Database, pilot_id: int, period: str, now: datetime) -> tuple[bool, Digest]:
    """Take the right to post the pilot's digest of `period`: (True, row) for this poster,
    (False, row) when it is posted already or another poster holds it."""
    with db.transaction() as session:
        created = insert_ignore(
            session,
            Digest,
            {
                "pilot_id": pilot_id,
                "period": period,
                "status": DigestStatus.PENDING,
                "created_at": now,
                "claimed_at": now,
            },
            key=["pilot_id", "period"],
        )
        row = session.exec(
            select(Digest).where(Digest.pilot_id == pilot_id, Digest.period == period)
        ).one()
        if created:
            return True, row
        if row.status == DigestStatus.POSTED:
            return False, row
        held = (
            row.status == DigestStatus.PENDING
            and row.claimed_at
            and row.claimed_at > (now - CLAIM_LEASE)
        )
        if held:
            return False, row
        # A failed attempt, or a claim its poster left behind: take it, unless another poster
        # takes it first (the row must still be as it was read).
        taken = session.execute(
            update(Digest)
            .where(
                Digest.id == row.id,
                Digest.status == row.status,
                Digest.claimed_at == row.claimed_at
                if row.claimed_at is not None
                else Digest.claimed_at.is_(None),
            )
            .values(status=DigestStatus.PENDING, claimed_at=now, error=None)
            .execution_options(synchronize_session=False)
        ).rowcount
        session.refresh(row)
        return bool(taken), row


def _finish(db: Database, digest_id: int, **values: object) -> None:
    with db.transaction() as session:
        session.execute(
            update(Digest)
            .where(Digest.id == digest_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def _refusal(pilot: str, channel: str, error: str) -> PulseError:
    return PulseError(
        f"Slack refused to post the digest of {pilot!r} to the leadership channel {channel} "
        f"({error}): invite the bot there (/invite @pilot-pulse) and run "
        f"`pilot-pulse digest send {pilot}` again"
    )


def post_digest(
    db: Database,
    client: WebClient,
    pilot_name: str,
    *,
    period: str | None,
    now: datetime,
    llm: ModelClient | None = None,
) -> DigestPost:
    """Post the pilot's digest of `period` (default: the current one) once; a second call says
    it was posted before and posts nothing."""
    with db.session() as session:
        pilot = get_pilot(session, pilot_name)
        period = chosen_period(session, pilot, period, now)
    claimed, row = claim(db, pilot.id, period, now)
    if not claimed:
        if row.status == DigestStatus.POSTED:
            note = (
                f"the digest of {pilot.name} for {period} was posted on "
                f"{_when(row.posted_at, pilot.timezone)}; nothing was posted"
            )
            return DigestPost(pilot.name, period, False, note, row.channel_id, row.message_ts)
        note = f"another run is posting the digest of {pilot.name} for {period}; nothing was posted"
        return DigestPost(pilot.name, period, False, note)

    channel = pilot.leadership_channel
    try:
        content = compose_digest(db, pilot.name, period, now, llm=llm)
        # A chart uploaded by an attempt that then failed to post is not uploaded again.
        file_id = row.file_id
        chart_note = "Trend chart above." if file_id else None
        if file_id is None:
            file_id, chart_note = _upload_chart(client, channel, content)
            if file_id is not None:
                _finish(db, row.id, file_id=file_id)
        posted = client.chat_postMessage(
            channel=channel,
            text=digest_notification(content),
            blocks=digest_blocks(content, chart_note=chart_note),
            unfurl_links=False,
            unfurl_media=False,
        )
    except SlackApiError as exc:
        error = slack_error_code(exc)
        _finish(db, row.id, status=DigestStatus.FAILED, error=f"slack: {error}"[:500])
        if error in CHANNEL_REFUSALS:
            raise _refusal(pilot.name, channel, error) from None
        raise
    except Exception as exc:
        # Anything else (the database, a bug): the row is left for another attempt.
        _finish(db, row.id, status=DigestStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:500])
        raise
    _finish(
        db,
        row.id,
        status=DigestStatus.POSTED,
        channel_id=posted.get("channel", channel),
        message_ts=posted.get("ts"),
        file_id=file_id,
        posted_at=now,
        error=None if file_id or chart_note is None else chart_note[:500],
    )
    if file_id:
        chart = " with its trend chart"
    elif chart_note:
        chart = f" ({chart_note})"
    else:
        chart = " (no trend chart yet: it needs two weeks with figures)"
    return DigestPost(
        pilot.name,
        period,
        True,
        f"posted the digest of {pilot.name} for {period} to {channel}{chart}",
        posted.get("channel", channel),
        posted.get("ts"),
        chart_attached=file_id is not None,
        content=content,
    )


def _upload_chart(
    client: WebClient, channel: str, content: DigestContent
) -> tuple[str | None, str | None]:
    """Upload the trend chart into the channel: (file id, note for the message). A refusal of
    the channel itself is raised; any other failure leaves the digest without its chart."""
    chart = render_trend_chart(content.trend, title=f"{content.pilot} · {content.tool}")
    if chart is None:
        return None, None  # fewer than two weeks with figures: no trend to draw yet
    try:
        uploaded = client.files_upload_v2(
            channel=channel,
            file=chart.png,
            filename=f"{content.pilot}-{content.period}-trend.png",
            title=f"{content.pilot}: trend to {content.period}",
            alt_txt=chart.alt_text,
            initial_comment=f"Trend chart for the digest of {content.pilot}, {content.period}.",
        )
    except SlackApiError as exc:
        error = slack_error_code(exc)
        if error in CHANNEL_REFUSALS:
            raise
        log.warning("the digest's chart could not be uploaded: %s", error)
        return None, f"The trend chart could not be attached ({error})."
    except OSError as exc:
        log.warning("the digest's chart could not be uploaded: %s", exc)
        return None, "The trend chart could not be attached (Slack did not answer)."
    files = uploaded.get("files") or [uploaded.get("file") or {}]
    return (files[0] or {}).get("id"), "Trend chart above."
