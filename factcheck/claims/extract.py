"""Account for every sentence of a document: each one gives claims to check, or is listed
with the reason it gives none.

Documents are split into sentences with their character offsets. Rules (claims/sentences.py)
decide what each sentence is; the model is asked only where a sentence states several facts
or refers back past its opening word:
- a question, an instruction, an opinion, a fragment or a sentence with no factual statement
  is listed, with that reason, and not checked;
- a sentence that plainly states a fact is the claim, as written, a leading "It" or "She"
  made the name it stands for, and split where "and" or ";" joins a second predicate or
  clause (no generation);
- any other sentence goes to the model (with the sentences before it, for pronouns), under a
  JSON grammar. A claim it writes is kept only when the document says it: every content
  word in the sentence or the two before it, most in the sentence. When nothing it wrote is
  kept, or what is kept leaves much of the sentence out, the sentence is checked as written.
So whether a sentence is checked never rests on a generation: CPUs that differ in the last
digit give the same sentences checked. Every claim points back to its sentence: file, start
and end offsets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..cost import Meter
from ..files import read_user_text
from ..reading.gateway import ModelGateway
from ..schema import UncheckedReason
from ..text import sentence_spans, terms
from .sentences import (
    is_statement,
    needs_model,
    resolved,
    split_clauses,
    subject,
    unchecked_reason,
)

_LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
MAX_CLAIM_TOKENS = 160
CONTEXT_SENTENCES = 2  # the sentences before one, for what its pronouns stand for
# A claim the model wrote is kept only where the document says it: at least this share of
# its content words in its own sentence, and all of them in the sentence or the ones before.
MIN_IN_SENTENCE = 0.5
# The claims kept for a sentence must hold at least this share of its content words; less,
# and the sentence is checked as written (recall first: a fact the model left out is lost).
MIN_COVERED = 0.6


@dataclass
class ExtractedClaim:
    id: str
    claim: str
    source: str
    start: int
    end: int
    sentence: str
    # as written (a leading pronoun made its name), split into clauses by rule, or by the model
    made: Literal["as written", "split", "by the model"] = "as written"

    def to_json(self) -> dict:
        return self.__dict__.copy()


@dataclass
class UncheckedSentence:
    """A sentence that gives no claim to check, and why."""

    id: str
    sentence: str
    source: str
    start: int
    end: int
    reason: UncheckedReason

    def to_json(self) -> dict:
        return {"id": self.id, "source": self.source, "start": self.start, "end": self.end,
                "sentence": self.sentence, "unchecked": self.reason}


@dataclass
class Extraction:
    """A document's sentences accounted for, in order: claims, and sentences not checked."""

    items: list[ExtractedClaim | UncheckedSentence] = field(default_factory=list)
    sentences: int = 0
    generations: int = 0  # sentences the model was asked to split

    @property
    def claims(self) -> list[ExtractedClaim]:
        return [i for i in self.items if isinstance(i, ExtractedClaim)]

    @property
    def unchecked(self) -> list[UncheckedSentence]:
        return [i for i in self.items if isinstance(i, UncheckedSentence)]


def sentences(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, sentence) for each sentence of prose, offsets into ``text``. A paragraph
    runs over wrapped lines up to a blank line, a heading or a list item; the sentence's
    text has its line breaks made spaces."""
    for paragraph, offsets in _paragraphs(text):
        for start, end in sentence_spans(paragraph):  # the one sentence splitter, evidence's too
            yield offsets[start], offsets[end - 1] + 1, paragraph[start:end]


def _paragraphs(text: str) -> Iterator[tuple[str, list[int]]]:
    """Each paragraph's lines joined by spaces, with every character's offset in ``text``."""
    chars: list[str] = []
    offsets: list[int] = []
    position = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        starts_block = not body.strip() or body.lstrip().startswith("#") or _LIST_MARK.match(body)
        if starts_block and chars:
            yield "".join(chars), offsets
            chars, offsets = [], []
        if body.strip() and not body.lstrip().startswith("#"):  # headings are titles, not claims
            mark = _LIST_MARK.match(body)
            skip = mark.end() if mark else 0
            if chars:
                chars.append(" ")
                offsets.append(offsets[-1] + 1)
            chars.extend(body[skip:])
            offsets.extend(range(position + skip, position + len(body)))
        position += len(line)
    if chars:
        yield "".join(chars), offsets


def _parse_claims(text: str) -> list[str]:
    try:
        claims = json.loads(text).get("claims", [])
    except (ValueError, AttributeError):
        # cut off by max_tokens: keep the complete strings the grammar produced
        claims = re.findall(r'"((?:[^"\\])+)"', text.split("[", 1)[-1])
    return [" ".join(str(c).split()) for c in claims if isinstance(c, str) and str(c).strip()]


def supported(claim: str, sentence: str, context: str) -> bool:
    """Whether the document says ``claim``: every content word of it in ``sentence`` or the
    ``context`` before it (where the names its pronouns stand for are), most in the sentence.
    A claim the model added from its own knowledge ("a symbol of Paris") fails."""
    words = set(terms(claim))
    if not words:
        return False
    own = set(terms(sentence))
    return len(words & own) / len(words) >= MIN_IN_SENTENCE and words <= own | set(terms(context))


def covered(claims: list[str], sentence: str) -> float:
    """The share of the sentence's content words the claims hold."""
    own = set(terms(sentence))
    return len(own & {t for c in claims for t in terms(c)}) / len(own) if own else 1.0


