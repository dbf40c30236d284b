"""Work after acks is bounded: past the limit, new work is refused with a warning, or left to
the clock where the clock finds it in the database; the ack and what it stored never suffer,
and nothing is dropped silently."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
import time_machine
from sqlmodel import select

from bot.devkit.slack_requests import SlackSender
from bot.devkit.slack_standin import SlackStandIn
from bot.runtime.deps import Deps, Overloaded
from bot.runtime.jobs import analysis_job, checkin_turn_job
from storage.models import Analysis, AnalysisStatus, Answer, CheckinMessage, MessageAuthor
from tests.conftest import RunningApp
from tests.pulse_helpers import click, dm_channel, last_view, make_pilot, modal_values, send
from tests.test_checkins import reply, send_checkin


def test_work_past_the_limit_is_refused_and_counted_and_the_rest_runs(deps: Deps) -> None:
    deps.after_ack_limit = 3
    release = threading.Event()
    done: list[int] = []

    def job(number: int) -> None:
        release.wait(10)
        done.append(number)

    futures = [deps.later(job, number) for number in range(5)]
    assert deps.outstanding == 3
    assert deps.refused == 2
    for refused in futures[3:]:
        with pytest.raises(Overloaded):
            refused.result(timeout=1)
    release.set()
    for accepted in futures[:3]:
        accepted.result(timeout=10)
    assert sorted(done) == [0, 1, 2]
    assert deps.outstanding == 0
    # Room again: new work is taken.
    assert deps.later(job, 9).result(timeout=10) is None
    assert done[-1] == 9


def test_an_overloaded_app_still_stores_and_acks_and_says_what_it_did_not_do(
    app: RunningApp,
    sender: SlackSender,
    slack: SlackStandIn,
    caplog: pytest.LogCaptureFixture,
) -> None:
    make_pilot(app.deps)
    send(app.deps)
    app.deps.after_ack_limit = 0
    with caplog.at_level(logging.WARNING, logger="bot.runtime.deps"):
        response = click(sender, slack, "U0PERSON1", "Daily")
    assert response.status_code == 200
    with app.deps.db.session() as session:
        assert len(session.exec(select(Answer)).all()) == 1
    # No modal could follow the click, and the log says so, naming the work.
    assert slack.calls_to("views.open") == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("_after_first_answer is refused" in line for line in warnings), warnings
    # Every piece of work refused is counted and has its line (learning who the bot is, after
    # the first ack, is refused too).
    assert app.deps.refused == sum("too much work after acks" in line for line in warnings)


def test_an_analysis_and_a_checkin_turn_past_the_limit_are_left_to_the_clock(
    app: RunningApp,
    sender: SlackSender,
    slack: SlackStandIn,
    travel: time_machine.Coordinates,
    caplog: pytest.LogCaptureFixture,
) -> None:
    make_pilot(app.deps)
    send(app.deps)
    send_checkin(app)
    # The click's modal opens while there is room; then the app is full.
    assert click(sender, slack, "U0PERSON1", "Daily").status_code == 200
    view = last_view(slack, 1)
    app.deps.after_ack_limit = 0
    with caplog.at_level(logging.WARNING, logger="bot.runtime.deps"):
        values = modal_values(
            view, {"got in the way": "The login to the tool keeps timing out every morning."}
        )
        assert sender.view_submission("U0PERSON1", view, values).status_code == 200
        reply(sender, "U0PERSON3", "It drafts replies well but the login keeps timing out.")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("run is left to the clock" in line for line in warnings), warnings
    assert any("_bot_turn is left to the clock" in line for line in warnings), warnings
    with app.deps.db.session() as session:
        pending = session.exec(select(Analysis.status)).all()
    assert pending and set(pending) == {AnalysisStatus.PENDING}

    # The clock finds both in the database and does them: nothing was dropped.
    app.deps.after_ack_limit = 100
    travel.shift(timedelta(minutes=2))
    analysis_job(app.deps, app.deps.clock())
    checkin_turn_job(app.deps, app.deps.clock())
    with app.deps.db.session() as session:
        assert set(session.exec(select(Analysis.status)).all()) == {AnalysisStatus.DONE}
        bot_turns = session.exec(
            select(CheckinMessage).where(CheckinMessage.author == MessageAuthor.BOT)
        ).all()
    assert any(turn.slack_ts for turn in bot_turns)
    assert len(slack.messages[dm_channel("U0PERSON3")]) >= 2
