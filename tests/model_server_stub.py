"""A loopback stand-in for a model server, for the fault tests and the API shapes that
cannot run here (llama-server, vLLM). The happy path with a real model is tested against
``factcheck serve`` and llama-cpp-python's server (test_real_server.py).

Shapes: ``openai`` (vLLM-like: /v1/models, /v1/chat/completions with top_logprobs,
/tokenize, /detokenize) and ``llama-server`` (/props, /apply-template, /tokenize with
parse_special, /detokenize, /completion with n_probs). Tokens are characters (id = code
point + 1000); the special tokens ``<|im_start|>`` and ``<|im_end|>`` are ids 1 and 2 when
parsed as special. The "model" answers FALSE when the claim says "false", else TRUE.

Modes: ok, slow, 500 / 429 (the first ``fail_times`` model requests; 429 with
Retry-After), fail_on (model requests whose body holds ``fail_text`` always get 500),
truncated, no_logprobs, unauthorized.
"""

from __future__ import annotations

import json
import math
import threading
import time

from .loopback import LoopbackServer, QuietHandler

SPECIAL = {"<|im_start|>": 1, "<|im_end|>": 2}
CHAT_TEMPLATE_PARTS = ("<|im_start|>{role}\n", "<|im_end|>\n")


def tokenize(text: str, parse_special: bool) -> list[int]:
    tokens, i = [], 0
    while i < len(text):
        for piece, token in SPECIAL.items():
            if parse_special and text.startswith(piece, i):
                tokens.append(token)
                i += len(piece)
                break
        else:
            tokens.append(ord(text[i]) + 1000)
            i += 1
    return tokens


def detokenize(tokens: list[int]) -> str:
    names = {v: k for k, v in SPECIAL.items()}
    return "".join(names.get(t, chr(t - 1000) if t >= 1000 else "") for t in tokens)


def apply_template(messages: list[dict]) -> str:
    start, end = CHAT_TEMPLATE_PARTS
    return "".join(start.format(role=m["role"]) + m["content"] + end for m in messages) + "<|im_start|>assistant\n"


def answer_logprobs(prompt_text: str) -> list[tuple[str, float]]:
    claim = prompt_text.rsplit("<claim>", 1)[-1].split("</claim>", 1)[0]
    truth = 0.1 if "false" in claim.lower() else 0.8
    options = [("TRUE", truth), ("FALSE", 0.9 - truth), ("UNKNOWN", 0.05), ("The", 0.05)]
    return [(text, math.log(p)) for text, p in options]


class ModelServerStub(LoopbackServer):
    def __init__(self, shape: str = "openai") -> None:
        self.shape = shape
        self.mode = "ok"
        self.fail_times = 1
        self.fail_text = ""
        self.delay = 2.0
        self.model_requests: list[dict] = []  # bodies of the requests that ran the "model"
        self._failures = 0
        self._lock = threading.Lock()
        super().__init__()

    def reset(self, mode: str = "ok", **options) -> None:
        self.mode, self._failures, self.model_requests = mode, 0, []
        self.fail_times = options.get("fail_times", 1)
        self.fail_text = options.get("fail_text", "")

    def _handler(self):
        server = self

        class Handler(QuietHandler):
            def _send(self, status: int, body, headers: dict | None = None):
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.reply(status, data, "application/json", headers)

            def do_GET(self):  # noqa: N802
                if server.mode == "unauthorized":
                    return self._send(401, {"error": {"message": "invalid api key"}})
                if self.path == "/v1/models":
                    return self._send(200, {"object": "list", "data": [{"id": "stub-model", "owned_by": "stub"}]})
                if self.path == "/props" and server.shape == "llama-server":
                    return self._send(200, {"default_generation_settings": {"n_ctx": 2048}, "model_path": "stub.gguf"})
                self._send(404, {"error": "not found"})

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if server.mode == "unauthorized":
                    return self._send(401, {"error": {"message": "invalid api key"}})
                path = self.path
                if path == "/tokenize":
                    if server.shape == "llama-server":
                        return self._send(200, {"tokens": tokenize(body["content"], body.get("parse_special", True))})
                    return self._send(200, {"tokens": tokenize(body["prompt"], True)})
                if path == "/detokenize":
                    key = "content" if server.shape == "llama-server" else "prompt"
                    return self._send(200, {key: detokenize(body["tokens"])})
                if path == "/apply-template" and server.shape == "llama-server":
                    return self._send(200, {"prompt": apply_template(body["messages"])})
                if path == "/completion" and server.shape == "llama-server":
                    return self._model(body, detokenize(body["prompt"]), self._llama_server_answer)
                if path == "/v1/chat/completions":
                    return self._model(body, apply_template(body["messages"]), self._chat_answer)
                self._send(404, {"error": "not found"})

            def _model(self, body: dict, prompt_text: str, answer) -> None:
                with server._lock:
                    server.model_requests.append(body)
                    failing = server._failures < server.fail_times
                    if server.mode in ("500", "429") and failing:
                        server._failures += 1
                mode = server.mode
                if mode == "slow":
                    time.sleep(server.delay)
                if mode == "500" and failing:
                    return self._send(500, {"error": {"message": "boom"}})
                if mode == "429" and failing:
                    return self._send(429, {"error": {"message": "busy"}}, {"Retry-After": "0.2"})
                if mode == "fail_on" and server.fail_text in json.dumps(body):
                    return self._send(500, {"error": {"message": "this prompt breaks me"}})
                if mode == "truncated":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    self.wfile.write(b'{"choices": [')
                    self.wfile.flush()
                    self.connection.close()
                    return
                self._send(200, answer(body, prompt_text, with_logprobs=mode != "no_logprobs"))

            def _chat_answer(self, body: dict, prompt_text: str, with_logprobs: bool) -> dict:
                top = answer_logprobs(prompt_text)
                logprobs = None
                if with_logprobs and body.get("logprobs"):
                    logprobs = {"content": [{"token": top[0][0], "logprob": top[0][1], "top_logprobs": [
                        {"token": t, "logprob": lp} for t, lp in top[: body.get("top_logprobs", 0)]]}]}
                text = top[0][0] if body.get("max_tokens", 1) == 1 else '{"search_query": "stub query"}'
                n = len(tokenize(prompt_text, True))
                return {"choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                     "logprobs": logprobs, "finish_reason": "length"}],
                        "usage": {"prompt_tokens": n, "completion_tokens": 1, "total_tokens": n + 1}}

            def _llama_server_answer(self, body: dict, prompt_text: str, with_logprobs: bool) -> dict:
                top = answer_logprobs(prompt_text)
                probs = []
                if with_logprobs and body.get("n_probs"):
                    probs = [{"id": 0, "token": top[0][0], "logprob": top[0][1], "top_logprobs": [
                        {"id": i, "token": t, "logprob": lp} for i, (t, lp) in enumerate(top[: body["n_probs"]])]}]
                content = top[0][0] if body.get("n_predict", 1) == 1 else '{"search_query": "stub query"}'
                return {"content": content, "completion_probabilities": probs, "tokens_cached": 0,
                        "tokens_evaluated": len(body["prompt"]), "tokens_predicted": 1,
                        "timings": {"prompt_n": len(body["prompt"])}}

        return Handler
