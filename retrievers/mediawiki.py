"""Evidence from a MediaWiki site (English Wikipedia by default) through its API:
search for page titles, fetch each page's plain-text extract, rank its passages."""

from __future__ import annotations

from factcheck.errors import WebError
from factcheck.schema import Passage

from .base import Retriever
from .http import Fetcher
from .passages import Document
from .web import rank_pages

DEFAULT_API = "https://en.wikipedia.org/w/api.php"


class MediaWiki(Retriever):
    name = "web:wikipedia"

    def __init__(self, fetcher: Fetcher, api_url: str = DEFAULT_API, pages: int = 3) -> None:
        self.fetcher = fetcher
        self.api_url = api_url
        self.pages = pages

    def _titles(self, query: str) -> list[str]:
        data = self.fetcher.get(self.api_url, {
            "action": "query", "list": "search", "srsearch": query, "srlimit": self.pages,
            "format": "json", "formatversion": "2",
        }, trusted=True).json()
        try:
            return [hit["title"] for hit in data["query"]["search"]][: self.pages]
        except (KeyError, TypeError) as exc:
            raise WebError(f"{self.api_url}: unexpected search response (missing {exc})") from None

    def _extract(self, title: str) -> Document | None:
        # Whole-page plain-text extracts come one page per request from the TextExtracts API.
        data = self.fetcher.get(self.api_url, {
            "action": "query", "prop": "extracts", "explaintext": "1", "titles": title,
            "format": "json", "formatversion": "2", "redirects": "1",
        }, trusted=True).json()
        try:
            pages = data["query"]["pages"]
            pages = pages.values() if isinstance(pages, dict) else pages
        except (KeyError, TypeError, AttributeError) as exc:
            raise WebError(f"{self.api_url}: unexpected extract response (missing {exc})") from None
        for page in pages:
            if isinstance(page, dict) and isinstance(page.get("extract"), str) and page["extract"].strip():
                return Document(id=str(page.get("title", title)), title=str(page.get("title", title)),
                                text=page["extract"])
        return None

    def search(self, query: str, k: int) -> list[Passage]:
        documents = [doc for title in self._titles(query) if (doc := self._extract(title))]
        return rank_pages(query, documents, self.name, k)
