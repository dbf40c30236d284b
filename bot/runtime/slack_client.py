"""The one place a Slack `WebClient` is built: base URL from `SLACK_API_URL`, retries for rate
limits (sleeping `Retry-After`), dropped connections and Slack's 5xx answers."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler

from bot.runtime.settings import Settings

log = logging.getLogger(__name__)

# Slack answers 500/503 for its own hiccups; 502/504 come from load balancers in front of it.
_SERVER_ERRORS = (500, 502, 503, 504)


class ServerErrorRetries(ServerErrorRetryHandler):
    """Retries every transient 5xx status, not only the 500 and 503 of slack_sdk's handler."""

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        return response is not None and response.status_code in _SERVER_ERRORS


def retry_handlers(*, rate_limits: bool = True, attempts: int = 3) -> list[RetryHandler]:
    """The retry policy of every client: a few tries for blips, and Slack's own pacing on 429."""
    handlers: list[RetryHandler] = [
        ConnectionErrorRetryHandler(max_retry_count=attempts),
        ServerErrorRetries(max_retry_count=attempts),
    ]
    if rate_limits:
        handlers.append(RateLimitErrorRetryHandler(max_retry_count=attempts + 2))
    return handlers


def build_client(
    settings: Settings, *, rate_limit_retries: bool = True, timeout: int = 15
) -> WebClient:
    """A WebClient for the bot token and API URL in `settings`.

    `rate_limit_retries=False` leaves 429s to the caller: the pulse sender paces all its
    workers together instead of letting each one sleep on its own.
    """
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=timeout,
        retry_handlers=retry_handlers(rate_limits=rate_limit_retries),
        logger=log,
    )
