"""The durable sender's retries against the Slack stand-in, on both databases: one layer of
retries (the sender's own), each attempt counted by the stand-in, and a 429 pausing everyone."""

from __future__ import annotations

import dataclasses
from collections import Counter
from itertools import pairwise

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlmodel import select

from bot.devkit.slack_standin import SlackStandIn
from bot.outreach import delivery, failures
from bot.outreach.delivery import status_counts
from bot.outreach.failures import MAX_TRANSIENT_ATTEMPTS
from bot.outreach.pacer import Pacer
from bot.outreach.sending import send_pulse
from bot.runtime.deps import Deps
from bot.runtime.slack_client import GatewayErrorRetryHandler
from storage.models import Delivery, DeliveryStatus, Participant, Purpose
from tests.pulse_helpers import PEOPLE, dm_channel, make_crowd_pilot, make_pilot, send


@pytest.fixture(autouse=True)
def _quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sender's pauses between transient attempts, cut to milliseconds: the tests count
    attempts, not seconds."""
    monkeypatch.setattr(failures, "TRANSIENT_BACKOFF", 0.005)


def _posts_by_person(slack: SlackStandIn) -> Counter[str]:
    return Counter(call.params["channel"] for call in slack.calls_to("chat.postMessage"))


def _rows(deps: Deps) -> dict[str, tuple[str, str | None]]:
    """slack user id → (delivery status, failure reason)."""
    with deps.db.session() as session:
        rows = session.exec(
            select(Participant.slack_user_id, Delivery.status, Delivery.failure_reason).join(
                Participant
            )
        ).all()
    return {user: (status, reason) for user, status, reason in rows}


def _counts(deps: Deps) -> Counter[str]:
    with deps.db.session() as session:
        round_id = session.exec(select(Delivery.round_id).distinct()).one()
        return status_counts(session, round_id, Purpose.INVITE)


@pytest.mark.parametrize("status", [500, 502])
def test_a_message_that_keeps_failing_is_tried_max_attempts_in_all_then_failed(
    deps: Deps, slack: SlackStandIn, status: int
) -> None:
    make_pilot(deps)
    slack.fail("chat.postMessage", status=status, times=1000)
    result = send(deps)
    assert result.progress is not None
    assert result.progress.sent == 0 and result.progress.failed == len(PEOPLE)
    # Attempts in all, as Slack saw them: the sender's, with none added inside the client.
    assert _posts_by_person(slack) == {person: MAX_TRANSIENT_ATTEMPTS for person in PEOPLE}
    assert {call.status for call in slack.calls_to("chat.postMessage")} == {status}
    reason = f"gave up: http_{status}"
    assert dict(result.progress.failures) == {reason: len(PEOPLE)}
    assert _rows(deps) == {person: (DeliveryStatus.FAILED, reason) for person in PEOPLE}
    assert _counts(deps) == Counter({DeliveryStatus.FAILED: len(PEOPLE)})


def test_a_message_that_fails_twice_with_503_is_sent_once_on_its_third_attempt(
    deps: Deps, slack: SlackStandIn
) -> None:
    make_pilot(deps)
    slack.fail("chat.postMessage", status=503, times=2)
    # One worker, so that both 503s fall on the same message.
    one_worker = dataclasses.replace(deps.send_options, concurrency=1)
    result = send_pulse(
        deps.db, deps.sending_client, "support-copilot", now=deps.clock(), options=one_worker
    )
    assert result.progress is not None
    assert (result.progress.sent, result.progress.failed) == (len(PEOPLE), 0)
    calls = slack.calls_to("chat.postMessage")
    assert [call.status for call in calls] == [503, 503] + [200] * len(PEOPLE)
    first = calls[0].params["channel"]
    assert [call.params["channel"] for call in calls[:3]] == [first] * 3
    assert _posts_by_person(slack) == {person: 3 if person == first else 1 for person in PEOPLE}
    assert all(len(slack.messages[dm_channel(person)]) == 1 for person in PEOPLE)
    assert slack.sent_count("chat.postMessage") == len(PEOPLE)
    assert _counts(deps) == Counter({DeliveryStatus.SENT: len(PEOPLE)})


def test_a_call_that_times_out_is_retried_by_the_sender_alone(
    deps: Deps, slack: SlackStandIn
) -> None:
    make_pilot(deps)
    # Every answer comes after the client has stopped waiting: urllib raises a bare
    # TimeoutError from reading the answer, which the sender must treat as transient.
    slack.latency = 0.6
    client = WebClient(
        token=slack.bot_token,
        base_url=slack.url,
        timeout=0.2,  # type: ignore[arg-type]
        retry_handlers=[],
    )
    result = send_pulse(
        deps.db, client, "support-copilot", now=deps.clock(), options=deps.send_options
    )
    assert result.progress is not None
    assert result.progress.failed == len(PEOPLE)
    assert all(reason.startswith("gave up: connection: ") for reason in result.progress.failures), (
        result.progress.failures
    )
    # Slack did see every attempt (and may have posted each: a timed-out post is a post
    # whose answer was lost), but never more than MAX_TRANSIENT_ATTEMPTS of them.
    slack.wait_for("chat.postMessage", MAX_TRANSIENT_ATTEMPTS * len(PEOPLE), timeout=5)
    assert _posts_by_person(slack) == {person: MAX_TRANSIENT_ATTEMPTS for person in PEOPLE}


def test_the_senders_client_retries_nothing_and_the_others_keep_their_handlers(
    deps: Deps, slack: SlackStandIn
) -> None:
    assert deps.sending_client.retry_handlers == []
    kinds = {type(handler) for handler in deps.client.retry_handlers}
    assert kinds == {
        ConnectionErrorRetryHandler,
        ServerErrorRetryHandler,
        GatewayErrorRetryHandler,
        RateLimitErrorRetryHandler,
    }
    # A gateway's 502 is retried by the ordinary client...
    slack.fail("auth.test", status=502)
    assert deps.client.auth_test()["ok"] is True
    assert [call.status for call in slack.calls_to("auth.test")] == [502, 200]
    # ...and handed straight back by the sender's, after one request.
    slack.clear()
    slack.fail("auth.test", status=502)
    with pytest.raises(SlackApiError) as refused:
        deps.sending_client.auth_test()
    assert refused.value.response.status_code == 502
    assert [call.status for call in slack.calls_to("auth.test")] == [502]


def test_a_429_burst_pauses_every_worker_until_retry_after(deps: Deps, slack: SlackStandIn) -> None:
    people = make_crowd_pilot(deps, slack, "burst", "U4", 40)
    # Several calls in flight at once, so that the first three all meet a 429.
    slack.latency = 0.05
    slack.fail("chat.postMessage", status=429, retry_after=1, times=3)
    result = send(deps, "burst")
    assert result.progress is not None
    assert result.progress.sent == 40 and result.progress.rate_limited == 3
    assert sorted(len(slack.messages[dm_channel(user)]) for user in people) == [1] * 40
    calls = sorted(slack.calls_to("chat.postMessage"), key=lambda call: call.at)
    limited = [call for call in calls if call.status == 429]
    assert len(limited) == 3
    # Eight workers post ~100 a second, so only a pause shared by all of them leaves a gap of
    # a whole Retry-After between one call and the next; it opens as the 429s come back.
    gaps = [(later.at - earlier.at, earlier) for earlier, later in pairwise(calls)]
    gap, before_gap = max(gaps, key=lambda pair: pair[0])
    assert gap >= 0.9, f"longest pause between calls was {gap:.2f}s"
    assert limited[0].at <= before_gap.at <= limited[0].at + slack.latency + 0.5
    assert all(call.status == 200 for call in calls if call.at > before_gap.at)


def test_the_pacer_slows_once_per_burst_and_holds_everyone_until_retry_after() -> None:
    now = [100.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    pacer = Pacer(10, headroom=1.0, clock=lambda: now[0], sleep=sleep)
    pacer.acquire()
    pacer.on_rate_limited(2.0)
    pacer.on_rate_limited(2.0)  # the same burst: already paused, so no second slow-down
    assert pacer.rate == pytest.approx(8.0) and pacer.rate_limited == 2
    pacer.acquire()
    assert now[0] == pytest.approx(102.0)
    # Still importable from where it used to live.
    assert delivery.Pacer is Pacer


class _GaveUp(Exception):
    pass


def test_a_sender_that_gives_up_cancels_the_posts_it_has_not_begun(
    deps: Deps, slack: SlackStandIn
) -> None:
    """A run that ends in an error (its database down past its patience, here its progress
    callback failing, which takes the same way out) must not go on posting the rows it holds
    and can no longer write down: the next sender would post them again."""
    people = make_crowd_pilot(deps, slack, "big", "U0BIG", 40)
    slack.latency = 0.2  # slow posts, so that rows wait in the queue behind the workers
    options = dataclasses.replace(deps.send_options, concurrency=2)
    seen: list[int] = []

    def give_up(progress: delivery.SendProgress) -> None:
        seen.append(progress.sent)
        if progress.sent:
            raise _GaveUp

    with pytest.raises(_GaveUp):
        send_pulse(
            deps.db,
            deps.sending_client,
            "big",
            now=deps.clock(),
            options=options,
            on_progress=give_up,
        )
    posted = len(slack.calls_to("chat.postMessage"))
    # Held were 4 × 2 = 8 rows; only those a worker had begun may have gone out.
    assert seen[-1] >= 1 and posted <= seen[-1] + options.concurrency, (posted, seen)
    assert posted < len(people)
