"""Words and sentences, one way for every stage: selecting evidence sentences, building and
searching a local index, ranking web pages, writing queries and extracting claims.

- ``terms``: lower-cased content words, stop words out, stemmed (Snowball English);
- ``index_tokens``: the same stop words and stemmer, split as bm25s splits (an index stores
  its vocabulary, so an index built by an earlier release must keep matching its queries);
- ``split_sentences`` / ``sentence_spans``: sentences of evidence text, and where they are;
- ``content_words``: the words of a text as written, stop words out (queries are read by a
  search engine, so they keep the words' own form);
- ``markdown_text``: text on one line, literal in Markdown (tables, reports).
"""

from __future__ import annotations

import re
from functools import cache

WORD = re.compile(r"[A-Za-z0-9]+(?:[-'][A-Za-z0-9]+)*")
# (not after an initial: "S. Karato", "John F. Kennedy")
_SENTENCE_END = re.compile(r"(?<=[.!?])(?<!\s[A-Z]\.)(?<!^[A-Z]\.)\s+(?=[\"'(\[]?[A-Z0-9])")


@cache
def stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@cache
def stop_words() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def terms(text: str) -> list[str]:
    """Lower-cased, stemmed content words."""
    stop = stop_words()
    words = [w.lower() for w in WORD.findall(text)]
    return stemmer().stemWords([w for w in words if w not in stop and len(w) > 1])


def index_tokens(texts: list[str]) -> list[list[str]]:
    """``terms`` as a local index stores them (bm25s's splitting, this module's stop words
    and stemmer)."""
    import bm25s

    # bm25s's "en" list is STOPWORDS_EN, the list stop_words() holds
    return bm25s.tokenize(texts, stopwords="en", stemmer=stemmer(), return_ids=False, show_progress=False)


def content_words(text: str) -> list[str]:
    """The words of ``text`` as written, without stop words."""
    stop = stop_words()
    return [w for w in WORD.findall(text) if w.casefold() not in stop]


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text``."""
    spans, cursor = [], 0
    for sentence in split_sentences(text):
        start = text.find(sentence, cursor)
        if start < 0:  # split_sentences only strips, so this is defensive
            continue
        spans.append((start, start + len(sentence)))
        cursor = start + len(sentence)
    return spans


_MARKUP = re.compile(r"([\\`*_\[\]|~])")  # what can start markup inside a line


def markdown_text(value: str, limit: int | None = None) -> str:
    """``value`` on one line (cut to ``limit`` characters), as literal text in Markdown and in
    any HTML a Markdown renderer makes of it."""
    value = " ".join(value.split())
    if limit and len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _MARKUP.sub(r"\\\1", value)
    value = re.sub(r"^(\d+)([.)])", r"\1\\\2", value)  # "1." would start a list: "1\."
    return "\\" + value if value[:1] in ("#", "-", "+", "=") else value  # a heading or a list item
