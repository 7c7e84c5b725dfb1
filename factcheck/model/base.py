"""What every backend provides: the model interface the pipeline stages use, and the
records it returns.

A backend renders a chat into a ``Prompt`` (claims and evidence always plain text, never
special tokens), reads the next-token distribution after it, and generates short
completions. Backends: ``local`` (llama.cpp in this process, the default) and ``remote``
(an inference server over HTTP); unit tests use a scripted fake with the same methods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np


@dataclass
class Message:
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass
class Prompt:
    """A rendered chat, ready to send."""

    messages: list[Message]
    tokens: list[int] | None  # exact token ids, where the backend renders them itself
    length: int  # prompt tokens (exact with ids; the server's count or a bound otherwise)


@dataclass
class NextToken:
    """The next-token distribution after a prompt, and what reading it cost.

    In-process the whole vocabulary is known (``probs``); a server returns its top-N
    alternatives as text (``top``), and the mass outside them is unknown."""

    evaluated: int  # prompt tokens run through the model
    reused: int  # prompt tokens whose KV cache was reused
    seconds: float
    probs: np.ndarray | None = None  # softmax over the vocabulary
    top: dict[str, float] | None = None  # token text -> probability, most likely first
    hidden: np.ndarray | None = None  # final hidden state at the answer position, when asked


@dataclass
class Completion:
    text: str
    prompt_tokens: int
    reused: int
    generated: int
    seconds: float


@dataclass
class ModelInfo:
    path: Path | None  # the GGUF file; None for a model behind a server
    name: str
    sha256: str  # the file's SHA-256; for a server, see RemoteModel.identity
    size: int
    context_length: int  # what the model was trained for (0: unknown)
    n_ctx: int  # the context prompts must fit
    chat_template: str | None
    architecture: str
    metadata: dict[str, str] = field(default_factory=dict, repr=False)
    server: str | None = None  # the API base URL of a remote model
    flavor: str | None = None  # which server API it speaks (model/remote/)


class LanguageModel(Protocol):
    info: ModelInfo
    supports_hidden: bool  # can return the final hidden state (the probe reader needs it)
    supports_grammar: bool  # can constrain generation with a GBNF grammar

    def vocab_pieces(self) -> list[str] | None: ...
    def tokenize(self, text: str) -> list[int]: ...
    def detokenize(self, tokens: list[int]) -> str: ...
    def render(self, messages: list[Message]) -> Prompt: ...
    def next_token(self, prompt: Prompt, hidden: bool = False) -> NextToken: ...
    def complete(
        self, prompt: Prompt, max_tokens: int, temperature: float = 0.0,
        grammar: str | None = None, seed: int | None = None,
    ) -> Completion: ...
