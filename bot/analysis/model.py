"""The model analyzer: an OpenAI-compatible model, reached through the official `openai` SDK
(so `OPENAI_BASE_URL` reaches any compatible server), with structured output. Whatever goes
wrong (a timeout, an HTTP error, a refusal, output that is not the schema's) the local
analyzer's result is used instead, and says so.

Each answer is described once, by a pydantic model: the SDK renders it as the strict JSON schema
sent in `response_format`, and validates the answer against the same model, so the limits the
model is asked for and the limits checked afterwards cannot drift apart. `ModelClient.structured`
is that call, reusable with any prompt and output model.

People's words are sent as delimited data in the user message; the instructions live in
`prompts/` and never contain them. Only already scrubbed text is ever sent.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Literal, TypeVar

import openai
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

import prompts
from bot.analysis import local as local_analyzer
from bot.analysis.analyzer import FollowUp, TextAnalysis, Turn
from bot.analysis.themes import LABELS, THEMES

log = logging.getLogger(__name__)

MAX_TIMEOUT = 20.0

# What the schema sent to the model can say and what is checked only after the answer:
# - In the schema (and checked again by pydantic): types, required fields, no extra fields, the
#   label and theme enums, sentiment's range, item counts and string lengths.
# - After the answer only: `strip_whitespace` is a transformation JSON Schema cannot state, so a
#   blank phrase passes the sent `minLength: 1` and fails validation here (the whole answer is
#   then rejected, as any answer off the schema). Duplicate themes are merged rather than
#   rejected (`uniqueItems` is not allowed in strict mode). The follow-up question's own rules
#   (one question ending in "?", no links, mentions or brackets, not a repeat) are checked in
#   `ModelAnalyzer.followup`: a repeat depends on the conversation, and a `pattern` for the rest
#   would be enforced by some OpenAI-compatible servers and ignored or refused by others.
# The output models have no docstrings on purpose: pydantic would send a docstring as the
# schema's description, and the instructions belong in `prompts/`.

_Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=160)]


class AnalysisOutput(BaseModel):
    model_config = ConfigDict(extra="forbid", title="text_analysis")

    sentiment: float = Field(ge=-1.0, le=1.0)
    label: Literal[LABELS]  # type: ignore[valid-type]
    themes: list[Literal[tuple(THEMES)]] = Field(min_length=1, max_length=3)  # type: ignore[valid-type]
    summary: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]
    blockers: list[_Phrase] = Field(max_length=3)
    wins: list[_Phrase] = Field(max_length=3)


class FollowupOutput(BaseModel):
    model_config = ConfigDict(extra="forbid", title="followup")

    question: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=200)]


# The SDK names the schema after the class (`json_schema.name`); the titles above and these
# names are the ones the model, and anything reading the requests, have always seen.
AnalysisOutput.__name__ = "text_analysis"
FollowupOutput.__name__ = "followup"

OutputT = TypeVar("OutputT", bound=BaseModel)


class ModelCallError(Exception):
    """A structured call that gave no usable answer; `reason` says why in a few words (e.g.
    "timeout", "HTTP 500", "output did not match the schema", "refused: ...")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @property
    def kind(self) -> str:
        """The reason without what the model said ("refused", not "refused: ..."): for the
        logs, where the model's own words, which may repeat a person's, must not go."""
        return self.reason.partition(":")[0]


def as_data(text: str) -> str:
    """People's words made safe to put between delimiters: they cannot close the tag."""
    return text.replace("<", "‹").replace(">", "›")


