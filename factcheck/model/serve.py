"""``factcheck serve``: the in-process model behind HTTP, for ``--api-base`` clients in other
processes or on other machines.

It speaks the part of llama.cpp's ``llama-server`` API that remote/llama_server.py's
flavor uses (``/props``, ``/apply-template``, ``/tokenize``, ``/detokenize``, ``/completion``
with ``n_probs``, ``cache_prompt`` and ``grammar``; ``/v1/models``, ``/health``), so clients
send token ids, reuse the KV cache of a shared prefix, and read the probabilities the model
gives in process, with the same kernels. Why not an existing server:

- ``python -m llama_cpp.server`` must run with ``logits_all`` to return log-probabilities,
  computing the 151,936-way output layer for every prompt token (about 2x slower here), and
  it loads with llama.cpp's CPU weight repacking, whose AMX kernels (Intel Sapphire Rapids
  and later) segfault on this model's Q4_K weights at the first prompt
  (ggml-org/llama.cpp#20824);
- ``llama-server`` itself is not on PyPI.

The standard library's threaded HTTP server is enough: one model answers one request at a
time (a lock), and requests are small JSON. No dependency beyond factcheck's own.
"""

from __future__ import annotations

import hmac
import json
import math
import sys
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

import numpy as np

from ..errors import FactcheckError, GrammarError, InputError
from .base import LanguageModel, Prompt
from .loader import open_local_model

MAX_BODY_BYTES = 16 * 1024 * 1024  # a prompt of a full context is ~100 KB of JSON
MAX_PROBS = 100


class ServableModel(LanguageModel, Protocol):
    """What a served model needs beyond the pipeline's interface: its chat template as
    text and template text tokenized with special tokens (LlamaModel has both)."""

    def template_text(self, messages: list[dict]) -> str: ...
    def tokenize_special(self, text: str) -> list[int]: ...


