"""A model behind an inference server, over HTTP: the same interface as the in-process
model, so verdicts, records and guarantees stay the same.

Verdicts are read from the top-N next-token log-probabilities at the answer position
(one token, temperature 0); mass outside the returned alternatives is ``outside_mass``.
Each server is spoken to in its own shape (``FLAVORS``):

- ``llama-server`` (llama.cpp's, and ``factcheck serve``: serve.py): the prompt is rendered
  with the server's own template (``/apply-template``) around sentinels, and sent as token
  ids: template text tokenized with special tokens, claims and evidence without
  (``/tokenize`` ``parse_special``), so ``<|im_start|>`` inside a claim stays text.
  ``/completion`` with ``n_probs``, ``cache_prompt`` and GBNF ``grammar``.
- ``llama-cpp-python`` (``python -m llama_cpp.server``): takes strings only and exposes no
  chat template, so the chat goes to ``/v1/chat/completions`` (the server applies the
  model's template) with special-token text in claims and evidence neutralised first;
  ``top_logprobs``, ``grammar``, ``/extras/tokenize``.
- ``openai`` (vLLM and other OpenAI-compatible servers): ``/v1/chat/completions`` with
  ``top_logprobs`` (vLLM allows up to ``--max-logprobs``, 20 by default), neutralised
  text, ``/tokenize``; no grammar, so JSON outputs are validated and retried (judge.py).

Faults: a server that cannot be reached when factcheck starts is ``ServerUnavailable``
(exit 3, naming the URL); 429 and 5xx answers, timeouts, dropped connections and
truncated bodies are retried with capped exponential backoff (Retry-After honoured, up
to the cap); what still fails is ``ServerRequestFailed``, which a batch records as an
error for that claim before going on. A refused key (401/403) and a server without
log-probabilities are errors for the whole run.
"""

from __future__ import annotations

import functools
import hashlib
import re
import time
from typing import Any

import httpx

from ..errors import ModelError, ServerRequestFailed, ServerUnavailable
from .base import Completion, Message, ModelInfo, NextToken, Prompt

FLAVORS = ("llama-server", "llama-cpp-python", "openai")
TOP_LOGPROBS = 20  # vLLM's default --max-logprobs; the label words sit far inside it
_SLOT = re.compile("\ue000(\\d+)\ue001")  # private-use sentinels mark message content
# Special-token syntaxes of common chat templates (ChatML, Llama 2/3, Gemma, Mistral).
_SPECIAL_TEXT = re.compile(
    r"<\|[^<>|\s]{1,40}\|>|</?s>|\[/?(?:INST|SYSTEM_PROMPT|AVAILABLE_TOOLS)\]|<</?SYS>>"
    r"|<(?:start|end)_of_turn>|<\|?(?:im_start|im_end|endoftext|eot_id|begin_of_text)\|?>")
_WORD_JOINER = "\u2060"  # invisible; breaks a special token's text without changing what it reads as
# Per-message overhead of a chat template, an upper bound (ChatML takes 5) for servers
# that render the template themselves.
_TEMPLATE_TOKENS_PER_MESSAGE = 8


def neutralise(text: str) -> str:
    """Break special-token text (``<|im_end|>``, ``[INST]``, ...) so a server that parses
    special tokens in strings reads it as plain characters."""
    return _SPECIAL_TEXT.sub(lambda m: m.group(0)[0] + _WORD_JOINER + m.group(0)[1:], text)


def split_api_base(api_base: str) -> tuple[str, str]:
    """(server root, OpenAI base) for a URL given either way: ``http://h:8080`` or
    ``http://h:8080/v1``, as OpenAI-compatible clients are usually configured."""
    base = api_base.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", base):
        raise ModelError(f"--api-base must be an http(s) URL like http://127.0.0.1:8080/v1, not {api_base!r}")
    root = base[:-3] if base.endswith("/v1") else base
    return root, root + "/v1"


