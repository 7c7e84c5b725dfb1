"""A scripted fake language model for unit tests: same interface as LlamaModel.

Its vocabulary is a few answer-word pieces plus one token per printable character, so
tokenizing is exact and prompts can be read back. A script maps the prompt text to the
next-token probabilities (by piece) the fake should return.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from factcheck.errors import GrammarError
from factcheck.model import Completion, Message, ModelInfo, NextToken, Prompt

WORD_PIECES = ["<|im_start|>", "<|im_end|>", "TRUE", "FALSE", "FAL", "UNKNOWN", "UN",
               "True", "False", "Maybe", "YES", "NO"]
CHAR_BASE = len(WORD_PIECES)
CHARS = [chr(c) for c in range(32, 127)] + ["\n", "\ue000", "\ue001", "?"]

Script = Callable[[str], dict[str, float]]


def supported_unless_false(prompt: str) -> dict[str, float]:
    """Claims mentioning 'false' or 'Berlin' are refuted, others supported."""
    claim = prompt.rsplit("<claim>", 1)[-1].split("</claim>", 1)[0]
    if "false" in claim or "Berlin" in claim:
        return {"FALSE": 0.7, "FAL": 0.1, "TRUE": 0.1, "Maybe": 0.1}
    return {"TRUE": 0.6, "FALSE": 0.3, "Maybe": 0.1}


def fake_hidden(prompt: str) -> np.ndarray:
    """A deterministic 4-d "hidden state": how often the user turn says each answer word,
    and its length, so a probe fitted on it has something real to learn."""
    user = prompt.rsplit("<|im_start|>user", 1)[-1].lower()
    return np.array([user.count("true"), user.count("false"), user.count("unknown"),
                     len(user) / 100], dtype=np.float32)


class FakeModel:
    supports_hidden = True
    supports_grammar = True

    def __init__(self, script: Script = supported_unless_false, n_ctx: int = 4096,
                 completions: list[str] | None = None, delay: float = 0.0) -> None:
        self.script = script
        self.delay = delay
        self.pieces = WORD_PIECES + CHARS
        self.index = {p: i for i, p in enumerate(self.pieces)}
        self.info = ModelInfo(path=Path("fake.gguf"), name="fake", sha256="0" * 64, size=0,
                              context_length=n_ctx, n_ctx=n_ctx, chat_template=None,
                              architecture="fake")
        self.prompts: list[str] = []
        self.completions = list(completions or [])
        self._cached: list[int] = []

    def vocab_pieces(self) -> list[str]:
        return self.pieces

    def tokenize(self, text: str) -> list[int]:
        unknown = self.index["?"]
        return [CHAR_BASE + CHARS.index(c) if c in CHARS else unknown for c in text]

    def detokenize(self, tokens: list[int]) -> str:
        return "".join(self.pieces[t] for t in tokens)

    def chat_tokens(self, messages: list[Message]) -> list[int]:
        tokens: list[int] = []
        for m in messages:
            tokens += [self.index["<|im_start|>"]] + self.tokenize(f"{m.role}\n{m.content}")
            tokens += [self.index["<|im_end|>"]] + self.tokenize("\n")
        return tokens + [self.index["<|im_start|>"]] + self.tokenize("assistant\n")

    def template_text(self, messages: list[dict]) -> str:
        """chat_tokens' template as text, for the served fake (factcheck serve)."""
        turns = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
        return turns + "<|im_start|>assistant\n"

    def tokenize_special(self, text: str) -> list[int]:
        tokens: list[int] = []
        for i, part in enumerate(re.split(r"(<\|im_start\|>|<\|im_end\|>)", text)):
            tokens += [self.index[part]] if i % 2 else self.tokenize(part)
        return tokens

    def render(self, messages: list[Message]) -> Prompt:
        tokens = self.chat_tokens(messages)
        return Prompt(messages=messages, tokens=tokens, length=len(tokens))

    def next_token(self, prompt: Prompt, hidden: bool = False) -> NextToken:
        tokens = prompt.tokens
        if len(tokens) > self.info.n_ctx:
            raise AssertionError(f"prompt of {len(tokens)} tokens overflows n_ctx {self.info.n_ctx}")
        reused = 0
        while reused < min(len(tokens) - 1, len(self._cached)) and tokens[reused] == self._cached[reused]:
            reused += 1
        self._cached = list(tokens)
        if self.delay:
            import time

            time.sleep(self.delay)
        prompt = self.detokenize(tokens)
        self.prompts.append(prompt)
        probs = np.full(len(self.pieces), 1e-9)
        for piece, p in self.script(prompt).items():
            probs[self.index[piece]] = p
        return NextToken(probs=probs / probs.sum(), evaluated=len(tokens) - reused,
                         reused=reused, seconds=0.0, hidden=fake_hidden(prompt) if hidden else None)

    def complete(self, prompt: Prompt, max_tokens: int, temperature: float = 0.0,
                 grammar: str | None = None, seed: int | None = None) -> Completion:
        if grammar is not None and ("::=" not in grammar or grammar.count("(") != grammar.count(")")):
            raise GrammarError("llama.cpp cannot parse the grammar for this generation (GBNF)")
        tokens = prompt.tokens
        self.prompts.append(self.detokenize(tokens))
        text = self.completions.pop(0) if self.completions else ""
        return Completion(text=text, prompt_tokens=len(tokens), reused=0,
                          generated=len(self.tokenize(text)), seconds=0.0)


class FakeRetriever:
    """A scripted evidence source: fixed passages, or an error to raise."""

    def __init__(self, passages=None, error: Exception | None = None, name: str = "fake") -> None:
        from factcheck.schema import Passage

        self.name = name
        self.passages = [p if isinstance(p, Passage) else Passage(**p) for p in (passages or [])]
        self.error = error
        self.queries: list[str] = []

    def search(self, query: str, k: int):
        self.queries.append(query)
        if self.error:
            raise self.error
        return self.passages[:k]

    def close(self) -> None:
        pass


def pipeline_of(model, *, labels=None, sources=None, k: int = 3, route=None, consistency=None, thresholds=None,
             max_hops: int = 3, deep_token_budget: int = 4000, calibration=None, sentences: int = 6,
             reader=None, router=None, sufficiency: float = 0.5, selector=None, if_sources_fail: str = "error",
             profile=None):
    """A Pipeline over ``model`` with the stages set by keyword, for unit tests (the product
    maps Settings onto the same stages in ``pipeline.build_pipeline``)."""
    from factcheck.pipeline import Pipeline, compose
    from factcheck.routing.route import Depth, Routing
    from factcheck.schema import LabelSet

    labels = labels or LabelSet.THREE
    routing = Routing(forced=route, router=router, thresholds=thresholds,
                      depth=Depth(max_hops=max_hops, token_budget=deep_token_budget, sufficiency=sufficiency))
    stages = compose(model, labels=labels, sources=sources, k=k, sentences=sentences, selector=selector,
                     reader=reader, consistency=consistency, routing=routing, calibration=calibration,
                     profile=profile)
    return Pipeline(stages, if_sources_fail=if_sources_fail)
