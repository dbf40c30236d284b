"""A local stand-in for an OpenAI-compatible Chat Completions API, for tests that go through the
real ``openai`` SDK without any network.

Typical use::

    with OpenAIStandIn() as llm:
        llm.queue_json({"themes": []})
        client = OpenAI(api_key="test", base_url=llm.url, timeout=2, max_retries=0)
        client.chat.completions.create(model="gpt-4o-mini", messages=[...])
        (call,) = llm.wait_for(1)

Routes: ``POST /v1/chat/completions`` and ``GET /v1/models`` (plus ``GET /v1/models/{id}``).
Anything else is a 404 in OpenAI's error shape. Known routes require ``Authorization: Bearer
<non-empty>`` (401 otherwise). Every request that reaches the server is recorded in ``calls``,
including the ones answered with an error.

Answers to chat completions come from a FIFO queue of behaviours (``queue_*``); when it is empty the
default responder (``respond_with``) answers. A request rejected before the queue is consulted
(401, malformed JSON, ``stream: true``, missing ``model``/``messages``, a strict schema outside
the supported subset) consumes nothing.

Like the real API, a ``response_format`` JSON schema marked ``"strict": true`` is checked against
strict mode's rules (see ``strict_schema_problem``) and refused with a 400 naming the part that
breaks them, so a schema the SDK renders from a pydantic model is tested as OpenAI would take it.
"""

from __future__ import annotations

import contextlib
import json
import math
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socket import SHUT_RDWR, socket
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = ["ModelCall", "OpenAIStandIn", "strict_schema_problem"]

Responder = Callable[[dict], "str | dict"]

CHAT_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"

# Default error messages and types, as OpenAI words them.
_ERRORS: dict[int, tuple[str, str, str | None]] = {
    400: ("Bad request.", "invalid_request_error", None),
    401: ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    403: ("You are not allowed to sample from this model.", "invalid_request_error", None),
    404: (
        "The model does not exist or you do not have access to it.",
        "invalid_request_error",
        "model_not_found",
    ),
    409: ("The request conflicted with another request.", "invalid_request_error", None),
    422: ("Unprocessable entity.", "invalid_request_error", None),
    429: (
        "Rate limit reached for requests. Please try again later.",
        "requests",
        "rate_limit_exceeded",
    ),
    500: (
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        None,
    ),
    502: ("Bad gateway.", "server_error", None),
    503: ("The engine is currently overloaded, please try again later.", "server_error", None),
    504: ("Gateway timeout.", "server_error", None),
}


_DEFAULT_CODE = object()


def error_body(
    status: int,
    message: str | None = None,
    *,
    type: str | None = None,
    code: str | object | None = _DEFAULT_CODE,
    param: str | None = None,
) -> dict:
    """OpenAI's error shape: ``{"error": {"message", "type", "param", "code"}}``; ``code`` defaults
    to the usual code for ``status`` (pass ``None`` for none)."""
    default_message, default_type, default_code = _ERRORS.get(
        status,
        (f"HTTP {status}.", "server_error" if status >= 500 else "invalid_request_error", None),
    )
    return {
        "error": {
            "message": message if message is not None else default_message,
            "type": type if type is not None else default_type,
            "param": param,
            "code": default_code if code is _DEFAULT_CODE else code,
        }
    }


@dataclass
class ModelCall:
    """One HTTP request the stand-in received."""

    path: str  # without the query string, e.g. "/v1/chat/completions"
    body: dict  # the parsed JSON request body ({} for GETs and bodies that are not a JSON object)
    headers: dict  # lower-cased names
    at: float  # time.monotonic() when the request was read
    method: str = "POST"


# ---------------------------------------------------------------------------- queued behaviours


@dataclass
class _Content:
    content: str
    finish_reason: str = "stop"


@dataclass
class _Refusal:
    text: str


@dataclass
class _Status:
    status: int
    body: dict | None
    retry_after: float | None


@dataclass
class _Hang:
    seconds: float


_Behaviour = _Content | _Refusal | _Status | _Hang


@dataclass
class _Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------------- strict schemas

# Keywords strict mode refuses, as OpenAI documents them. Allowed are the structural keywords
# (type, properties, required, additionalProperties, items, enum, const, anyOf, $ref, $defs,
# title, description) and these limits: pattern, format, minLength, maxLength, minimum, maximum,
# exclusiveMinimum, exclusiveMaximum, multipleOf, minItems, maxItems.
_NOT_PERMITTED = (
    "allOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "dependentRequired",
    "dependentSchemas",
    "patternProperties",
    "unevaluatedProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "unevaluatedItems",
    "contains",
    "minContains",
    "maxContains",
    "uniqueItems",
    "default",
)


