"""llama.cpp's ``llama-server`` (and ``factcheck serve``, serve.py).

The prompt is rendered with the server's own template (``/apply-template``) around
sentinels, and sent as token ids: template text tokenized with special tokens, claims and
evidence without (``/tokenize`` ``parse_special``), so ``<|im_start|>`` inside a claim stays
text. ``/completion`` with ``n_probs``, ``cache_prompt`` and a GBNF ``grammar``."""

from __future__ import annotations

from ..base import Message, Prompt
from ..template import slot_messages, split_template
from .base import (
    TOP_LOGPROBS,
    ServerModel,
    answers_with,
    model_info,
    probabilities,
    token_ids,
)
from .http import Http, no_logprobs


class LlamaServer(ServerModel):
    kind = "llama-server"
    supports_grammar = True

    def __init__(self, http, name, info) -> None:
        super().__init__(http, name, info)
        self._templates: dict[tuple[str, ...], tuple[int | list[int], ...]] = {}

    @classmethod
    def answers(cls, http: Http) -> bool:
        return answers_with(http, "/props", "default_generation_settings")

    @classmethod
    def open(cls, http: Http, name: str, n_ctx: int, api_base: str) -> LlamaServer:
        settings = http.get("/props").get("default_generation_settings", {})
        return cls(http, name, model_info(name, int(settings.get("n_ctx") or n_ctx), api_base, cls.kind))

    def _tokenize(self, text: str) -> list[int]:
        return token_ids(self.http.post("/tokenize", {"content": text, "parse_special": False, "add_special": False}))

    def detokenize(self, tokens: list[int]) -> str:
        return self.http.post("/detokenize", {"tokens": tokens})["content"] if tokens else ""

    def render(self, messages: list[Message]) -> Prompt:
        """The server's template around the messages: its own text tokenized with special
        tokens, the messages' content as plain text."""
        tokens: list[int] = []
        for piece in self._template(tuple(m.role for m in messages)):
            tokens += self.tokenize(messages[piece].content) if isinstance(piece, int) else piece
        return Prompt(messages=messages, tokens=tokens, length=len(tokens))

    def _template(self, roles: tuple[str, ...]) -> tuple[int | list[int], ...]:
        """The template for these roles, rendered once around sentinels: token ids of its
        own text, and the index of the message whose content goes in between."""
        if roles in self._templates:
            return self._templates[roles]
        rendered = self.http.post("/apply-template", {"messages": slot_messages(roles)})["prompt"]
        self._templates[roles] = tuple(
            piece if isinstance(piece, int) else token_ids(self.http.post(
                "/tokenize", {"content": piece, "parse_special": True, "add_special": False}))
            for piece in split_template(rendered))
        return self._templates[roles]

    def _next_token(self, prompt: Prompt):
        answer = self.http.post("/completion", {
            "prompt": prompt.tokens, "n_predict": 1, "n_probs": TOP_LOGPROBS, "temperature": 0,
            "cache_prompt": True, "return_tokens": False})
        try:
            first = answer["completion_probabilities"][0]
        except (KeyError, IndexError, TypeError):
            raise no_logprobs(self.root) from None
        entries = first.get("top_logprobs") or first.get("top_probs") or first.get("probs")
        return (probabilities(entries, self.root), *_prompt_tokens(answer, prompt.length))

    def _complete(self, prompt, max_tokens, temperature, grammar, seed):
        body = {"prompt": prompt.tokens, "n_predict": max_tokens, "temperature": temperature, "cache_prompt": True}
        if grammar is not None:
            body["grammar"] = grammar
        if seed is not None:
            body["seed"] = seed
        answer = self.http.post("/completion", body)
        evaluated, reused = _prompt_tokens(answer, prompt.length)
        return str(answer.get("content", "")), evaluated, reused, int(answer.get("tokens_predicted", 0))


def _prompt_tokens(answer: dict, length: int) -> tuple[int, int]:
    cached = int(answer.get("tokens_cached") or 0)
    evaluated = (answer.get("timings") or {}).get("prompt_n")
    if evaluated is None:
        evaluated = max(0, int(answer.get("tokens_evaluated") or length) - cached)
    return int(evaluated), cached
