"""What every server API shares: the model's facts, a tokenizer memo, and how the top-N
log-probabilities a server returns become a next-token distribution."""

from __future__ import annotations

import hashlib
import math
import re
import time
from abc import ABC, abstractmethod
from typing import Any

from ...errors import ModelError
from ..base import Completion, ModelInfo, NextToken, Prompt
from ..files import DEFAULT_MODEL_FILE, DEFAULT_MODEL_SHA256
from .http import Http, no_logprobs

TOP_LOGPROBS = 20  # vLLM's default --max-logprobs; the label words sit far inside it
_TOKENIZED_KEPT = 4096  # sentences whose token ids are kept (the same sentence is fitted often)


class ServerModel(ABC):
    """A model behind a server, one subclass per server API. Constructing one makes no
    request: ``open`` asks the server what the subclass needs, then constructs it."""

    kind = ""  # the server API's name, shown by factcheck model info
    supports_hidden = False  # servers return no hidden state: the probe reader is local-only
    supports_grammar = False

    def __init__(self, http: Http, name: str, info: ModelInfo) -> None:
        self.http = http
        self.root = http.root
        self.model_name = name
        self.info = info
        self._tokenized: dict[str, tuple[int, ...]] = {}

    @classmethod
    @abstractmethod
    def answers(cls, http: Http) -> bool:
        """Whether the server at ``http`` speaks this API (one cheap probe)."""

    @classmethod
    def served_name(cls, http: Http) -> str:
        """The model the server serves when none is named: the first it lists."""
        return served_model_name(http)

    @classmethod
    def open(cls, http: Http, name: str, n_ctx: int, api_base: str) -> ServerModel:
        """The model ``name`` at ``http``; ``api_base`` as the user gave it."""
        return cls(http, name, model_info(name, n_ctx, api_base, cls.kind))

    # -- tokens ----------------------------------------------------------------------

    def vocab_pieces(self) -> None:
        return None  # unknown: answers are mapped by their text

    def tokenize(self, text: str) -> list[int]:
        """Plain text to the server's token ids, special-token syntax read as text."""
        if not text:
            return []
        if (ids := self._tokenized.get(text)) is None:
            ids = tuple(self._tokenize(text))
            if len(self._tokenized) < _TOKENIZED_KEPT:
                self._tokenized[text] = ids
        return list(ids)

    @abstractmethod
    def _tokenize(self, text: str) -> list[int]:
        """The server's token ids for plain text."""

    # -- evaluation ------------------------------------------------------------------

    def next_token(self, prompt: Prompt, hidden: bool = False) -> NextToken:
        if hidden:
            raise ModelError("the probe reader needs the model's hidden state, which a model server does not "
                             "return: use --reader joint (label logits) with --api-base")
        start = time.perf_counter()
        top, evaluated, reused = self._next_token(prompt)
        return NextToken(evaluated=evaluated, reused=reused, seconds=time.perf_counter() - start, top=top)

    @abstractmethod
    def _next_token(self, prompt: Prompt) -> tuple[dict[str, float], int, int]:
        """(token text -> probability, prompt tokens evaluated, prompt tokens reused)."""

    def complete(self, prompt: Prompt, max_tokens: int, temperature: float = 0.0,
                 grammar: str | None = None, seed: int | None = None) -> Completion:
        start = time.perf_counter()
        text, evaluated, reused, generated = self._complete(prompt, max_tokens, temperature, grammar, seed)
        return Completion(text=text, prompt_tokens=evaluated, reused=reused, generated=generated,
                          seconds=time.perf_counter() - start)

    @abstractmethod
    def _complete(self, prompt: Prompt, max_tokens: int, temperature: float, grammar: str | None,
                  seed: int | None) -> tuple[str, int, int, int]:
        """(text, prompt tokens evaluated, reused, tokens generated)."""

    def close(self) -> None:
        self.http.close()


def model_info(name: str, n_ctx: int, server: str, kind: str) -> ModelInfo:
    return ModelInfo(path=None, name=name, sha256=remote_identity(name), size=0, context_length=0, n_ctx=n_ctx,
                     chat_template=None, architecture="unknown (served)", server=server, flavor=kind)


def probabilities(entries: list[dict], root: str) -> dict[str, float]:
    """token text -> probability, most likely first, from logprob or prob entries."""
    if not entries:
        raise no_logprobs(root)
    top: dict[str, float] = {}
    for entry in entries:
        text = entry.get("token", entry.get("tok_str"))
        if text is None:
            continue
        p = math.exp(entry["logprob"]) if "logprob" in entry else float(entry.get("prob", 0.0))
        top[str(text)] = top.get(str(text), 0.0) + p  # two ids can share a text
    return dict(sorted(top.items(), key=lambda kv: kv[1], reverse=True))


def token_ids(answer: Any) -> list[int]:
    """Token ids from a tokenize answer: plain ids, or objects with an ``id``."""
    return [int(t["id"]) if isinstance(t, dict) else int(t) for t in answer["tokens"]]


def answers_with(http: Http, path: str, key: str) -> bool:
    """Whether GET ``path`` answers with a JSON object holding ``key``: one cheap probe."""
    found = http.get(path, optional=True)
    return isinstance(found, dict) and key in found


def first_listed(http: Http, path: str, keys: tuple[str | int, ...], *, missing: str) -> str:
    """The value at ``keys`` inside what GET ``path`` lists (a model's name); ModelError
    ``missing`` when there is none."""
    value: Any = http.get(path)
    try:
        for key in keys:
            value = value[key]
    except (KeyError, IndexError, TypeError):
        raise ModelError(missing) from None
    return str(value)


def served_model_name(http: Http, v1_path: str = "/v1") -> str:
    """The first model the server lists (/v1/models), as it names it."""
    return first_listed(http, f"{v1_path}/models", ("data", 0, "id"),
                        missing=f"the server at {http.root} lists no model at {v1_path}/models: "
                                f"give the model's name with --api-model")


def remote_identity(name: str) -> str:
    """What stands for a served model's SHA-256 (profiles and cache keys need one). The
    server's file cannot be hashed from here, so the default model is recognised by its
    file name, and any other model is keyed by its name."""
    if re.split(r"[\\/]", name)[-1].lower() == DEFAULT_MODEL_FILE.lower():
        return DEFAULT_MODEL_SHA256
    return hashlib.sha256(f"served model:{name}".encode()).hexdigest()
