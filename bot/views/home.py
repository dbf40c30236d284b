"""The App Home view of one person, for each of their roles: the pilots they are in (their
state, when the next pulse and check-in come, who sees what, pause/stop/resume), their own
words with a button that erases every answer, the pilots they champion or administer with
their buttons, and "New pilot" for those who may create one. Pure: the caller reads the data
and the server checks every role again when a button is pressed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Protocol

from bot.pilots.calendar import WEEKDAYS, format_working_days
from bot.pilots.period import PeriodError, day_label, local_day, zone
from bot.views.blocks import Blocks, button, context_block, header_block, text_block
from bot.views.preferences import RESUME_ACTION, controls, stop_button, subject_value
from bot.views.setup import EDIT_PILOT_ACTION, NEW_PILOT_ACTION
from bot.views.status import NUDGE_ACTION

ERASE_ACTION = "own_data_erase"
SEND_PULSE_ACTION = "home_send_pulse"
SEND_DIGEST_ACTION = "home_send_digest"
END_PILOT_ACTION = "home_end_pilot"

CHAMPION, ADMIN = "champion", "admin"  # storage.models.Role values, compared as plain strings
# Slack's Home tab holds at most 100 blocks: whatever the data, these caps keep it within.
MAX_BLOCKS = 100
MAX_PARTICIPATING = 20  # 2 blocks each
MAX_MANAGED = 15  # 2 blocks each
MAX_WORDS = 5  # 1 block each
# The holidays a participant sees: the next few, coming soon enough to matter.
MAX_HOLIDAYS, HOLIDAYS_AHEAD_DAYS = 3, 60


@dataclass(frozen=True)
class ParticipantPilot:
    """A pilot the person is in, as they see it. Day and time strings are the caller's, in the
    person's own time zone (e.g. "Tue 1 Dec at 10:00")."""

    participant_id: int
    pilot: str
    tool: str
    min_group_size: int = 5
    surveyed: bool = True
    stopped: bool = False
    paused_until: str | None = None  # set only while paused, e.g. "Wed 9 Dec"
    next_pulse: str | None = None
    next_checkin: str | None = None
    working_days: str | None = None  # e.g. "Sun–Thu"; None: Monday to Friday
    holidays: tuple[str, ...] = ()  # the next few, e.g. "Thu 24 Dec"

    @property
    def state(self) -> str:
        """ "stopped", "paused", "not_surveyed" or "active"."""
        if self.stopped:
            return "stopped"
        if self.paused_until is not None:
            return "paused"
        if not self.surveyed:
            return "not_surveyed"
        return "active"


@dataclass(frozen=True)
class ManagedPilot:
    """A pilot the person champions or administers, with this period's headline figures as
    the caller has them (None: not known, or withheld under the minimum group)."""

    name: str
    tool: str
    role: str  # CHAMPION or ADMIN
    period: str  # e.g. "2026-W48"
    min_group_size: int = 5
    members: int | None = None
    pulse_sent: bool = False  # this period's pulse has gone out
    answered: int | None = None  # None once sent: fewer than the minimum group answered
    invited: int | None = None
    response_rate: float | None = None  # 0..1
    usefulness: float | None = None  # mean, 1–5
    weekly_use: float | None = None  # share who used the tool this week, 0..1
    top_friction: str | None = None  # a theme's label
    can_nudge: bool = False
    leadership_channel: str | None = None  # channel id, named in "Send digest now"
    digest_period: str | None = None  # the period "Send digest now" posts (default: `period`)
    ended: bool = False


class OwnWords(Protocol):
    """Something the person wrote (`bot.privacy.own_data.Written` fits)."""

    @property
    def when(self) -> datetime: ...
    @property
    def where(self) -> str: ...
    @property
    def text(self) -> str: ...