class Http:
    """JSON over HTTP with the retry policy above. Thread-safe (one httpx client)."""

    def __init__(self, root: str, api_key: str | None, *, timeout: float, retries: int = 4,
                 backoff: float = 0.5, max_backoff: float = 8.0) -> None:
        self.root = root
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=timeout, headers=headers)
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.reached = False  # once the server has answered, a refused connection is transient

    def close(self) -> None:
        self._client.close()

    def get(self, path: str, *, optional: bool = False) -> Any:
        return self.request("GET", path, optional=optional)

    def post(self, path: str, body: dict, *, optional: bool = False) -> Any:
        return self.request("POST", path, body, optional=optional)

    def request(self, method: str, path: str, body: dict | None = None, *, optional: bool = False) -> Any:
        """The decoded JSON answer. ``optional``: a 404/405 returns None (probing for an
        endpoint) instead of raising."""
        url = self.root + path
        problem = ""
        for attempt in range(self.retries + 1):
            wait = min(self.max_backoff, self.backoff * 2 ** attempt)
            try:
                response = self._client.request(method, url, json=body)
            except httpx.ConnectError as exc:
                if not self.reached:
                    raise ServerUnavailable(f"no model server answers at {self.root} ({_reason(exc)}): "
                                            f"start it, or check --api-base") from None
                problem = f"connection to {self.root} failed ({_reason(exc)})"
            except httpx.TimeoutException:
                problem = f"no answer from {url} within {self.timeout:g} s"
            except httpx.TransportError as exc:
                problem = f"{url}: {_reason(exc)}"
            else:
                self.reached = True
                status = response.status_code
                if status in (401, 403):
                    raise ModelError(f"the model server at {self.root} refused the API key (HTTP {status}): "
                                     f"set --api-key, FACTCHECK_API_KEY or OPENAI_API_KEY")
                if optional and status in (404, 405, 501):
                    return None
                if status >= 400 and "logprob" in _detail(response).lower():
                    # a server that cannot return them (llama-cpp-python started with
                    # --logits_all false): retrying will not help
                    raise _no_logprobs(self.root, _detail(response))
                if status == 429 or status >= 500:
                    problem = f"{url} answered HTTP {status} ({_detail(response)[:120]})"
                    wait = min(self.max_backoff, _retry_after(response) or wait)
                elif status >= 400:
                    raise ServerRequestFailed(f"{url} answered HTTP {status}: {_detail(response)}")
                else:
                    try:
                        return response.json()
                    except ValueError:
                        problem = f"{url} sent a body that is not whole JSON"
            if attempt < self.retries:
                time.sleep(wait)
        raise ServerRequestFailed(f"{problem}; gave up after {self.retries + 1} tries")


def _reason(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("retry-after", "")))
    except ValueError:
        return None


def _detail(response: httpx.Response) -> str:
    try:
        data = response.json()
        error = data.get("error", data.get("detail", data)) if isinstance(data, dict) else data
        if isinstance(error, dict):
            error = error.get("message", error)
        text = str(error)
    except ValueError:
        text = response.text
    return " ".join(text.split())[:300]


def detect_flavor(http: Http) -> str:
    """Which server API ``http`` speaks: llama-server answers /props, llama-cpp-python
    has /extras/tokenize, anything else is treated as a plain OpenAI-compatible server."""
    props = http.get("/props", optional=True)
    if isinstance(props, dict) and "default_generation_settings" in props:
        return "llama-server"
    if http.post("/extras/tokenize", {"input": "a"}, optional=True) is not None:
        return "llama-cpp-python"
    return "openai"


_served_names: dict[str, str] = {}  # root -> name: settings and the loader both ask


def served_model_name(http: Http, v1_path: str = "/v1") -> str:
    """The first model the server lists (/v1/models), as it names it."""
    if http.root in _served_names:
        return _served_names[http.root]
    listing = http.get(f"{v1_path}/models")
    try:
        name = _served_names[http.root] = str(listing["data"][0]["id"])
        return name
    except (KeyError, IndexError, TypeError):
        raise ModelError(f"the server at {http.root} lists no model at {v1_path}/models: "
                         f"give the model's name with --api-model") from None


def remote_identity(name: str) -> str:
    """What stands for a served model's SHA-256 (profiles and cache keys need one). The
    server's file cannot be hashed from here, so the default model is recognised by its
    file name, and any other model is keyed by its name."""
    from ..model_files import DEFAULT_MODEL_FILE, DEFAULT_MODEL_SHA256

    if re.split(r"[\\/]", name)[-1].lower() == DEFAULT_MODEL_FILE.lower():
        return DEFAULT_MODEL_SHA256
    return hashlib.sha256(f"served model:{name}".encode()).hexdigest()


def served_identity(api_base: str, model: str | None, api_key: str | None, timeout: float) -> str:
    """``remote_identity`` of the model the settings point at, asking the server for its
    name when none is given (resolving settings needs it to find the model's profile)."""
    if model is None:
        root, _ = split_api_base(api_base)
        http = Http(root, api_key, timeout=min(timeout, 30.0), retries=1)
        try:
            model = served_model_name(http)
        finally:
            http.close()
    return remote_identity(model)