def extract_claims(gateway: ModelGateway, text: str, source: str, meter: Meter | None = None,
                   on_sentence: Callable[[int, int], None] | None = None) -> Extraction:
    """Every sentence of the document accounted for: its claims, or why it gives none.
    ``on_sentence(done, total)`` reports progress."""
    found = Extraction()
    for sentence in each_sentence(gateway, text, source, meter):
        found.sentences = sentence.total
        found.generations += sentence.asked
        found.items.extend(sentence.items)
        if on_sentence:
            on_sentence(sentence.number, sentence.total)
    return found


@dataclass
class SentenceOutcome:
    """What one sentence gave: its claims, or the UncheckedSentence; ``asked``: whether the
    model was asked to split it."""

    number: int
    total: int
    items: list[ExtractedClaim | UncheckedSentence] = field(default_factory=list)
    asked: bool = False


def each_sentence(gateway: ModelGateway, text: str, source: str,
                  meter: Meter | None = None) -> Iterator[SentenceOutcome]:
    """Each sentence's outcome in order, as soon as it is extracted: a batch checks the first
    claims while later sentences wait."""
    meter = meter or Meter()
    spans = list(sentences(text))
    before: list[str] = []  # the sentences so far, as written
    referent: str | None = None  # the last name a sentence was about, for a leading "It"
    name = Path(source).name
    claimed = 0
    for number, (start, end, sentence) in enumerate(spans, start=1):
        outcome = SentenceOutcome(number, len(spans))
        reason = unchecked_reason(sentence)
        if reason is not None:
            outcome.items.append(UncheckedSentence(f"{name}:{start}-{end}", sentence, source, start, end, reason))
        else:
            as_written = resolved(sentence, referent)
            claims = split_clauses(as_written) if as_written else []
            made = "split" if len(claims) > 1 else "as written"
            if as_written is None or any(needs_model(part, split=len(claims) > 1) for part in claims):
                context = " ".join(before[-CONTEXT_SENTENCES:])
                written = _rewrite(gateway, meter, sentence, context)
                outcome.asked = True
                kept = _dedupe([c for c in written if is_statement(c) and supported(c, sentence, context)])
                if kept and covered(kept, sentence) >= MIN_COVERED:
                    claims, made = kept, "by the model"
            for claim in claims or [sentence]:  # a pronoun no rule resolves, nor the model: as written
                claimed += 1
                outcome.items.append(ExtractedClaim(f"{name}:{start}-{end}#{claimed}", claim, source, start, end,
                                                    sentence, made))
            referent = subject(as_written or "") or referent
        before.append(sentence)
        yield outcome


def _rewrite(gateway: ModelGateway, meter: Meter, sentence: str, context: str) -> list[str]:
    with meter.stage("extract"):
        answer = gateway.write("extract_claims", meter, context=context or "(start of the document)",
                               sentence=sentence, max_tokens=MAX_CLAIM_TOKENS, grammar="claims")
    return _parse_claims(answer)


def _dedupe(claims: list[str]) -> list[str]:
    """Each claim once: a claim with the content words of one before it is the same claim."""
    seen: set[frozenset[str]] = set()
    out = []
    for claim in claims:
        key = frozenset(terms(claim))
        if key not in seen:
            seen.add(key)
            out.append(claim)
    return out


def read_document(name: str) -> str:
    """The text of the document ``name`` ('-': standard input)."""
    return read_user_text(name, "document")