class MembershipLike(Protocol):
    """`bot.pilots.participant.Membership`, as far as the Home tab reads it."""

    @property
    def participant_id(self) -> int: ...
    @property
    def pilot(self) -> str: ...
    @property
    def tool(self) -> str: ...
    @property
    def surveyed(self) -> bool: ...
    @property
    def min_group_size(self) -> int: ...
    @property
    def paused_until(self) -> datetime | None: ...
    @property
    def opted_out(self) -> bool: ...
    @property
    def slack_tz(self) -> str | None: ...


@dataclass(frozen=True)
class HomeData:
    """Everything one person's Home tab shows."""

    participating: Sequence[ParticipantPilot] = ()
    written: Sequence[OwnWords] = ()
    managed: Sequence[ManagedPilot] = ()
    may_create: bool = False
    notice: str | None = None  # a line at the top after an action; shown as plain text
    retention_days: int = 90


def participant_pilot(
    membership: MembershipLike,
    now: datetime,
    *,
    next_pulse: str | None = None,
    next_checkin: str | None = None,
    working_days: int = WEEKDAYS,
    holidays: Iterable[str] = (),
) -> ParticipantPilot:
    """A `Membership` as the Home tab shows it: paused only while the pause lasts, its end as
    a day in the person's time zone; the pilot's working days unless Monday to Friday, and its
    next holidays (ISO dates) from the person's today."""
    paused = (
        not membership.opted_out
        and membership.paused_until is not None
        and membership.paused_until > now
    )
    return ParticipantPilot(
        participant_id=membership.participant_id,
        pilot=membership.pilot,
        tool=membership.tool,
        min_group_size=membership.min_group_size,
        surveyed=membership.surveyed,
        stopped=membership.opted_out,
        paused_until=(
            local_day(membership.paused_until, membership.slack_tz)
            if paused and membership.paused_until is not None
            else None
        ),
        next_pulse=next_pulse,
        next_checkin=next_checkin,
        working_days=format_working_days(working_days) if working_days != WEEKDAYS else None,
        holidays=_upcoming(holidays, now, membership.slack_tz),
    )


def _upcoming(holidays: Iterable[str], now: datetime, timezone: str | None) -> tuple[str, ...]:
    """The next few of `holidays` from today where the person is, as short days."""
    try:
        today = now.astimezone(zone(timezone)).date() if timezone else now.date()
    except PeriodError:
        today = now.date()
    ahead = sorted(
        day
        for day in (date.fromisoformat(text) for text in holidays)
        if 0 <= (day - today).days <= HOLIDAYS_AHEAD_DAYS
    )
    return tuple(day_label(datetime.combine(day, time())) for day in ahead[:MAX_HOLIDAYS])


