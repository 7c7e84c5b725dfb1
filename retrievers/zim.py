"""Evidence from a Kiwix ZIM archive (offline Wikipedia), read in this process with libzim.

A ZIM holds every article as HTML, a title index and (in every Wikipedia ZIM since 2017) a
Xapian full-text index. What libzim's search does shapes the queries:
- its query parser ANDs every term (stemmed, stop words out), so a whole claim often matches
  nothing: the claim's named entities are looked up as titles (title suggestions), and its
  content words are searched together, then with the last ones dropped, step by step, until
  the articles a search reads are found;
- results are entry paths, with no score and no snippet: the top articles are fetched, read
  as clean text (wiki_html.py: infobox rows as sentences, no references or navigation) and
  their passages ranked with BM25 (bm25s), as the web sources rank pages;
- searching is not thread-safe: a lock serialises it (batch workers share a source).
A ZIM without a full-text index is searched by title suggestions alone, said once on stderr.
Articles are parsed once per run, by path; with a cache folder, a search's passages are kept
on disk under the archive's UUID, so a rerun reads neither the archive nor the HTML again."""

from __future__ import annotations

import hashlib
import json
import re
import sys
import threading
from abc import abstractmethod
from pathlib import Path

from factcheck.errors import InputError, RetrievalError
from factcheck.files import write_atomic
from factcheck.schema import Passage
from factcheck.text import content_words, stop_words

from .base import Retriever
from .passages import split_passages
from .web import rank_passages
from .wiki_html import Article, read_article

_ENTITY = re.compile(r"(?:[A-Z][\w'’.-]*|[0-9]{3,4})(?:\s+(?:(?:of|the|de|von|van|and|for)\s+)?"
                     r"(?:[A-Z][\w'’.-]*|[0-9]+))*")
MAX_QUERY_WORDS = 6  # libzim ANDs them all: more rarely matches anything
MAX_RELAXATIONS = 5  # down to a single word
SEARCH_VERSION = "1"  # of the queries and the cleaning: cached searches of another are not reused


def entities(text: str) -> list[str]:
    """Runs of capitalised words ("Ray Charles", "Albany, Georgia" gives two), longest first,
    without an opening stop word ("The", "In", "Because") and a closing "'s"."""
    found = []
    for match in _ENTITY.finditer(text):
        words = match.group(0).strip(" .").removesuffix("'s").removesuffix("’s").split()
        while words and words[0].casefold() in stop_words():  # "The", "In", "Because": a sentence's opening
            words.pop(0)
        if match.start() == 0 and len(words) > 1:  # a sentence's first word is capitalised anyway
            found.append(" ".join(words[1:]))       # ("Because Lionel Richie"): try without it too
        name = " ".join(words)
        if name and name[0].isupper() and name not in found:
            found.append(name)
    return sorted(dict.fromkeys(found), key=lambda n: -len(n.split()))


class ArchiveSearch(Retriever):
    """What the two ways of reading a ZIM share (this one in process, kiwix.py through
    kiwix-serve): the queries, the passages made of the articles, their ranking and the
    on-disk cache. A reader supplies title suggestions, full-text search and articles."""

    articles = 4
    name = "zim"
    fulltext = True
    cache: Path | None = None
    label = ""  # the archive as stderr names it
    _said_no_index = False

    @abstractmethod
    def suggest(self, text: str, count: int) -> list[str]:
        """The paths of up to ``count`` articles whose titles match ``text``."""

    @abstractmethod
    def fulltext_search(self, query: str, count: int) -> list[str]:
        """The paths of up to ``count`` articles holding every word of ``query``."""

    @abstractmethod
    def article(self, path: str) -> tuple[str, Article] | None:
        """(the passage id prefix, the article) of ``path``, or None when it is no article."""

    @abstractmethod
    def link(self, path: str, article: Article) -> str | None:
        """Where a person can read the article."""

    def resolve(self, path: str) -> str | None:
        """The path of the article ``path`` is or redirects to (None: not there)."""
        return path

    # -- search ---------------------------------------------------------------------------
    def search(self, query: str, k: int) -> list[Passage]:
        stored = self._cached(query, k)
        if stored is not None:
            return stored
        passages = self._search(query, k)
        if self.cache is not None:
            write_atomic(self._cache_file(query, k), json.dumps([p.model_dump(mode="json") for p in passages]))
        return passages

    def _cache_file(self, query: str, k: int) -> Path:
        key = hashlib.sha256(f"{SEARCH_VERSION}\n{self.articles}\n{k}\n{query}".encode()).hexdigest()
        return self.cache / key[:2] / f"{key}.json"

    def _cached(self, query: str, k: int) -> list[Passage] | None:
        if self.cache is None:
            return None
        try:
            return [Passage.model_validate(p) for p in json.loads(self._cache_file(query, k).read_text())]
        except (OSError, ValueError):
            return None  # not there, or torn: search again

    def _search(self, query: str, k: int) -> list[Passage]:
        read = [(path, found) for path in self.paths(query) if (found := self.article(path))]
        passages, seen = [], set()
        for path, (prefix, article) in read:
            link = self.link(path, article)
            for passage in split_passages(article.document(prefix), source=self.name):
                if passage.text not in seen:  # two articles of one text (a ZIM may hold both) count once
                    seen.add(passage.text)
                    passages.append(passage.model_copy(update={"doc_id": link or passage.doc_id}))
        return rank_passages(query, passages, k)

    def paths(self, query: str) -> list[str]:
        """The articles to read for ``query``: its named entities' titles, then full-text
        matches of its content words, relaxed until something matches; each once."""
        found: list[str] = []
        for name in entities(query)[:4]:
            found += self.suggest(name, 2)
        words = list(dict.fromkeys(w.removesuffix("'s") for w in content_words(query)))[:MAX_QUERY_WORDS]
        if self.fulltext:
            # every word, then fewer, until the articles are found (each query ANDs its words)
            for size in range(len(words), max(0, len(words) - MAX_RELAXATIONS), -1):
                found += self.fulltext_search(" ".join(words[:size]), self.articles)
                if len(set(found)) >= self.articles:
                    break
        else:
            if not self._said_no_index:
                self._said_no_index = True
                print(f"factcheck: {self.label} has no full-text index: searching article titles only",
                      file=sys.stderr)
            found += self.suggest(" ".join(words), self.articles)
        return list(dict.fromkeys(p for p in map(self.resolve, found) if p))[: self.articles]


