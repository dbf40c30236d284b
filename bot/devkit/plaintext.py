"""Block Kit rendered as plain text, the way a person would read it in Slack: for the demo."""

from __future__ import annotations

import re
import textwrap
from typing import Any

_LINK = re.compile(r"<([^|>]+)\|([^>]+)>")
_BARE = re.compile(r"<[#@]?([^>]+)>")


_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])")


def _mrkdwn(text: str) -> str:
    text = _BOLD.sub(r"\1", _ITALIC.sub(r"\1", text))
    text = _LINK.sub(r"\2", text)
    text = _BARE.sub(r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(obj: dict[str, Any] | None) -> str:
    if not obj:
        return ""
    return _mrkdwn(obj.get("text", ""))


def _element(element: dict[str, Any]) -> str:
    kind = element.get("type")
    if kind == "button":
        return f"[ {_text(element.get('text'))} ]"
    if kind in ("static_select", "radio_buttons", "checkboxes"):
        options = " | ".join(_text(o.get("text")) for o in element.get("options", []))
        initial = element.get("initial_option")
        chosen = f" (chosen: {_text(initial.get('text'))})" if initial else ""
        return f"( {options} ){chosen}"
    if kind == "plain_text_input":
        initial = element.get("initial_value")
        return f"[ type here… ]{f' (now: {initial})' if initial else ''}"
    if kind in ("mrkdwn", "plain_text"):
        return _mrkdwn(element.get("text", ""))
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    return f"[{kind}]"


def render_blocks(blocks: list[dict[str, Any]] | None, *, width: int = 78) -> str:
    """Blocks as lines of text, wrapped at `width`."""
    lines: list[str] = []
    for block in blocks or []:
        kind = block.get("type")
        if kind == "header":
            title = _text(block.get("text"))
            lines += [title, "=" * min(len(title), width)]
        elif kind == "section":
            body = _text(block.get("text"))
            for paragraph in body.splitlines() or [""]:
                lines += textwrap.wrap(paragraph, width) or [""]
            for field in block.get("fields", []):
                lines.append(_text(field))
            if block.get("accessory"):
                lines.append("    " + _element(block["accessory"]))
        elif kind == "context":
            lines += textwrap.wrap(
                " ".join(_element(e) for e in block.get("elements", [])),
                width,
                initial_indent="  ",
                subsequent_indent="  ",
            )
        elif kind == "actions":
            lines.append("  ".join(_element(e) for e in block.get("elements", [])))
        elif kind == "input":
            optional = " (optional)" if block.get("optional") else ""
            lines.append(f"{_text(block.get('label'))}{optional}")
            lines.append("    " + _element(block.get("element", {})))
        elif kind == "divider":
            lines.append("-" * 20)
        elif kind == "image":
            lines.append(f"[image: {block.get('alt_text', '')}]")
        else:
            lines.append(f"[{kind}]")
    return "\n".join(lines)


def render_view(view: dict[str, Any]) -> str:
    """A modal or Home view: title, blocks, and its submit button."""
    parts = []
    title = _text(view.get("title"))
    if title:
        parts.append(f"┌ {title} ┐")
    parts.append(render_blocks(view.get("blocks")))
    if view.get("submit"):
        parts.append(f"[ {_text(view.get('close')) or 'Cancel'} ]  [ {_text(view['submit'])} ]")
    return "\n".join(parts)


def indent(text: str, prefix: str = "  │ ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())
