"""The `/pilot-status` reply: participation, answers, sentiment, themes, and the nudge button;
the pilot choice for a champion of several pilots, and the polite refusal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.analysis.themes import theme_label
from bot.views.blocks import Blocks, button, context_block, header_block, text_block

if TYPE_CHECKING:
    from bot.reporting.digest import ThemeVoice
    from bot.reporting.frictions import Voices
    from bot.reporting.metrics import PeriodFigures, QuestionFigures

NUDGE_ACTION = "status_nudge"
PICK_ACTION = "status_pick_{index}"
PICK_ACTION_PATTERN = r"^status_pick_\d+$"

_SHORT_LABELS = {
    "usage": "Use",
    "usefulness": "Usefulness",
    "time_saved": "Time saved",
    "trust": "Trust in output",
    "recommend": "Would recommend",
    "comment": "Comments",
}


def short_label(question: QuestionFigures) -> str:
    return _SHORT_LABELS.get(question.key, question.text[:40])


def _change(value: float | None, *, percent: bool = False) -> str:
    if value is None:
        return ""
    if abs(value) < 0.005:
        return " (no change)"
    arrow = "▲" if value > 0 else "▼"
    shown = (
        f"{abs(value) * 100:.0f} pts" if percent else f"{abs(value):.2f}".rstrip("0").rstrip(".")
    )
    return f" ({arrow}{shown})"


def _percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def _question_line(question: QuestionFigures, minimum: int) -> str:
    label = short_label(question)
    if question.mean is None and question.n is None:
        return f"• {label}: _withheld ({question.withheld or f'fewer than {minimum} people'})_"
    if question.kind == "text":
        return f"• {label}: {question.n} people left a comment"
    if question.distribution is not None and question.key != "time_saved":
        ordered = sorted(question.distribution, key=lambda item: -item["value"])
        if any(item["count"] is None for item in ordered):
            mean = f"average *{question.mean:.1f}* · " if question.mean is not None else ""
            return f"• {label}: {mean}how many chose each is withheld, as some option stands for fewer than {minimum} people (n={question.n})"
        shown = " · ".join(f"{item['label']} {item['count']}" for item in ordered)
        return f"• {label}: {shown} (n={question.n})"
    if question.key == "time_saved" and question.mean is not None:
        return f"• Time saved: *about {question.mean:.0f} min* a week each{_change(question.change)} (n={question.n})"
    scale = f" / {question.max:g}" if question.kind == "scale" and question.max is not None else ""
    mean = f"{question.mean:.1f}" if question.mean is not None else "–"
    return f"• {label}: *{mean}*{scale}{_change(question.change)} (n={question.n})"


def _voices_line(title: str, voices: list[ThemeVoice]) -> str:
    lines = [f"*{title}*: " + ", ".join(f"{v.label} ({v.people})" for v in voices)]
    for voice in voices:
        for quote in voice.quotes:
            shown = quote.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            lines.append(f"> _{shown}_")
    return "\n".join(lines)[:2900]


def status_blocks(figures: PeriodFigures, voices: Voices | None = None) -> Blocks:
    """The `/pilot-status` reply for one pilot: participation, answers, sentiment, themes."""
    minimum = figures.min_group_size
    blocks: Blocks = [
        header_block(f"{figures.pilot} · {figures.tool} · {figures.period}"),
    ]
    people = figures.people

    def few(value: int | None) -> str:
        return str(value) if value is not None else f"fewer than {minimum}"

    size = f"{people.members} people in the pilot · " if people.members is not None else ""
    blocks.append(
        context_block(f"{size}{few(people.paused)} paused · {few(people.opted_out)} opted out")
    )
    if figures.addressed == 0:
        blocks.append(text_block("No pulse has gone out this period yet."))
    else:
        state = "open" if figures.round_open else "closed"
        sending = figures.pending - figures.waiting
        delivery = (
            f"*Pulse ({state})*: sent to {figures.addressed} · delivered {figures.delivered} · "
            f"failed {figures.failed}"
            + (f" · still sending {sending}" if sending else "")
            + (f" · {figures.waiting} due later, in their own morning" if figures.waiting else "")
        )
        blocks.append(text_block(delivery))
        if figures.responded is None:
            blocks.append(
                text_block(
                    f"*Answered*: fewer than {minimum} people so far; the figures appear once "
                    f"{minimum} have answered."
                )
            )
        else:
            rate = _percent(figures.response_rate) if figures.response_rate is not None else "–"
            change = ""
            if figures.response_rate is not None and figures.previous_response_rate is not None:
                change = _change(
                    figures.response_rate - figures.previous_response_rate, percent=True
                )
            blocks.append(text_block(f"*Answered*: {figures.responded} ({rate}){change}"))
            lines = [_question_line(q, minimum) for q in figures.questions]
            if lines:
                blocks.append(text_block("\n".join(lines)))
    if figures.round_open and figures.delivered and not figures.reminded:
        blocks.append(
            {
                "type": "actions",
                "block_id": "status_nudge",
                "elements": [
                    button("Nudge those who haven't answered", NUDGE_ACTION, figures.pilot)
                ],
            }
        )
        blocks.append(context_block("One friendly reminder per week; you never see who gets it."))
    usage = usage_line(figures)
    if usage is not None:
        blocks.append(text_block(usage))
    if figures.sentiment_mean is not None:
        blocks.append(
            text_block(
                f"*Sentiment*: {figures.sentiment_mean:+.2f} on −1…+1 (n={figures.sentiment_n})"
            )
        )
    if figures.themes:
        top = ", ".join(f"{theme_label(t['theme'])} ({t['count']})" for t in figures.themes[:5])
        blocks.append(text_block(f"*Top themes*: {top}"))
    if voices is not None and voices.frictions:
        blocks.append(text_block(_voices_line("Top frictions", voices.frictions)))
    if voices is not None and voices.wins:
        blocks.append(text_block(_voices_line("Top wins", voices.wins)))
    if figures.checkins_started is not None:
        blocks.append(
            text_block(
                f"*Check-ins*: {figures.checkins_started} replied · "
                f"{few(figures.checkins_completed)} finished the conversation"
            )
        )
    blocks.append(
        context_block(
            f"Figures drawn from fewer than {minimum} people are withheld. "
            "Nobody's name is ever attached to an answer."
        )
    )
    return blocks


SOURCES = {
    "csv": "the imported usage",
    "github-copilot": "GitHub Copilot's own data",
    "m365-copilot": "Microsoft 365 Copilot's own data",
    "chatgpt-enterprise": "ChatGPT Enterprise's own data",
}


def usage_line(figures: PeriodFigures) -> str | None:
    """Actual use by the tool's own data, beside what people said; None when none was
    imported for the week."""
    usage = figures.usage
    if usage is None:
        return None
    source = SOURCES.get(usage.source, f"{usage.source} data")
    if usage.active_users is None:
        return (
            f"*Actually active* ({source}): _withheld (fewer than {figures.min_group_size} "
            "people, active or not)_"
        )
    share = f" ({_percent(usage.active_share)} of {usage.members})" if usage.active_share else ""
    uses = (
        f" · {usage.uses_per_active_user:g} uses each"
        if usage.uses_per_active_user is not None
        else ""
    )
    said = (
        f" · {_percent(figures.adoption.weekly_usage)} said they used it"
        if figures.adoption.weekly_usage is not None
        else ""
    )
    before = (
        f" · {_percent(figures.usage_before[1])} before the pilot ({figures.usage_before[0]})"
        if figures.usage_before is not None
        else ""
    )
    return f"*Actually active* ({source}): {usage.active_users}{share}{uses}{said}{before}"


def status_text(figures: PeriodFigures) -> str:
    """The notification text that goes with the status blocks."""
    if figures.responded is None:
        minimum = figures.min_group_size
        return f"{figures.pilot} · {figures.period}: answers withheld until {minimum} people reply"
    return f"{figures.pilot} · {figures.period}: {figures.responded} answered"


def pilot_choice_blocks(names: list[str]) -> Blocks:
    """A choice between the pilots a champion can see."""
    return [
        text_block("You are a champion of several pilots. Which one?"),
        {
            "type": "actions",
            "block_id": "status_pick",
            "elements": [
                button(name, PICK_ACTION.format(index=i), name) for i, name in enumerate(names[:25])
            ],
        },
    ]


def refusal_text() -> str:
    return (
        "Sorry, `/pilot-status` is for a pilot's champions. If you drive a pilot, "
        "ask whoever set it up to add you as a champion."
    )


def no_pilot_text() -> str:
    return (
        "No pilot is set up yet. An operator creates one with "
        "`pilot-pulse pilot create NAME --tool TEXT --leadership-channel CHANNEL_ID`."
    )
