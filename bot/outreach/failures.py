"""Why a message to Slack failed, and whether to try it again: the sender's vocabulary of
errors (for good, for the whole run, or for now) and its back-off."""

from __future__ import annotations

import http.client
import random
from urllib.error import URLError

from slack_sdk.errors import SlackApiError

# Slack answers these when the person cannot be messaged at all; retrying will not help.
PERMANENT_ERRORS = frozenset(
    {
        "user_not_found",
        "account_inactive",
        "cannot_dm_bot",
        "channel_not_found",
        "user_disabled",
        "is_archived",
        "not_in_channel",
        "restricted_action",
        "messages_tab_disabled",
        "user_is_restricted",
        "team_access_not_granted",
        "invalid_blocks",
        "msg_too_long",
        "no_text",
    }
)
# These mean the bot itself cannot post; the whole run stops with one clear line.
FATAL_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "not_allowed_token_type",
    }
)
# Attempts per message, all counted, for answers that may pass on their own; a message that
# still fails is marked failed. 429s are counted apart: they say "later", not "broken".
MAX_TRANSIENT_ATTEMPTS = 4
MAX_RATE_LIMITED_ATTEMPTS = 30
# Slack answers 500/503 for its own hiccups; 502/504 come from the load balancers in front of it.
# Any other status of 400 and above will be answered the same way next time.
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
# What reaches the sender when the request or its answer is lost on the way: with no retry
# handlers slack_sdk raises these as they come. urllib wraps failures to connect in URLError,
# but a timeout or a dropped connection while reading the answer arrives bare (TimeoutError,
# RemoteDisconnected, other OSErrors), and a truncated answer as http.client's IncompleteRead,
# which is no OSError.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    URLError,
    TimeoutError,
    OSError,
    http.client.HTTPException,
)
# Seconds before the 2nd, 3rd, 4th attempt: about 0.5, 1 and 2, give or take half, so that
# workers that failed together do not retry together.
TRANSIENT_BACKOFF = 0.25
TRANSIENT_BACKOFF_CAP = 8.0


def transient_backoff(attempt: int) -> float:
    """Seconds to wait after the `attempt`-th transient failure of one message."""
    base = min(TRANSIENT_BACKOFF_CAP, TRANSIENT_BACKOFF * 2**attempt)
    return base * (0.5 + random.random())


def status_and_error(exc: SlackApiError) -> tuple[int, str]:
    """The HTTP status of a refused call and the error to record for it."""
    response = exc.response
    if response is None:
        return 0, "no_response"
    status = response.status_code
    if status >= 500:
        # Slack's edge answers these in plain text, which slack_sdk turns into a long
        # "non-JSON format" error; the status says all there is to say.
        return status, f"http_{status}"
    return status, str(response.get("error") or f"http_{status}")


def describe(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or str(exc)
    return f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__


def retry_after(exc: SlackApiError) -> float:
    headers = getattr(exc.response, "headers", None) or {}
    for key, value in headers.items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                break
    return 1.0
