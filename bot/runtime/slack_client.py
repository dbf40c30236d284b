"""The one place a Slack `WebClient` is built: base URL from `SLACK_API_URL`, and the retry
policy of every client. Most clients let slack_sdk retry rate limits (sleeping `Retry-After`),
dropped connections and Slack's 5xx answers; the pulse sender's client retries nothing, because
the sender retries its own calls through the pace all its workers share."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.runtime.settings import Settings


class GatewayErrorRetryHandler(RetryHandler):
    """Retries 502 and 504, which come from the load balancers in front of Slack.

    slack_sdk's `ServerErrorRetryHandler` retries only Slack's own 500 and 503. A gateway's
    502/504 is as passing as those (and a retried call is usually answered), so dropping
    them would fail a modal or a reply for a blip. This subclasses the base `RetryHandler` and
    implements `_can_retry`, the hook slack_sdk's documentation gives for custom handlers
    ("a new class that inherits RetryHandler and implements the internals of can_retry"); the
    built-in handlers' own methods are left alone, so an upgrade of slack_sdk cannot change
    what they do under us.
    """

    STATUSES = frozenset({502, 504})

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code in self.STATUSES


def retry_handlers(*, attempts: int = 3) -> list[RetryHandler]:
    """The retry policy of every client but the sender's: a few tries for blips (connections,
    5xx), and Slack's own pacing on 429.

    The handlers share one count of retries per call, so a call is sent at most
    `attempts + 1` times for blips, or `attempts + 3` when 429s are among the answers.
    """
    return [
        ConnectionErrorRetryHandler(max_retry_count=attempts),
        ServerErrorRetryHandler(max_retry_count=attempts),  # 500, 503
        GatewayErrorRetryHandler(max_retry_count=attempts),  # 502, 504
        RateLimitErrorRetryHandler(max_retry_count=attempts + 2),
    ]


def build_client(settings: Settings, *, retries: bool = True, timeout: int = 15) -> WebClient:
    """A WebClient for the bot token and API URL in `settings`.

    `retries=False` gives a client that never retries: each call is one request, and every
    failure (429, 5xx, a dropped connection, a timeout) reaches the caller. The pulse sender
    uses it: its own loop is the one layer that retries, each attempt paced with all its other
    workers, and a message that keeps failing is tried a bounded number of times in all,
    rather than that number times the SDK's.
    """
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=timeout,
        retry_handlers=retry_handlers() if retries else [],
        # No logger of ours: the SDK logs every request's and response's body at DEBUG (people's
        # words among them), so it keeps its own, under `slack_sdk`, which `bot.runtime.logs`
        # holds at WARNING whatever LOG_LEVEL says.
    )
