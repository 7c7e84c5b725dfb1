"""Retrieve: the search stage. Query every configured source, merge, and drop duplicates."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from ..cost import Meter
from ..errors import RetrievalError, SourcesUnavailable
from ..retrievers import Retriever
from ..schema import Passage, SourceFailure

_SPACE = re.compile(r"\s+")


def _fingerprint(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()


@dataclass
class Found:
    """What one search brought: the merged passages, and the sources that failed."""

    passages: list[Passage]
    failures: list[SourceFailure] = field(default_factory=list)


class Search:
    """The search stage: ``k`` passages for a query from every source, merged.

    Results are interleaved by rank (each source's best first) so that no source's score
    scale dominates, then de-duplicated by text. A failing source is reported in
    ``Found.failures``; the others still count. When every source fails, SourcesUnavailable."""

    def __init__(self, sources: list[Retriever], k: int) -> None:
        self.sources = list(sources)
        self.k = k
        # Concurrent checks (batch --workers) search one at a time: a local search takes
        # milliseconds, and neither the index's stemmer nor the web client's counters are
        # thread-safe.
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self.sources)

    def without_sources(self) -> Search:
        return Search([], self.k)

    def __call__(self, query: str, meter: Meter, seen: set[str] | None = None, k: int | None = None) -> Found:
        """``seen`` carries fingerprints across calls (deep search): a passage already
        returned is not returned again. ``k``: this search's passages, if not the stage's."""
        seen = set() if seen is None else seen
        k = k or self.k
        ranked: list[list[Passage]] = []
        failures: list[SourceFailure] = []
        with meter.stage("retrieve"), self._lock:
            for source in self.sources:
                meter.retrieval_call()
                try:
                    ranked.append(source.search(query, k))
                except RetrievalError as exc:
                    failures.append(SourceFailure(source=source.name, reason=str(exc)))
        if self.sources and len(failures) == len(self.sources):
            raise SourcesUnavailable(failures)
        merged: list[Passage] = []
        keys: set[str] = set()
        for rank in range(max((len(r) for r in ranked), default=0)):
            for results in ranked:
                if rank < len(results):
                    key = _fingerprint(results[rank].text)
                    if key not in seen and key not in keys:
                        keys.add(key)
                        merged.append(results[rank])
        kept = merged[:k]
        # only what is returned counts as seen: a passage ranked beyond k here can come back
        # in a later deep-search hop
        seen.update(_fingerprint(p.text) for p in kept)
        return Found(kept, failures)
