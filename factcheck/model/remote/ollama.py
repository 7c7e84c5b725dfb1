"""Ollama (v0.12.11 and later return log-probabilities), natively or OpenAI-style.

- Native, ``--api-base http://host:11434``: ``/api/generate`` with ``raw: true``, ``logprobs``
  and ``top_logprobs`` (at most 20). The prompt is the model's own template, rendered once by
  the server around sentinels (``_debug_render_only``), with the messages' text put in
  between; a server that cannot render without running the model gets ``system`` and
  ``prompt`` and applies its template itself.
- OpenAI-style, ``--api-base http://host:11434/v1``: ``/v1/completions`` with an integer
  ``logprobs``. That endpoint applies the template around the prompt itself and takes no
  system message, so the instructions go before the user's text.

The model is the one ``--api-model`` names as Ollama does (``qwen2.5:7b``), else the first
``/api/tags`` lists. Ollama has no tokenizer endpoint: lengths are counted at
``_CHARS_PER_TOKEN`` characters a token, more tokens than English text takes, so prompts
fit the context; the server's own count is what a record reports. No grammar: JSON answers
are validated and asked again (gateway.py).
"""

from __future__ import annotations

import math
import re
from typing import Any

from ...errors import ModelError, ServerRequestFailed
from ..base import Message, Prompt
from ..template import slot_messages, split_template
from .base import (
    TOP_LOGPROBS,
    ServerModel,
    answers_with,
    first_listed,
    model_info,
    probabilities,
)
from .http import Http, no_logprobs

_CHARS_PER_TOKEN = 3  # English runs ~4 characters a token: counting 3 over-counts, so prompts fit
_PIECE = re.compile(r"\s*\S{1,3}|\s+")  # what a counted "token" is: up to 3 characters of a word


