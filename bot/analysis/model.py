"""The model analyzer: an OpenAI-compatible model, reached through the official `openai` SDK
(so `OPENAI_BASE_URL` reaches any compatible server), with structured output against a JSON
schema. Whatever goes wrong (a timeout, an HTTP error, output that is not the schema's) the
local analyzer's result is used instead, and says so.

People's words are sent as delimited data in the user message; the instructions live in
`prompts/` and never contain them. Only already scrubbed text is ever sent.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Literal

import openai
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

import prompts
from bot.analysis import local as local_analyzer
from bot.analysis.analyzer import FollowUp, TextAnalysis, Turn
from bot.analysis.themes import LABELS, THEMES

log = logging.getLogger(__name__)

MAX_TIMEOUT = 20.0
_Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=160)]


class _AnalysisOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sentiment: float = Field(ge=-1.0, le=1.0)
    label: Literal["positive", "negative", "mixed", "neutral"]
    themes: list[Literal[tuple(THEMES)]] = Field(min_length=1, max_length=3)  # type: ignore[valid-type]
    summary: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]
    blockers: list[_Phrase] = Field(max_length=3)
    wins: list[_Phrase] = Field(max_length=3)


class _FollowupOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=200)]


def _strict(name: str, properties: dict, required: list[str]) -> dict:
    return {
        "type": "json_schema",
        "json_schema": {
            "name": name,
            "strict": True,
            "schema": {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": False,
            },
        },
    }


_PHRASES = {"type": "array", "items": {"type": "string"}, "maxItems": 3}
ANALYSIS_FORMAT = _strict(
    "text_analysis",
    {
        "sentiment": {"type": "number", "minimum": -1, "maximum": 1},
        "label": {"type": "string", "enum": list(LABELS)},
        "themes": {
            "type": "array",
            "items": {"type": "string", "enum": list(THEMES)},
            "minItems": 1,
            "maxItems": 3,
        },
        "summary": {"type": "string"},
        "blockers": _PHRASES,
        "wins": _PHRASES,
    },
    ["sentiment", "label", "themes", "summary", "blockers", "wins"],
)
FOLLOWUP_FORMAT = _strict("followup", {"question": {"type": "string"}}, ["question"])


class ModelOutputError(ValueError):
    """The model answered, but not with what the schema asks for."""


def as_data(text: str) -> str:
    """People's words made safe to put between delimiters: they cannot close the tag."""
    return text.replace("<", "‹").replace(">", "›")


class ModelAnalyzer:
    """Analysis and follow-up questions from a model, with the local analyzer behind it."""

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        base_url: str | None = None,
        timeout: float = MAX_TIMEOUT,
        client: openai.OpenAI | None = None,
    ) -> None:
        self.model = model
        self.name = f"openai:{model}"
        self.client = client or openai.OpenAI(
            api_key=api_key,
            base_url=base_url,
            timeout=min(timeout, MAX_TIMEOUT),
            # One retry: a blip is forgiven, a broken endpoint costs at most two timeouts.
            max_retries=1,
        )

    def _complete(self, prompt: prompts.Prompt, data: str, response_format: dict) -> str:
        response = self.client.chat.completions.create(
            model=self.model,
            temperature=0,
            messages=[
                {"role": "system", "content": prompt.text},
                {"role": "user", "content": data},
            ],
            response_format=response_format,  # type: ignore[arg-type]
        )
        if not response.choices:
            raise ModelOutputError("no choices")
        message = response.choices[0].message
        if message.content is None:
            raise ModelOutputError(f"refused: {message.refusal or 'no content'}")
        return message.content

    def analyze(self, text: str, *, kind: str = "comment") -> TextAnalysis:
        prompt = prompts.load("analyze")
        data = f"<participant_words>\n{as_data(text)}\n</participant_words>"
        try:
            output = _AnalysisOutput.model_validate_json(
                self._complete(prompt, data, ANALYSIS_FORMAT)
            )
        except (openai.OpenAIError, ValidationError, ModelOutputError, json.JSONDecodeError) as exc:
            reason = _reason(exc)
            log.warning("model analysis failed (%s); using the local analyzer", reason)
            fallback = local_analyzer.analyze(text, kind=kind)
            fallback.note = f"{self.name} failed: {reason}"
            return fallback
        themes = list(dict.fromkeys(output.themes))
        return TextAnalysis(
            sentiment=round(output.sentiment, 3),
            label=output.label,
            themes=themes,
            summary=output.summary or None,
            blockers=list(output.blockers),
            wins=list(output.wins),
            analyzer=self.name,
            prompt_version=prompt.ref,
        )

    def followup(
        self, turns: list[Turn], analysis: TextAnalysis, number: int, *, seed: int
    ) -> FollowUp | None:
        # Whether to ask at all is decided the same way with or without a model.
        banked = local_analyzer.followup(turns, analysis, number, seed=seed)
        if banked is None:
            return None
        fallback = FollowUp(banked)
        prompt = prompts.load("followup")
        conversation = "\n".join(f"{turn.author}: {as_data(turn.text)}" for turn in turns)
        data = f"<conversation>\n{conversation}\n</conversation>"
        try:
            output = _FollowupOutput.model_validate_json(
                self._complete(prompt, data, FOLLOWUP_FORMAT)
            )
        except (openai.OpenAIError, ValidationError, ModelOutputError, json.JSONDecodeError) as exc:
            log.warning("model follow-up failed (%s); using the question bank", _reason(exc))
            return fallback
        question = " ".join(output.question.split())
        asked = {turn.text for turn in turns if turn.author == "bot"}
        # A question must be one plain question: no links, no mentions, not a repeat.
        if (
            not question.endswith("?")
            or any(mark in question for mark in ("http", "@", "<", "["))
            or question in asked
        ):
            log.warning("model follow-up rejected: %r", question[:80])
            return fallback
        return FollowUp(question, generator=self.name, prompt_version=prompt.ref)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}"
    if isinstance(exc, openai.APIConnectionError):
        return "connection failed"
    if isinstance(exc, ValidationError | json.JSONDecodeError):
        return "output did not match the schema"
    return str(exc)[:120] or type(exc).__name__