class RemoteModel:
    """The model behind an OpenAI-compatible server; see the module docstring."""

    supports_hidden = False  # servers return no hidden state: the probe reader is local-only

    def __init__(self, api_base: str, *, api_key: str | None = None, model: str | None = None,
                 n_ctx: int = 4096, timeout: float = 120.0, retries: int = 4, backoff: float = 0.5,
                 max_backoff: float = 8.0) -> None:
        self.root, v1 = split_api_base(api_base)
        self.http = Http(self.root, api_key, timeout=timeout, retries=retries, backoff=backoff,
                         max_backoff=max_backoff)
        self.flavor = detect_flavor(self.http)
        name = model or served_model_name(self.http)
        self.model_name = name
        self.supports_grammar = self.flavor in ("llama-server", "llama-cpp-python")
        if self.flavor == "llama-server":
            settings = self.http.get("/props").get("default_generation_settings", {})
            n_ctx = int(settings.get("n_ctx") or n_ctx)
        self.info = ModelInfo(path=None, name=name, sha256=remote_identity(name), size=0, context_length=0,
                              n_ctx=n_ctx, chat_template=None, architecture="unknown (served)",
                              server=v1, flavor=self.flavor)
        # one tiny pass now, so a server without logprobs fails before a batch starts
        self.next_token(self.render([Message("user", "Answer with one word: yes or no?")]))

    # -- tokens ----------------------------------------------------------------------

    def vocab_pieces(self) -> None:
        return None  # unknown: answers are mapped by their text

    def tokenize(self, text: str) -> list[int]:
        """Plain text to the server's token ids (special-token syntax stays text where
        the server allows it; elsewhere neutralised first)."""
        return list(self._tokenize(text)) if text else []

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one model per process; the same sentence is fitted often
    def _tokenize(self, text: str) -> tuple[int, ...]:
        if self.flavor == "llama-server":
            answer = self.http.post("/tokenize", {"content": text, "parse_special": False, "add_special": False})
        elif self.flavor == "llama-cpp-python":
            answer = self.http.post("/extras/tokenize", {"input": neutralise(text)})
        else:
            answer = self.http.post("/tokenize", {"model": self.model_name, "prompt": neutralise(text),
                                                  "add_special_tokens": False}, optional=True)
            if answer is None:
                raise ModelError(f"the server at {self.root} has no /tokenize endpoint: factcheck needs it to "
                                 f"fit prompts into the context (vLLM, llama.cpp and llama-cpp-python have one)")
        return tuple(int(t["id"]) if isinstance(t, dict) else int(t) for t in answer["tokens"])

    def detokenize(self, tokens: list[int]) -> str:
        if not tokens:
            return ""
        if self.flavor == "llama-server":
            return self.http.post("/detokenize", {"tokens": tokens})["content"]
        if self.flavor == "llama-cpp-python":
            return self.http.post("/extras/detokenize", {"tokens": tokens})["text"]
        return self.http.post("/detokenize", {"model": self.model_name, "tokens": tokens})["prompt"]

    def render(self, messages: list[Message]) -> Prompt:
        if self.flavor == "llama-server":
            tokens = self._server_tokens(messages)
            return Prompt(messages=messages, tokens=tokens, length=len(tokens))
        safe = [Message(m.role, neutralise(m.content)) for m in messages]
        length = sum(len(self._tokenize(m.content)) + _TEMPLATE_TOKENS_PER_MESSAGE for m in safe)
        return Prompt(messages=safe, tokens=None, length=length + _TEMPLATE_TOKENS_PER_MESSAGE)

    def _server_tokens(self, messages: list[Message]) -> list[int]:
        """The server's template around the messages: its own text tokenized with special
        tokens, the messages' content as plain text."""
        tokens: list[int] = []
        for piece in self._template(tuple(m.role for m in messages)):
            tokens += self.tokenize(messages[piece].content) if isinstance(piece, int) else piece
        return tokens

    @functools.lru_cache(maxsize=64)  # noqa: B019 - the template depends only on the roles
    def _template(self, roles: tuple[str, ...]) -> tuple[int | list[int], ...]:
        """The template for these roles, rendered once around sentinels: token ids of its
        own text, and the index of the message whose content goes in between."""
        slots = [{"role": role, "content": f"\ue000{i}\ue001"} for i, role in enumerate(roles)]
        rendered = self.http.post("/apply-template", {"messages": slots})["prompt"]
        pieces: list[int | list[int]] = []
        for i, part in enumerate(_SLOT.split(rendered)):
            if i % 2:
                pieces.append(int(part))
            elif part:
                answer = self.http.post("/tokenize", {"content": part, "parse_special": True, "add_special": False})
                pieces.append([int(t["id"]) if isinstance(t, dict) else int(t) for t in answer["tokens"]])
        return tuple(pieces)

    # -- evaluation ------------------------------------------------------------------

    def next_token(self, prompt: Prompt, hidden: bool = False) -> NextToken:
        if hidden:
            raise ModelError("the probe reader needs the model's hidden state, which a model server does not "
                             "return: use --reader joint (label logits) with --api-base")
        start = time.perf_counter()
        if self.flavor == "llama-server":
            answer = self.http.post("/completion", {
                "prompt": prompt.tokens, "n_predict": 1, "n_probs": TOP_LOGPROBS, "temperature": 0,
                "cache_prompt": True, "return_tokens": False})
            top = _llama_server_top(answer, self.root)
            evaluated, reused = _llama_server_tokens(answer, prompt.length)
        else:
            answer = self.http.post("/v1/chat/completions", {
                **self._chat_body(prompt), "max_tokens": 1, "temperature": 0,
                "logprobs": True, "top_logprobs": TOP_LOGPROBS})
            top = _chat_top(answer, self.root)
            evaluated, reused = _chat_usage(answer, prompt.length)
        return NextToken(evaluated=evaluated, reused=reused, seconds=time.perf_counter() - start, top=top)

    def complete(self, prompt: Prompt, max_tokens: int, temperature: float = 0.0,
                 grammar: str | None = None, seed: int | None = None) -> Completion:
        start = time.perf_counter()
        if self.flavor == "llama-server":
            body: dict[str, Any] = {"prompt": prompt.tokens, "n_predict": max_tokens, "temperature": temperature,
                                    "cache_prompt": True}
            if grammar is not None:
                body["grammar"] = grammar
            if seed is not None:
                body["seed"] = seed
            answer = self.http.post("/completion", body)
            evaluated, reused = _llama_server_tokens(answer, prompt.length)
            return Completion(text=str(answer.get("content", "")), prompt_tokens=evaluated, reused=reused,
                              generated=int(answer.get("tokens_predicted", 0)), seconds=time.perf_counter() - start)
        body = {**self._chat_body(prompt), "max_tokens": max_tokens, "temperature": temperature}
        if grammar is not None and self.supports_grammar:
            body["grammar"] = grammar
        if seed is not None:
            body["seed"] = seed
        answer = self.http.post("/v1/chat/completions", body)
        try:
            text = answer["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise ServerRequestFailed(f"{self.root}/v1/chat/completions answered without a message") from None
        evaluated, reused = _chat_usage(answer, prompt.length)
        generated = int((answer.get("usage") or {}).get("completion_tokens", 0))
        return Completion(text=text, prompt_tokens=evaluated, reused=reused, generated=generated,
                          seconds=time.perf_counter() - start)

    def _chat_body(self, prompt: Prompt) -> dict[str, Any]:
        return {"model": self.model_name, "stream": False,
                "messages": [{"role": m.role, "content": m.content} for m in prompt.messages]}

    def close(self) -> None:
        self.http.close()


def _no_logprobs(root: str, detail: str = "") -> ModelError:
    said = f" (it said: {detail[:160]})" if detail else ""
    return ModelError(f"the model server at {root} returned no log-probabilities{said}: factcheck reads "
                      f"verdicts from them, so the server must return logprobs (llama.cpp's llama-server, "
                      f"vLLM, and llama-cpp-python's server with its default --logits_all true do)")


def _probabilities(entries: list[dict]) -> dict[str, float]:
    """token text -> probability, most likely first, from logprob or prob entries."""
    import math

    top: dict[str, float] = {}
    for entry in entries:
        text = entry.get("token", entry.get("tok_str"))
        if text is None:
            continue
        p = math.exp(entry["logprob"]) if "logprob" in entry else float(entry.get("prob", 0.0))
        top[str(text)] = top.get(str(text), 0.0) + p  # two ids can share a text
    return dict(sorted(top.items(), key=lambda kv: kv[1], reverse=True))


def _chat_top(answer: dict, root: str) -> dict[str, float]:
    try:
        first = answer["choices"][0]["logprobs"]["content"][0]
        entries = first["top_logprobs"]
    except (KeyError, IndexError, TypeError):
        raise _no_logprobs(root) from None
    if not entries:
        raise _no_logprobs(root)
    return _probabilities(entries)


def _chat_usage(answer: dict, length: int) -> tuple[int, int]:
    usage = answer.get("usage") or {}
    total = int(usage.get("prompt_tokens") or length)
    cached = int(((usage.get("prompt_tokens_details") or {}).get("cached_tokens")) or 0)
    return total - cached, cached


def _llama_server_top(answer: dict, root: str) -> dict[str, float]:
    try:
        first = answer["completion_probabilities"][0]
    except (KeyError, IndexError, TypeError):
        raise _no_logprobs(root) from None
    entries = first.get("top_logprobs") or first.get("top_probs") or first.get("probs")
    if not entries:
        raise _no_logprobs(root)
    return _probabilities(entries)


def _llama_server_tokens(answer: dict, length: int) -> tuple[int, int]:
    cached = int(answer.get("tokens_cached") or 0)
    evaluated = (answer.get("timings") or {}).get("prompt_n")
    if evaluated is None:
        evaluated = max(0, int(answer.get("tokens_evaluated") or length) - cached)
    return int(evaluated), cached
