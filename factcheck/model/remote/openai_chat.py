"""OpenAI-style chat completions: vLLM and other OpenAI-compatible servers, and
llama-cpp-python's server (``python -m llama_cpp.server``).

These servers take strings and apply the model's chat template themselves, so a message's
text can reach the model as special tokens: factcheck's prompts send untrusted text only
defused (``factcheck.prompts.defuse``). ``/v1/chat/completions`` with ``top_logprobs``
(vLLM allows up to ``--max-logprobs``, 20 by default). vLLM tokenizes at ``/tokenize`` and
has no grammar, so JSON outputs are validated and retried (gateway.py); llama-cpp-python
tokenizes at ``/extras/tokenize`` and takes a GBNF ``grammar``."""

from __future__ import annotations

from typing import Any

from ...errors import ModelError, ServerRequestFailed
from ..base import Message, Prompt
from .base import TOP_LOGPROBS, ServerModel, probabilities, token_ids
from .http import Http, no_logprobs

# Per-message overhead of a chat template, an upper bound (ChatML takes 5): the server
# renders the template, so a prompt's length is counted from its messages.
_TEMPLATE_TOKENS_PER_MESSAGE = 8


class OpenAIChat(ServerModel):
    kind = "openai"

    @classmethod
    def answers(cls, http: Http) -> bool:
        return True  # the API every other kind here also speaks: the last to be tried

    def _tokenize(self, text: str) -> list[int]:
        answer = self.http.post("/tokenize", {"model": self.model_name, "prompt": text, "add_special_tokens": False},
                                optional=True)
        if answer is None:
            raise ModelError(f"the server at {self.root} has no /tokenize endpoint: factcheck needs it to "
                             f"fit prompts into the context (vLLM, llama.cpp and llama-cpp-python have one)")
        return token_ids(answer)

    def detokenize(self, tokens: list[int]) -> str:
        return self.http.post("/detokenize", {"model": self.model_name, "tokens": tokens})["prompt"] if tokens else ""

    def render(self, messages: list[Message]) -> Prompt:
        length = sum(len(self.tokenize(m.content)) + _TEMPLATE_TOKENS_PER_MESSAGE for m in messages)
        return Prompt(messages=messages, tokens=None, length=length + _TEMPLATE_TOKENS_PER_MESSAGE)

    def _chat(self, prompt: Prompt, **options: Any) -> dict:
        return self.http.post("/v1/chat/completions", {
            "model": self.model_name, "stream": False,
            "messages": [{"role": m.role, "content": m.content} for m in prompt.messages], **options})

    def _next_token(self, prompt: Prompt):
        answer = self._chat(prompt, max_tokens=1, temperature=0, logprobs=True, top_logprobs=TOP_LOGPROBS)
        try:
            entries = answer["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
        except (KeyError, IndexError, TypeError):
            raise no_logprobs(self.root) from None
        return (probabilities(entries, self.root), *_prompt_tokens(answer, prompt.length))

    def _complete(self, prompt, max_tokens, temperature, grammar, seed):
        options: dict[str, Any] = {"max_tokens": max_tokens, "temperature": temperature}
        if grammar is not None and self.supports_grammar:
            options["grammar"] = grammar
        if seed is not None:
            options["seed"] = seed
        answer = self._chat(prompt, **options)
        try:
            text = answer["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise ServerRequestFailed(f"{self.root}/v1/chat/completions answered without a message") from None
        evaluated, reused = _prompt_tokens(answer, prompt.length)
        return text, evaluated, reused, int((answer.get("usage") or {}).get("completion_tokens", 0))


class LlamaCppPython(OpenAIChat):
    kind = "llama-cpp-python"
    supports_grammar = True

    @classmethod
    def answers(cls, http: Http) -> bool:
        return http.post("/extras/tokenize", {"input": "a"}, optional=True) is not None

    def _tokenize(self, text: str) -> list[int]:
        return token_ids(self.http.post("/extras/tokenize", {"input": text}))

    def detokenize(self, tokens: list[int]) -> str:
        return self.http.post("/extras/detokenize", {"tokens": tokens})["text"] if tokens else ""


def _prompt_tokens(answer: dict, length: int) -> tuple[int, int]:
    usage = answer.get("usage") or {}
    total = int(usage.get("prompt_tokens") or length)
    cached = int(((usage.get("prompt_tokens_details") or {}).get("cached_tokens")) or 0)
    return total - cached, cached
