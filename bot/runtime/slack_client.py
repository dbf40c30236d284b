"""How the app talks to Slack's Web API. The one place a Slack `WebClient` is built: base URL
from `SLACK_API_URL`, and the retry policy of every client. Most clients let slack_sdk retry
rate limits (sleeping `Retry-After`), dropped connections and Slack's 5xx answers; the pulse
sender's client retries nothing, because the sender retries its own calls through the pace all
its workers share. Replies through a request's `response_url` (Bolt's `respond`) follow the
same policy as the Web API calls. Also what keeps requests independent of Slack's moods: the
bot's identity learnt after the ack (`BotIdentity`), and message updates kept in the order
they were asked for (`MessageUpdates`)."""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.client import HTTPException
from typing import Any

from slack_bolt import BoltContext, Respond
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.webhook import WebhookClient, WebhookResponse

from bot.runtime.settings import Settings

log = logging.getLogger(__name__)


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


class RetryingRespond(Respond):
    """Bolt's `respond` (a reply through the request's `response_url`), sent with the retry
    policy of `retry_handlers()`.

    Bolt's own posts through a webhook client that retries only a dropped connection, so a
    429 or a 5xx from Slack would lose the reply: a `/pilot-status` answered with nothing, an
    apology that never shows. The app's request handling puts this one in Bolt's place.
    """

    def __call__(  # type: ignore[override]
        self,
        text: str = "",
        blocks: Sequence[dict[str, Any]] | None = None,
        attachments: Sequence[dict[str, Any]] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> WebhookResponse:
        if self.response_url is None:
            raise ValueError("respond is unsupported here as there is no response_url")
        message = {
            "text": text,
            "blocks": blocks,
            "attachments": attachments,
            "response_type": response_type,
            "replace_original": replace_original,
            "delete_original": delete_original,
            "unfurl_links": unfurl_links,
            "unfurl_media": unfurl_media,
            "thread_ts": thread_ts,
            "metadata": metadata,
        }
        client = WebhookClient(
            url=self.response_url,
            proxy=self.proxy,
            ssl=self.ssl,
            retry_handlers=retry_handlers(),
        )
        return client.send_dict({key: value for key, value in message.items() if value is not None})


@dataclass
class _Line:
    newest: int = 0
    asked_at: float = 0.0
    turn: threading.Lock = field(default_factory=threading.Lock)


class MessageUpdates:
    """Updates of the bot's own messages, in the order they were asked for.

    An update can wait seconds for Slack (a 429's Retry-After, a retry after a 5xx) while a
    newer one of the same message is asked for: the thank-you after the modal is sent must not
    be overwritten by the "Got it" of the click before it. So each update takes a ticket when
    it is asked for (as the request comes in), one message's updates go out one at a time, and
    an update that is no longer the newest asked for is dropped: the newer one shows the
    message as it is now. Kept in memory, per process, for `KEEP` seconds.
    """

    KEEP = 600.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Oldest asked first, so that what is past `KEEP` is forgotten from the front.
        self._lines: OrderedDict[tuple[str, str], _Line] = OrderedDict()
        self._tickets = itertools.count(1)

    def ticket(self, channel: str | None, ts: str | None) -> int:
        """A place in line for an update of the message `channel`/`ts`, taken when asked."""
        with self._lock:
            number = next(self._tickets)
            if channel and ts:
                now = time.monotonic()
                while self._lines and now - next(iter(self._lines.values())).asked_at > self.KEEP:
                    self._lines.popitem(last=False)
                line = self._lines.setdefault((channel, ts), _Line())
                line.newest, line.asked_at = number, now
                self._lines.move_to_end((channel, ts))
            return number

    def send(
        self, client: WebClient, channel: str, ts: str, ticket: int, text: str, blocks: list
    ) -> bool:
        """`chat.update`, unless a newer update of the message was asked for; True if sent."""
        with self._lock:
            line = self._lines.get((channel, ts)) or _Line(newest=ticket)
        with line.turn:
            if line.newest != ticket:
                return False
            client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
            return True


class BotIdentity(Authorize):
    """The bot's token and who it is, for Bolt's authorization, without asking Slack while a
    request waits for its ack.

    Given a token, Bolt asks `auth.test` on the first request it gets, and if Slack fails to
    answer it answers the request itself with a 200 and drops it: a click never stored, a
    command told to reinstall the app; its retries alone outlast Slack's three seconds.
    Nothing the app does before an ack needs the bot's ids, so every request goes on with the
    token alone, and the ids (with which Bolt skips the bot's own events) are learnt from
    `auth.test` after the ack, through `learn`, and used once known.
    """

    # Seconds before Slack is asked again, while the ids are still unknown.
    ASK_EVERY = 10.0

    def __init__(self, client: WebClient, learn: Callable[[Callable[[], None]], Any]) -> None:
        super().__init__()
        self.client = client
        self._learn = learn
        self._lock = threading.Lock()
        self._known: dict[str, Any] | None = None
        self._asked_at = -self.ASK_EVERY

    def __call__(
        self,
        *,
        context: BoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        actor_enterprise_id: str | None = None,
        actor_team_id: str | None = None,
        actor_user_id: str | None = None,
    ) -> AuthorizeResult:
        """The token, and the bot's ids when they are known."""
        with self._lock:
            known = self._known
            ask = known is None and time.monotonic() - self._asked_at >= self.ASK_EVERY
            if ask:
                self._asked_at = time.monotonic()
        if ask:
            with contextlib.suppress(RuntimeError):  # shutting down: no more work is taken
                self._learn(self._ask)
        known = known or {}
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_token=self.client.token,
            bot_user_id=known.get("user_id"),
            bot_id=known.get("bot_id"),
            bot_scopes=known.get("scopes"),
            user_id=user_id,
        )

    def _ask(self) -> None:
        try:
            answer = self.client.auth_test()
            known = {
                "user_id": answer.get("user_id"),
                "bot_id": answer.get("bot_id"),
                "scopes": answer.headers.get("x-oauth-scopes"),
            }
        except (SlackApiError, OSError, HTTPException) as exc:
            log.warning("could not learn who the bot is from auth.test: %s", exc)
            return
        with self._lock:
            self._known = known
