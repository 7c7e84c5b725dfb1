"""A loopback stand-in for Ollama (no Ollama server can be installed here). Its JSON follows
Ollama's own types at v0.12.11 and later (github.com/ollama/ollama: api/types.go
GenerateRequest, GenerateResponse with Metrics and Logprob/TokenLogprob, DebugInfo;
openai/openai.go CompletionRequest, Completion, CompleteChunkChoice with ChoiceLogprobs;
server/routes.go: /api/version, /api/tags, /api/show, the "model '...' not found" 404, and
top_logprobs limited to 0-20).

The model's template is ChatML, rendered for ``_debug_render_only`` as Ollama renders
``system`` and ``prompt``. The "model" answers FALSE when the claim says "false", else TRUE.
Modes: ok, slow (each generation waits ``delay`` s), no_logprobs (logprobs omitted, as a
server before v0.12.11 or LM Studio's), no_debug_render (an Ollama that ignores
``_debug_render_only``)."""

from __future__ import annotations

import json
import time

from .loopback import LoopbackServer, QuietHandler
from .model_server_stub import answer_logprobs

MODELS = ["qwen2.5:7b", "gemma3:270m"]
CREATED = "2026-12-05T10:00:00.000000Z"


def chatml(system: str, prompt: str) -> str:
    head = f"<|im_start|>system\n{system}<|im_end|>\n" if system else ""
    return f"{head}<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n"


def token_logprob(token: str, logprob: float) -> dict:
    return {"token": token, "logprob": logprob, "bytes": list(token.encode())}


class OllamaStub(LoopbackServer):
    def __init__(self) -> None:
        self.mode = "ok"
        self.delay = 2.0
        self.requests: list[tuple[str, dict]] = []  # (path, body) of every POST
        super().__init__()

    def reset(self, mode: str = "ok") -> None:
        self.mode, self.requests = mode, []

    def generations(self, path: str) -> list[dict]:
        return [b for p, b in self.requests if p == path and not b.get("_debug_render_only")]

    def _handler(self):
        server = self

        class Handler(QuietHandler):
            def _send(self, status: int, body) -> None:
                self.reply(status, json.dumps(body).encode(), "application/json; charset=utf-8")

            def do_GET(self):  # noqa: N802
                if self.path == "/api/version":
                    return self._send(200, {"version": "0.12.11"})
                if self.path == "/api/tags":
                    return self._send(200, {"models": [
                        {"name": m, "model": m, "modified_at": CREATED, "size": 4683087332,
                         "digest": "a" * 64, "details": {"parent_model": "", "format": "gguf", "family": "qwen2",
                                                         "families": ["qwen2"], "parameter_size": "7.6B",
                                                         "quantization_level": "Q4_K_M"}} for m in MODELS]})
                if self.path == "/v1/models":
                    return self._send(200, {"object": "list", "data": [
                        {"id": m, "object": "model", "created": 1764928800, "owned_by": "library"} for m in MODELS]})
                self._send(404, {"error": "404 page not found"})

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                server.requests.append((self.path, body))
                if self.path in ("/api/show", "/api/generate", "/v1/completions") and body.get("model") not in MODELS:
                    error = f"model '{body.get('model')}' not found"
                    if self.path == "/v1/completions":  # the OpenAI layer wraps errors its way
                        return self._send(404, {"error": {"message": error, "type": "api_error", "param": None,
                                                          "code": None}})
                    return self._send(404, {"error": error})
                if self.path == "/api/show":
                    return self._send(200, {"modelfile": "FROM qwen2.5:7b", "template": "{{ .Prompt }}",
                                            "details": {"format": "gguf", "family": "qwen2"},
                                            "model_info": {"general.architecture": "qwen2"},
                                            "capabilities": ["completion"]})
                if not 0 <= int(body.get("top_logprobs", 0)) <= 20:
                    return self._send(400, {"error": "top_logprobs must be between 0 and 20"})
                if self.path == "/api/generate":
                    if body.get("_debug_render_only") and server.mode != "no_debug_render":
                        return self._send(200, {"model": body["model"], "created_at": CREATED,
                                                "response": "", "done": False,
                                                "_debug_info": {"rendered_template": chatml(body.get("system", ""),
                                                                                            body["prompt"])}})
                    prompt = body["prompt"] if body.get("raw") else chatml(body.get("system", ""), body["prompt"])
                    return self._generate(body, prompt)
                if self.path == "/v1/completions":
                    return self._completion(body, chatml("", body["prompt"]))
                self._send(404, {"error": "404 page not found"})

            def _answer(self, prompt: str, n_predict: int, top_n: int) -> tuple[str, list[dict] | None]:
                if server.mode == "slow":
                    time.sleep(server.delay)
                top = answer_logprobs(prompt)
                text = top[0][0] if n_predict == 1 else '{"search_query": "stub query"}'
                if server.mode == "no_logprobs" or not top_n:
                    return text, None
                return text, [{**token_logprob(*top[0]), "top_logprobs": [token_logprob(t, lp) for t, lp in top[:top_n]]}]

            def _generate(self, body: dict, prompt: str) -> None:
                options = body.get("options") or {}
                top_n = int(body.get("top_logprobs", 0)) if body.get("logprobs") else 0
                text, logprobs = self._answer(prompt, int(options.get("num_predict", -1)), top_n)
                answer = {"model": body["model"], "created_at": CREATED, "response": text, "done": True,
                          "done_reason": "length", "context": [1, 2, 3], "total_duration": 120000000,
                          "load_duration": 1000000, "prompt_eval_count": len(prompt) // 4,
                          "prompt_eval_duration": 100000000, "eval_count": 1, "eval_duration": 10000000}
                if logprobs is not None:
                    answer["logprobs"] = logprobs
                self._send(200, answer)

            def _completion(self, body: dict, prompt: str) -> None:
                top_n = int(body.get("logprobs") or 0)
                if not 0 <= top_n <= 20:
                    return self._send(400, {"error": {"message": "top_logprobs must be between 0 and 20",
                                                      "type": "invalid_request_error", "param": None, "code": None}})
                text, logprobs = self._answer(prompt, int(body.get("max_tokens") or -1), top_n)
                choice = {"text": text, "index": 0, "finish_reason": "length"}
                if logprobs is not None:
                    choice["logprobs"] = {"content": logprobs}
                n = len(prompt) // 4
                self._send(200, {"id": "cmpl-417", "object": "text_completion", "created": 1764928800,
                                 "model": body["model"], "system_fingerprint": "fp_ollama", "choices": [choice],
                                 "usage": {"prompt_tokens": n, "completion_tokens": 1, "total_tokens": n + 1}})

        return Handler
