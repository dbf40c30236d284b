"""A local, in-process stand-in for the Slack Web API (and Socket Mode).

The test-suite points the real Bolt app and the real ``slack_sdk.WebClient`` at it with
``WebClient(base_url=standin.url)``, and ``pilot-pulse demo`` runs the whole app offline against
it. It therefore has to accept requests exactly the way slack_sdk 3.x sends them:

* every Web API call is an HTTP ``POST`` (slack_sdk ignores ``http_verb`` and always POSTs);
  the token travels in ``Authorization: Bearer ...``;
* methods that carry blocks or views (``chat.postMessage``, ``chat.update``,
  ``chat.postEphemeral``, ``views.*``) arrive as a JSON body with ``blocks``/``view`` as real
  JSON values, while everything else (``users.info``, ``conversations.members``,
  ``files.getUploadURLExternal``, ``files.completeUploadExternal`` ...) arrives as a
  form-encoded body, where structured fields such as ``files`` are JSON-encoded strings;
* ``files_upload_v2`` calls ``files.getUploadURLExternal``, POSTs the raw bytes (no auth
  header) to the returned ``upload_url``, then calls ``files.completeUploadExternal`` - it does
  not call ``files.info``;
* the builtin Socket Mode client calls ``apps.connections.open`` with the app-level token and
  speaks plain ``ws://`` to any port other than 443;
* a file's ``url_private``/``url_private_download`` is fetched with a plain ``GET`` carrying
  ``Authorization: Bearer <bot token>``; without a valid token that has ``files:read``, Slack
  answers HTTP 200 with an HTML sign-in page, not an error, and so does the stand-in.

Answers mimic Slack's shapes and error codes closely enough that code which works here has a
good chance of working against slack.com, and code that makes the classic mistakes (posting to
a channel the bot is not in, DMing a bot, forgetting pagination, ignoring 429s) fails here too.

Only the standard library is needed to import this module; ``websockets`` is imported lazily
when Socket Mode is first used.

Run ``python -m bot.devkit.slack_standin --help`` for a foreground server (used by benchmarks).
"""

from __future__ import annotations

import argparse
import base64
import email.parser
import email.policy
import json
import logging
import math
import mimetypes
import re
import secrets
import signal
import sys
import threading
import time
import traceback
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["Call", "SlackStandIn", "main"]

logger = logging.getLogger(__name__)

# Params that Slack accepts as JSON-encoded strings in form bodies (slack_sdk sends ``files`` this
# way); they are decoded so tests can assert on Python objects. The value is the error Slack
# answers when the string is not valid JSON.
_JSON_FIELDS: dict[str, str] = {
    "blocks": "invalid_blocks_format",
    "attachments": "invalid_attachments",
    "view": "invalid_arguments",
    "files": "invalid_arguments",
    "metadata": "invalid_metadata_format",
}

# Slack's documented limits; enforcing them here catches payloads slack.com would reject.
_MAX_TEXT = 40_000
_MAX_MESSAGE_BLOCKS = 50
_MAX_VIEW_BLOCKS = 100
_MAX_SECTION_TEXT = 3_000
_MAX_HEADER_TEXT = 150
_MAX_MODAL_TITLE = 24

_TZ_LABELS = {
    "GMT": "Greenwich Mean Time",
    "BST": "British Summer Time",
    "UTC": "Coordinated Universal Time",
    "CET": "Central European Time",
    "CEST": "Central European Summer Time",
    "EET": "Eastern European Time",
    "EEST": "Eastern European Summer Time",
    "EST": "Eastern Standard Time",
    "EDT": "Eastern Daylight Time",
    "CST": "Central Standard Time",
    "CDT": "Central Daylight Time",
    "MST": "Mountain Standard Time",
    "MDT": "Mountain Daylight Time",
    "PST": "Pacific Standard Time",
    "PDT": "Pacific Daylight Time",
    "IST": "India Standard Time",
    "JST": "Japan Standard Time",
    "AEST": "Australian Eastern Standard Time",
    "AEDT": "Australian Eastern Daylight Time",
}

# Generated benchmark users are spread over a few zones so schedule-by-local-time code has work.
_BENCH_ZONES = ("Europe/London", "America/New_York", "Europe/Berlin", "Asia/Tokyo")

# The bot scopes manifest.json asks for (oauth_config.scopes.bot), all granted by default, as
# in a workspace that installed the app from its manifest. The manifest is outside the package
# (and this module needs only the standard library), so the list is kept here too;
# tests/test_slack_standin.py keeps the two the same.
_SCOPES = (
    "chat:write,commands,im:write,im:history,im:read,users:read,channels:read,groups:read,"
    "files:write,usergroups:read,users:read.email,files:read"
)

# Scopes checked per method. Only methods added after the app's first release are listed: a
# workspace that installed the app before then lacks their scope until it reinstalls, so tests
# must be able to see Slack's missing_scope answer (by removing the scope from ``scopes``).
# Two scopes also act outside this table, as on Slack: without ``files:read`` file downloads
# get the sign-in page, and without ``users:read.email`` user objects carry no profile.email.
_METHOD_SCOPES: dict[str, str] = {
    "usergroups.list": "usergroups:read",
    "usergroups.users.list": "usergroups:read",
    "users.lookupByEmail": "users:read.email",
    "files.info": "files:read",
    "files.delete": "files:write",
}

# Slack's filetype -> (pretty_type, mimetype) for the kinds the app sends or receives, and the
# filetype Slack picks per file-name extension. Other textual files become "text", the rest
# "binary", as Slack labels them.
_FILETYPES: dict[str, tuple[str, str]] = {
    "csv": ("CSV", "text/csv"),
    "tsv": ("TSV", "text/tab-separated-values"),
    "json": ("JSON", "application/json"),
    "text": ("Plain Text", "text/plain"),
    "png": ("PNG", "image/png"),
    "jpg": ("JPEG", "image/jpeg"),
    "gif": ("GIF", "image/gif"),
    "pdf": ("PDF", "application/pdf"),
    "xlsx": (
        "Excel Spreadsheet",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "zip": ("Zip", "application/zip"),
    "gzip": ("GZip", "application/gzip"),
    "binary": ("Binary", "application/octet-stream"),
}
_EXTENSION_FILETYPES = {
    "csv": "csv",
    "tsv": "tsv",
    "json": "json",
    "txt": "text",
    "png": "png",
    "jpg": "jpg",
    "jpeg": "jpg",
    "gif": "gif",
    "pdf": "pdf",
    "xlsx": "xlsx",
    "zip": "zip",
    "gz": "gzip",
}

# What files.slack.com answers a file URL fetched without a usable token: HTTP 200 and a page
# asking to sign in. Apps that save it as the file get HTML where they expected CSV.
_SIGN_IN_PAGE = """<!DOCTYPE html>
<html lang="en-US">
<head><meta charset="utf-8"><title>Slack</title></head>
<body>
<h1>Sign in to {team_name}</h1>
<p><a href="{workspace_url}?redir={redir}">Continue in your browser</a></p>
</body>
</html>
"""


@dataclass
class Call:
    """One request the stand-in received, as recorded in :attr:`SlackStandIn.calls`."""

    # "chat.postMessage"; "upload" for upload-URL posts; "response_url" for those;
    # "files.download" for GETs of a file's url_private / url_private_download
    method: str
    params: dict  # query + form + JSON body merged, JSON-string fields decoded, token removed
    headers: dict  # lower-cased header names
    at: float  # time.monotonic() when received
    status: int  # HTTP status answered
    response: dict | None  # JSON answered (None for non-JSON answers)
    path: str = ""  # request path; tells response_url keys apart
    late: float = 0.0  # seconds the answer was held back by flaky(stall=...)


class _SlackError(Exception):
    """Raised by method handlers; becomes HTTP 200 ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass
class _Answer:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    json: dict | None = None


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    remaining: int


@dataclass
class _Flaky:
    every: int
    status: int | None
    retry_after: int | None
    stall: float
    seen: int = 0


@dataclass
class _InjectedError:
    error: str
    remaining: int
    when: Callable[[dict], bool] | None


def _json_answer(status: int, obj: dict, headers: dict[str, str] | None = None) -> _Answer:
    body = json.dumps(obj).encode("utf-8")
    return _Answer(status, body, "application/json; charset=utf-8", headers or {}, obj)


def _text_answer(status: int, text: str, headers: dict[str, str] | None = None) -> _Answer:
    return _Answer(status, text.encode("utf-8"), "text/plain; charset=utf-8", headers or {})


def _invalid_arguments(*messages: str) -> _SlackError:
    return _SlackError("invalid_arguments", response_metadata={"messages": list(messages)})


def _truthy(value: Any) -> bool:
    # Form bodies carry booleans as "1"/"0" (slack_sdk converts them) or "true"/"false".
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def _int_param(params: dict, name: str, default: int, error: str = "invalid_limit") -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _SlackError(error) from None


def _encode_cursor(key: str) -> str:
    # Slack cursors look like base64("user:U0G9WFXNZ"); clients must treat them as opaque.
    return base64.b64encode(f"next:{key}".encode()).decode("ascii")


def _decode_cursor(cursor: str) -> str:
    try:
        text = base64.b64decode(cursor.encode("ascii"), validate=True).decode("utf-8")
    except (ValueError, UnicodeError):
        raise _SlackError("invalid_cursor") from None
    if not text.startswith("next:"):
        raise _SlackError("invalid_cursor")
    return text[len("next:") :]


def _paginate(
    items: list,
    params: dict,
    *,
    default_limit: int,
    max_limit: int,
    key: Callable[[Any], str] = str,
) -> tuple[list, str]:
    """Slice ``items`` the way Slack's cursor pagination does; returns (page, next_cursor)."""
    limit = _int_param(params, "limit", default_limit)
    if limit <= 0:
        limit = default_limit
    limit = min(limit, max_limit)
    start = 0
    cursor = params.get("cursor") or ""
    if cursor:
        wanted = _decode_cursor(str(cursor))
        for index, item in enumerate(items):
            if key(item) == wanted:
                start = index
                break
        else:
            raise _SlackError("invalid_cursor")
    page = items[start : start + limit]
    following = start + limit
    next_cursor = _encode_cursor(key(items[following])) if following < len(items) else ""
    return page, next_cursor


def _tz_info(tz: str) -> tuple[int, str]:
    try:
        now = datetime.now(ZoneInfo(tz))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz!r}") from exc
    offset = now.utcoffset()
    abbreviation = now.tzname() or tz
    return int(offset.total_seconds()) if offset else 0, _TZ_LABELS.get(abbreviation, abbreviation)


