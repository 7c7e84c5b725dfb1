"""Extract atomic, self-contained, check-worthy claims from prose, with source spans.

Documents are split into sentences with their character offsets. Each sentence (with the
sentence before it as context, to resolve pronouns) goes to the model, which answers under
a JSON grammar, so the output always parses. Every claim points back to the sentence it
came from: file, start and end offsets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .cost import Meter
from .errors import InputError
from .judge import Judge

_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+[\"')\]]*|\n|$)")
MIN_WORDS = 4
MAX_CLAIM_TOKENS = 160


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
    """(start, end, sentence) for each sentence, offsets into ``text``."""
    for match in _SENTENCE.finditer(text):
        raw = match.group(0)
        stripped = raw.strip()
        if not stripped:
            continue
        start = match.start() + (len(raw) - len(raw.lstrip()))
        yield start, start + len(stripped), stripped


def _parse_claims(text: str) -> list[str]:
    try:
        claims = json.loads(text).get("claims", [])
    except (ValueError, AttributeError):
        # cut off by max_tokens: keep the complete strings the grammar produced
        claims = re.findall(r'"((?:[^"\\])+)"', text.split("[", 1)[-1])
    return [" ".join(str(c).split()) for c in claims if isinstance(c, str) and str(c).strip()]


def extract_claims(judge: Judge, text: str, source: str, meter: Meter | None = None) -> list[ExtractedClaim]:
    meter = meter or Meter()
    found: list[ExtractedClaim] = []
    previous = ""
    for start, end, sentence in sentences(text):
        if len(sentence.split()) >= MIN_WORDS and not sentence.startswith("#") and not sentence.endswith("?"):
            with meter.stage("extract"):
                answer = judge.write("extract_claims", meter, context=previous or "(start of the document)",
                                     sentence=sentence, max_tokens=MAX_CLAIM_TOKENS, grammar="claims")
            for claim in _parse_claims(answer):
                found.append(ExtractedClaim(id=f"{Path(source).name}:{start}-{end}#{len(found) + 1}",
                                            claim=claim, source=source, start=start, end=end,
                                            sentence=sentence))
        previous = sentence
    return found


def read_document(name: str) -> str:
    import sys

    if name == "-":
        data = sys.stdin.buffer.read()
    else:
        path = Path(name)
        if path.is_dir():
            raise InputError(f"{name} is a directory, not a document")
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise InputError(f"document not found: {name}") from None
        except PermissionError:
            raise InputError(f"document is not readable: {name}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name} is not UTF-8 text (byte {exc.start})") from None
