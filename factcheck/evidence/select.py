"""Select: evidence at the grain that decides.

Retrieval returns passages of ~100 words, often several from one document. The verdict
reads better, and cheaper, from the few sentences that bear on the claim. Every sentence of
the retrieved passages is scored against the claim, the best ``n`` are kept, and a sentence
that opens with a pronoun or connective ("It", "These", "However") brings its predecessor
along, since it makes no sense alone. The chosen sentences keep their document, title and
offsets inside their passage, so a record can show exactly what the model read.

Two selectors score sentences (``Selector``, chosen by the ``selection`` setting):

- ``words``: the claim's words, weighted by how rare each is in that small pool (an IDF word
  overlap, ``idf_overlap``), plus the passage's retrieval rank
  as a tie-breaker; a sentence holding under ``min_coverage`` of the claim's words is not
  shown. Cheap; the three-label default.
- ``meaning``: a small sentence encoder's cosine to the claim (factcheck/embed.py), plus the
  same word relevance; a sentence under ``COSINE_FLOOR`` is not shown. It finds paraphrases
  that share few words ("killed by three assassins" for "murdered by two men"); the binary
  default, over 20 passages: +0.046 [+0.017, +0.075] accuracy on 650 FM2 claims, ~0.2 s of
  encoder time per claim (README, Results).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Protocol

from ..config.settings import Selection
from ..cost import Meter
from ..embed import default_encoder, encoder_folder
from ..schema import EvidenceSentence, Passage
from ..text import sentence_spans, terms

# A sentence opening with one of these leans on the previous one for its subject.
_LEANS_BACK = re.compile(
    r"^(it|its|they|their|these|this|those|such|he|she|his|her|however|moreover|furthermore|"
    r"thus|therefore|conversely|in contrast|in addition|similarly|likewise|here|there)\b",
    re.IGNORECASE)
# A sentence that shares less than this share of the claim's content words is not evidence
# for it: not shown, so it cannot steer the verdict. Chosen on the fit splits (neutral on
# macro-F1 there); it turns an unrelated corpus into NOT_ENOUGH_INFO and keeps injected text
# that does not talk about the claim out of the prompt.
MIN_COVERAGE = 0.25
# A sentence whose cosine to the claim is under this is not about it (the coverage floor's
# role for selection by meaning): chosen on the FM2 fit claims' gold-sentence recall.
COSINE_FLOOR = 0.3
# Passage rank enters the score as a small prior: relevance within the pool decides, and
# among equals the sentence from the better-ranked passage wins.
_RANK_WEIGHT = 0.02


def coverage(claim: str, text: str) -> float:
    """Share of the claim's content words that ``text`` contains (0 to 1)."""
    wanted = set(terms(claim))
    return len(wanted & set(terms(text))) / len(wanted) if wanted else 0.0


def idf_overlap(query: list[str], docs: list[list[str]]) -> list[float]:
    """An IDF-weighted word overlap (not BM25: no term frequency, no length norm): the claim
    terms a sentence contains, each weighted by how rare it is in the pool's sentences, damped (log) so that terms the whole pool shares, which are
    usually the claim's subject, still count."""
    if not query:
        return [0.0] * len(docs)
    n = len(docs)
    df = {t: sum(t in set(d) for d in docs) for t in set(query)}
    weight = {t: math.log(1 + n / (1 + df[t])) + 1.0 for t in df}
    total = sum(weight.values())
    return [sum(weight[t] for t in set(query) & set(d)) / total for d in docs]


