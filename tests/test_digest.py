"""The weekly digest end to end: figures against the answers stored, the minimum-group rule in
every part, goals and the 30-day review, posting once, the chart, Slack's refusals, the model's
summary, the clock, and the CLI. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import gc
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.analysis.local import LocalAnalyzer
from bot.analysis.model import ModelClient
from bot.devkit.history import backdate_pilot, simulate_week
from bot.devkit.slack_standin import SlackStandIn
from bot.errors import PulseError
from bot.outreach.digest import post_digest
from bot.pilots.period import period_of, previous, slot_in_period
from bot.pilots.pilot import PilotSpec, create_pilot
from bot.privacy.own_data import erase
from bot.reporting.digest import GoalStatus, Verdict
from bot.reporting.weekly_digest import compose_digest
from bot.runtime.cli import main
from bot.runtime.clock import Clock
from bot.runtime.deps import Deps
from storage.models import Digest, DigestStatus, PeriodSnapshot
from tests.openai_standin import OpenAIStandIn
from tests.pulse_helpers import crowd

PILOT = "digest-pilot"
LICENCE = "Still no licence, IT has not set up my account so I cannot log in"
NO_SEAT = "No seat for me yet, locked out of it all week"
SAVES = "It saves me an hour a day on ticket replies"
WRONG = "It keeps inventing facts, the answers are wrong"


def answer(usage: int, useful: int, minutes: int, trust: int, recommend: int, comment=None):
    values: dict = {
        "usage": usage,
        "usefulness": useful,
        "time_saved": minutes,
        "trust": trust,
        "recommend": recommend,
    }
    if comment:
        values["comment"] = comment
    return values


def make(
    deps: Deps,
    slack: SlackStandIn,
    people: int,
    *,
    minimum: int = 3,
    goals: tuple = (),
    started_days_ago: int = 15,
    channel: str = "C0LEADERS",
) -> list[str]:
    users = crowd(slack, "U5", people, "C0DIGEST")
    create_pilot(
        deps.db,
        deps.client,
        PilotSpec(
            name=PILOT,
            tool="Copilot",
            leadership_channel=channel,
            members_from_channel="C0DIGEST",
            min_group_size=minimum,
            champions=("U0CHAMPION",),
            goals=goals,
            timezone="Europe/London",
        ),
    )
    backdate_pilot(deps.db, PILOT, datetime.now(UTC) - timedelta(days=started_days_ago))
    return users


def week(deps: Deps, weeks_ago: int, answers: dict) -> str:
    when = datetime.now(UTC) - timedelta(weeks=weeks_ago)
    return simulate_week(deps.db, deps.sending_client, PILOT, when, answers, LocalAnalyzer())


def two_weeks(deps: Deps, users: list[str]) -> tuple[str, str]:
    """Last week 6 of 8 answer; this week 7 of 8, with the comments that make themes."""
    last = week(
        deps,
        1,
        {
            users[0]: answer(1, 3, 15, 3, 6),
            users[1]: answer(0, 2, 0, 2, 4),
            users[2]: answer(0, 3, 0, 3, 7),
            users[3]: answer(2, 4, 45, 4, 9),
            users[4]: answer(3, 4, 90, 4, 10),
            users[5]: answer(0, 2, 0, 2, 5),
        },
    )
    this = week(
        deps,
        0,
        {
            users[0]: answer(3, 5, 150, 4, 10, SAVES),
            users[1]: answer(2, 4, 90, 4, 9, SAVES),
            users[2]: answer(1, 4, 45, 3, 9, SAVES),
            users[3]: answer(3, 5, 90, 5, 8, LICENCE),
            users[4]: answer(0, 2, 0, 2, 3, NO_SEAT),
            users[5]: answer(0, 3, 0, 3, 6, LICENCE),
            users[6]: answer(0, 2, 15, 2, 5, WRONG),
        },
    )
    return last, this


def test_the_digest_figures_are_those_of_the_answers(deps: Deps, slack: SlackStandIn) -> None:
    users = make(deps, slack, 8)
    last, this = two_weeks(deps, users)
    content = compose_digest(deps.db, PILOT, None, deps.clock())
    assert (content.period, content.previous_period) == (this, last)
    assert content.enough
    part = content.participation
    assert (part.invited, part.responded, part.response_rate) == (8, 7, round(7 / 8, 3))
    assert part.previous_responded == 6 and part.responded_change == 1
    assert part.response_rate_change == round(7 / 8 - 6 / 8, 3)
    # Used at least once: 4 of 7 this week (3 did not), 3 of 6 last week.
    assert content.weekly_usage.value == round(4 / 7, 3) and content.weekly_usage.n == 7
    assert content.weekly_usage.change == round(4 / 7 - 0.5, 3)
    scores = {score.key: score for score in content.scores}
    assert scores["usefulness"].mean == round((5 + 4 + 4 + 5 + 2 + 3 + 2) / 7, 2)
    assert scores["usefulness"].previous == round((3 + 2 + 3 + 4 + 4 + 2) / 6, 2)
    assert scores["usefulness"].high == 5 and scores["usefulness"].n == 7
    assert scores["trust"].mean == round((4 + 4 + 3 + 5 + 2 + 3 + 2) / 7, 2)
    # Promoters (9-10): 10, 9, 9 → 3; detractors (0-6): 3, 6, 5 → 3; NPS 0 of n 7.
    assert content.nps is not None and (content.nps.score, content.nps.n) == (0.0, 7)
    assert content.nps.previous == round(100 * (2 - 3) / 6, 1)  # 9, 10 against 6, 4, 5
    minutes = 150 + 90 + 45 + 90 + 0 + 0 + 15
    assert content.time_saved is not None
    assert content.time_saved.hours_total == round(minutes / 60, 1)
    assert content.time_saved.hours_per_person == round(minutes / 7 / 60, 2)
    # Frictions: licences by 3 people (both quoted, scrubbed); wins: time saved by 3.
    frictions = {voice.theme: voice for voice in content.frictions}
    assert frictions["access_licensing"].people == 3
    assert len(frictions["access_licensing"].quotes) == 2
    assert set(frictions["access_licensing"].quotes) <= {LICENCE, NO_SEAT}
    assert "output_quality" not in frictions  # one person only
    assert content.themes_withheld >= 1
    assert content.wins[0].theme == "time_saved" and content.wins[0].people == 3
    assert content.day == 16 and not content.review_due and content.review is None
    # The trend: every week since the pilot began, in order; the first had no pulse (a gap).
    started, *rest = content.trend
    assert [point.period for point in rest] == [last, this]
    assert started.response_rate is None and started.usefulness is None
    assert rest[0].response_rate == round(6 / 8, 3)
    # The rules' next steps name the licences.
    assert content.next_steps is not None and content.next_steps.source == "local"
    assert any("licen" in action.lower() for action in content.next_steps.actions)


def test_too_few_answers_show_no_figure_about_people(deps: Deps, slack: SlackStandIn) -> None:
    users = make(deps, slack, 8, minimum=5, goals=(("weekly_usage", 0.7),), started_days_ago=30)
    week(deps, 0, {u: answer(3, 5, 150, 5, 10, LICENCE) for u in users[:4]})
    content = compose_digest(deps.db, PILOT, None, deps.clock())
    assert not content.enough
    assert content.participation.responded is None and content.participation.response_rate is None
    assert content.weekly_usage.value is None and all(s.mean is None for s in content.scores)
    assert content.frictions == [] and content.wins == []
    assert content.time_saved is not None and content.time_saved.hours_total is None
    [goal] = content.goals
    assert goal.status == GoalStatus.NOT_ENOUGH_DATA and goal.actual is None
    # Day 31: the review is due, and rests on nothing withheld.
    assert content.review is not None and content.review.verdict == Verdict.NOT_ENOUGH_DATA
    shown = json.dumps(content.as_json()["digest"])
    assert LICENCE not in shown


def test_a_theme_or_a_usage_split_from_too_few_people_is_withheld(
    deps: Deps, slack: SlackStandIn
) -> None:
    users = make(deps, slack, 8, minimum=5)
    # Six answer: four say licences (fewer than 5), two did not use the tool (fewer than 5).
    answers = {u: answer(3, 4, 45, 4, 8, LICENCE) for u in users[:4]}
    answers |= {u: answer(0, 2, 0, 2, 4) for u in users[4:6]}
    week(deps, 0, answers)
    content = compose_digest(deps.db, PILOT, None, deps.clock())
    assert content.enough and content.participation.responded == 6
    assert content.frictions == [] and content.themes_withheld >= 1
    # With n shown, a share would give away that two people did not use it.
    assert content.weekly_usage.value is None
    assert LICENCE not in json.dumps(content.as_json())


def test_goals_and_the_30_day_review(deps: Deps, slack: SlackStandIn) -> None:
    users = make(
        deps,
        slack,
        8,
        goals=(("weekly_usage", 0.5), ("usefulness", 4.5), ("hours_saved", 2)),
        started_days_ago=30,
    )
    two_weeks(deps, users)
    content = compose_digest(deps.db, PILOT, None, deps.clock())
    assert content.review_due and content.day >= 28
    goals = {goal.metric: goal for goal in content.goals}
    assert goals["weekly_usage"].status == GoalStatus.ON_TRACK  # 57% against 50%
    assert goals["weekly_usage"].verdict == Verdict.EXPAND
    assert goals["usefulness"].status == GoalStatus.OFF_TRACK  # 3.57 against 4.5
    assert goals["usefulness"].verdict == Verdict.RETHINK
    assert goals["hours_saved"].actual == round(390 / 60, 1)
    assert content.review is not None and content.review.verdict == Verdict.KEEP_GOING
    assert any("Usefulness" in reason for reason in content.review.reasons)


def test_a_pilot_without_goals_is_held_to_the_default_ones(deps: Deps, slack: SlackStandIn) -> None:
    users = make(deps, slack, 8)
    two_weeks(deps, users)
    content = compose_digest(deps.db, PILOT, None, deps.clock())
    assert content.goals and all(goal.default for goal in content.goals)


def test_posting_twice_posts_once_with_its_chart(deps: Deps, slack: SlackStandIn) -> None:
    users = make(deps, slack, 8)
    two_weeks(deps, users)
    first = post_digest(deps.db, deps.client, PILOT, period=None, now=deps.clock())
    assert first.posted and first.chart_attached
    [message] = slack.messages["C0LEADERS"]
    assert message["blocks"] and "Trend chart above" in json.dumps(message["blocks"])
    [upload] = slack.uploads.values()
    assert upload["channel_id"] == "C0LEADERS" and upload["bytes"].startswith(b"\x89PNG")
    assert upload["alt_txt"] and "Response rate" in upload["alt_txt"]
    again = post_digest(deps.db, deps.client, PILOT, period=None, now=deps.clock())
    assert not again.posted and "was posted on" in again.note
    assert len(slack.messages["C0LEADERS"]) == 1 and len(slack.uploads) == 1
    with deps.db.session() as session:
        [row] = session.exec(select(Digest)).all()
    assert row.status == DigestStatus.POSTED and row.message_ts == message["ts"]


def test_two_concurrent_posters_post_once(deps: Deps, slack: SlackStandIn) -> None:
    users = make(deps, slack, 8)
    two_weeks(deps, users)
    slack.latency = 0.05
    results = []

    def poster() -> None:
        results.append(post_digest(deps.db, deps.client, PILOT, period=None, now=deps.clock()))

    threads = [threading.Thread(target=poster) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(result.posted for result in results) == [False, False, True]
    assert len(slack.messages["C0LEADERS"]) == 1


def test_a_failed_chart_upload_still_posts_the_text(deps: Deps, slack: SlackStandIn) -> None:
    users = make(deps, slack, 8)
    two_weeks(deps, users)
    slack.error("files.completeUploadExternal", "internal_error", times=5)
    result = post_digest(deps.db, deps.client, PILOT, period=None, now=deps.clock())
    assert result.posted and not result.chart_attached
    [message] = slack.messages["C0LEADERS"]
    assert "could not be attached" in json.dumps(message["blocks"])
    with deps.db.session() as session:
        row = session.exec(select(Digest)).one()
    assert row.status == DigestStatus.POSTED and row.file_id is None and "chart" in row.error


def test_a_bot_outside_the_channel_gets_one_line_and_nothing_is_marked_posted(
    deps: Deps, slack: SlackStandIn, env: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    slack.add_channel("C0QUIET", name="quiet", members=["U0CHAMPION"])
    users = make(deps, slack, 8)
    two_weeks(deps, users)
    with deps.db.transaction() as session:
        from storage.models import Pilot

        pilot = session.exec(select(Pilot)).one()
        pilot.leadership_channel = "C0QUIET"
        session.add(pilot)
    slack.channels["C0QUIET"]["is_member"] = False
    with pytest.raises(PulseError, match="invite the bot"):
        post_digest(deps.db, deps.client, PILOT, period=None, now=deps.clock())
    assert main(["digest", "send", PILOT]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "/invite @pilot-pulse" in err and "C0QUIET" in err
    with deps.db.session() as session:
        row = session.exec(select(Digest)).one()
    assert row.status == DigestStatus.FAILED and row.posted_at is None
    assert slack.messages.get("C0QUIET", []) == []
    # Once the bot is invited, the next run posts.
    slack.channels["C0QUIET"]["is_member"] = True
    assert main(["digest", "send", PILOT]) == 0
    assert len(slack.messages["C0QUIET"]) == 1


def test_an_unknown_pilot_is_one_line(env: dict, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["digest", "send", "nope"]) == 1
    assert "no pilot called 'nope'" in capsys.readouterr().err
    assert main(["digest", "show", "nope", "--period", "2026-W99"]) == 1


def test_the_model_writes_what_to_do_next_and_garbage_falls_back(
    deps: Deps, slack: SlackStandIn, llm: OpenAIStandIn
) -> None:
    users = make(deps, slack, 8)
    two_weeks(deps, users)
    client = ModelClient(api_key="sk-test", model="gpt-4o-mini", base_url=llm.url, timeout=2)
    llm.queue_json(
        {
            "summary": "Seven of eight answered; licences are the main blocker.",
            "actions": [
                "Ask IT to issue the three missing licences this week.",
                "Share the ticket-reply time savings at the next team meeting.",
            ],
        }
    )
    content = compose_digest(deps.db, PILOT, None, deps.clock(), llm=client)
    assert content.next_steps is not None
    assert content.next_steps.source == "openai:gpt-4o-mini"
    assert content.next_steps.prompt_version and content.next_steps.prompt_version.startswith(
        "digest@"
    )
    sent = llm.calls[-1].body["messages"][1]["content"]
    assert "access" in sent and LICENCE.split(",")[0] in sent  # figures and shown quotes
    assert all(user not in sent for user in users)
    llm.queue_text("this is not JSON at all")
    fallback = compose_digest(deps.db, PILOT, None, deps.clock(), llm=client)
    assert fallback.next_steps is not None and fallback.next_steps.source == "local"
    assert fallback.next_steps.note and "failed" in fallback.next_steps.note


def test_the_clock_posts_last_weeks_digest_at_its_slot_once(
    deps: Deps, slack: SlackStandIn
) -> None:
    users = make(deps, slack, 8)
    last, _ = two_weeks(deps, users)
    tz = "Europe/London"
    slot = slot_in_period(period_of(datetime.now(UTC), tz), tz, 0, 11)
    clock = Clock(deps)
    clock.tick(slot - timedelta(minutes=1))
    assert slack.messages.get("C0LEADERS", []) == []
    clock.tick(slot + timedelta(minutes=1))
    clock.tick(slot + timedelta(hours=3))
    Clock(deps).tick(slot + timedelta(days=1))  # a restarted clock too
    assert len(slack.messages["C0LEADERS"]) == 1
    with deps.db.session() as session:
        [row] = session.exec(select(Digest)).all()
    assert row.period == last == previous(period_of(slot, tz))


def test_digest_show_prints_text_json_and_block_kit(
    deps: Deps, slack: SlackStandIn, env: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    users = make(deps, slack, 8)
    _, this = two_weeks(deps, users)
    assert main(["digest", "show", PILOT]) == 0
    text = capsys.readouterr().out
    assert PILOT in text and "7" in text and "*" not in text
    assert main(["digest", "show", PILOT, "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["period"] == this and shown["responded"] == 7  # the report's fields
    assert shown["digest"]["frictions"][0]["theme"] == "access_licensing"
    assert shown["digest"]["summary"] and shown["digest"]["actions"]
    assert main(["digest", "show", PILOT, "--format", "blocks"]) == 0
    blocks = json.loads(capsys.readouterr().out)["blocks"]
    assert 0 < len(blocks) <= 50 and blocks[0]["type"] == "header"
    assert slack.messages.get("C0LEADERS", []) == []  # show posts nothing


def test_goals_are_set_when_the_pilot_is_created(
    env: dict, slack: SlackStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    crowd(slack, "U6", 5, "C0GOALS")
    args = ["pilot", "create", "g", "--tool", "X", "--leadership-channel", "C0LEADERS"]
    args += ["--members-from-channel", "C0GOALS"]
    assert main([*args, "--goal", "weekly_usage=70%", "--goal", "usefulness=4"]) == 0
    assert "goals: weekly_usage 0.7, usefulness 4" in capsys.readouterr().out
    other = [*args[:2], "h", *args[3:]]
    assert main([*other, "--goal", "happiness=9"]) == 1
    assert "unknown goal 'happiness'" in capsys.readouterr().err
    assert main([*other, "--goal", "weekly_usage=1.7"]) == 1
    assert "weekly_usage" in capsys.readouterr().err


def test_past_weeks_are_kept_and_erasing_answers_recounts_them(
    deps: Deps, slack: SlackStandIn
) -> None:
    users = make(deps, slack, 8)
    last, _ = two_weeks(deps, users)
    compose_digest(deps.db, PILOT, None, deps.clock())
    with deps.db.session() as session:
        snapshot = session.exec(select(PeriodSnapshot).where(PeriodSnapshot.period == last)).one()
    assert snapshot.figures["responded"] == 6
    erase(deps.db, users[0])
    with deps.db.session() as session:
        assert session.exec(select(PeriodSnapshot)).all() == []
    content = compose_digest(deps.db, PILOT, None, deps.clock())
    assert content.participation.previous_responded == 5


def test_composing_leaves_no_garbage_for_the_collector(deps: Deps, slack: SlackStandIn) -> None:
    """A compose's memory is freed as it goes (no reference cycles): garbage left for the
    collector would be freed inside whatever ran next, the next compose included, and make its
    peak memory depend on where a collection happened to fall."""
    users = make(deps, slack, 8)
    last, this = two_weeks(deps, users)

    def both() -> None:
        # Last week's (kept again each time, an upsert) and this week's (frictions, quotes).
        compose_digest(deps.db, PILOT, last, deps.clock())
        compose_digest(deps.db, PILOT, this, deps.clock())

    both()  # the first one keeps the past weeks and fills the caches
    gc.collect()
    gc.disable()
    try:
        both()
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_pilot_status_shows_the_same_frictions_and_wins(deps: Deps, slack: SlackStandIn) -> None:
    from bot.reporting.status import status_reply

    users = make(deps, slack, 8)
    two_weeks(deps, users)
    reply = status_reply(deps.db, "U0CHAMPION", PILOT, deps.clock())
    text = json.dumps(reply.blocks)
    assert "Top frictions" in text and "access and licensing (3)" in text
    assert "Top wins" in text and "time saved (3)" in text


def test_the_clock_keeps_final_weeks_for_mondays_digest(deps: Deps, slack: SlackStandIn) -> None:
    users = make(deps, slack, 8)
    last, this = two_weeks(deps, users)
    Clock(deps).tick()
    with deps.db.session() as session:
        kept = {row.period: row.figures for row in session.exec(select(PeriodSnapshot)).all()}
    # Last week is over and its pulse closed: kept. This week is still open: not kept.
    assert last in kept and this not in kept
    assert kept[last]["responded"] == 6 and kept[last]["means"]["usefulness"] == round(18 / 6, 2)