def strict_schema_problem(schema: Any) -> str | None:
    """Why a strict ``response_format`` schema would be refused, worded as OpenAI does (``In
    context=(...), ...``), or None when it keeps to strict mode's rules: an object at the root,
    ``additionalProperties: false`` and every property required on each object, and no keyword
    from ``_NOT_PERMITTED``."""
    if not isinstance(schema, dict):
        return "In context=(), schema must be a JSON Schema object."
    if schema.get("type") != "object" or "anyOf" in schema:
        return (
            "In context=(), schema must be a JSON Schema of 'type: \"object\"', got something else."
        )
    return _schema_problem(schema, ())


def _schema_problem(node: Any, context: tuple[str, ...]) -> str | None:
    if not isinstance(node, dict):
        return None
    where = f"In context={context!r}"
    for keyword in _NOT_PERMITTED:
        if keyword in node:
            return f"{where}, '{keyword}' is not permitted."
    properties = node.get("properties")
    if node.get("type") == "object" or isinstance(properties, dict):
        if node.get("additionalProperties") is not False:
            return f"{where}, 'additionalProperties' is required to be supplied and to be false."
        keys = list(properties) if isinstance(properties, dict) else []
        required = node.get("required", [])
        missing = [key for key in keys if not isinstance(required, list) or key not in required]
        if missing:
            return (
                f"{where}, 'required' is required to be supplied and to be an array including "
                f"every key in properties. Missing '{missing[0]}'."
            )
    children: list[tuple[tuple[str, ...], Any]] = []
    for group in ("properties", "$defs", "definitions"):
        if isinstance(node.get(group), dict):
            children += [((*context, group, key), sub) for key, sub in node[group].items()]
    if "items" in node:
        children.append(((*context, "items"), node["items"]))
    if isinstance(node.get("anyOf"), list):
        children += [((*context, "anyOf", str(i)), sub) for i, sub in enumerate(node["anyOf"])]
    for child_context, child in children:
        problem = _schema_problem(child, child_context)
        if problem:
            return problem
    return None


def _response_format_problem(request: dict) -> str | None:
    response_format = request.get("response_format")
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return None
    json_schema = response_format.get("json_schema")
    if not isinstance(json_schema, dict) or json_schema.get("strict") is not True:
        return None
    problem = strict_schema_problem(json_schema.get("schema"))
    if problem is None:
        return None
    return f"Invalid schema for response_format '{json_schema.get('name')}': {problem}"


def _default_responder(body: dict) -> str | dict:
    return {}


def _estimate_tokens(value: Any) -> int:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return max(1, math.ceil(len(text) / 4))


# ---------------------------------------------------------------------------- HTTP plumbing


class _RequestHandler(BaseHTTPRequestHandler):
    standin: OpenAIStandIn
    # HTTP/1.1 so the SDK's keep-alive connections are reused, as against the real API.
    protocol_version = "HTTP/1.1"
    server_version = "OpenAIStandIn/1.0"
    # Idle keep-alive connections are dropped after this many seconds.
    timeout = 30
    # Headers and body go out in separate writes; with Nagle on, keep-alive clients wait for a
    # delayed ACK (~40 ms) on every request.
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        threading.current_thread().name = f"openai-standin-{self.standin.port}-conn"
        self.standin._track(self.connection)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.standin._untrack(self.connection)

    def do_GET(self) -> None:
        self.standin._serve(self)

    def do_POST(self) -> None:
        self.standin._serve(self)

    def do_PUT(self) -> None:
        self.standin._serve(self)

    def do_PATCH(self) -> None:
        self.standin._serve(self)

    def do_DELETE(self) -> None:
        self.standin._serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up is expected here, not worth a traceback.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length > 0 else b""


# ---------------------------------------------------------------------------- the stand-in