def _file_kind(filename: str, content: bytes, filetype: str | None) -> tuple[str, str, str]:
    """(filetype, pretty_type, mimetype) the way Slack labels an uploaded file."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    guessed = _EXTENSION_FILETYPES.get(extension)
    mimetype = _FILETYPES[guessed][1] if guessed else mimetypes.guess_type(filename)[0]
    if guessed is None:
        try:
            content.decode("utf-8")
            textual = b"\x00" not in content
        except UnicodeDecodeError:
            textual = False
        guessed = "text" if textual else "binary"
        mimetype = mimetype or _FILETYPES[guessed][1]
    kind = filetype or guessed
    pretty = _FILETYPES[kind][0] if kind in _FILETYPES else kind.upper()
    return kind, pretty, mimetype or _FILETYPES["binary"][1]


def _parse_multipart(body: bytes, content_type: str) -> dict:
    # Only the retired files.upload (v1) sends multipart; parse it anyway so such calls are
    # recorded with their params instead of looking empty.
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    params: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        if part.get_filename():
            params[name] = payload
        else:
            params[name] = payload.decode(part.get_content_charset() or "utf-8")
    return params


def _parse_params(query: str, body: bytes, content_type: str) -> tuple[dict, _SlackError | None]:
    """Merge query, form/JSON/multipart body; returns (params, error to answer with, if any)."""
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    mime = content_type.split(";", 1)[0].strip().lower()
    if body:
        if mime == "application/json":
            try:
                obj = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                return params, _SlackError("invalid_json")
            if not isinstance(obj, dict):
                return params, _SlackError("invalid_json")
            params.update(obj)
        elif mime == "multipart/form-data":
            params.update(_parse_multipart(body, content_type))
        else:
            try:
                params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            except UnicodeDecodeError:
                return params, _SlackError("invalid_form_data")
    problem: _SlackError | None = None
    for name, error in _JSON_FIELDS.items():
        value = params.get(name)
        if isinstance(value, str) and value.strip():
            try:
                params[name] = json.loads(value)
            except ValueError:
                problem = problem or _SlackError(error)
    return params, problem


def _block_errors(blocks: Any, limit: int, pointer: str) -> list[str]:
    """Return Slack-style error strings for block payloads slack.com would refuse."""
    if not isinstance(blocks, list):
        return [f"[ERROR] must be an array [json-pointer:{pointer}]"]
    errors = []
    if len(blocks) > limit:
        errors.append(f"[ERROR] no more than {limit} items allowed [json-pointer:{pointer}]")
    seen_ids: set[str] = set()
    for index, block in enumerate(blocks):
        where = f"{pointer}/{index}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            errors.append(f"[ERROR] missing required field: type [json-pointer:{where}]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if block_id in seen_ids:
                errors.append(f"[ERROR] duplicate block_id [json-pointer:{where}/block_id]")
            seen_ids.add(block_id)
        text = block.get("text")
        text_value = text.get("text", "") if isinstance(text, dict) else ""
        if block["type"] == "section" and len(text_value) > _MAX_SECTION_TEXT:
            errors.append(
                f"[ERROR] must be less than {_MAX_SECTION_TEXT + 1} characters "
                f"[json-pointer:{where}/text/text]"
            )
        if block["type"] == "header" and len(text_value) > _MAX_HEADER_TEXT:
            errors.append(
                f"[ERROR] must be less than {_MAX_HEADER_TEXT + 1} characters "
                f"[json-pointer:{where}/text/text]"
            )
    return errors


class _RequestHandler(BaseHTTPRequestHandler):
    """Hands every request to the owning :class:`SlackStandIn` (set on a per-server subclass)."""

    standin: SlackStandIn
    # HTTP/1.1 so keep-alive clients (httpx, requests) reuse connections in benchmarks; urllib
    # sends "Connection: close" and is unaffected.
    protocol_version = "HTTP/1.1"
    server_version = "SlackStandIn/1.0"
    # Idle keep-alive connections are dropped after this many seconds.
    timeout = 30
    # Headers and body go out in separate writes; with Nagle on, keep-alive clients wait for a
    # delayed ACK (~40 ms) on every request.
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        self.standin._serve(self)

    def do_GET(self) -> None:
        self.standin._serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        # Per-request access logs would drown test output and the demo's stdout.
        logger.debug("%s - %s", self.address_string(), format % args)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 makes bursty benchmark clients hit SYN retries (1 s stalls).
    request_queue_size = 256


class SlackStandIn:
    """A local stand-in for the Slack Web API, upload URLs, response_urls and Socket Mode.

    Typical use::

        with SlackStandIn() as slack:
            slack.add_user("U1", real_name="Ada")
            client = WebClient(base_url=slack.url, token=slack.bot_token)
            client.chat_postMessage(channel="U1", text="hi")
            assert slack.messages["D1"][0]["text"] == "hi"

    Workspace state (``users``, ``channels``, ``usergroups``) and what the app produced
    (``messages``, ``ephemerals``, ``views``, ``home_views``, ``uploads``, ``responses``) are plain
    dicts and lists; read them freely, and mutate them only between requests. Conversation rules
    follow Slack: the bot is listed by ``conversations.members`` of the channels it belongs to,
    user ids passed as ``channel`` mean the app's DM with that user (``"D" + user_id[1:]``), and a
    private channel the bot is not in looks like it does not exist.

    ``scopes`` lists the bot token's scopes, by default those manifest.json asks for (sent as
    ``X-OAuth-Scopes`` with every successful answer, ``auth.test``'s included); remove one, e.g.
    ``"usergroups:read"``, and the methods needing it answer ``missing_scope`` as Slack does.
    Without ``"users:read.email"`` user objects come without ``profile.email``, and without
    ``"files:read"`` file URLs answer the HTML sign-in page.

    :meth:`share_file_in_dm` plays a person uploading a file into their DM with the app; its
    bytes (like those of files the app uploaded) are served at the file's ``url_private`` and
    ``url_private_download``, and each such GET is recorded as ``Call(method="files.download")``.

    Every answer (API methods, upload URLs, response_urls) is delayed by ``latency`` seconds; a
    call is recorded in ``calls`` just before its answer is written, so ``wait_for`` returning
    means the answer is on its way.
    """

    def __init__(
        self,
        *,
        latency: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_token: str = "xoxb-standin-token",
        app_token: str = "xapp-standin-token",
        team_id: str = "T0STANDIN",
        team_name: str = "Stand-in Workspace",
        bot_user_id: str = "U0PULSEBOT",
        bot_id: str = "B0PULSEBOT",
        record_calls: bool = True,
    ) -> None:
        self.latency = latency
        self.host = host
        self.port = port
        self.bot_token = bot_token
        self.app_token = app_token
        self.team_id = team_id
        self.team_name = team_name
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = "A0PULSEAPP"
        self.record_calls = record_calls
        domain = re.sub(r"[^a-z0-9]+", "-", team_name.lower()).strip("-") or "standin"
        self.team_domain = domain
        self.workspace_url = f"https://{domain}.slack.com/"

        # One re-entrant lock guards all state; the Condition on it wakes wait_for() and
        # socket_send() without polling.
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)

        self.users: dict[str, dict] = {}
        self.channels: dict[str, dict] = {}
        self.usergroups: dict[str, dict] = {}
        self.scopes: list[str] = _SCOPES.split(",")
        self.calls: list[Call] = []
        self.messages: dict[str, list[dict]] = {}
        self.ephemerals: list[dict] = []
        self.views: dict[str, dict] = {}
        self.home_views: dict[str, dict] = {}
        self.uploads: dict[str, dict] = {}
        self.responses: list[dict] = []

        self._sent: Counter[str] = Counter()
        self._failures: dict[str, list[_Failure]] = {}
        self._flaky: dict[str, _Flaky] = {}
        # Stalls decided for the request each handler thread is answering (thread id -> s).
        self._stalls: dict[int, float] = {}
        self._errors: dict[str, list[_InjectedError]] = {}
        self._limits: dict[str, int] = {}
        self._windows: dict[str, deque[float]] = {}
        self._last_ts_us = 0
        self._ids = 0
        self._pending_uploads: dict[str, dict] = {}
        self._files: dict[str, dict] = {}  # file id -> the file object files.info answers
        self._file_bytes: dict[str, bytes] = {}  # file id -> content served at its URLs
        self._deleted_files: set[str] = set()
        self._opened_dms: set[str] = set()
        # trigger_id -> when it was issued (monotonic); views.open refuses it after trigger_ttl
        self._triggers: dict[str, float] = {}
        self.trigger_ttl = 3.0

        self._httpd: _HTTPServer | None = None
        self._http_thread: threading.Thread | None = None
        self._stopping = False

        self._ws_lock = threading.Lock()
        self._ws_server: Any = None
        self._ws_thread: threading.Thread | None = None
        self._ws_port = 0
        self._ws_conns: list[Any] = []
        self._acks: dict[str, dict] = {}
        self._tickets: set[str] = set()

        self._methods: dict[str, Callable[[dict], dict]] = {
            "api.test": self._api_test,
            "auth.test": self._auth_test,
            "apps.connections.open": self._apps_connections_open,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "users.lookupByEmail": self._users_lookup_by_email,
            "usergroups.list": self._usergroups_list,
            "usergroups.users.list": self._usergroups_users_list,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "conversations.list": self._conversations_list,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "files.info": self._files_info,
            "files.delete": self._files_delete,
            "files.upload": self._files_upload_v1,
        }

        bot = self.add_user(
            bot_user_id,
            name="pilot_pulse",
            real_name="Pilot Pulse",
            tz="America/Los_Angeles",
            is_bot=True,
        )
        bot["profile"]["bot_id"] = bot_id
        bot["profile"]["always_active"] = True

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """Base URL for ``WebClient(base_url=...)`` / ``SLACK_API_URL`` (with trailing slash)."""
        return f"{self._base()}/api/"

    def _base(self) -> str:
        if self._httpd is None:
            raise RuntimeError("SlackStandIn is not started; call start() or use it as a context")
        return f"http://{self.host}:{self.port}"

    def start(self) -> SlackStandIn:
        """Bind (``port=0`` picks a free port) and serve from a daemon thread; returns self."""
        if self._httpd is not None:
            raise RuntimeError("SlackStandIn already started")
        handler = type("_BoundRequestHandler", (_RequestHandler,), {"standin": self})
        self._httpd = _HTTPServer((self.host, self.port), handler)
        self.port = self._httpd.server_address[1]
        self._stopping = False
        self._http_thread = threading.Thread(
            target=self._httpd.serve_forever,
            # stop() waits up to one poll interval; tests start and stop a stand-in per test.
            kwargs={"poll_interval": 0.02},
            name=f"slack-standin-http-{self.port}",
            daemon=True,
        )
        self._http_thread.start()
        return self

    def stop(self) -> None:
        """Close Socket Mode connections and both servers. Idempotent."""
        self._stopping = True
        with self._ws_lock:
            ws_server, self._ws_server = self._ws_server, None
            ws_thread, self._ws_thread = self._ws_thread, None
        if ws_server is not None:
            # Sends close 1001 to clients and waits for the per-connection handler threads.
            ws_server.shutdown()
        if ws_thread is not None:
            ws_thread.join(timeout=5)
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._http_thread is not None:
            self._http_thread.join(timeout=5)
            self._http_thread = None
        with self._cond:
            self._cond.notify_all()

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ workspace state

    def add_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        real_name: str | None = None,
        display_name: str | None = None,
        tz: str = "Europe/London",
        is_bot: bool = False,
        deleted: bool = False,
        is_app_user: bool = False,
        email: str | None = None,
    ) -> dict:
        """Add (or replace) a workspace member; returns the Slack user object stored.

        ``tz`` must be an IANA zone name (ValueError otherwise); ``tz_offset``/``tz_label`` are
        computed for the current date, as Slack does.
        """
        name = name or user_id.lower()
        real_name = real_name if real_name is not None else name
        # Slack leaves display_name empty unless the person set one; apps must fall back.
        display_name = display_name or ""
        tz_offset, tz_label = _tz_info(tz)
        if email is None and not is_bot:
            email = f"{name}@{self.team_domain}.example.com"
        first, _, last = real_name.partition(" ")
        profile: dict[str, Any] = {
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": display_name,
            "display_name_normalized": display_name,
            "first_name": first,
            "last_name": last,
            "title": "",
            "status_text": "",
            "status_emoji": "",
            "avatar_hash": secrets.token_hex(6),
            "image_48": f"https://avatars.example.com/{user_id}_48.png",
            "image_72": f"https://avatars.example.com/{user_id}_72.png",
            "image_192": f"https://avatars.example.com/{user_id}_192.png",
            "team": self.team_id,
        }
        if email:
            profile["email"] = email
        user = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "deleted": deleted,
            "color": "9f69e7",
            "real_name": real_name,
            "tz": tz,
            "tz_label": tz_label,
            "tz_offset": tz_offset,
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": is_bot,
            "is_app_user": is_app_user,
            "updated": int(time.time()),
            "is_email_confirmed": not is_bot,
        }
        with self._lock:
            self.users[user_id] = user
        return user

    def add_channel(
        self,
        channel_id: str,
        *,
        name: str,
        members: Iterable[str] = (),
        bot_is_member: bool = True,
        is_archived: bool = False,
        is_private: bool = False,
    ) -> dict:
        """Add (or replace) a channel; returns the stored channel object.

        ``members`` lists the people; when ``bot_is_member`` the bot user is added to the answer
        of ``conversations.members`` too, as Slack does. ``channel["members"]`` and
        ``channel["is_member"]`` may be changed later to move people or the bot in and out.
        """
        channel = {
            "id": channel_id,
            "name": name,
            "name_normalized": name,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": is_private,
            "is_archived": is_archived,
            "is_general": name == "general",
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": bot_is_member,
            "created": int(time.time()),
            "creator": "",
            "context_team_id": self.team_id,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "members": list(members),
        }
        with self._lock:
            self.channels[channel_id] = channel
        return channel

    def add_usergroup(
        self,
        group_id: str,
        *,
        handle: str,
        name: str | None = None,
        users: Iterable[str] = (),
        disabled: bool = False,
        description: str = "",
    ) -> dict:
        """Add (or replace) a user group; returns the stored usergroup object.

        ``group_id`` must look like Slack's (``"S…"``) and ``handle`` (the ``@mention``) be
        unique among groups, else ValueError; ``name`` defaults to the handle. The stored object
        always holds ``users``; answers show them only when asked (``include_users``) and count
        them (``user_count``) only with ``include_count``, as Slack does.
        ``group["users"]`` may be changed later to move people in and out, and
        ``group["date_delete"]`` set to a timestamp (or 0) to disable (or re-enable) the group.
        """
        if not group_id.startswith("S"):
            raise ValueError(f"user group ids start with 'S' (like S0614TZR7), got {group_id!r}")
        now = int(time.time())
        group: dict[str, Any] = {
            "id": group_id,
            "team_id": self.team_id,
            "is_usergroup": True,
            "is_subteam": True,
            "name": name if name is not None else handle,
            "description": description,
            "handle": handle,
            "is_external": False,
            "date_create": now,
            "date_update": now,
            # Slack marks a disabled group only by a non-zero date_delete.
            "date_delete": now if disabled else 0,
            "auto_type": None,
            "auto_provision": False,
            "enterprise_subteam_id": "",
            "created_by": "USLACKBOT",
            "updated_by": "USLACKBOT",
            "deleted_by": "USLACKBOT" if disabled else None,
            "prefs": {"channels": [], "groups": []},
            "users": list(users),
        }
        with self._lock:
            for other in self.usergroups.values():
                if other["handle"] == handle and other["id"] != group_id:
                    raise ValueError(f"handle {handle!r} is already used by {other['id']}")
            self.usergroups[group_id] = group
        return group

    # ------------------------------------------------------------------ fault injection

    def fail(
        self, method: str, *, status: int = 429, retry_after: int | None = None, times: int = 1
    ) -> None:
        """Answer the next ``times`` calls to ``method`` with HTTP ``status``.

        429 answers carry ``Retry-After`` (default 1) and ``{"ok": false, "error": "ratelimited"}``;
        other statuses get a plain-text body, like Slack's edge does. ``method`` may also be
        ``"upload"``, ``"response_url"`` or ``"files.download"`` (GETs of file URLs).
        """
        if status < 400:
            raise ValueError("fail() is for HTTP error statuses (>= 400)")
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._failures.setdefault(method, []).append(_Failure(status, retry_after, times))

    def flaky(
        self,
        method: str,
        every: int | None,
        *,
        status: int | None = 429,
        retry_after: int | None = None,
        stall: float = 0.0,
    ) -> None:
        """From now on, answer every ``every``-th call to ``method`` (the 3rd, 6th, 9th... for
        ``every=3``: a third of them) badly, until ``flaky(method, None)``.

        With ``status``, such a call is answered with that HTTP status and does nothing, as
        :meth:`fail` does. With ``status=None`` and ``stall`` seconds, it does take effect (a
        message is posted, a modal opens) but its answer comes ``stall`` seconds late, after a
        client with a shorter timeout has given up: the answer is lost, not the request. Such
        calls are recorded with ``late=stall``. ``method`` may be any name :meth:`fail` takes.
        """
        with self._lock:
            if every is None:
                self._flaky.pop(method, None)
                return
            if every < 1:
                raise ValueError("every must be at least 1")
            if status is None and stall <= 0:
                raise ValueError("give a status to answer with, or a stall in seconds")
            if status is not None and status < 400:
                raise ValueError("flaky() is for HTTP error statuses (>= 400)")
            self._flaky[method] = _Flaky(every, status, retry_after, stall)

    def error(
        self,
        method: str,
        error: str,
        *,
        times: int = 1,
        when: Callable[[dict], bool] | None = None,
    ) -> None:
        """Answer the next ``times`` calls to ``method`` whose params satisfy ``when`` with
        HTTP 200 ``{"ok": false, "error": error}`` (after authentication succeeded)."""
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._errors.setdefault(method, []).append(_InjectedError(error, times, when))

    def rate_limit(self, method: str, per_second: int | None) -> None:
        """Allow at most ``per_second`` calls to ``method`` in any sliding 1 s window; ``None``
        removes the limit. Refused calls get 429 and do not use up the window."""
        with self._lock:
            if per_second is None:
                self._limits.pop(method, None)
                self._windows.pop(method, None)
            else:
                if per_second < 1:
                    raise ValueError("per_second must be at least 1")
                self._limits[method] = per_second

    # ------------------------------------------------------------------ recording

    def calls_to(self, method: str) -> list[Call]:
        """Recorded calls to ``method``, oldest first."""
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def wait_for(
        self,
        method: str,
        count: int = 1,
        *,
        timeout: float = 5.0,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Block until at least ``count`` calls to ``method`` (matching ``where``) have been
        recorded and return all such calls; raise AssertionError after ``timeout`` seconds."""
        if not self.record_calls:
            raise AssertionError("wait_for() needs record_calls=True; use sent_count() instead")

        def matching() -> list[Call]:
            return [
                call
                for call in self.calls
                if call.method == method and (where is None or where(call))
            ]

        deadline = time.monotonic() + timeout
        with self._cond:
            found = matching()
            while len(found) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = Counter(call.method for call in self.calls)
                    summary = ", ".join(f"{name} x{n}" for name, n in sorted(seen.items()))
                    raise AssertionError(
                        f"timed out after {timeout:g}s waiting for {count} call(s) to "
                        f"{method!r}{' matching where=' if where else ''}: saw {len(found)} "
                        f"(all recorded calls: {summary or 'none'})"
                    )
                self._cond.wait(remaining)
                found = matching()
            return found

    def clear(self) -> None:
        """Forget recorded traffic: calls, responses, ephemerals and sent_count() counters.

        Workspace state (users, channels, user groups) and what lives in it (messages, views,
        home views, uploaded files) stays, so later chat.update/views.update calls still find
        their targets.
        """
        with self._lock:
            self.calls.clear()
            self.responses.clear()
            self.ephemerals.clear()
            self._sent.clear()

    def sent_count(self, method: str) -> int:
        """Number of successful answers to ``method`` (counted even with record_calls=False)."""
        with self._lock:
            return self._sent[method]

    def response_url(self, key: str = "") -> str:
        """A URL on this server to use as a payload's ``response_url``; JSON posted to it is
        recorded as ``Call(method="response_url")`` and appended to ``responses``."""
        key = key or secrets.token_hex(8)
        return f"{self._base()}/response/{self.team_id}/{quote(key, safe='')}"

    # ------------------------------------------------------------------ payload helpers

    def new_trigger_id(self) -> str:
        """A trigger_id shaped like Slack's, for hand-built interaction payloads. Like Slack's,
        it expires `trigger_ttl` seconds after it was issued (3 by default)."""
        trigger = f"{secrets.randbelow(10**12)}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"
        self._triggers[trigger] = time.monotonic()
        return trigger

    def slash_command_payload(
        self,
        command: str,
        text: str = "",
        *,
        user_id: str,
        channel_id: str,
        response_url_key: str = "",
    ) -> dict:
        """The payload Slack delivers for a slash command (form fields as a dict)."""
        user = self.users.get(user_id, {})
        channel = self.channels.get(channel_id, {})
        return {
            "token": "standin-verification-token",
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": channel.get("name", "directmessage"),
            "user_id": user_id,
            "user_name": user.get("name", user_id.lower()),
            "command": command,
            "text": text,
            "api_app_id": self.app_id,
            "is_enterprise_install": "false",
            "response_url": self.response_url(response_url_key),
            "trigger_id": self.new_trigger_id(),
        }

    def event_payload(self, event: dict) -> dict:
        """Wrap an event (e.g. ``{"type": "app_home_opened", "user": "U1"}``) the way the
        Events API does, for ``socket_send("events_api", ...)``."""
        event = dict(event)
        event.setdefault("event_ts", self._next_ts())
        return {
            "token": "standin-verification-token",
            "team_id": self.team_id,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{secrets.token_hex(5).upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }

    def member_joined_channel_event(
        self, user: str, channel: str, *, inviter: str | None = None
    ) -> dict:
        """The ``member_joined_channel`` event for ``user`` joining ``channel`` (``inviter`` when
        someone added them), to wrap with :meth:`event_payload`. Changes nothing: see
        :meth:`join_channel`. Slack delivers it only to apps that are in the channel."""
        return self._member_event("member_joined_channel", user, channel, inviter)

    def member_left_channel_event(self, user: str, channel: str) -> dict:
        """The ``member_left_channel`` event for ``user`` leaving ``channel``, to wrap with
        :meth:`event_payload`. Changes nothing: see :meth:`leave_channel`."""
        return self._member_event("member_left_channel", user, channel, None)

    def join_channel(self, user: str, channel: str, *, inviter: str | None = None) -> dict:
        """Add ``user`` (the bot user too) to ``channel`` and return the matching
        ``member_joined_channel`` event, so ``conversations.members`` agrees with what the
        event says.

        Raises ValueError for an unknown or archived channel, or a user already in it: Slack
        sends no such event then.
        """
        with self._lock:
            stored = self._channel_to_change(channel)
            if user in self._member_ids(stored):
                raise ValueError(f"{user} is already a member of {channel}")
            if user == self.bot_user_id:
                stored["is_member"] = True
            else:
                stored["members"] = [*stored["members"], user]
        return self.member_joined_channel_event(user, channel, inviter=inviter)

    def leave_channel(self, user: str, channel: str) -> dict:
        """Remove ``user`` (the bot user too) from ``channel`` and return the matching
        ``member_left_channel`` event. Once the bot has left a private channel, that channel
        looks like it does not exist, as on Slack.

        Raises ValueError for an unknown or archived channel, or a user not in it.
        """
        with self._lock:
            stored = self._channel_to_change(channel)
            if user not in self._member_ids(stored):
                raise ValueError(f"{user} is not a member of {channel}")
            if user == self.bot_user_id:
                stored["is_member"] = False
            stored["members"] = [member for member in stored["members"] if member != user]
        return self.member_left_channel_event(user, channel)

    def _channel_to_change(self, channel: str) -> dict:
        stored = self.channels.get(channel)
        if stored is None:
            raise ValueError(f"unknown channel {channel!r}; add it with add_channel() first")
        if stored["is_archived"]:
            raise ValueError(f"{channel} is archived; nobody joins or leaves it")
        return stored

    def _member_event(self, kind: str, user: str, channel: str, inviter: str | None) -> dict:
        event: dict[str, Any] = {
            "type": kind,
            "user": user,
            "channel": channel,
            # The id's first letter, not the privacy: Slack says "G" for private channels made
            # before March 2021 (G ids) and "C" for every channel made since, private or not.
            "channel_type": "G" if channel.startswith("G") else "C",
            # The workspace the user belongs to (another one for Slack Connect members).
            "team": self.users.get(user, {}).get("team_id", self.team_id),
        }
        if inviter is not None:
            event["inviter"] = inviter  # Slack leaves it out when people joined by themselves
        event["event_ts"] = self._next_ts()
        return event

    def share_file_in_dm(
        self,
        user: str,
        filename: str,
        content: bytes,
        *,
        text: str = "",
        filetype: str | None = None,
    ) -> dict:
        """Play ``user`` uploading ``filename`` into their DM with the app, with ``text`` as the
        message (Slack allows none); returns the ``message`` event with ``subtype: "file_share"``
        that Slack sends apps subscribed to ``message.im``, to wrap with :meth:`event_payload`.

        The file is stored as ``user``'s: ``files.info`` describes it, its bytes are served at
        ``url_private``/``url_private_download`` (to the bot token, with ``files:read``) and the
        message appears in the DM's ``conversations.history``. ``filetype`` overrides the type
        Slack infers from the name (``"csv"`` for ``.csv``; ``"text"`` for other text files).

        Raises ValueError for an unknown, deactivated or bot user: none of them can do this.
        """
        data = bytes(content)
        with self._lock:
            try:
                dm = self._dm_target(user)
            except _SlackError as exc:
                raise ValueError(f"{user} cannot share a file with the app: {exc.error}") from None
            file_id = self._next_id("F")
            ts = self._next_ts()
            file_object = self._file_object(
                file_id,
                filename=filename,
                title=filename,
                content=data,
                owner=user,
                filetype=filetype,
            )
            # files.info tells where the file was shared; the event's copy does not.
            file_object["shares"] = {
                "private": {
                    dm: [
                        {
                            "reply_users": [],
                            "reply_users_count": 0,
                            "reply_count": 0,
                            "ts": ts,
                            "channel_name": "directmessage",
                            "team_id": self.team_id,
                        }
                    ]
                }
            }
            file_object["ims"] = [dm]
            self._files[file_id] = file_object
            self._file_bytes[file_id] = data
            blocks = None
            if text:
                # Slack clients send what people type as rich text alongside the plain text.
                section = {
                    "type": "rich_text_section",
                    "elements": [{"type": "text", "text": text}],
                }
                blocks = [
                    {"type": "rich_text", "block_id": secrets.token_hex(2), "elements": [section]}
                ]
            message: dict[str, Any] = {
                "type": "message",
                "subtype": "file_share",
                "ts": ts,
                "channel": dm,
                "text": text,
                "files": [self._message_file(file_object)],
                "upload": True,
                "user": user,
                "display_as_bot": False,
                "blocks": blocks,
                "client_msg_id": str(uuid.uuid4()),
            }
            self.messages.setdefault(dm, []).append(message)
            self._opened_dms.add(dm)
            event = {key: value for key, value in message.items() if value is not None}
            event["event_ts"] = ts
            event["channel_type"] = "im"
            # A copy, so that tests changing the event leave the stored message alone.
            return json.loads(json.dumps(event))

    # ------------------------------------------------------------------ Socket Mode

    def start_socket_mode(self) -> str:
        """Start the WebSocket server (idempotent); returns its ``ws://`` base URL."""
        with self._ws_lock:
            if self._ws_server is None:
                if self._stopping or self._httpd is None:
                    raise RuntimeError("SlackStandIn is not running")
                # Imported here so the HTTP stand-in needs nothing beyond the standard library.
                from websockets.sync.server import serve

                server = serve(
                    self._ws_handler,
                    self.host,
                    0,
                    compression=None,
                    process_request=self._ws_process_request,
                    close_timeout=1,
                    # Frequent pings (Slack pings too) wake the builtin client's blocking recv(),
                    # which otherwise holds its socket lock for up to 3 s and stalls close().
                    ping_interval=0.5,
                    ping_timeout=10,
                    logger=logging.getLogger(f"{__name__}.socket_mode"),
                )
                self._ws_port = server.socket.getsockname()[1]
                self._ws_thread = threading.Thread(
                    target=server.serve_forever,
                    name=f"slack-standin-ws-{self._ws_port}",
                    daemon=True,
                )
                self._ws_server = server
                self._ws_thread.start()
            return f"ws://{self.host}:{self._ws_port}/link/"

    def wait_socket_connected(self, timeout: float = 5.0) -> bool:
        """Block until a Socket Mode client is connected (and greeted with ``hello``).

        Returns True; raises AssertionError on timeout.
        """
        with self._cond:
            if not self._cond.wait_for(lambda: bool(self._ws_conns), timeout):
                raise AssertionError(f"no Socket Mode client connected within {timeout:g}s")
        return True

    def socket_send(
        self,
        envelope_type: str,
        payload: dict,
        *,
        timeout: float = 5.0,
        accepts_response_payload: bool | None = None,
    ) -> dict | None:
        """Deliver an envelope (``"slash_commands"``, ``"interactive"``, ``"events_api"``) to
        the newest connected client and wait for its ack.

        Returns the ack's ``payload`` (``{}`` when the ack had none), or None when no ack came
        within ``timeout``. Raises AssertionError when no client connects within ``timeout``.
        """
        from websockets.exceptions import ConnectionClosed

        deadline = time.monotonic() + timeout
        envelope_id = str(uuid.uuid4())
        if accepts_response_payload is None:
            # Slack lets slash commands and interactions answer through the ack.
            accepts_response_payload = envelope_type in ("slash_commands", "interactive")
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if envelope_type == "events_api":
            envelope["retry_attempt"] = 0
            envelope["retry_reason"] = ""
        self.wait_socket_connected(max(deadline - time.monotonic(), 0))
        with self._cond:
            conn = self._ws_conns[-1]
        try:
            conn.send(json.dumps(envelope))
        except ConnectionClosed as exc:
            raise AssertionError(f"Socket Mode connection closed while sending: {exc}") from exc
        with self._cond:
            arrived = self._cond.wait_for(
                lambda: envelope_id in self._acks, max(deadline - time.monotonic(), 0)
            )
            if not arrived:
                return None
            ack = self._acks.pop(envelope_id)
        return ack.get("payload") or {}

    def socket_request_disconnect(self, reason: str = "refresh_requested") -> None:
        """Send Slack's ``disconnect`` message, asking clients to reconnect elsewhere."""
        message = json.dumps(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-standin"}}
        )
        with self._cond:
            conns = list(self._ws_conns)
        for conn in conns:
            conn.send(message)

    def _ws_process_request(self, connection: Any, request: Any) -> Any:
        # Like Slack, only URLs issued by apps.connections.open are accepted.
        ticket = parse_qs(urlsplit(request.path).query).get("ticket", [""])[0]
        with self._lock:
            known = ticket in self._tickets
        if not known:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "invalid ticket\n")
        return None

    def _ws_handler(self, conn: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        hello = {
            "type": "hello",
            "num_connections": len(self._ws_conns) + 1,
            "debug_info": {
                "host": "applink-standin",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }
        try:
            conn.send(json.dumps(hello))
        except ConnectionClosed:
            return
        with self._cond:
            self._ws_conns.append(conn)
            self._cond.notify_all()
        try:
            while True:
                # websockets runs handlers in non-daemon threads: poll so that a process whose
                # main thread has finished (a test that forgot stop()) can still exit.
                if self._stopping or not threading.main_thread().is_alive():
                    conn.close(1001)
                    return
                try:
                    raw = conn.recv(timeout=0.2)
                except TimeoutError:
                    continue
                except ConnectionClosed:
                    return
                try:
                    message = json.loads(raw)
                except (TypeError, ValueError):
                    continue
                if isinstance(message, dict) and message.get("envelope_id"):
                    with self._cond:
                        self._acks[str(message["envelope_id"])] = message
                        self._cond.notify_all()
        finally:
            with self._cond:
                if conn in self._ws_conns:
                    self._ws_conns.remove(conn)
                self._cond.notify_all()

    # ------------------------------------------------------------------ HTTP plumbing

    def _serve(self, req: BaseHTTPRequestHandler) -> None:
        at = time.monotonic()
        split = urlsplit(req.path)
        headers = {name.lower(): value for name, value in req.headers.items()}
        try:
            length = int(headers.get("content-length") or 0)
        except ValueError:
            length = 0
        body = req.rfile.read(length) if length > 0 else b""
        path = split.path

        method: str | None
        params: dict
        if path.startswith("/api/"):
            method = unquote(path[len("/api/") :]).strip("/")
            params, answer = self._answer_api(method, split.query, headers, body, at)
        elif path.startswith("/upload/"):
            method = "upload"
            params, answer = self._answer_upload(path, body, at)
        elif path.startswith("/response/"):
            method = "response_url"
            params, answer = self._answer_response_url(body, headers, at)
        elif path.startswith("/files-pri/"):
            method = "files.download"
            params, answer = self._answer_file_download(path, headers, at)
        else:
            method, params = None, {}
            answer = _json_answer(404, {"ok": False, "error": "not_found"})

        with self._lock:
            late = self._stalls.pop(threading.get_ident(), 0.0)
        delay = self.latency + late
        if delay > 0:
            time.sleep(delay)
        if self._stopping:
            # A keep-alive connection opened before stop() must not keep a stopped stand-in
            # answering; refuse and hang up.
            req.close_connection = True
            method, answer = None, _text_answer(503, "stand-in stopped\n")
        if method is not None:
            self._record(Call(method, params, headers, at, answer.status, answer.json, path, late))

        try:
            req.send_response(answer.status)
            req.send_header("Content-Type", answer.content_type)
            req.send_header("Content-Length", str(len(answer.body)))
            req.send_header("X-Slack-Req-Id", secrets.token_hex(16))
            for name, value in answer.headers.items():
                req.send_header(name, value)
            req.end_headers()
            if req.command != "HEAD":
                req.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. its timeout fired); nothing left to tell it

    def _record(self, call: Call) -> None:
        with self._cond:
            succeeded = call.status == 200 and (
                (call.response is None and call.method == "upload")
                # The sign-in page is a 200 too, but not a download.
                or (call.method == "files.download" and call.params.get("authorized") is True)
                or (call.response is not None and call.response.get("ok") is True)
            )
            if succeeded:
                self._sent[call.method] += 1
            if self.record_calls:
                self.calls.append(call)
            self._cond.notify_all()

    def _injected_failure(self, method: str, at: float) -> _Answer | None:
        """fail() and flaky() injections and rate limits, answered before any parsing or auth.
        A flaky() stall is noted for `_serve`, which holds the answer back."""
        with self._lock:
            queue = self._failures.get(method)
            if queue:
                failure = queue[0]
                failure.remaining -= 1
                if failure.remaining <= 0:
                    queue.pop(0)
                return self._failure_answer(failure.status, failure.retry_after)
            flaky = self._flaky.get(method)
            if flaky is not None:
                flaky.seen += 1
                if flaky.seen % flaky.every == 0:
                    if flaky.status is not None:
                        return self._failure_answer(flaky.status, flaky.retry_after)
                    self._stalls[threading.get_ident()] = flaky.stall
            limit = self._limits.get(method)
            if limit is None:
                return None
            window = self._windows.setdefault(method, deque())
            while window and at - window[0] >= 1.0:
                window.popleft()
            if len(window) >= limit:
                retry_after = max(1, math.ceil(window[0] + 1.0 - at))
                return self._failure_answer(429, retry_after)
            window.append(at)
            return None

    @staticmethod
    def _failure_answer(status: int, retry_after: int | None) -> _Answer:
        if status == 429:
            headers = {"Retry-After": str(retry_after if retry_after is not None else 1)}
            return _json_answer(429, {"ok": False, "error": "ratelimited"}, headers)
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        return _text_answer(status, f"{status} {phrase}\n", headers)

    def _injected_error(self, method: str, params: dict) -> str | None:
        with self._lock:
            queue = self._errors.get(method) or []
            for index, injected in enumerate(queue):
                if injected.when is None or injected.when(params):
                    injected.remaining -= 1
                    if injected.remaining <= 0:
                        queue.pop(index)
                    return injected.error
        return None

    def _authenticate(self, method: str, headers: dict, token_param: Any) -> None:
        authorization = headers.get("authorization")
        token: str | None = None
        if authorization is not None:
            scheme, _, value = authorization.partition(" ")
            token = value.strip() if scheme.lower() == "bearer" else ""
        if token is None and token_param:
            token = str(token_param)
        if token is None or (token == "" and authorization is None):
            raise _SlackError("not_authed")
        wanted, other = (
            (self.app_token, self.bot_token)
            if method == "apps.connections.open"
            else (self.bot_token, self.app_token)
        )
        if token == other:
            raise _SlackError("not_allowed_token_type")
        if token != wanted:
            raise _SlackError("invalid_auth")

    def _answer_api(
        self, method: str, query: str, headers: dict, body: bytes, at: float
    ) -> tuple[dict, _Answer]:
        params, parse_error = _parse_params(query, body, headers.get("content-type", ""))
        token_param = params.pop("token", None)
        handler = self._methods.get(method)
        if handler is None:
            return params, _json_answer(404, {"ok": False, "error": "unknown_method"})
        failure = self._injected_failure(method, at)
        if failure is not None:
            return params, failure
        try:
            if parse_error is not None:
                raise parse_error
            if method != "api.test":  # the one method Slack answers without a token
                self._authenticate(method, headers, token_param)
            needed = _METHOD_SCOPES.get(method)
            if needed is not None and needed not in self.scopes:
                raise _SlackError("missing_scope", needed=needed, provided=",".join(self.scopes))
            injected = self._injected_error(method, params)
            if injected is not None:
                raise _SlackError(injected)
            with self._lock:
                result = handler(params)
            scopes = {"X-OAuth-Scopes": ",".join(self.scopes)}
            return params, _json_answer(200, {"ok": True, **result}, scopes)
        except _SlackError as exc:
            return params, _json_answer(200, {"ok": False, "error": exc.error, **exc.extra})
        except Exception:
            # A stand-in bug (or a raising when= predicate) must be loud, not a hung test.
            traceback.print_exc()
            return params, _json_answer(500, {"ok": False, "error": "internal_error"})

    def _answer_upload(self, path: str, body: bytes, at: float) -> tuple[dict, _Answer]:
        file_id = unquote(path[len("/upload/") :]).strip("/")
        params = {"file_id": file_id, "length": len(body)}
        failure = self._injected_failure("upload", at)
        if failure is not None:
            return params, failure
        with self._lock:
            pending = self._pending_uploads.get(file_id)
            if pending is None:
                return params, _text_answer(404, "Not Found\n")
            params["filename"] = pending["filename"]
            pending["bytes"] = body
        # Slack's upload endpoint answers in plain text, which slack_sdk only checks for 200.
        return params, _text_answer(200, f"OK - {len(body)}")

    def _answer_file_download(self, path: str, headers: dict, at: float) -> tuple[dict, _Answer]:
        # /files-pri/<team>-<file id>/<name> or /files-pri/<team>-<file id>/download/<name>
        parts = path[len("/files-pri/") :].split("/")
        team_id, _, file_id = unquote(parts[0]).partition("-")
        download = len(parts) >= 3 and parts[1] == "download"
        params: dict[str, Any] = {"file_id": file_id, "download": download, "authorized": False}
        failure = self._injected_failure("files.download", at)
        if failure is not None:
            return params, failure
        scheme, _, token = (headers.get("authorization") or "").partition(" ")
        with self._lock:
            authorized = (
                scheme.lower() == "bearer"
                and token.strip() == self.bot_token
                and "files:read" in self.scopes
            )
            if not authorized:
                # No error status: Slack sends browsers (and tokenless apps) to sign in.
                page = _SIGN_IN_PAGE.format(
                    team_name=self.team_name,
                    workspace_url=self.workspace_url,
                    redir=quote(path, safe=""),
                )
                return params, _Answer(200, page.encode("utf-8"), "text/html; charset=utf-8")
            params["authorized"] = True
            content = self._file_bytes.get(file_id)
            if team_id != self.team_id or file_id in self._deleted_files or content is None:
                page = "<!DOCTYPE html>\n<html><body><h1>File not found</h1></body></html>\n"
                return params, _Answer(404, page.encode("utf-8"), "text/html; charset=utf-8")
            file_object = self._files[file_id]
            params["length"] = len(content)
        extra = {}
        if download:
            name = file_object["name"]
            ascii_name = name.encode("ascii", "replace").decode("ascii").replace('"', "")
            extra["Content-Disposition"] = (
                f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
            )
        return params, _Answer(200, content, file_object["mimetype"], extra)

    def _answer_response_url(self, body: bytes, headers: dict, at: float) -> tuple[dict, _Answer]:
        failure = self._injected_failure("response_url", at)
        if failure is not None:
            return {}, failure
        try:
            params = json.loads(body.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError):
            params = None
        if not isinstance(params, dict):
            return {}, _text_answer(400, "invalid_payload")
        injected = self._injected_error("response_url", params)
        if injected is not None:
            return params, _json_answer(200, {"ok": False, "error": injected})
        with self._lock:
            self.responses.append(params)
        return params, _json_answer(200, {"ok": True})

    # ------------------------------------------------------------------ helpers for handlers

    def _next_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids:010d}"

    def _next_ts(self) -> str:
        with self._lock:
            now = int(time.time() * 1_000_000)
            self._last_ts_us = max(now, self._last_ts_us + 1)
            us = self._last_ts_us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    def _member_ids(self, channel: dict) -> list[str]:
        members = list(channel["members"])
        if channel["is_member"] and self.bot_user_id not in members:
            members.append(self.bot_user_id)
        return members

    def _channel_object(self, channel: dict) -> dict:
        shown = {key: value for key, value in channel.items() if key != "members"}
        shown["num_members"] = len(self._member_ids(channel))
        return shown

    def _find_channel(self, ref: str) -> dict | None:
        if ref in self.channels:
            return self.channels[ref]
        name = ref[1:] if ref.startswith("#") else ref
        for channel in self.channels.values():
            if channel["name"] == name:
                return channel
        return None

    def _dm_user(self, dm_id: str) -> dict | None:
        for prefix in ("U", "W"):
            user = self.users.get(prefix + dm_id[1:])
            if user is not None:
                return user
        return None

    def _dm_target(self, user_id: str) -> str:
        """Check that the app may DM ``user_id``; returns the DM channel id."""
        user = self.users.get(user_id)
        if user is None:
            raise _SlackError("user_not_found")
        if user["deleted"]:
            raise _SlackError("account_inactive")
        if user["is_bot"]:
            raise _SlackError("cannot_dm_bot")
        return "D" + user_id[1:]

    def _conversation_for_post(self, ref: Any) -> str:
        """Resolve ``channel`` of a posting method the way Slack does; returns conversation id."""
        if not ref or not isinstance(ref, str):
            raise _SlackError("channel_not_found")
        if ref[0] in "UW" and ref in self.users:
            return self._dm_target(ref)
        if ref[0] == "D":
            user = self._dm_user(ref)
            if user is None:
                raise _SlackError("channel_not_found")
            return self._dm_target(user["id"])
        channel = self._find_channel(ref)
        if channel is None:
            raise _SlackError("user_not_found" if ref[0] in "UW" else "channel_not_found")
        if channel["is_private"] and not channel["is_member"]:
            raise _SlackError("channel_not_found")
        if channel["is_archived"]:
            raise _SlackError("is_archived")
        if not channel["is_member"]:
            raise _SlackError("not_in_channel")
        return channel["id"]

    def _readable_conversation(self, ref: Any) -> tuple[str, dict | None]:
        """Resolve a conversation id for reading (no user ids: Slack wants the D id)."""
        if not ref or not isinstance(ref, str):
            raise _SlackError("channel_not_found")
        if ref[0] == "D":
            user = self._dm_user(ref)
            if user is None:
                raise _SlackError("channel_not_found")
            return ref, None
        channel = self._find_channel(ref)
        if channel is None or (channel["is_private"] and not channel["is_member"]):
            raise _SlackError("channel_not_found")
        return channel["id"], channel

    def _find_message(self, conversation: str, ts: Any) -> dict | None:
        for message in self.messages.get(conversation, []):
            if message["ts"] == ts:
                return message
        return None

    @staticmethod
    def _check_message_content(params: dict, *, require_content: bool = True) -> None:
        text = params.get("text")
        blocks = params.get("blocks")
        has_content = text or blocks or params.get("attachments") or params.get("markdown_text")
        if require_content and not has_content:
            raise _SlackError("no_text")
        if isinstance(text, str) and len(text) > _MAX_TEXT:
            raise _SlackError("msg_too_long")
        if blocks not in (None, ""):
            if not isinstance(blocks, list):
                raise _SlackError("invalid_blocks_format")
            errors = _block_errors(blocks, _MAX_MESSAGE_BLOCKS, "/blocks")
            if errors:
                raise _SlackError(
                    "invalid_blocks", errors=errors, response_metadata={"messages": errors}
                )

    def _public_message(self, message: dict) -> dict:
        shown = {key: value for key, value in message.items() if value is not None}
        shown.pop("channel", None)
        return shown

    # ------------------------------------------------------------------ method handlers

    def _api_test(self, params: dict) -> dict:
        return {"args": {k: v for k, v in params.items() if isinstance(v, str)}}

    def _auth_test(self, params: dict) -> dict:
        return {
            "url": self.workspace_url,
            "team": self.team_name,
            "user": self.users[self.bot_user_id]["name"],
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, params: dict) -> dict:
        if self._stopping:
            raise _SlackError("service_unavailable")
        base = self.start_socket_mode()
        ticket = str(uuid.uuid4())
        self._tickets.add(ticket)
        return {"url": f"{base}?ticket={ticket}&app_id={self.app_id}"}

    def _shown_user(self, user: dict) -> dict:
        # Apps get profile.email only with users:read.email; otherwise Slack leaves it out.
        if "users:read.email" in self.scopes or "email" not in user["profile"]:
            return user
        shown = dict(user)
        shown["profile"] = {key: value for key, value in user["profile"].items() if key != "email"}
        return shown

    def _users_info(self, params: dict) -> dict:
        user = self.users.get(params.get("user") or "")
        if user is None:
            raise _SlackError("user_not_found")
        return {"user": self._shown_user(user)}

    def _users_list(self, params: dict) -> dict:
        page, next_cursor = _paginate(
            list(self.users.values()),
            params,
            default_limit=1000,
            max_limit=1000,
            key=lambda user: user["id"],
        )
        return {
            "members": [self._shown_user(user) for user in page],
            "cache_ts": int(time.time()),
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _users_lookup_by_email(self, params: dict) -> dict:
        email = str(params.get("email") or "").lower()
        for user in self.users.values():
            if user["profile"].get("email", "").lower() == email and email:
                return {"user": user}
        raise _SlackError("users_not_found")

    @staticmethod
    def _usergroup_object(group: dict, *, include_users: bool, include_count: bool) -> dict:
        shown = {key: value for key, value in group.items() if key != "users"}
        if include_users:
            shown["users"] = list(group["users"])
        if include_count:
            shown["user_count"] = len(group["users"])
        return shown

    def _usergroups_list(self, params: dict) -> dict:
        # team_id only picks a workspace for org-level tokens; Slack ignores it for a bot token.
        include_disabled = _truthy(params.get("include_disabled", False))
        include_users = _truthy(params.get("include_users", False))
        include_count = _truthy(params.get("include_count", False))
        groups = [
            self._usergroup_object(group, include_users=include_users, include_count=include_count)
            for group in self.usergroups.values()
            if include_disabled or not group["date_delete"]
        ]
        # Slack answers every group at once: this method has no cursor.
        return {"usergroups": groups}

    def _usergroups_users_list(self, params: dict) -> dict:
        ref = params.get("usergroup")
        if not ref or not isinstance(ref, str):
            raise _invalid_arguments("[ERROR] missing required field: usergroup")
        group = self.usergroups.get(ref)
        # Slack documents no error of its own for a disabled group: without include_disabled
        # it is not found, like a group that never existed.
        disabled = group is not None and bool(group["date_delete"])
        if group is None or (disabled and not _truthy(params.get("include_disabled", False))):
            raise _SlackError("no_such_subteam")
        # All members at once, with no response_metadata: Slack does not paginate this method.
        return {"users": list(group["users"])}

    def _conversations_info(self, params: dict) -> dict:
        ref = params.get("channel") or ""
        if isinstance(ref, str) and ref.startswith("D"):
            user = self._dm_user(ref)
            if user is None:
                raise _SlackError("channel_not_found")
            return {
                "channel": {
                    "id": ref,
                    "created": int(time.time()),
                    "is_archived": False,
                    "is_channel": False,
                    "is_private": True,
                    "is_im": True,
                    "is_mpim": False,
                    "is_org_shared": False,
                    "context_team_id": self.team_id,
                    "user": user["id"],
                    "is_user_deleted": user["deleted"],
                    "priority": 0,
                }
            }
        _, channel = self._readable_conversation(ref)
        assert channel is not None
        return {"channel": self._channel_object(channel)}

    def _conversations_members(self, params: dict) -> dict:
        conversation, channel = self._readable_conversation(params.get("channel"))
        if channel is None:
            user = self._dm_user(conversation)
            members = [user["id"], self.bot_user_id] if user else [self.bot_user_id]
        else:
            members = self._member_ids(channel)
        page, next_cursor = _paginate(members, params, default_limit=100, max_limit=1000)
        return {"members": page, "response_metadata": {"next_cursor": next_cursor}}

    def _conversations_list(self, params: dict) -> dict:
        types = str(params.get("types") or "public_channel").split(",")
        exclude_archived = _truthy(params.get("exclude_archived", False))
        found = []
        for channel in self.channels.values():
            if channel["is_private"]:
                if "private_channel" not in types or not channel["is_member"]:
                    continue
            elif "public_channel" not in types:
                continue
            if exclude_archived and channel["is_archived"]:
                continue
            found.append(self._channel_object(channel))
        page, next_cursor = _paginate(
            found, params, default_limit=100, max_limit=1000, key=lambda c: c["id"]
        )
        return {"channels": page, "response_metadata": {"next_cursor": next_cursor}}

    def _conversations_open(self, params: dict) -> dict:
        users = params.get("users")
        if not users and params.get("channel"):
            conversation, _ = self._readable_conversation(params["channel"])
            return {"no_op": True, "already_open": True, "channel": {"id": conversation}}
        user_ids = [u.strip() for u in str(users or "").split(",") if u.strip()]
        if not user_ids:
            raise _SlackError("users_list_not_supplied")
        targets = [self._dm_target(user_id) for user_id in user_ids]
        if len(targets) == 1:
            conversation = targets[0]
        else:
            # A group DM; Slack gives it a G/C id. Derive one deterministically.
            conversation = "G" + base64.b32encode(",".join(sorted(user_ids)).encode()).decode()[:10]
        already = conversation in self._opened_dms
        self._opened_dms.add(conversation)
        channel: dict[str, Any] = {"id": conversation}
        if _truthy(params.get("return_im", False)) and len(targets) == 1:
            channel.update(
                {"is_im": True, "user": user_ids[0], "created": int(time.time()), "is_open": True}
            )
        return {"no_op": already, "already_open": already, "channel": channel}

    def _history_messages(self, conversation: str) -> list[dict]:
        return [
            m
            for m in self.messages.get(conversation, [])
            if m.get("thread_ts") in (None, m["ts"]) or m.get("reply_broadcast")
        ]

    def _conversations_history(self, params: dict) -> dict:
        conversation, channel = self._readable_conversation(params.get("channel"))
        if channel is not None and not channel["is_member"]:
            raise _SlackError("not_in_channel")
        bounds = []
        for name, default in (("oldest", 0.0), ("latest", math.inf)):
            try:
                bounds.append(float(params.get(name) or default))
            except (TypeError, ValueError):
                raise _SlackError(f"invalid_ts_{name}") from None
        oldest, latest = bounds
        inclusive = _truthy(params.get("inclusive", False))

        def in_range(ts: float) -> bool:
            if inclusive:
                return oldest <= ts <= latest
            return oldest < ts < latest

        newest_first = [
            self._public_message(m)
            for m in reversed(self._history_messages(conversation))
            if in_range(float(m["ts"]))
        ]
        page, next_cursor = _paginate(
            newest_first, params, default_limit=100, max_limit=999, key=lambda m: m["ts"]
        )
        return {
            "messages": page,
            "has_more": bool(next_cursor),
            "pin_count": 0,
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _conversations_replies(self, params: dict) -> dict:
        conversation, channel = self._readable_conversation(params.get("channel"))
        if channel is not None and not channel["is_member"]:
            raise _SlackError("not_in_channel")
        ts = params.get("ts")
        parent = self._find_message(conversation, ts)
        if parent is None:
            raise _SlackError("thread_not_found")
        thread = [
            self._public_message(m)
            for m in self.messages.get(conversation, [])
            if m["ts"] == ts or m.get("thread_ts") == ts
        ]
        page, next_cursor = _paginate(
            thread, params, default_limit=1000, max_limit=1000, key=lambda m: m["ts"]
        )
        return {
            "messages": page,
            "has_more": bool(next_cursor),
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _chat_post_message(self, params: dict) -> dict:
        conversation = self._conversation_for_post(params.get("channel"))
        self._check_message_content(params)
        ts = self._next_ts()
        thread_ts = params.get("thread_ts") or None
        message = {
            "type": "message",
            "ts": ts,
            "channel": conversation,
            "text": params.get("text") or "",
            "blocks": params.get("blocks") or None,
            "attachments": params.get("attachments") or None,
            "metadata": params.get("metadata") or None,
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "thread_ts": thread_ts,
            "reply_broadcast": _truthy(params["reply_broadcast"])
            if "reply_broadcast" in params
            else None,
        }
        if thread_ts is not None:
            parent = self._find_message(conversation, thread_ts)
            if parent is not None:
                parent["thread_ts"] = parent["ts"]
                parent["reply_count"] = parent.get("reply_count", 0) + 1
                parent["latest_reply"] = ts
        self.messages.setdefault(conversation, []).append(message)
        shown = self._public_message(message)
        shown["bot_profile"] = {
            "id": self.bot_id,
            "app_id": self.app_id,
            "name": self.users[self.bot_user_id]["real_name"],
            "deleted": False,
            "team_id": self.team_id,
        }
        return {"channel": conversation, "ts": ts, "message": shown}

    def _editable_message(self, params: dict) -> tuple[str, dict]:
        conversation, _ = self._readable_conversation(params.get("channel"))
        message = self._find_message(conversation, params.get("ts"))
        if message is None:
            raise _SlackError("message_not_found")
        return conversation, message

    def _chat_update(self, params: dict) -> dict:
        conversation, message = self._editable_message(params)
        self._check_message_content(params, require_content=False)
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in params:
                message[key] = params[key] if key == "text" else (params[key] or None)
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        shown = self._public_message(message)
        for key in ("ts", "type", "team", "app_id", "reply_count", "latest_reply"):
            shown.pop(key, None)
        return {
            "channel": conversation,
            "ts": message["ts"],
            "text": message["text"],
            "message": shown,
        }

    def _chat_delete(self, params: dict) -> dict:
        conversation, message = self._editable_message(params)
        self.messages[conversation].remove(message)
        return {"channel": conversation, "ts": message["ts"]}

    def _chat_post_ephemeral(self, params: dict) -> dict:
        user_id = params.get("user") or ""
        user = self.users.get(user_id)
        if user is None:
            raise _SlackError("user_not_found")
        conversation = self._conversation_for_post(params.get("channel"))
        channel = self.channels.get(conversation)
        if channel is not None and user_id not in self._member_ids(channel):
            raise _SlackError("user_not_in_channel")
        self._check_message_content(params)
        message_ts = self._next_ts()
        self.ephemerals.append({**params, "message_ts": message_ts})
        return {"message_ts": message_ts}

    def _chat_get_permalink(self, params: dict) -> dict:
        conversation, message = self._editable_message(
            {"channel": params.get("channel"), "ts": params.get("message_ts")}
        )
        link = f"{self.workspace_url}archives/{conversation}/p{message['ts'].replace('.', '')}"
        return {"channel": conversation, "permalink": link}

    def _checked_view(self, params: dict, kind: str) -> dict:
        view = params.get("view")
        if not isinstance(view, dict):
            raise _invalid_arguments("[ERROR] missing required field: view")
        if view.get("type") != kind:
            raise _invalid_arguments(f"[ERROR] must be '{kind}' [json-pointer:/view/type]")
        errors = _block_errors(view.get("blocks", []), _MAX_VIEW_BLOCKS, "/view/blocks")
        if kind == "modal":
            title = view.get("title")
            title_text = title.get("text") if isinstance(title, dict) else None
            if not isinstance(title_text, str):
                errors.append("[ERROR] missing required field: title [json-pointer:/view]")
            elif len(title_text) > _MAX_MODAL_TITLE:
                errors.append(
                    f"[ERROR] must be less than {_MAX_MODAL_TITLE + 1} characters "
                    "[json-pointer:/view/title/text]"
                )
        if errors:
            raise _invalid_arguments(*errors)
        return view

    def _stored_view(self, view: dict, view_id: str, *, root: str | None = None) -> dict:
        stored = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "title": view.get("title"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "previous_view_id": None,
            "root_view_id": root or view_id,
            "app_id": self.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        return stored

    def _require_trigger(self, params: dict) -> None:
        trigger = params.get("trigger_id")
        if not trigger and not params.get("interactivity_pointer"):
            raise _SlackError("invalid_trigger_id")
        issued = self._triggers.get(trigger) if isinstance(trigger, str) else None
        if issued is not None and time.monotonic() - issued > self.trigger_ttl:
            raise _SlackError("expired_trigger_id")

    def _views_open(self, params: dict) -> dict:
        self._require_trigger(params)
        view = self._checked_view(params, "modal")
        stored = self._stored_view(view, self._next_id("V"))
        self.views[stored["id"]] = stored
        return {"view": stored}

    def _views_push(self, params: dict) -> dict:
        return self._views_open(params)

    def _views_update(self, params: dict) -> dict:
        view = self._checked_view(params, "modal")
        current: dict | None = None
        if params.get("view_id"):
            current = self.views.get(params["view_id"])
        elif params.get("external_id"):
            current = next(
                (v for v in self.views.values() if v["external_id"] == params["external_id"]),
                None,
            )
        else:
            raise _invalid_arguments("[ERROR] either view_id or external_id is required")
        if current is None:
            raise _SlackError("not_found")
        if params.get("hash") and params["hash"] != current["hash"]:
            raise _SlackError("hash_conflict")
        stored = self._stored_view(view, current["id"], root=current["root_view_id"])
        stored["external_id"] = view.get("external_id", current["external_id"])
        self.views[current["id"]] = stored
        return {"view": stored}

    def _views_publish(self, params: dict) -> dict:
        user_id = params.get("user_id") or ""
        if user_id not in self.users:
            raise _SlackError("user_not_found")
        view = self._checked_view(params, "home")
        current = self.home_views.get(user_id)
        if current is not None and params.get("hash") and params["hash"] != current["hash"]:
            raise _SlackError("hash_conflict")
        view_id = current["id"] if current else self._next_id("V")
        stored = self._stored_view(view, view_id)
        self.home_views[user_id] = stored
        return {"view": stored}

    def _files_get_upload_url(self, params: dict) -> dict:
        filename = params.get("filename")
        if not filename:
            raise _invalid_arguments("[ERROR] missing required field: filename")
        length = _int_param(params, "length", -1, error="invalid_arguments")
        if length < 0:
            raise _invalid_arguments("[ERROR] missing required field: length")
        file_id = self._next_id("F")
        self._pending_uploads[file_id] = {
            "filename": filename,
            "length": length,
            "bytes": None,
            "alt_txt": params.get("alt_txt"),
            "snippet_type": params.get("snippet_type"),
        }
        return {"upload_url": f"{self._base()}/upload/{file_id}", "file_id": file_id}

    def _file_object(
        self,
        file_id: str,
        *,
        filename: str,
        title: str,
        content: bytes,
        owner: str,
        filetype: str | None = None,
        channel: dict | None = None,
        alt_txt: str | None = None,
    ) -> dict:
        """A hosted file's object as ``files.info`` answers it (see :meth:`_message_file`)."""
        filetype, pretty_type, mimetype = _file_kind(filename, content, filetype)
        created = int(time.time())
        # Slack's shapes: files-pri/<team>-<id>/<name> and files-pri/<team>-<id>/download/<name>
        private = f"{self._base()}/files-pri/{self.team_id}-{file_id}"
        file_object: dict[str, Any] = {
            "id": file_id,
            "created": created,
            "timestamp": created,
            "name": filename,
            "title": title,
            "mimetype": mimetype,
            "filetype": filetype,
            "pretty_type": pretty_type,
            "user": owner,
            "user_team": self.team_id,
            "editable": False,
            "size": len(content),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": bool(channel and not channel["is_private"]),
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"{private}/{quote(filename)}",
            "url_private_download": f"{private}/download/{quote(filename)}",
            "permalink": f"{self.workspace_url}files/{owner}/{file_id}/{quote(filename)}",
            "permalink_public": f"https://slack-files.com/{self.team_id}-{file_id}-standin",
            "comments_count": 0,
            "is_starred": False,
            # Slack shares asynchronously, so right after an upload these are still empty.
            "shares": {},
            "channels": [],
            "groups": [],
            "ims": [],
            "has_rich_preview": False,
            "file_access": "visible",
        }
        if alt_txt is not None:  # what the app uploads carries it; people's exports do not
            file_object["alt_txt"] = alt_txt
        return file_object

    @staticmethod
    def _message_file(file_object: dict) -> dict:
        """The file as message events show it: without where it was shared or starred."""
        left_out = ("comments_count", "is_starred", "shares", "channels", "groups", "ims")
        return {key: value for key, value in file_object.items() if key not in left_out}

    def _files_complete_upload(self, params: dict) -> dict:
        files = params.get("files")
        if not isinstance(files, list) or not files:
            raise _invalid_arguments("[ERROR] missing required field: files")
        targets: list[str] = []
        for ref in [params.get("channel_id"), *str(params.get("channels") or "").split(",")]:
            if ref:
                targets.append(self._conversation_for_post(ref))
        for item in files:
            file_id = item.get("id") if isinstance(item, dict) else None
            pending = self._pending_uploads.get(file_id or "")
            if pending is None or pending["bytes"] is None:
                raise _SlackError("file_not_found")
        completed = []
        for item in files:
            file_id = item["id"]
            pending = self._pending_uploads.pop(file_id)
            upload = {
                "filename": pending["filename"],
                "title": item.get("title") or pending["filename"],
                "bytes": pending["bytes"],
                "channel_id": targets[0] if targets else None,
                "channels": targets,
                "initial_comment": params.get("initial_comment"),
                "thread_ts": params.get("thread_ts"),
                "alt_txt": pending.get("alt_txt"),
            }
            self.uploads[file_id] = upload
            file_object = self._file_object(
                file_id,
                filename=upload["filename"],
                title=upload["title"],
                content=upload["bytes"],
                owner=self.bot_user_id,
                channel=self.channels.get(targets[0]) if targets else None,
                alt_txt=upload["alt_txt"] or "",
            )
            self._files[file_id] = file_object
            self._file_bytes[file_id] = upload["bytes"]
            completed.append(file_object)
        return {"files": completed}

    def _visible_file(self, params: dict) -> dict:
        # Every stored file is visible to the bot: it uploaded it, or it was shared in its DM.
        file_id = params.get("file") or ""
        file_object = self._files.get(file_id)
        if file_object is None:
            raise _SlackError("file_not_found")
        if file_id in self._deleted_files:
            raise _SlackError("file_deleted")
        return file_object

    def _files_info(self, params: dict) -> dict:
        file_object = self._visible_file(params)
        return {
            "file": file_object,
            "comments": [],
            "response_metadata": {"next_cursor": ""},
        }

    def _files_delete(self, params: dict) -> dict:
        file_object = self._visible_file(params)
        if file_object["user"] != self.bot_user_id:
            # A bot token may delete the files its app uploaded, not what people shared.
            raise _SlackError("cant_delete_file")
        self._deleted_files.add(file_object["id"])
        return {}

    def _files_upload_v1(self, params: dict) -> dict:
        # Slack retired files.upload; code still calling it must move to files_upload_v2.
        raise _SlackError("method_deprecated")


# ---------------------------------------------------------------------- command line


def _parse_rate(spec: str) -> tuple[str, int]:
    method, sep, value = spec.partition("=")
    try:
        per_second = int(value)
    except ValueError:
        per_second = 0
    if not sep or not method or per_second < 1:
        raise argparse.ArgumentTypeError(f"expected METHOD=PER_SECOND, got {spec!r}")
    return method, per_second


def main(argv: list[str] | None = None) -> int:
    """Serve a stand-in in the foreground until SIGTERM/SIGINT; first stdout line is its URL."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.devkit.slack_standin",
        description="Local stand-in of the Slack Web API and Socket Mode.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per answer")
    parser.add_argument(
        "--rate",
        type=_parse_rate,
        action="append",
        default=[],
        metavar="METHOD=PER_SECOND",
        help="rate-limit a method, e.g. chat.postMessage=1 (repeatable)",
    )
    parser.add_argument(
        "--users",
        type=int,
        default=0,
        metavar="N",
        help="generate users U00000001..UN, all members of #general (C0GENERAL)",
    )
    parser.add_argument(
        "--tz",
        metavar="ZONE",
        help="give every generated user this Slack time zone (default: a spread of four zones)",
    )
    parser.add_argument(
        "--no-record",
        action="store_true",
        help="do not keep every call in memory (only counts); for long benchmarks",
    )
    args = parser.parse_args(argv)

    standin = SlackStandIn(
        latency=args.latency, host=args.host, port=args.port, record_calls=not args.no_record
    )
    for method, per_second in args.rate:
        standin.rate_limit(method, per_second)
    member_ids = []
    for index in range(1, args.users + 1):
        user_id = f"U{index:08d}"
        standin.add_user(
            user_id,
            name=f"user{index}",
            real_name=f"User {index}",
            tz=args.tz or _BENCH_ZONES[index % len(_BENCH_ZONES)],
            email=f"user{index}@example.com",
        )
        member_ids.append(user_id)
    if member_ids:
        standin.add_channel("C0GENERAL", name="general", members=member_ids)

    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    standin.start()
    try:
        print(standin.url, flush=True)
        print(
            f"slack stand-in serving at {standin.url} (bot token {standin.bot_token}, "
            f"app token {standin.app_token}, {args.users} generated users)",
            file=sys.stderr,
            flush=True,
        )
        # Wait in slices so signal handlers get to run promptly on every platform.
        while not stop.wait(0.5):
            pass
    finally:
        standin.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
