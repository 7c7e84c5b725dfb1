"""What the web retrievers share: split fetched pages into passages and rank them against
the query on the fly with BM25 (bm25s, the local index's ranker; a few pages' passages need
no index on disk)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from factcheck.schema import Passage
from factcheck.text import terms

from .passages import Document, split_passages


def rank_pages(query: str, pages: list[Document], source: str, k: int, max_words: int = 100) -> list[Passage]:
    """Split ``pages`` into passages and return the ``k`` best for ``query`` by BM25."""
    return rank_passages(query, [p for page in pages for p in split_passages(page, source=source, max_words=max_words)],
                         k)


def rank_passages(query: str, passages: list[Passage], k: int) -> list[Passage]:
    """The ``k`` best of ``passages`` for ``query`` by BM25 over just these passages."""
    import bm25s

    query_words = terms(query)
    if not passages or not query_words:
        return []
    ranker = bm25s.BM25()
    ranker.index([terms(f"{p.title} {p.text}") or ["_"] for p in passages], show_progress=False)
    scores = ranker.get_scores(query_words)
    order = sorted(range(len(passages)), key=lambda i: scores[i], reverse=True)
    return [passages[i].model_copy(update={"score": float(scores[i])}) for i in order[:k] if scores[i] > 0]


class _TextExtractor(HTMLParser):
    _SKIP = {"script", "style", "noscript", "template", "svg", "head", "nav", "footer"}
    _BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self._skip += 1
        if tag == "title":
            self._in_title = True
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self._SKIP and self._skip:
            self._skip -= 1
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        elif not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> tuple[str, str]:
    """Return (title, visible text) of an HTML page."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = re.sub(r"[ \t\r\f\v]+", " ", "".join(parser.parts))
    text = re.sub(r"\s*\n\s*", "\n", text).strip()
    # lines become sentences so passage splitting does not glue headings to text
    text = " ".join(line if line.endswith((".", "!", "?")) else line + "." for line in text.splitlines() if line)
    return parser.title.strip(), text
