"""The OpenAI stand-in, exercised through the real ``openai`` SDK, so that what the analyzer's tests
rely on is what the SDK really sends and accepts."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Literal

import httpx
import openai
import pytest
from openai import OpenAI
from pydantic import BaseModel, Field

from tests.openai_standin import ModelCall, OpenAIStandIn, strict_schema_problem

MODEL = "gpt-4o-mini"
MESSAGES = [
    {"role": "system", "content": "You summarise pulse answers."},
    {"role": "user", "content": "Summarise: the tool saves me time."},
]


@pytest.fixture
def standin() -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn() as llm:
        yield llm


@pytest.fixture
def make_client(standin: OpenAIStandIn) -> Iterator[Callable[..., OpenAI]]:
    clients: list[OpenAI] = []

    def make(*, timeout: float = 5.0, max_retries: int = 0, api_key: str = "test") -> OpenAI:
        client = OpenAI(
            api_key=api_key, base_url=standin.url, timeout=timeout, max_retries=max_retries
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., OpenAI]) -> OpenAI:
    return make_client()


def chat(client: OpenAI, **kwargs: object):
    return client.chat.completions.create(model=MODEL, messages=MESSAGES, **kwargs)


def test_json_answer_is_parsed_from_message_content(standin: OpenAIStandIn, client: OpenAI) -> None:
    answer = {"themes": [{"name": "saves time", "count": 3}], "summary": "Going well."}
    standin.queue_json(answer)

    completion = chat(client, temperature=0.2)

    assert json.loads(completion.choices[0].message.content) == answer
    assert completion.choices[0].message.refusal is None
    assert completion.choices[0].finish_reason == "stop"
    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == MODEL
    usage = completion.usage
    assert usage is not None and usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens

    (call,) = standin.wait_for(1)
    assert isinstance(call, ModelCall)
    assert call.path == "/v1/chat/completions"
    assert call.headers["authorization"] == "Bearer test"
    assert call.headers["content-type"] == "application/json"
    assert call.body["model"] == MODEL
    assert call.body["messages"] == MESSAGES
    assert call.body["temperature"] == 0.2


def test_response_format_json_schema_arrives_in_the_recorded_body(
    standin: OpenAIStandIn, client: OpenAI
) -> None:
    schema = {
        "type": "object",
        "properties": {"themes": {"type": "array", "items": {"type": "string"}}},
        "required": ["themes"],
        "additionalProperties": False,
    }
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "pulse_themes", "strict": True, "schema": schema},
    }
    standin.queue_json({"themes": ["speed"]})

    completion = chat(client, response_format=response_format)

    assert json.loads(completion.choices[0].message.content) == {"themes": ["speed"]}
    (call,) = standin.calls
    assert call.body["response_format"] == response_format


def test_queue_text_is_sent_verbatim(standin: OpenAIStandIn, client: OpenAI) -> None:
    standin.queue_text("not json at all")

    content = chat(client).choices[0].message.content

    assert content == "not json at all"
    with pytest.raises(json.JSONDecodeError):
        json.loads(content)


def test_queue_is_fifo_with_times_then_falls_back_to_the_default_responder(
    standin: OpenAIStandIn, client: OpenAI
) -> None:
    standin.queue_text("first", times=2)
    standin.queue_json(["second"])
    assert standin.pending == 3

    contents = [chat(client).choices[0].message.content for _ in range(4)]

    assert contents == ["first", "first", '["second"]', "{}"]
    assert standin.pending == 0


def test_500_raises_internal_server_error_without_retries(
    standin: OpenAIStandIn, client: OpenAI
) -> None:
    standin.queue_status(500)

    with pytest.raises(openai.InternalServerError) as caught:
        chat(client)

    error = caught.value
    assert error.status_code == 500
    assert error.type == "server_error"
    assert error.body["message"].startswith("The server had an error")  # type: ignore[index]
    assert error.request_id is not None and error.request_id.startswith("req_")
    assert len(standin.calls) == 1


def test_500_is_retried_once_and_the_default_answer_succeeds(
    standin: OpenAIStandIn, make_client: Callable[..., OpenAI]
) -> None:
    client = make_client(max_retries=1)
    standin.respond_with(lambda body: {"ok": True})
    # retry-after-ms keeps the SDK's back-off (0.375-0.5 s otherwise) short.
    standin.queue_status(500, retry_after=0.05)

    completion = chat(client)

    assert json.loads(completion.choices[0].message.content) == {"ok": True}
    first, second = standin.wait_for(2)
    assert len(standin.calls) == 2
    assert second.body == first.body
    # The SDK numbers its attempts in a header.
    assert first.headers["x-stainless-retry-count"] == "0"
    assert second.headers["x-stainless-retry-count"] == "1"
    assert 0.04 <= second.at - first.at < 0.35


def test_hang_longer_than_the_client_timeout_raises_api_timeout_error(
    standin: OpenAIStandIn, make_client: Callable[..., OpenAI]
) -> None:
    hang = 3.0
    client = make_client(timeout=0.3, max_retries=0)
    standin.queue_hang(hang)

    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        chat(client)
    elapsed = time.monotonic() - started

    assert elapsed < hang / 2
    assert len(standin.calls) == 1
    # The hanging handler does not stall the server: the next call is answered at once.
    standin.queue_text("after the hang")
    assert chat(client).choices[0].message.content == "after the hang"


def test_stop_is_not_blocked_by_a_hanging_answer() -> None:
    llm = OpenAIStandIn().start()
    client = OpenAI(api_key="test", base_url=llm.url, timeout=30, max_retries=0)
    llm.queue_hang(30)
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            chat(client)
        except BaseException as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    llm.wait_for(1)

    started = time.monotonic()
    llm.stop()
    assert time.monotonic() - started < 1.0
    caller.join(timeout=5)
    client.close()
    assert not caller.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], openai.APIConnectionError)
    # The handler thread that was hanging has been woken up and has finished, too.
    prefix = f"openai-standin-{llm.port}-"
    deadline = time.monotonic() + 1.0
    while any(t.name.startswith(prefix) for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the hanging handler thread outlived stop()"
        time.sleep(0.01)


def test_parse_with_a_pydantic_model_and_a_refusal(standin: OpenAIStandIn, client: OpenAI) -> None:
    class Themes(BaseModel):
        themes: list[str]

    standin.queue_json({"themes": ["speed", "trust"]})
    standin.queue_refusal("No.")

    parsed = client.chat.completions.parse(model=MODEL, messages=MESSAGES, response_format=Themes)
    refused = client.chat.completions.parse(model=MODEL, messages=MESSAGES, response_format=Themes)

    assert parsed.choices[0].message.parsed == Themes(themes=["speed", "trust"])
    sent_format = standin.calls[0].body["response_format"]
    assert sent_format["type"] == "json_schema"
    assert sent_format["json_schema"]["name"] == "Themes"
    assert sent_format["json_schema"]["schema"]["required"] == ["themes"]
    assert refused.choices[0].message.parsed is None
    assert refused.choices[0].message.refusal == "No."


def test_429_with_retry_after_raises_rate_limit_error(
    standin: OpenAIStandIn, client: OpenAI
) -> None:
    standin.queue_status(429, retry_after=1.5)

    with pytest.raises(openai.RateLimitError) as caught:
        chat(client)

    error = caught.value
    assert error.status_code == 429
    assert error.code == "rate_limit_exceeded"
    assert error.response.headers["retry-after"] == "2"
    assert error.response.headers["retry-after-ms"] == "1500"
    assert len(standin.calls) == 1


def test_queue_status_body_replaces_the_error_body(standin: OpenAIStandIn, client: OpenAI) -> None:
    body = {
        "error": {
            "message": "This model's maximum context length is 128000 tokens.",
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded",
        }
    }
    standin.queue_status(400, body=body)

    with pytest.raises(openai.BadRequestError) as caught:
        chat(client)

    assert caught.value.code == "context_length_exceeded"
    assert caught.value.param == "messages"
    assert "maximum context length" in caught.value.message


def test_refusal_arrives_as_message_refusal(standin: OpenAIStandIn, client: OpenAI) -> None:
    standin.queue_refusal("I won't summarise that.")

    message = chat(client).choices[0].message

    assert message.refusal == "I won't summarise that."
    assert message.content is None


def test_missing_or_empty_api_key_gets_401_and_consumes_nothing(standin: OpenAIStandIn) -> None:
    standin.queue_text("kept for later")
    url = f"{standin.url}/chat/completions"
    request = {"model": MODEL, "messages": MESSAGES}

    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic dXNlcg=="}):
        response = httpx.post(url, json=request, headers=headers)
        assert response.status_code == 401
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert error["type"] == "invalid_request_error"
        assert "API key" in error["message"]

    assert standin.pending == 1
    response = httpx.post(url, json=request, headers={"Authorization": "Bearer k"})
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "kept for later"
    assert len(standin.calls) == 4


def test_raw_response_has_the_chat_completion_shape(standin: OpenAIStandIn) -> None:
    standin.queue_json({"a": 1})

    response = httpx.post(
        f"{standin.url}/chat/completions",
        json={"model": "gpt-4.1-nano", "messages": MESSAGES},
        headers={"Authorization": "Bearer k"},
    )

    data = response.json()
    assert response.headers["content-type"] == "application/json"
    assert set(data) == {"id", "object", "created", "model", "choices", "usage"}
    assert data["model"] == "gpt-4.1-nano"
    assert isinstance(data["created"], int) and abs(data["created"] - time.time()) < 60
    assert data["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": '{"a": 1}', "refusal": None},
            "finish_reason": "stop",
            "logprobs": None,
        }
    ]
    assert set(data["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}


def test_unknown_path_and_wrong_method_get_404(standin: OpenAIStandIn) -> None:
    auth = {"Authorization": "Bearer k"}
    for method, path in (("POST", "/v1/completions"), ("GET", "/v1/chat/completions")):
        response = httpx.request(method, f"{standin.url.removesuffix('/v1')}{path}", headers=auth)
        assert response.status_code == 404
        error = response.json()["error"]
        assert error == {
            "message": f"Invalid URL ({method} {path})",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }


def test_stream_requests_are_rejected(standin: OpenAIStandIn, client: OpenAI) -> None:
    standin.queue_text("not for streams")

    with pytest.raises(openai.BadRequestError) as caught:
        chat(client, stream=True)

    assert caught.value.param == "stream"
    assert standin.pending == 1


def test_models_list(standin: OpenAIStandIn, client: OpenAI) -> None:
    models = client.models.list()

    assert [model.id for model in models.data] == [MODEL]
    assert client.models.retrieve(MODEL).id == MODEL
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-unknown")
    assert [call.path for call in standin.calls] == [
        "/v1/models",
        f"/v1/models/{MODEL}",
        "/v1/models/gpt-unknown",
    ]


def test_default_responder_sees_the_request_body(standin: OpenAIStandIn, client: OpenAI) -> None:
    seen: list[dict] = []

    def responder(body: dict) -> dict:
        seen.append(body)
        return {"echo": body["messages"][-1]["content"], "temperature": body.get("temperature")}

    standin.respond_with(responder)

    completion = chat(client, temperature=0.7)

    assert json.loads(completion.choices[0].message.content) == {
        "echo": MESSAGES[-1]["content"],
        "temperature": 0.7,
    }
    assert seen == [standin.calls[0].body]


def test_a_failing_responder_answers_500_without_sdk_retries(
    standin: OpenAIStandIn, make_client: Callable[..., OpenAI]
) -> None:
    client = make_client(max_retries=2)

    def responder(body: dict) -> str:
        raise KeyError("themes")

    standin.respond_with(responder)

    with pytest.raises(openai.InternalServerError) as caught:
        chat(client)

    assert "KeyError" in caught.value.message
    assert len(standin.calls) == 1
    assert [type(exc) for exc in standin.responder_errors] == [KeyError]


def test_wait_for_times_out_with_an_assertion_error(standin: OpenAIStandIn) -> None:
    started = time.monotonic()
    with pytest.raises(AssertionError, match="expected 1 call"):
        standin.wait_for(1, timeout=0.1)
    assert time.monotonic() - started < 1.0


def test_wait_for_wakes_on_a_call_from_another_thread(
    standin: OpenAIStandIn, client: OpenAI
) -> None:
    caller = threading.Thread(target=chat, args=(client,), daemon=True)
    caller.start()

    calls = standin.wait_for(1, timeout=3)

    caller.join(timeout=3)
    assert calls[0].body["messages"] == MESSAGES


# -- strict schemas and finish reasons ---------------------------------------------------------


def strict_format(schema: dict, name: str = "pulse") -> dict:
    return {"type": "json_schema", "json_schema": {"name": name, "strict": True, "schema": schema}}


def test_a_pydantic_model_with_limits_is_sent_with_them_and_accepted(
    standin: OpenAIStandIn, client: OpenAI
) -> None:
    class Answer(BaseModel):
        score: float = Field(ge=-1, le=1)
        mood: Literal["up", "down"]
        tags: list[Literal["a", "b", "c"]] = Field(min_length=1, max_length=2)
        note: str = Field(min_length=1, max_length=50)
        maybe: str | None

    answer = {"score": 0.5, "mood": "up", "tags": ["a"], "note": "fine", "maybe": None}
    standin.queue_json(answer)

    completion = client.chat.completions.parse(
        model=MODEL, messages=MESSAGES, response_format=Answer
    )

    assert completion.choices[0].message.parsed == Answer(**answer)
    schema = standin.calls[0].body["response_format"]["json_schema"]["schema"]
    assert strict_schema_problem(schema) is None
    fields = schema["properties"]
    assert (fields["score"]["minimum"], fields["score"]["maximum"]) == (-1, 1)
    assert fields["mood"]["enum"] == ["up", "down"]
    assert fields["tags"]["items"]["enum"] == ["a", "b", "c"]
    assert (fields["tags"]["minItems"], fields["tags"]["maxItems"]) == (1, 2)
    assert (fields["note"]["minLength"], fields["note"]["maxLength"]) == (1, 50)
    assert fields["maybe"]["anyOf"] == [{"type": "string"}, {"type": "null"}]
    assert schema["required"] == ["score", "mood", "tags", "note", "maybe"]


def test_a_strict_schema_outside_the_subset_gets_400_and_consumes_nothing(
    standin: OpenAIStandIn, client: OpenAI
) -> None:
    standin.queue_text("kept for later")
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}

    with pytest.raises(openai.BadRequestError) as caught:
        chat(client, response_format=strict_format(schema, name="loose"))

    assert caught.value.param == "response_format"
    assert caught.value.body["message"] == (  # type: ignore[index]
        "Invalid schema for response_format 'loose': In context=(), 'additionalProperties' is "
        "required to be supplied and to be false."
    )
    assert len(standin.calls) == 1 and standin.pending == 1
    # Not strict: the schema is a hint, taken as it is.
    chat(client, response_format={**strict_format(schema), "json_schema": {"name": "x"}})
    assert standin.pending == 0


def test_a_pydantic_default_is_refused_as_openai_refuses_it(
    standin: OpenAIStandIn, client: OpenAI
) -> None:
    class WithDefault(BaseModel):
        mood: str = "none"

    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.parse(model=MODEL, messages=MESSAGES, response_format=WithDefault)

    assert "In context=('properties', 'mood'), 'default' is not permitted." in (
        caught.value.message
    )


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ({"type": "array", "items": {"type": "string"}}, "In context=(), schema must be"),
        (
            {
                "type": "object",
                "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                "required": ["a"],
                "additionalProperties": False,
            },
            "Missing 'b'.",
        ),
        (
            {
                "type": "object",
                "properties": {"a": {"type": "array", "items": {"type": "string"}}},
                "required": ["a"],
                "additionalProperties": False,
                "$defs": {"B": {"type": "object", "properties": {}, "required": []}},
            },
            "In context=('$defs', 'B'), 'additionalProperties' is required",
        ),
        (
            {
                "type": "object",
                "properties": {
                    "a": {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
                },
                "required": ["a"],
                "additionalProperties": False,
            },
            "In context=('properties', 'a'), 'uniqueItems' is not permitted.",
        ),
        (
            {
                "type": "object",
                "properties": {
                    "a": {"anyOf": [{"type": "string"}, {"type": "object", "properties": {}}]}
                },
                "required": ["a"],
                "additionalProperties": False,
            },
            "In context=('properties', 'a', 'anyOf', '1'), 'additionalProperties'",
        ),
    ],
    ids=["root-not-object", "not-all-required", "defs-open", "unique-items", "any-of-open"],
)
def test_strict_schema_problems(schema: dict, problem: str) -> None:
    found = strict_schema_problem(schema)
    assert found is not None and problem in found


def test_schema_checks_can_be_turned_off() -> None:
    with OpenAIStandIn(check_schemas=False) as llm:
        client = OpenAI(api_key="test", base_url=llm.url, max_retries=0)
        schema = {"type": "object", "properties": {"a": {"type": "string"}}}
        chat(client, response_format=strict_format(schema))
        client.close()
    assert len(llm.calls) == 1


def test_finish_reason_length_and_content_filter(standin: OpenAIStandIn, client: OpenAI) -> None:
    class Themes(BaseModel):
        themes: list[str]

    standin.queue_text('{"themes": ["sp', finish_reason="length")
    standin.queue_json({"themes": []}, finish_reason="length")
    standin.queue_json({"themes": []}, finish_reason="content_filter")

    assert chat(client).choices[0].finish_reason == "length"
    with pytest.raises(openai.LengthFinishReasonError):
        client.chat.completions.parse(model=MODEL, messages=MESSAGES, response_format=Themes)
    with pytest.raises(openai.ContentFilterFinishReasonError):
        client.chat.completions.parse(model=MODEL, messages=MESSAGES, response_format=Themes)