class OpenAIStandIn:
    """A local OpenAI-compatible Chat Completions server (see the module docstring)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        model: str = "gpt-4o-mini",
        check_schemas: bool = True,
    ):
        self.host = host
        self.port = port
        self.model = model
        # Refuse strict response_format schemas outside strict mode's subset, as OpenAI does.
        self.check_schemas = check_schemas
        self.calls: list[ModelCall] = []
        # Exceptions raised by a responder (or a bad return value); such calls got a 500 marked
        # "x-should-retry: false" so the SDK surfaces it at once.
        self.responder_errors: list[BaseException] = []
        self._cond = threading.Condition()
        self._queue: deque[_Behaviour] = deque()
        self._responder: Responder = _default_responder
        self._stopping = threading.Event()
        self._connections: set[socket] = set()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """Base URL for the SDK, e.g. ``http://127.0.0.1:PORT/v1``."""
        if self._httpd is None:
            raise RuntimeError("OpenAIStandIn is not started; call start() or use it as a context")
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> OpenAIStandIn:
        """Bind (``port=0`` picks a free port) and serve from a daemon thread; returns self."""
        if self._httpd is not None:
            raise RuntimeError("OpenAIStandIn already started")
        handler = type("_BoundRequestHandler", (_RequestHandler,), {"standin": self})
        self._stopping.clear()
        self._httpd = _HTTPServer((self.host, self.port), handler)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"openai-standin-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake hanging answers and drop open connections. Idempotent."""
        self._stopping.set()
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with self._cond:
            connections = list(self._connections)
            self._connections.clear()
            self._cond.notify_all()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(SHUT_RDWR)

    def __enter__(self) -> OpenAIStandIn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ observing

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[ModelCall]:
        """Wait until at least ``count`` requests were recorded; returns a copy of ``calls``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.calls) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"expected {count} call(s) to the OpenAI stand-in within {timeout}s, "
                        f"got {len(self.calls)}: {[c.path for c in self.calls]}"
                    )
                self._cond.wait(remaining)
            return list(self.calls)

    @property
    def pending(self) -> int:
        """How many queued behaviours are still unused."""
        with self._cond:
            return len(self._queue)

    # ------------------------------------------------------------------ programming answers

    def respond_with(self, responder: Responder) -> None:
        """Answer every call with an empty queue by ``responder(request_body)``: a str is the
        message content as is, a dict (or list) is JSON-encoded into it."""
        if not callable(responder):
            raise TypeError("responder must be callable")
        with self._cond:
            self._responder = responder

    def queue_json(
        self, content: dict | list, times: int = 1, *, finish_reason: str = "stop"
    ) -> None:
        """Answer with ``content`` JSON-encoded; ``finish_reason`` e.g. "length" for an answer
        cut off at the token limit, or "content_filter"."""
        self._enqueue(_Content(json.dumps(content), finish_reason), times)

    def queue_text(self, content: str, times: int = 1, *, finish_reason: str = "stop") -> None:
        if not isinstance(content, str):
            raise TypeError("queue_text takes a str; use queue_json for objects")
        self._enqueue(_Content(content, finish_reason), times)

    def queue_status(
        self,
        status: int,
        times: int = 1,
        body: dict | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Answer with HTTP ``status``. ``body`` replaces the whole JSON body (default: OpenAI's
        error shape for that status). ``retry_after`` (seconds) is sent as ``retry-after``
        (whole seconds, rounded up) and ``retry-after-ms``; the SDK prefers the latter."""
        if not 200 <= status <= 599:
            raise ValueError(f"status must be 200..599, got {status}")
        if retry_after is not None and retry_after < 0:
            raise ValueError("retry_after must be >= 0")
        self._enqueue(_Status(status, body, retry_after), times)

    def queue_hang(self, seconds: float, times: int = 1) -> None:
        """Wait ``seconds`` before answering (with the default responder); stop() cuts it short."""
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        self._enqueue(_Hang(seconds), times)

    def queue_refusal(self, text: str = "I can't help with that.", times: int = 1) -> None:
        self._enqueue(_Refusal(text), times)

    def _enqueue(self, behaviour: _Behaviour, times: int) -> None:
        if times < 1:
            raise ValueError(f"times must be >= 1, got {times}")
        with self._cond:
            self._queue.extend([behaviour] * times)

    # ------------------------------------------------------------------ serving

    def _track(self, conn: socket) -> None:
        with self._cond:
            self._connections.add(conn)

    def _untrack(self, conn: socket) -> None:
        with self._cond:
            self._connections.discard(conn)

    def _serve(self, handler: _RequestHandler) -> None:
        received = time.monotonic()
        method = handler.command
        path = unquote(urlsplit(handler.path).path)
        raw = _read_body(handler)
        headers = {name.lower(): value for name, value in handler.headers.items()}
        parsed: Any = None
        bad_json = False
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                bad_json = True
        call = ModelCall(
            path=path,
            body=parsed if isinstance(parsed, dict) else {},
            headers=headers,
            at=received,
            method=method,
        )
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

        answer = self._answer(method, path, headers, parsed, bad_json)
        if answer is None:  # stopped while hanging: hang up without an answer
            handler.close_connection = True
            return
        self._write(handler, answer)

    def _answer(
        self, method: str, path: str, headers: dict, parsed: Any, bad_json: bool
    ) -> _Answer | None:
        route = path.rstrip("/")
        model_id = route[len(MODELS_PATH) + 1 :] if route.startswith(MODELS_PATH + "/") else None
        known = (method == "POST" and route == CHAT_PATH) or (
            method == "GET" and (route == MODELS_PATH or model_id)
        )
        if not known:
            return _Answer(404, error_body(404, f"Invalid URL ({method} {path})", code=None))

        auth = headers.get("authorization", "")
        scheme, _, key = auth.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            message = (
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
            )
            return _Answer(401, error_body(401, message, code=None))

        if method == "GET":
            return self._models_answer(model_id)

        if bad_json or not isinstance(parsed, dict):
            return _Answer(
                400,
                error_body(400, "We could not parse the JSON body of your request.", code=None),
            )
        if parsed.get("stream"):
            return _Answer(
                400,
                error_body(
                    400, "stream=true is not supported by the stand-in.", param="stream", code=None
                ),
            )
        for name in ("model", "messages"):
            if name not in parsed:
                return _Answer(
                    400,
                    error_body(
                        400,
                        f"Missing required parameter: '{name}'.",
                        param=name,
                        code="missing_required_parameter",
                    ),
                )
        problem = _response_format_problem(parsed) if self.check_schemas else None
        if problem is not None:
            return _Answer(400, error_body(400, problem, param="response_format", code=None))
        return self._chat_answer(parsed)

    def _models_answer(self, model_id: str | None) -> _Answer:
        entry = {"id": self.model, "object": "model", "created": 1700000000, "owned_by": "system"}
        if model_id is None:
            return _Answer(200, {"object": "list", "data": [entry]})
        if model_id != self.model:
            message = f"The model '{model_id}' does not exist"
            return _Answer(404, error_body(404, message, param="model", code="model_not_found"))
        return _Answer(200, entry)

    def _chat_answer(self, request: dict) -> _Answer | None:
        with self._cond:
            behaviour = self._queue.popleft() if self._queue else None
        if isinstance(behaviour, _Hang):
            if self._stopping.wait(behaviour.seconds):
                return None
            behaviour = None
        if isinstance(behaviour, _Status):
            answer_headers = {}
            if behaviour.retry_after is not None:
                answer_headers["retry-after"] = str(math.ceil(behaviour.retry_after))
                answer_headers["retry-after-ms"] = str(round(behaviour.retry_after * 1000))
            body = behaviour.body if behaviour.body is not None else error_body(behaviour.status)
            return _Answer(behaviour.status, body, answer_headers)
        if isinstance(behaviour, _Refusal):
            return _Answer(200, self._completion(request, None, refusal=behaviour.text))
        if isinstance(behaviour, _Content):
            return _Answer(
                200, self._completion(request, behaviour.content, behaviour.finish_reason)
            )

        with self._cond:
            responder = self._responder
        try:
            result = responder(request)
            if isinstance(result, str):
                content = result
            elif isinstance(result, dict | list):
                content = json.dumps(result)
            else:
                raise TypeError(f"responder returned {type(result).__name__}, not str or dict")
        except Exception as exc:  # reported to the test through responder_errors
            with self._cond:
                self.responder_errors.append(exc)
            body = error_body(500, f"stand-in responder failed: {exc!r}")
            return _Answer(500, body, {"x-should-retry": "false"})
        return _Answer(200, self._completion(request, content))

    def _completion(
        self,
        request: dict,
        content: str | None,
        finish_reason: str = "stop",
        *,
        refusal: str | None = None,
    ) -> dict:
        prompt_tokens = _estimate_tokens(request.get("messages"))
        completion_tokens = _estimate_tokens(content if content is not None else refusal or "")
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model") or self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": refusal},
                    "finish_reason": finish_reason,
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    def _write(self, handler: _RequestHandler, answer: _Answer) -> None:
        payload = json.dumps(answer.body).encode()
        try:
            handler.send_response(answer.status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            handler.send_header("x-request-id", f"req_{uuid.uuid4().hex}")
            for name, value in answer.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(payload)
            handler.wfile.flush()
        except OSError:
            # The client gave up (e.g. it timed out during a hang) and closed the connection.
            handler.close_connection = True