def escape(text: str) -> str:
    """Text as mrkdwn shows it literally: Slack's three control characters escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def privacy_explanation(minimum: int) -> str:
    return (
        f"Only totals from {minimum} or more people reach the pilot's champions and "
        "leadership; your name is never attached; nobody sees your answers but you."
    )


def home_view(data: HomeData) -> dict[str, Any]:
    """The Home tab of one person, in this order: a notice, what pilot-pulse is, their pilots,
    their words, the pilots they run, "New pilot"."""
    blocks: Blocks = []
    if data.notice:
        blocks.append(context_block(escape(data.notice)[:3000]))
    blocks += [
        header_block("pilot-pulse"),
        text_block(
            "pilot-pulse helps a team find out, week by week, whether a new AI tool is worth "
            "keeping. Once a week it asks a few one-click questions, and now and then for a "
            "short chat about what helps and what gets in the way."
        ),
    ]
    if not data.participating and not data.managed:
        blocks.append(text_block("You are not in any pilot at the moment."))
    shown = data.participating[:MAX_PARTICIPATING]
    for pilot in shown:
        blocks += _participating(pilot)
    if len(data.participating) > len(shown):
        more = len(data.participating) - len(shown)
        blocks.append(context_block(f"…and {more} more pilot{'s' if more != 1 else ''}."))
    # Words (and the erase button) show whenever there is a pilot or anything written.
    if data.participating or data.written:
        blocks += _own_words(data.written, data.retention_days)
    if data.managed:
        blocks += _managed(data.managed)
    if data.may_create:
        blocks += [
            {"type": "divider"},
            {
                "type": "actions",
                "block_id": "home_create",
                "elements": [button("New pilot", NEW_PILOT_ACTION, "new", style="primary")],
            },
            context_block(
                "Set up a pilot from here: its tool, people, champions, goals and schedule."
            ),
        ]
    return {"type": "home", "blocks": blocks[:MAX_BLOCKS]}


# -- the pilots the person is in -----------------------------------------------------------------


def _participating(pilot: ParticipantPilot) -> Blocks:
    text = (
        f"*{escape(pilot.pilot)}* · {escape(pilot.tool)}\n{_state_text(pilot)}\n"
        f"_{privacy_explanation(pilot.min_group_size)}_"
    )
    blocks: Blocks = [text_block(text[:3000])]
    if pilot.state != "not_surveyed":
        blocks.append(_controls(pilot))
    return blocks


def _state_text(pilot: ParticipantPilot) -> str:
    state = pilot.state
    if state == "stopped":
        return "Right now you have stopped these messages: no pulses or check-ins."
    if state == "paused":
        until = escape(pilot.paused_until or "")
        return f"Right now it is paused until {until}: no pulses or check-ins until then."
    if state == "not_surveyed":
        return "You see how the pilot goes; you are not surveyed in it."
    parts = []
    if pilot.next_pulse:
        parts.append(f"Next pulse: *{escape(pilot.next_pulse)}*")
    if pilot.next_checkin:
        parts.append(f"next check-in: *{escape(pilot.next_checkin)}*")
    when = f"\n{' · '.join(parts)} (your time)" if parts else ""
    days = []
    if pilot.working_days:
        days.append(f"Working days: {escape(pilot.working_days)}")
    if pilot.holidays:
        no = "no" if days else "No"
        days.append(f"{no} messages on {escape(', '.join(pilot.holidays))} (holidays)")
    off = f"\n{' · '.join(days)}" if days else ""
    return f"Right now you get the weekly pulse.{when}{off}"


def _controls(pilot: ParticipantPilot) -> dict[str, Any]:
    subject = subject_value(participant_id=pilot.participant_id)
    block_id = f"home_controls_{pilot.participant_id}"
    if pilot.state == "stopped":
        elements = [button("Start again", RESUME_ACTION, subject)]
    elif pilot.state == "paused":
        elements = [button("Resume now", RESUME_ACTION, subject), stop_button(subject)]
    else:
        return controls(subject, block_id=block_id)
    return {"type": "actions", "block_id": block_id, "elements": elements}


# -- the person's own words ----------------------------------------------------------------------


def _own_words(written: Sequence[OwnWords], retention_days: int) -> Blocks:
    """What the person wrote, as they wrote it: only they ever see this."""
    blocks: Blocks = [{"type": "divider"}, text_block("*Your words* (only you see this)")]
    if written:
        for item in written[:MAX_WORDS]:
            blocks.append(
                context_block(f"{item.when:%d %b}, {escape(item.where)}: {_quote(item.text)}")
            )
    else:
        blocks.append(context_block("Nothing you wrote is kept at the moment."))
    erase = button("Delete all my answers", ERASE_ACTION, "me", style="danger")
    erase["confirm"] = _confirm(
        "Delete your answers?",
        "Every answer you gave and the words of your check-in replies are deleted for good, in "
        "every pilot, and leave the totals. This cannot be undone.",
        "Delete for good",
        deny="Keep them",
    )
    blocks.append({"type": "actions", "block_id": "own_data", "elements": [erase]})
    blocks.append(
        context_block(
            f"What you type is kept as written only for you, and for {retention_days} days at most."
        )
    )
    return blocks


def _quote(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return "“" + escape(text) + "”"


# -- the pilots the person runs ------------------------------------------------------------------


def _confirm(
    title: str, text: str, confirm: str, *, deny: str = "Cancel", danger: bool = False
) -> dict[str, Any]:
    dialog: dict[str, Any] = {
        "title": {"type": "plain_text", "text": title[:100]},
        "text": {"type": "mrkdwn", "text": text[:300]},
        "confirm": {"type": "plain_text", "text": confirm[:30]},
        "deny": {"type": "plain_text", "text": deny[:30]},
    }
    if danger:
        dialog["style"] = "danger"
    return dialog


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def summary_lines(pilot: ManagedPilot) -> list[str]:
    """This period's headline, in a few short lines; nothing from fewer people than the
    pilot's minimum group."""
    if pilot.ended:
        return ["Ended: no more pulses, check-ins or digests; its figures stay."]
    lines: list[str] = []
    if pilot.members is not None:
        lines.append(f"{pilot.members} people in the pilot")
    if not pilot.pulse_sent:
        lines.append("No pulse has gone out this period yet.")
        return lines
    if pilot.answered is None:
        lines.append(f"Withheld: fewer than {pilot.min_group_size} answered so far.")
        return lines
    answered = f"Answered *{pilot.answered}*"
    if pilot.invited is not None:
        answered += f" of {pilot.invited}"
    if pilot.response_rate is not None:
        answered += f" ({_percent(pilot.response_rate)})"
    figures = [answered]
    if pilot.usefulness is not None:
        figures.append(f"usefulness *{pilot.usefulness:.1f}* / 5")
    if pilot.weekly_use is not None:
        figures.append(f"weekly use *{_percent(pilot.weekly_use)}*")
    lines.append(" · ".join(figures))
    if pilot.top_friction:
        lines.append(f"Top friction: {escape(pilot.top_friction)}")
    return lines


