"""Select: evidence at the grain that decides.

Retrieval returns passages of ~100 words, often several from one document. The verdict
reads better, and cheaper, from the few sentences that bear on the claim: every sentence of
the retrieved passages is scored against the claim (BM25 over that small pool, plus the
passage's retrieval rank as a tie-breaker), the best ``n`` are kept, and a sentence that
opens with a pronoun or connective ("It", "These", "However") brings its predecessor along,
since it makes no sense alone. The chosen sentences keep their document, title and offsets
inside their passage, so a record can show exactly what the model read.
"""

from __future__ import annotations

import math
import re
from functools import cache

from .schema import EvidenceSentence, Passage

# A sentence opening with one of these leans on the previous one for its subject.
_LEANS_BACK = re.compile(
    r"^(it|its|they|their|these|this|those|such|he|she|his|her|however|moreover|furthermore|"
    r"thus|therefore|conversely|in contrast|in addition|similarly|likewise|here|there)\b",
    re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z0-9]+(?:[-'][A-Za-z0-9]+)*")
# A sentence that shares less than this share of the claim's content words is not evidence
# for it: not shown, so it cannot steer the verdict. Chosen on the fit splits (neutral on
# macro-F1 there); it turns an unrelated corpus into NOT_ENOUGH_INFO and keeps injected text
# that does not talk about the claim out of the prompt.
MIN_COVERAGE = 0.25
# Passage rank enters the score as a small prior: relevance within the pool decides, and
# among equals the sentence from the better-ranked passage wins.
_RANK_WEIGHT = 0.02


@cache
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@cache
def _stop_words() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def terms(text: str) -> list[str]:
    """Lower-cased, stemmed content words (the local index's own normalisation)."""
    stop = _stop_words()
    words = [w.lower() for w in _WORD.findall(text)]
    return _stemmer().stemWords([w for w in words if w not in stop and len(w) > 1])


def split_with_offsets(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text``."""
    from factcheck.retrievers.passages import split_sentences

    spans, cursor = [], 0
    for sentence in split_sentences(text):
        start = text.find(sentence, cursor)
        if start < 0:  # split_sentences only strips, so this is defensive
            continue
        spans.append((start, start + len(sentence)))
        cursor = start + len(sentence)
    return spans


def coverage(claim: str, text: str) -> float:
    """Share of the claim's content words that ``text`` contains (0 to 1)."""
    wanted = set(terms(claim))
    return len(wanted & set(terms(text))) / len(wanted) if wanted else 0.0


def _relevance(query: list[str], docs: list[list[str]]) -> list[float]:
    """Claim terms a sentence contains, each weighted by how rare it is in the pool's
    *documents*-as-sentences, damped (log) so that terms the whole pool shares, which are
    usually the claim's subject, still count."""
    if not query:
        return [0.0] * len(docs)
    n = len(docs)
    df = {t: sum(t in set(d) for d in docs) for t in set(query)}
    weight = {t: math.log(1 + n / (1 + df[t])) + 1.0 for t in df}
    total = sum(weight.values())
    return [sum(weight[t] for t in set(query) & set(d)) / total for d in docs]


def select_sentences(claim: str, passages: list[Passage], n: int,
                     min_coverage: float = MIN_COVERAGE, title_terms: bool = False) -> list[EvidenceSentence]:
    """The ``n`` sentences of ``passages`` that bear most on ``claim`` (plus the sentence
    before any that leans back on it), grouped by document in retrieval order, in text
    order within a document. Scores are BM25 within the pool, so they compare only within a call.
    ``title_terms``: a sentence's document title counts toward its words (the prompt shows
    the title above it), so "He was the 1848 nominee" under "Lewis Cass" matches a claim
    about Cass; an alternative under measurement (benchmarks/README.md), off by default."""
    candidates: list[tuple[int, int, Passage, int, int]] = []  # (rank, position, passage, start, end)
    for rank, passage in enumerate(passages):
        for position, (start, end) in enumerate(split_with_offsets(passage.text)):
            candidates.append((rank, position, passage, start, end))
    if not candidates or n <= 0:
        return []
    docs = [terms(f"{p.title or ''} {p.text[s:e]}" if title_terms else p.text[s:e]) for _, _, p, s, e in candidates]
    query = terms(claim)
    relevance = _relevance(query, docs)
    wanted = set(query)
    covers = [len(wanted & set(d)) / len(wanted) if wanted else 0.0 for d in docs]
    scored = [(float(r) - _RANK_WEIGHT * c[0], i) for i, (r, c) in enumerate(zip(relevance, candidates))]
    order = [i for _, i in sorted(scored, key=lambda t: (-t[0], t[1]))]
    chosen = choose(candidates, order, n, lambda i: covers[i] >= min_coverage)
    by_index = dict(zip((i for _, i in scored), (s for s, _ in scored)))
    return evidence_records(candidates, chosen, by_index)


def choose(candidates: list[tuple[int, int, Passage, int, int]], order: list[int], n: int,
           admissible) -> set[int]:
    """The first ``n`` admissible candidates in ``order``, each with the sentence before it
    when it leans back on it."""
    chosen: set[int] = set()
    for i in order:
        if len(chosen) >= n:
            break
        if not admissible(i):
            continue
        chosen.add(i)
        _, position, passage, start, end = candidates[i]
        if position > 0 and _LEANS_BACK.match(passage.text[start:end]):
            chosen.add(i - 1)  # the previous sentence of the same passage
    return chosen


def evidence_records(candidates: list[tuple[int, int, Passage, int, int]], chosen: set[int],
                     score_of: dict[int, float]) -> list[EvidenceSentence]:
    """The chosen candidates as records, grouped by document in retrieval order and in text
    order within a document (shared with selection alternatives measured in benchmarks/)."""
    first_rank: dict[str, int] = {}
    for rank, _, passage, _, _ in candidates:
        first_rank.setdefault(passage.doc_id, rank)
    kept = sorted(chosen, key=lambda i: (first_rank[candidates[i][2].doc_id], candidates[i][0], i))
    return [
        EvidenceSentence(
            id=f"{passage.id}@{start}", passage_id=passage.id, doc_id=passage.doc_id, title=passage.title,
            text=passage.text[start:end], source=passage.source, start=start, end=end,
            score=round(score_of[i], 4), retrieval_score=passage.score,
        )
        for i in kept for _, _, passage, start, end in [candidates[i]]
    ]