class ModelClient:
    """One OpenAI-compatible chat model, asked for answers shaped by a pydantic model."""

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

    def structured(self, prompt: prompts.Prompt, data: str, output: type[OutputT]) -> OutputT:
        """The model's answer to `data` under `prompt`, as a validated instance of `output`.

        `prompt.text` is the system message and `data` the whole user message: scrubbed text,
        with people's words between tags and passed through `as_data`. The SDK sends `output`
        as a strict JSON schema (named after the class; every field required, no extra fields,
        its constraints included) and validates the answer against the same class, at
        temperature 0, with the client's timeout (at most 20 s) and one retry of a failed
        request. `output` must fit strict mode: no field defaults and no optional fields (use
        `X | None`), else the API refuses the schema with HTTP 400. Rules a JSON schema cannot
        carry are the caller's to check on the result.

        Raises `ModelCallError` on any failure, with a short `reason`: "timeout", "HTTP 500",
        "connection failed", "output did not match the schema", "output cut off at the length
        limit", "stopped by the content filter", "refused: ..." or "no content". Store
        `prompt.ref` with whatever is made from the answer.
        """
        try:
            completion = self.client.chat.completions.parse(
                model=self.model,
                temperature=0,
                messages=[
                    {"role": "system", "content": prompt.text},
                    {"role": "user", "content": data},
                ],
                response_format=output,
            )
        # The SDK validates the content inside `parse`, so an answer off the schema surfaces
        # here as pydantic's error, next to the HTTP errors and the finish-reason errors.
        except (openai.OpenAIError, ValidationError, json.JSONDecodeError) as exc:
            raise ModelCallError(_reason(exc)) from exc
        if not completion.choices:
            raise ModelCallError("no choices")
        message = completion.choices[0].message
        if message.refusal:
            raise ModelCallError(f"refused: {message.refusal}"[:120])
        if message.parsed is None:
            raise ModelCallError("no content")
        return message.parsed


class ModelAnalyzer:
    """Analysis and follow-up questions from a model, with the local analyzer behind it."""

    def __init__(self, llm: ModelClient) -> None:
        self.llm = llm
        self.model = llm.model
        self.name = llm.name

    @property
    def client(self) -> openai.OpenAI:
        """The SDK client the calls go through."""
        return self.llm.client

    def analyze(self, text: str, *, kind: str = "comment") -> TextAnalysis:
        prompt = prompts.load("analyze")
        data = f"<participant_words>\n{as_data(text)}\n</participant_words>"
        try:
            output = self.llm.structured(prompt, data, AnalysisOutput)
        except ModelCallError as exc:
            log.warning("model analysis failed (%s); using the local analyzer", exc.kind)
            fallback = local_analyzer.analyze(text, kind=kind)
            fallback.note = f"{self.name} failed: {exc.reason}"
            return fallback
        return TextAnalysis(
            sentiment=round(output.sentiment, 3),
            label=output.label,
            # Merged, not rejected: a repeated theme says nothing wrong about the rest.
            themes=list(dict.fromkeys(output.themes)),
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
            output = self.llm.structured(prompt, data, FollowupOutput)
        except ModelCallError as exc:
            log.warning("model follow-up failed (%s); using the question bank", exc.kind)
            return fallback
        question = " ".join(output.question.split())
        asked = {turn.text for turn in turns if turn.author == "bot"}
        # Checked here, not in the schema (see the note above the output models): a question
        # must be one plain question: no links, no mentions, not a repeat.
        if not question.endswith("?"):
            problem = "not a question"
        elif any(mark in question for mark in ("http", "@", "<", "[")):
            problem = "a link, mention or placeholder"
        elif question in asked:
            problem = "a repeat"
        else:
            problem = None
        if problem is not None:
            # Why, not the question: the model may have put the person's own words in it.
            log.warning("model follow-up rejected (%s); using the question bank", problem)
            return fallback
        return FollowUp(question, generator=self.name, prompt_version=prompt.ref)


def _reason(exc: BaseException) -> str:
    """A few words for `note` and the logs."""
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}"
    if isinstance(exc, openai.APIConnectionError):
        return "connection failed"
    if isinstance(exc, openai.LengthFinishReasonError):
        return "output cut off at the length limit"
    if isinstance(exc, openai.ContentFilterFinishReasonError):
        return "stopped by the content filter"
    if isinstance(exc, ValidationError | json.JSONDecodeError):
        return "output did not match the schema"
    return str(exc)[:120] or type(exc).__name__