def _short_period(period: str) -> str:
    return period.rpartition("-")[2] or period


def _manage_buttons(pilot: ManagedPilot) -> list[dict[str, Any]]:
    name = pilot.name
    shown = f"*{escape(name)}*"
    if pilot.ended:
        return []
    elements = [button("Edit", EDIT_PILOT_ACTION, name)]
    if pilot.can_nudge:
        elements.append(button("Nudge non-responders", NUDGE_ACTION, name))
    if pilot.role != ADMIN:
        return elements
    send = button("Send pulse now", SEND_PULSE_ACTION, name)
    send["confirm"] = _confirm(
        "Send the pulse now?",
        f"Send this week's pulse of {shown} to everyone in the pilot now? Nobody gets it twice.",
        "Send",
    )
    digest_period = _short_period(pilot.digest_period or pilot.period)
    where = (
        f"<#{pilot.leadership_channel}>" if pilot.leadership_channel else "its leadership channel"
    )
    digest = button("Send digest now", SEND_DIGEST_ACTION, name)
    digest["confirm"] = _confirm(
        "Post the digest now?",
        f"Post the digest of {digest_period} for {shown} to {where} now? It is posted once a week.",
        "Post",
    )
    end = button("End pilot", END_PILOT_ACTION, name, style="danger")
    end["confirm"] = _confirm(
        "End the pilot?",
        f"End {shown}? No more pulses, check-ins or digests; its figures stay.",
        "End pilot",
        danger=True,
    )
    return [*elements, send, digest, end]


def _managed(pilots: Sequence[ManagedPilot]) -> Blocks:
    blocks: Blocks = [{"type": "divider"}, text_block("*Pilots you run*")]
    shown = pilots[:MAX_MANAGED]
    for index, pilot in enumerate(shown):
        role = "admin" if pilot.role == ADMIN else "champion"
        head = f"*{escape(pilot.name)}* · {escape(pilot.tool)} · _{role}_ · {escape(pilot.period)}"
        blocks.append(text_block("\n".join([head, *summary_lines(pilot)])[:3000]))
        elements = _manage_buttons(pilot)
        if elements:
            blocks.append(
                {"type": "actions", "block_id": f"home_manage_{index}", "elements": elements}
            )
    if len(pilots) > len(shown):
        more = len(pilots) - len(shown)
        blocks.append(
            context_block(
                f"…and {more} more pilot{'s' if more != 1 else ''}: "
                "`/pilot-status NAME` shows any of them."
            )
        )
    return blocks