class Ollama(ServerModel):
    kind = "ollama"

    def __init__(self, http, name, info, *, openai_style: bool = False) -> None:
        super().__init__(http, name, info)
        self.openai_style = openai_style
        self._pieces: list[str] = []  # counted "tokens" (pieces of text) by id
        self._ids: dict[str, int] = {}
        self._templates: dict[tuple[str, ...], list[int | str] | None] = {}

    @classmethod
    def answers(cls, http: Http) -> bool:
        return answers_with(http, "/api/version", "version")

    @classmethod
    def served_name(cls, http: Http) -> str:
        """The first model Ollama lists (/api/tags), as it names it."""
        return first_listed(http, "/api/tags", ("models", 0, "name"),
                            missing=f"Ollama at {http.root} has no model: pull one (ollama pull qwen2.5:7b) "
                                    f"and name it with --api-model")

    @classmethod
    def open(cls, http: Http, name: str, n_ctx: int, api_base: str) -> Ollama:
        if http.post("/api/show", {"model": name}, optional=True) is None:
            raise ModelError(f"Ollama at {http.root} has no model {name!r}: pull it (ollama pull {name}) "
                             f"or name one it has with --api-model (ollama list)")
        openai_style = api_base.rstrip("/").endswith("/v1")  # how OpenAI clients are pointed at Ollama
        return cls(http, name, model_info(name, n_ctx, api_base, cls.kind), openai_style=openai_style)

    # -- counting: no tokenizer endpoint --------------------------------------------------

    def _tokenize(self, text: str) -> list[int]:
        ids = []
        for piece in _PIECE.findall(text):
            if piece not in self._ids:
                self._ids[piece] = len(self._pieces)
                self._pieces.append(piece)
            ids.append(self._ids[piece])
        return ids

    def detokenize(self, tokens: list[int]) -> str:
        return "".join(self._pieces[t] for t in tokens)

    def render(self, messages: list[Message]) -> Prompt:
        if [m.role for m in messages] not in (["system", "user"], ["user"]):
            raise ModelError("factcheck speaks to Ollama with a system and a user message only")
        length = sum(math.ceil(len(m.content) / _CHARS_PER_TOKEN) + 8 for m in messages)
        return Prompt(messages=messages, tokens=None, length=length + 8)

    # -- evaluation -----------------------------------------------------------------------

    def _next_token(self, prompt: Prompt):
        answer = self._generate(prompt, max_tokens=1, temperature=0.0, seed=None, top=TOP_LOGPROBS)
        try:
            if self.openai_style:
                logprobs = answer["choices"][0].get("logprobs") or {}
                entries = logprobs["content"][0]["top_logprobs"]
            else:
                entries = answer["logprobs"][0]["top_logprobs"]
        except (KeyError, IndexError, TypeError):
            raise no_logprobs(self.root) from None
        return probabilities(entries, self.root), *self._prompt_tokens(answer, prompt.length)

    def _complete(self, prompt, max_tokens, temperature, grammar, seed):
        answer = self._generate(prompt, max_tokens=max_tokens, temperature=temperature, seed=seed, top=0)
        try:
            text = answer["choices"][0]["text"] if self.openai_style else answer["response"]
        except (KeyError, IndexError, TypeError):
            raise ServerRequestFailed(f"Ollama at {self.root} answered without a completion") from None
        evaluated, reused = self._prompt_tokens(answer, prompt.length)
        generated = (answer.get("usage") or {}).get("completion_tokens") if self.openai_style else answer.get("eval_count")
        return str(text or ""), evaluated, reused, int(generated or 0)

    def _generate(self, prompt: Prompt, *, max_tokens: int, temperature: float, seed: int | None,
                  top: int) -> dict:
        system = next((m.content for m in prompt.messages if m.role == "system"), "")
        user = prompt.messages[-1].content
        if self.openai_style:
            body: dict[str, Any] = {"model": self.model_name, "prompt": f"{system}\n\n{user}" if system else user,
                                    "max_tokens": max_tokens, "temperature": temperature, "stream": False}
            if top:
                body["logprobs"] = top
            if seed is not None:
                body["seed"] = seed
            return self.http.post("/v1/completions", body)
        options: dict[str, Any] = {"temperature": temperature, "num_predict": max_tokens, "num_ctx": self.info.n_ctx}
        if seed is not None:
            options["seed"] = seed
        body = {"model": self.model_name, "stream": False, "options": options, "think": False}
        if top:
            body.update(logprobs=True, top_logprobs=top)
        template = self._template(tuple(m.role for m in prompt.messages))
        if template is None:  # the server applies its template to system and prompt
            return self.http.post("/api/generate", {**body, "system": system, "prompt": user})
        text = "".join(prompt.messages[piece].content if isinstance(piece, int) else piece for piece in template)
        return self.http.post("/api/generate", {**body, "prompt": text, "raw": True})

    def _template(self, roles: tuple[str, ...]) -> list[int | str] | None:
        """The model's template for these roles, rendered by the server once around sentinels:
        its own text, and the index of the message whose content goes in between. None when
        the server cannot render it without running the model."""
        if roles not in self._templates:
            slots = {m["role"]: m["content"] for m in slot_messages(roles)}
            answer = self.http.post("/api/generate", {
                "model": self.model_name, "system": slots.get("system", ""), "prompt": slots["user"],
                "stream": False, "think": False, "_debug_render_only": True,
                "options": {"num_predict": 1}})  # a server that ignores the flag generates one token
            rendered = (answer.get("_debug_info") or {}).get("rendered_template")
            pieces = split_template(rendered) if isinstance(rendered, str) else []
            placed = sorted(p for p in pieces if isinstance(p, int))
            self._templates[roles] = pieces if placed == list(range(len(roles))) else None
        return self._templates[roles]

    def _prompt_tokens(self, answer: dict, length: int) -> tuple[int, int]:
        if self.openai_style:
            return int((answer.get("usage") or {}).get("prompt_tokens") or length), 0
        return int(answer.get("prompt_eval_count") or length), 0