def select_sentences(claim: str, passages: list[Passage], n: int,
                     min_coverage: float = MIN_COVERAGE) -> list[EvidenceSentence]:
    """The ``n`` sentences of ``passages`` that bear most on ``claim`` (plus the sentence
    before any that leans back on it), grouped by document in retrieval order, in text
    order within a document. Scores are ``idf_overlap`` within the pool, so they compare only within a call.
    (Counting each document's title as its sentences' words was measured and not adopted:
    docs/experiments.md, "Titles counted in selection".)"""
    candidates = _candidates(passages)
    if not candidates or n <= 0:
        return []
    docs = [terms(p.text[s:e]) for _, _, p, s, e in candidates]
    query = terms(claim)
    relevance = idf_overlap(query, docs)
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
    order within a document (shared by the selectors)."""
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


def _candidates(passages: list[Passage]) -> list[tuple[int, int, Passage, int, int]]:
    """Every sentence of ``passages``: (rank, position, passage, start, end)."""
    return [(rank, position, passage, start, end) for rank, passage in enumerate(passages)
            for position, (start, end) in enumerate(sentence_spans(passage.text))]


@dataclass(frozen=True)
class Select:
    """The select stage: the ``sentences`` best evidence sentences of the passages found."""

    selector: Selector
    sentences: int

    @property
    def name(self) -> Selection:
        return self.selector.name

    def pick(self, claim: str, passages: list[Passage]) -> list[EvidenceSentence]:
        return self.selector.select(claim, passages, self.sentences)

    def __call__(self, claim: str, passages: list[Passage], meter: Meter) -> list[EvidenceSentence]:
        with meter.stage("select"):  # by meaning, ~0.2 s of encoder time: a cost the record shows
            return self.pick(claim, passages)

    def next_best(self, claim: str, passages: list[Passage], read: list[EvidenceSentence],
                  meter: Meter) -> list[EvidenceSentence]:
        """The best ``sentences`` of ``passages`` not among ``read`` (an escalation's new evidence)."""
        seen = {s.id for s in read}
        with meter.stage("select"):
            ranked = self.selector.select(claim, passages, 2 * self.sentences + len(seen))
        unread = [s for s in ranked if s.id not in seen]
        best = {s.id for s in sorted(unread, key=lambda s: -s.score)[: self.sentences]}
        return [s for s in unread if s.id in best]  # in document order, as a first selection


class Selector(Protocol):
    """Chooses the evidence sentences shown to the reader."""

    name: Selection

    def select(self, claim: str, passages: list[Passage], n: int) -> list[EvidenceSentence]: ...


class WordSelector:
    """Sentences by the claim's words (``select_sentences``)."""

    name: Selection = "words"

    def __init__(self, min_coverage: float = MIN_COVERAGE) -> None:
        self.min_coverage = min_coverage

    def select(self, claim: str, passages: list[Passage], n: int) -> list[EvidenceSentence]:
        return select_sentences(claim, passages, n, self.min_coverage)


class MeaningSelector:
    """Sentences by meaning: ``weight`` x cosine to the claim (each sentence embedded under
    its document's title, which often names its subject) + the word selector's relevance
    within the pool; those under ``floor`` in cosine never. ``encoder``: anything with
    ``embed(texts) -> unit vectors``; None: the shipped one, loaded on first use."""

    name: Selection = "meaning"

    def __init__(self, encoder=None, *, weight: float = 1.0, floor: float = COSINE_FLOOR) -> None:
        self._encoder = encoder
        self.weight, self.floor = weight, floor

    @property
    def encoder(self):
        if self._encoder is None:
            self._encoder = default_encoder()
        return self._encoder

    def select(self, claim: str, passages: list[Passage], n: int) -> list[EvidenceSentence]:
        import numpy as np

        candidates = _candidates(passages)
        if not candidates or n <= 0:
            return []
        texts = [p.text[s:e] for _, _, p, s, e in candidates]
        relevance = np.array(idf_overlap(terms(claim), [terms(t) for t in texts]))
        vectors = self.encoder.embed([claim] + [f"{p.title}. {t}" if p.title else t
                                                for (_, _, p, _, _), t in zip(candidates, texts)])
        cosine = vectors[1:] @ vectors[0]
        score = self.weight * cosine + relevance
        order = [int(i) for i in np.argsort(-score, kind="stable")]
        chosen = choose(candidates, order, n, lambda i: cosine[i] >= self.floor)
        return evidence_records(candidates, chosen, {i: float(score[i]) for i in chosen})


def selector_for(selection: Selection, min_coverage: float = MIN_COVERAGE, meaning_weight: float = 1.0) -> Selector:
    """The selector a ``selection`` setting names. By meaning, the encoder's weights must be
    installed: a missing package is one line now, not an error on every claim later."""
    if selection == "meaning":
        encoder_folder()
        return MeaningSelector(weight=meaning_weight)
    return WordSelector(min_coverage)