class RequestError(Exception):
    """A request the server answers with an HTTP error status and a one-line message."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


class ModelEndpoints:
    """The API, independent of HTTP: each method takes the decoded JSON body and returns
    the JSON answer. One model, one request at a time."""

    def __init__(self, model: ServableModel, name: str) -> None:
        self.model = model
        self.name = name
        self._lock = threading.Lock()

    def route(self, method: str, path: str) -> Callable[[dict], Any] | None:
        return {
            ("GET", "/health"): lambda _body: {"status": "ok"},
            ("GET", "/v1/models"): self.models,
            ("GET", "/props"): self.props,
            ("POST", "/apply-template"): self.apply_template,
            ("POST", "/tokenize"): self.tokenize,
            ("POST", "/detokenize"): self.detokenize,
            ("POST", "/completion"): self.completion,
        }.get((method, path))

    def models(self, _body: dict) -> dict:
        return {"object": "list", "data": [{"id": self.name, "object": "model", "owned_by": "factcheck"}]}

    def props(self, _body: dict) -> dict:
        info = self.model.info
        return {"default_generation_settings": {"n_ctx": info.n_ctx}, "total_slots": 1,
                "model_path": self.name, "chat_template": info.chat_template or ""}

    def apply_template(self, body: dict) -> dict:
        messages = body.get("messages")
        if not isinstance(messages, list) or not all(
                isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
                for m in messages):
            raise RequestError(HTTPStatus.BAD_REQUEST, "'messages' must be a list of {role, content} strings")
        with self._lock:
            return {"prompt": self.model.template_text(messages)}

    def tokenize(self, body: dict) -> dict:
        content = _field(body, "content", str)
        with self._lock:
            # llama-server's defaults: special-token syntax parsed, no BOS added
            tokens = (self.model.tokenize_special(content) if body.get("parse_special", True)
                      else self.model.tokenize(content))
        return {"tokens": tokens}

    def detokenize(self, body: dict) -> dict:
        tokens = self._token_ids(body.get("tokens"))
        with self._lock:
            return {"content": self.model.detokenize(tokens)}

    def completion(self, body: dict) -> dict:
        prompt = body.get("prompt")
        n_predict = _field(body, "n_predict", int, 16)
        n_probs = min(MAX_PROBS, _field(body, "n_probs", int, 0))
        temperature = float(_field(body, "temperature", (int, float), 0.0))
        grammar = body.get("grammar") or None
        seed = body.get("seed")
        if n_predict < 1:
            raise RequestError(HTTPStatus.BAD_REQUEST, "'n_predict' must be at least 1")
        with self._lock:
            tokens = (self.model.tokenize_special(prompt) if isinstance(prompt, str)
                      else self._token_ids(prompt))
            if not tokens:
                raise RequestError(HTTPStatus.BAD_REQUEST, "'prompt' is empty")
            if len(tokens) + n_predict > self.model.info.n_ctx:
                raise RequestError(HTTPStatus.BAD_REQUEST, f"prompt of {len(tokens)} tokens and {n_predict} to "
                                                           f"generate exceed the context of {self.model.info.n_ctx}")
            rendered = Prompt(messages=[], tokens=tokens, length=len(tokens))
            answer: dict[str, Any] = {"model": self.name, "tokens_evaluated": len(tokens), "stop": True}
            if n_probs and n_predict == 1 and grammar is None and temperature == 0:
                # the verdict read: one pass, the distribution at the answer position
                step = self.model.next_token(rendered)
                top = self._top(step.probs, n_probs)
                answer.update(content=top[0]["token"], tokens_predicted=1, tokens_cached=step.reused,
                              timings={"prompt_n": step.evaluated},
                              completion_probabilities=[{**top[0], "top_logprobs": top}])
                return answer
            if n_probs:
                raise RequestError(HTTPStatus.BAD_REQUEST, "'n_probs' is served for one greedy token "
                                                           "(n_predict 1, temperature 0, no grammar)")
            if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
                raise RequestError(HTTPStatus.BAD_REQUEST, "'seed' must be an integer")
            if grammar is not None and not isinstance(grammar, str):
                raise RequestError(HTTPStatus.BAD_REQUEST, "'grammar' must be a string (GBNF)")
            try:  # the model checks the grammar before generating: llama-cpp-python would crash
                done = self.model.complete(rendered, n_predict, temperature=temperature, grammar=grammar, seed=seed)
            except GrammarError as exc:
                raise RequestError(HTTPStatus.BAD_REQUEST, f"'grammar': {exc}") from None
            answer.update(content=done.text, tokens_predicted=done.generated, tokens_cached=done.reused,
                          timings={"prompt_n": done.prompt_tokens})
            return answer

    def _top(self, probs: np.ndarray, n: int) -> list[dict]:
        pieces = self.model.vocab_pieces()
        n = min(n, probs.size)
        best = np.argpartition(-probs, n - 1)[:n]  # the top n without sorting the whole vocabulary
        best = best[np.argsort(-probs[best])]
        return [{"id": int(i), "token": pieces[i], "logprob": math.log(max(float(probs[i]), 1e-300))} for i in best]

    def _token_ids(self, value: Any) -> list[int]:
        vocabulary = len(self.model.vocab_pieces())
        if not isinstance(value, list) or not all(isinstance(t, int) and 0 <= t < vocabulary for t in value):
            raise RequestError(HTTPStatus.BAD_REQUEST, f"tokens must be a list of ids in [0, {vocabulary})")
        return value


def _json_object(raw: bytes) -> dict:
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise RequestError(HTTPStatus.BAD_REQUEST, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise RequestError(HTTPStatus.BAD_REQUEST, "the body must be a JSON object")
    return body


def _field(body: dict, key: str, kind, default: Any = ...) -> Any:
    value = body.get(key, default)
    if value is ... or isinstance(value, bool) or not isinstance(value, kind):
        raise RequestError(HTTPStatus.BAD_REQUEST, f"'{key}' is missing or not a {getattr(kind, '__name__', 'number')}")
    return value


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients send many small requests
    # headers and body go out as two writes; with Nagle's algorithm the second waits for
    # the client's delayed ACK, 40 ms a request (measured: 6 s on 24 claims)
    disable_nagle_algorithm = True
    server: ModelHTTPServer

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def _answer(self, method: str) -> None:
        path = self.path.split("?", 1)[0]
        try:
            # the body is read first, whatever the answer: a keep-alive connection must not
            # keep unread bytes for the next request
            raw = self._read_body() if method == "POST" else b""
            handler = self.server.endpoints.route(method, path)
            if handler is None:
                raise RequestError(HTTPStatus.NOT_FOUND, f"no endpoint {method} {path}")
            if path != "/health":
                self._authorise()
            self._answer_json(HTTPStatus.OK, handler(_json_object(raw) if method == "POST" else {}))
        except RequestError as exc:
            self._answer_json(exc.status, {"error": {"code": exc.status.value, "message": str(exc)}})
        except FactcheckError as exc:  # e.g. a prompt llama.cpp could not evaluate
            self._answer_json(HTTPStatus.INTERNAL_SERVER_ERROR,
                              {"error": {"code": 500, "message": str(exc)}})
        except Exception as exc:  # noqa: BLE001 - answer, say it once on stderr, keep serving
            message = f"{type(exc).__name__}: {exc}"
            print(f"factcheck serve: {method} {path} failed ({message})", file=sys.stderr, flush=True)
            self._answer_json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": {"code": 500, "message": message}})

    def _authorise(self) -> None:
        key = self.server.api_key
        if key is None:
            return
        sent = self.headers.get("Authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {key}".encode()):
            raise RequestError(HTTPStatus.UNAUTHORIZED, "invalid API key")

    def _read_body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self.close_connection = True  # the body stays unread: this connection is done
            raise RequestError(HTTPStatus.BAD_REQUEST if length < 0 else HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                               f"the body needs a Content-Length of at most {MAX_BODY_BYTES} bytes")
        return self.rfile.read(length)

    def _answer_json(self, status: HTTPStatus, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request would bury the server's own messages


class ModelHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64  # clients that connect while the model loads wait, not fail

    def __init__(self, address: tuple[str, int], endpoints: ModelEndpoints | None = None,
                 api_key: str | None = None) -> None:
        self.endpoints = endpoints  # set before serve_forever(); binding comes first
        self.api_key = api_key
        try:
            super().__init__(address, _Handler)
        except OSError as exc:
            raise InputError(f"cannot listen on {address[0]}:{address[1]} ({exc.strerror or exc}): "
                             f"pass another --port or --host") from None


def serve(settings, *, host: str, port: int, api_key: str | None = None) -> None:
    """Serve the model ``settings`` name (the default model unless --model) until
    interrupted; one line on stderr says where. The address is bound before the model
    loads, so a taken port fails at once."""

    server = ModelHTTPServer((host, port), api_key=api_key)
    try:
        # the first run also assembles the default model from its packages (about a minute)
        print("loading the model…", file=sys.stderr, flush=True)
        model = open_local_model(settings)
        name = model.info.path.name
        server.endpoints = ModelEndpoints(model, name)
        base = f"http://{host}:{server.server_address[1]}/v1"
        keyed = ", key required" if api_key else ""
        print(f"serving {name} at {base}{keyed} (factcheck ... --api-base {base}); Ctrl+C stops",
              file=sys.stderr, flush=True)
        server.serve_forever()
    finally:
        server.server_close()
