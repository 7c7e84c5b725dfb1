"""Extract atomic, self-contained, check-worthy claims from prose, with source spans.

Documents are split into sentences with their character offsets. Each sentence (with the
sentence before it as context, to resolve pronouns) goes to the model, which answers under
a JSON grammar, so the output always parses. Every claim is then checked against its
sentence (``supported``: a claim the document does not say is dropped) and merged with any
claim of the same content words. Every claim points back to the sentence it came from:
file, start and end offsets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..cost import Meter
from ..files import read_user_text
from ..reading.gateway import ModelGateway
from ..text import sentence_spans, terms

_LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
MIN_WORDS = 4
MAX_CLAIM_TOKENS = 160
# A claim is kept only where the document says it (checked, not trusted): most of its content
# words are in its own sentence, and nearly all in that sentence with the one before it (which
# resolves "it" and "the company"). Measured on tests/fixtures/extraction (docs/results.md).
MIN_IN_SENTENCE = 0.5
MIN_IN_SPAN = 0.75


@dataclass
class ExtractedClaim:
    id: str
    claim: str
    source: str
    start: int
    end: int
    sentence: str

    def to_json(self) -> dict:
        return self.__dict__.copy()


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


# A checkable claim speaks of the world, not of the writer or what ought to be; and it is a
# statement, not a name or a date alone (a few words, some of them lower-case).
_PERSONAL = re.compile(r"\b(?:I|we|We|my|My|our|Our|us|me|should|must|ought|opinion|worth it)\b"
                       r"|\b(?i:best|worst|greatest|favou?rite|interesting|amazing|wonderful|terrible|boring|beautiful)"
                       r"\b(?!-)")
_LOWER_WORD = re.compile(r"\b[a-z][a-z'-]*\b")


def is_claim(text: str) -> bool:
    """Whether ``text`` reads as a checkable statement: not an opinion or wish, not a fragment."""
    return len(text.split()) >= 3 and len(_LOWER_WORD.findall(text)) >= 2 and not _PERSONAL.search(text)


def supported(claim: str, sentence: str, context: str) -> bool:
    """Whether the document says ``claim``: its content words are found in ``sentence``
    (and, for references it resolves, the sentence before). A claim the model added from its
    own knowledge, or one it made of an opinion, fails."""
    words = set(terms(claim))
    if not words:
        return False
    own, near = set(terms(sentence)), set(terms(context))
    return (len(words & own) / len(words) >= MIN_IN_SENTENCE
            and len(words & (own | near)) / len(words) >= MIN_IN_SPAN)


def extract_claims(gateway: ModelGateway, text: str, source: str, meter: Meter | None = None,
                   on_sentence: Callable[[int, int], None] | None = None) -> list[ExtractedClaim]:
    """The document's check-worthy claims, each supported by its sentence, each once.
    ``on_sentence(done, total)`` reports progress."""
    meter = meter or Meter()
    found: list[ExtractedClaim] = []
    seen: set[frozenset[str]] = set()
    previous = ""
    spans = list(sentences(text))
    for number, (start, end, sentence) in enumerate(spans, start=1):
        if len(sentence.split()) >= MIN_WORDS and not sentence.endswith("?"):
            with meter.stage("extract"):
                answer = gateway.write("extract_claims", meter, context=previous or "(start of the document)",
                                     sentence=sentence, max_tokens=MAX_CLAIM_TOKENS, grammar="claims")
            for claim in _parse_claims(answer):
                key = frozenset(terms(claim))
                if key in seen or not is_claim(claim) or not supported(claim, sentence, previous):
                    continue  # said already, an opinion or a fragment, or not said by the document
                seen.add(key)
                found.append(ExtractedClaim(id=f"{Path(source).name}:{start}-{end}#{len(found) + 1}",
                                            claim=claim, source=source, start=start, end=end,
                                            sentence=sentence))
        previous = sentence
        if on_sentence:
            on_sentence(number, len(spans))
    return found


def read_document(name: str) -> str:
    """The text of the document ``name`` ('-': standard input)."""
    return read_user_text(name, "document")
