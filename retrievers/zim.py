"""Evidence from a Kiwix ZIM archive (offline Wikipedia), read in this process with libzim.

A ZIM holds every article as HTML, a title index and (in every Wikipedia ZIM since 2017) a
Xapian full-text index. What libzim's search does shapes the queries:
- its query parser ANDs every term (stemmed, stop words out), so a whole claim often matches
  nothing: the claim's named entities are looked up as titles (title suggestions), and its
  content words are searched together, then with the last ones dropped, step by step, until
  something matches;
- results are entry paths, with no score and no snippet: the top articles are fetched, read
  as clean text (wiki_html.py: infobox rows as sentences, no references or navigation) and
  their passages ranked with BM25 (bm25s), as the web sources rank pages;
- searching is not thread-safe: a lock serialises it (batch workers share a source).
A ZIM without a full-text index is searched by title suggestions alone, said once on stderr.
Articles are parsed once per run, by path."""

from __future__ import annotations

import re
import sys
import threading
from pathlib import Path

from factcheck.errors import InputError, RetrievalError
from factcheck.schema import Passage
from factcheck.text import content_words

from .base import Retriever
from .passages import split_passages
from .web import rank_passages
from .wiki_html import Article, read_article

_ENTITY = re.compile(r"(?:[A-Z][\w'’.-]*|[0-9]{3,4})(?:\s+(?:(?:of|the|de|von|van|and|for)\s+)?"
                     r"(?:[A-Z][\w'’.-]*|[0-9]+))*")
MAX_QUERY_WORDS = 6  # libzim ANDs them all: more rarely matches anything
MAX_RELAXATIONS = 4


def entities(text: str) -> list[str]:
    """Runs of capitalised words ("Ray Charles", "Albany, Georgia" gives two), longest first."""
    found = []
    for match in _ENTITY.finditer(text):
        name = match.group(0).strip(" .")
        if name and name.casefold() not in ("the", "a", "an", "it", "in", "on") and name not in found:
            found.append(name)
    return sorted(found, key=lambda n: -len(n.split()))


class ZimArchive(Retriever):
    """One ZIM file. ``articles``: how many articles a search reads."""

    def __init__(self, path: Path, articles: int = 4) -> None:
        from libzim.reader import (
            Archive,  # imported here: a run without --zim never loads it
        )

        self.path = path
        try:
            self.archive = Archive(str(path))
            self.archive.main_entry  # noqa: B018 - a damaged directory fails here, not mid-run
        except RuntimeError as exc:
            raise InputError(f"{path}: not a readable ZIM archive ({_first_line(exc)})") from None
        except OSError as exc:
            raise InputError(f"{path}: cannot read the ZIM archive ({exc.strerror or exc})") from None
        self.articles = articles
        self.uuid = str(self.archive.uuid)
        self.date = self._metadata("Date")
        self.name = f"zim:{path.name}" + (f" ({self.date})" if self.date else "")
        self.fulltext = self.archive.has_fulltext_index
        self._language = _wikipedia_language(self._metadata("Name"))
        self._lock = threading.Lock()
        self._read: dict[str, tuple[str, Article] | None] = {}  # path -> (its passage id prefix, article)
        self._said_no_index = False

    def _metadata(self, key: str) -> str:
        try:
            return bytes(self.archive.get_metadata(key)).decode("utf-8", "replace").strip()
        except (RuntimeError, KeyError):
            return ""

    # -- search ---------------------------------------------------------------------------
    def search(self, query: str, k: int) -> list[Passage]:
        try:
            with self._lock:
                paths = self.paths(query)
                read = [(path, found) for path in paths if (found := self._article(path))]
        except RuntimeError as exc:  # a damaged cluster: this search fails, the run goes on
            raise RetrievalError(f"{self.name}: {_first_line(exc)}") from None
        passages, seen = [], set()
        for path, (prefix, article) in read:
            link = article.link or self._link(path)
            for passage in split_passages(article.document(prefix), source=self.name):
                if passage.text not in seen:  # two articles of one text (a ZIM may hold both) count once
                    seen.add(passage.text)
                    passages.append(passage.model_copy(update={"doc_id": link or passage.doc_id}))
        return rank_passages(query, passages, k)

    def paths(self, query: str) -> list[str]:
        """The articles to read for ``query``: its named entities' titles, then full-text
        matches of its content words, relaxed until something matches; each once."""
        from libzim.search import Query, Searcher
        from libzim.suggestion import SuggestionSearcher

        found: list[str] = []
        suggest = SuggestionSearcher(self.archive)
        for name in entities(query)[:3]:
            found += list(suggest.suggest(name).getResults(0, 2))
        words = list(dict.fromkeys(content_words(query)))[:MAX_QUERY_WORDS]
        if self.fulltext:
            searcher = Searcher(self.archive)
            for size in range(len(words), max(0, len(words) - MAX_RELAXATIONS), -1):
                hits = list(searcher.search(Query().set_query(" ".join(words[:size]))).getResults(0, self.articles))
                if hits:
                    found += hits
                    break
        else:
            if not self._said_no_index:
                self._said_no_index = True
                print(f"factcheck: {self.path.name} has no full-text index: searching article titles only",
                      file=sys.stderr)
            found += list(suggest.suggest(" ".join(words)).getResults(0, self.articles))
        return list(dict.fromkeys(p for p in map(self._resolve, found) if p))[: self.articles]

    def _resolve(self, path: str) -> str | None:
        """The path of the article ``path`` is or redirects to (two titles of one article
        are read once)."""
        try:
            entry = self.archive.get_entry_by_path(path)
        except KeyError:
            return None
        return entry.get_redirect_entry().path if entry.is_redirect else entry.path

    def _article(self, path: str) -> tuple[str, Article] | None:
        if path not in self._read:
            self._read[path] = self._parse(path)
        return self._read[path]

    def _parse(self, path: str) -> tuple[str, Article] | None:
        entry = self.archive.get_entry_by_path(path)  # a path paths() resolved
        item = entry.get_item()
        if not item.mimetype.startswith("text/html"):
            return None
        article = read_article(bytes(item.content).decode("utf-8", "replace"), title=entry.title)
        return (f"{self.uuid[:8]}:{entry.path}", article) if article.blocks else None

    def _link(self, path: str) -> str | None:
        """The Wikipedia URL of an article, from the archive's name ("wikipedia_en_…")."""
        if not self._language:
            return None
        from urllib.parse import quote

        return f"https://{self._language}.wikipedia.org/wiki/{quote(path.removeprefix('A/'))}"


def _wikipedia_language(name: str) -> str | None:
    parts = name.split("_")
    return parts[1] if len(parts) > 2 and parts[0] == "wikipedia" and parts[1].isalpha() else None


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
