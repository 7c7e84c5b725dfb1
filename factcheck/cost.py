"""A meter that every stage reports its cost to: time per stage, tokens, calls."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from .schema import Calls, TokenUsage


class Meter:
    def __init__(self) -> None:
        self.timings_ms: dict[str, float] = defaultdict(float)
        self.tokens = TokenUsage()
        self.calls = Calls()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings_ms[name] += (time.perf_counter() - start) * 1000.0

    def model_call(self, evaluated: int, reused: int, generated: int = 0) -> None:
        self.calls.model += 1
        self.tokens.add(TokenUsage(prompt=evaluated, cached=reused, generated=generated))

    def retrieval_call(self) -> None:
        self.calls.retrieval += 1
