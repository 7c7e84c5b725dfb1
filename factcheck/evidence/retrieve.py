"""Retrieve: query every configured source, merge, and drop duplicates."""

from __future__ import annotations

import re
import threading

from ..cost import Meter
from ..errors import RetrievalError, SourcesUnavailable
from ..retrievers import Retriever
from ..schema import Passage

_SPACE = re.compile(r"\s+")
# Concurrent checks (batch --workers) search one at a time: a local search takes
# milliseconds, and neither the index's stemmer nor the web client's counters are
# thread-safe.
_SEARCH_LOCK = threading.Lock()
# How a source failure reads in a record's warnings; record.source_errors collects these.
SOURCE_FAILED = "source failed: "


def _fingerprint(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()


def gather(sources: list[Retriever], query: str, k: int, meter: Meter,
           seen: set[str] | None = None) -> tuple[list[Passage], list[str]]:
    """Search each source for ``query`` and merge the results.

    Results are interleaved by rank (each source's best first) so that no source's score
    scale dominates, then de-duplicated by text; ``seen`` carries fingerprints across calls
    (deep search). A failing source becomes a warning (``SOURCE_FAILED``); the others still
    count. When every source fails, raises SourcesUnavailable. Returns (passages, warnings)."""
    seen = set() if seen is None else seen
    ranked: list[list[Passage]] = []
    warnings: list[str] = []
    with meter.stage("retrieve"), _SEARCH_LOCK:
        for source in sources:
            meter.retrieval_call()
            try:
                ranked.append(source.search(query, k))
            except RetrievalError as exc:
                warnings.append(f"{SOURCE_FAILED}{source.name}: {exc}")
    if sources and len(warnings) == len(sources):
        raise SourcesUnavailable("every evidence source failed: " + "; ".join(w[len(SOURCE_FAILED):] for w in warnings))
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
    return kept, warnings
