"""Evidence from a ZIM archive served by kiwix-serve (``--web kiwix --web-url URL``), through
the one HTTP layer (http.py: retries, size caps, private-address rules, the on-disk cache of
responses). The same queries, article cleaning and ranking as the in-process path (zim.py);
only the reading differs:
- the books: ``/catalog/v2/entries`` (OPDS), one named with ``--kiwix-book`` when the server
  holds several;
- title suggestions: ``/suggest?content=BOOK&term=…`` (JSON);
- full-text search: ``/search?books.name=BOOK&pattern=…&format=xml`` (RSS with OpenSearch
  fields; each item's link is ``/BOOK/PATH``);
- an article's HTML: ``/raw/BOOK/content/PATH``.
A passage links to the article on the server, or to Wikipedia when the book is Wikipedia's
and names the page."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from urllib.parse import quote

from factcheck.errors import InputError, WebError

from .http import Fetcher
from .wiki_html import Article, read_article
from .zim import ArchiveSearch, wikipedia_language

_ATOM = "{http://www.w3.org/2005/Atom}"


@dataclass
class Book:
    name: str
    title: str
    uuid: str
    date: str


class KiwixServe(ArchiveSearch):
    def __init__(self, fetcher: Fetcher, base_url: str, book: str | None = None, articles: int = 4) -> None:
        self.fetcher = fetcher
        self.base_url = base_url.rstrip("/")
        self.articles = articles
        books = self.books()
        if book is None and len(books) != 1:
            names = ", ".join(b.name for b in books) or "none"
            raise InputError(f"{self.base_url} serves {len(books)} books ({names}): name one with --kiwix-book NAME")
        chosen = next((b for b in books if book in (b.name, b.uuid)), None) if book else books[0]
        if chosen is None:
            raise InputError(f"{self.base_url} serves no book {book!r} (it serves: {', '.join(b.name for b in books)})")
        self.book = chosen
        self.name = f"kiwix:{chosen.name}" + (f" ({chosen.date})" if chosen.date else "")
        self.label = f"{chosen.name} at {self.base_url}"
        # the catalog's "_ftindex" tag can say no for an archive that has one (libkiwix looks
        # for an older layout): search, and fall back to titles when the server refuses
        self.fulltext = True
        self.language = wikipedia_language(chosen.name)
        self._read: dict[str, tuple[str, Article] | None] = {}

    def books(self) -> list[Book]:
        """The books the server holds, from its OPDS catalog."""
        text = self.fetcher.get(f"{self.base_url}/catalog/v2/entries", {"count": "-1"}, trusted=True).text
        try:
            feed = ElementTree.fromstring(text)
        except ElementTree.ParseError as exc:
            raise WebError(f"{self.base_url}: not a kiwix-serve catalog ({exc})") from None
        books = []
        for entry in feed.iter(f"{_ATOM}entry"):
            def field(tag: str) -> str:
                return (entry.findtext(f"{_ATOM}{tag}") or "").strip()

            href = next((link.get("href", "") for link in entry.iter(f"{_ATOM}link")
                         if link.get("type") == "text/html"), "")
            name = field("name") or href.rstrip("/").rsplit("/", 1)[-1]
            if name:
                books.append(Book(name=name, title=field("title"), uuid=field("id").removeprefix("urn:uuid:"),
                                  date=field("updated")[:10]))
        return books

    def suggest(self, text: str, count: int) -> list[str]:
        data = self.fetcher.get(f"{self.base_url}/suggest", {"content": self.book.name, "term": text,
                                                             "count": str(count)}, trusted=True).json()
        if not isinstance(data, list):
            raise WebError(f"{self.base_url}/suggest: unexpected response (not a list)")
        return [html.unescape(s["path"]) for s in data if isinstance(s, dict) and s.get("kind") == "path"
                and isinstance(s.get("path"), str)][:count]  # kiwix-serve escapes the paths as HTML

    def fulltext_search(self, query: str, count: int) -> list[str]:
        try:
            text = self.fetcher.get(f"{self.base_url}/search", {"books.name": self.book.name, "pattern": query,
                                                                "format": "xml", "pageLength": str(count)},
                                    trusted=True).text
        except WebError as exc:
            if ": HTTP 4" not in str(exc):
                raise  # the server is down or failing: this search fails
            self.fulltext = False  # it has no full-text index for this book: titles from now on
            return self.suggest(query, count)
        try:
            feed = ElementTree.fromstring(text)
        except ElementTree.ParseError as exc:
            raise WebError(f"{self.base_url}/search: not an RSS result ({exc})") from None
        prefix = f"/{self.book.name}/"
        paths = []
        for item in feed.iter("item"):
            link = html.unescape((item.findtext("link") or "").strip())  # kiwix-serve escapes "&" twice
            link = link[link.find(prefix):] if prefix in link else link
            if link.startswith(prefix):
                paths.append(link[len(prefix):])
        return paths[:count]

    def article(self, path: str) -> tuple[str, Article] | None:
        if path not in self._read:
            try:
                response = self.fetcher.get(f"{self.base_url}/raw/{self.book.name}/content/{quote(path)}", trusted=True)
            except WebError:  # one article the server cannot give (gone, too big): the others still count
                self._read[path] = None
                return None
            found = None
            if response.content_type.split(";")[0].strip().lower() == "text/html":
                article = read_article(response.text)
                final = _path_in(response.url, self.book.name) or path  # a redirect's target: ids as in process
                found = (f"{self.book.uuid[:8]}:{final}", article) if article.blocks else None
            self._read[path] = found
        return self._read[path]

    def link(self, path: str, article: Article) -> str | None:
        return article.link or f"{self.base_url}/{self.book.name}/{quote(path)}"


def _path_in(url: str, book: str) -> str | None:
    """The article path in a kiwix-serve URL (``…/BOOK/PATH`` or ``…/raw/BOOK/content/PATH``)."""
    from urllib.parse import unquote, urlsplit

    path = unquote(urlsplit(url).path)
    for prefix in (f"/raw/{book}/content/", f"/content/{book}/", f"/{book}/"):
        if prefix in path:
            return path.split(prefix, 1)[1]
    return None
