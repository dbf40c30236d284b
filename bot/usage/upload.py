"""A usage export uploaded in a DM to the bot by someone who runs a pilot: fetched from Slack
with the bot token, imported as `usage import` would, and answered with the same summary or
the same error. Nothing of the file is kept after the import."""

from __future__ import annotations

import ipaddress
import urllib.parse
import urllib.request
from collections.abc import Collection, Sequence
from datetime import datetime
from urllib.error import URLError

from slack_sdk import WebClient

from bot.errors import PulseError
from bot.pilots.champion import Action, may, pilots_visible_to
from bot.usage.activity import import_usage
from storage import Database

# An export of a thousand people over a quarter is a few megabytes; anything far larger is not
# one, and is not read into memory.
MAX_BYTES = 50 * 1024 * 1024
_IDENTITIES_HEADER = "identity,user"


def _on_slack(url: str, api_url: str) -> bool:
    """Whether `url` is on one of Slack's own hosts: the Web API's (`SLACK_API_URL`) or one of
    its domain's (files.slack.com beside slack.com). The bot token goes nowhere else."""
    try:
        parts, api = urllib.parse.urlsplit(url), urllib.parse.urlsplit(api_url)
        # An impossible port raises here, not halfway through the fetch.
        host, api_host, _port = parts.hostname, api.hostname, parts.port
    except ValueError:
        return False
    # Over TLS, unless the API itself is reached without it (a local stand-in).
    if parts.scheme not in ("https", api.scheme) or parts.scheme not in ("https", "http"):
        return False
    if not host or not api_host:
        return False
    if host == api_host:
        return True
    try:
        ipaddress.ip_address(api_host)
        return False  # an API reached by address has no sibling hosts
    except ValueError:
        domain = ".".join(api_host.split(".")[-2:])
    return host.endswith("." + domain)


def _fetch(client: WebClient, file: dict) -> bytes:
    """The file's bytes from Slack, with the bot token."""
    url = file.get("url_private_download") or file.get("url_private")
    if not url or not isinstance(url, str):
        raise PulseError(f"Slack gave no link to {file.get('name', 'the file')}")
    if not _on_slack(url, client.base_url):
        raise PulseError(f"the link to {file.get('name', 'the file')} is not Slack's")
    size = file.get("size")
    if isinstance(size, int | float) and size > MAX_BYTES:
        raise PulseError(f"{file.get('name', 'the file')} is over 50 MB; that is not an export")
    try:
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {client.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            kind = response.headers.get("Content-Type", "")
            data = response.read(MAX_BYTES + 1)
    except (URLError, OSError, ValueError, OverflowError) as exc:
        raise PulseError(f"cannot fetch the file from Slack ({exc})") from None
    # Without the right scope Slack answers its sign-in page, not the file (labelled HTML, or
    # at times not: the start of the body tells).
    if kind.startswith("text/html") or data.lstrip()[:15].lower().startswith(
        (b"<!doctype html", b"<html")
    ):
        raise PulseError(
            "Slack did not hand the file to the bot: the app needs the files:read scope "
            "(manifest.json has it); reinstall the app"
        )
    return data


def _pilot(names: Sequence[str], text: str) -> str | None:
    words = {word.strip(".,:;!?'\"").casefold() for word in text.split()}
    named = [name for name in names if name.casefold() in words]
    if len(named) == 1:
        return named[0]
    return names[0] if len(names) == 1 else None


def import_upload(
    db: Database,
    client: WebClient,
    slack_user_id: str,
    files: Sequence[dict],
    text: str,
    now: datetime,
    *,
    admins: Collection[str] = (),
) -> list[str] | None:
    """The reply to files a person shared in their DM with the bot; None when they run no pilot
    (then the files are not a usage export for us)."""
    with db.session() as session:
        names = [
            pilot.name
            for pilot in pilots_visible_to(session, slack_user_id, admins=admins)
            if pilot.ended_at is None
            and may(session, slack_user_id, Action.EDIT, pilot, admins=admins)
        ]
    if not names:
        return None
    pilot = _pilot(names, text)
    if pilot is None:
        return [
            "Which pilot is this usage for? Send the file again with the pilot's name in the "
            "message: " + ", ".join(names) + "."
        ]
    try:
        contents = [_fetch(client, file) for file in files]
        identities = [
            c
            for c in contents
            if c.lstrip(b"\xef\xbb\xbf").lower().startswith(_IDENTITIES_HEADER.encode())
        ]
        exports = [c for c in contents if c not in identities]
        if len(exports) != 1 or len(identities) > 1:
            return [
                "Send one export at a time (and, for GitHub Copilot, one identities file with "
                "the header identity,user beside it)."
            ]
        summary = import_usage(
            db,
            client,
            pilot,
            exports[0],
            identities=identities[0] if identities else None,
            now=now,
        )
    except PulseError as exc:
        return [f"Not imported: {exc}. Nothing was stored."]
    return summary.lines()