class ZimArchive(ArchiveSearch):
    """One ZIM file, read in process. ``articles``: how many articles a search reads;
    ``cache_dir``: where searches are kept (under the archive's UUID), None for none."""

    def __init__(self, path: Path, articles: int = 4, cache_dir: Path | None = None) -> None:
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
        self.label = path.name
        self.fulltext = self.archive.has_fulltext_index
        self.language = wikipedia_language(self._metadata("Name"))
        self._lock = threading.Lock()  # libzim's searchers are not thread-safe
        self._read: dict[str, tuple[str, Article] | None] = {}  # path -> parsed, once a run
        self._searcher = self._suggester = None  # opened on first use, under the lock
        self.cache = cache_dir / self.uuid if cache_dir is not None else None

    def _metadata(self, key: str) -> str:
        try:
            return bytes(self.archive.get_metadata(key)).decode("utf-8", "replace").strip()
        except (RuntimeError, KeyError):
            return ""

    def _search(self, query: str, k: int) -> list[Passage]:
        try:
            with self._lock:
                return super()._search(query, k)
        except RuntimeError as exc:  # a damaged cluster: this search fails, the run goes on
            raise RetrievalError(f"{self.name}: {_first_line(exc)}") from None

    def suggest(self, text: str, count: int) -> list[str]:
        if self._suggester is None:
            from libzim.suggestion import SuggestionSearcher

            self._suggester = SuggestionSearcher(self.archive)
        return list(self._suggester.suggest(text).getResults(0, count))

    def fulltext_search(self, query: str, count: int) -> list[str]:
        from libzim.search import Query, Searcher

        if self._searcher is None:  # one for the archive's life: opening the Xapian index is the costly part
            self._searcher = Searcher(self.archive)
        return list(self._searcher.search(Query().set_query(query)).getResults(0, count))

    def resolve(self, path: str) -> str | None:
        try:
            entry = self.archive.get_entry_by_path(path)
        except KeyError:
            return None
        return entry.get_redirect_entry().path if entry.is_redirect else entry.path

    def article(self, path: str) -> tuple[str, Article] | None:
        if path not in self._read:
            entry = self.archive.get_entry_by_path(path)  # a path paths() resolved
            item = entry.get_item()
            found = None
            if item.mimetype.startswith("text/html"):
                article = read_article(bytes(item.content).decode("utf-8", "replace"), title=entry.title)
                found = (f"{self.uuid[:8]}:{entry.path}", article) if article.blocks else None
            self._read[path] = found
        return self._read[path]

    def link(self, path: str, article: Article) -> str | None:
        return article.link or wikipedia_link(self.language, path)


def wikipedia_language(name: str) -> str | None:
    """The language of a Wikipedia archive from its name ("wikipedia_en_all_nopic": en)."""
    parts = name.split("_")
    return parts[1] if len(parts) > 2 and parts[0] == "wikipedia" and parts[1].isalpha() else None


def wikipedia_link(language: str | None, path: str) -> str | None:
    """The Wikipedia URL of an article of a Wikipedia archive."""
    if not language:
        return None
    from urllib.parse import quote

    return f"https://{language}.wikipedia.org/wiki/{quote(path.removeprefix('A/'))}"


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
