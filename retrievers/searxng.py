"""Evidence from a SearXNG instance through its JSON API: take the top results, fetch
each page and extract its text (falling back to the result snippet), rank the passages."""

from __future__ import annotations

from factcheck.errors import WebError
from factcheck.schema import Passage

from .base import Retriever
from .http import Fetcher
from .passages import Document
from .web import html_to_text, rank_pages


class SearXNG(Retriever):
    name = "web:searxng"

    def __init__(self, fetcher: Fetcher, base_url: str, pages: int = 3) -> None:
        self.fetcher = fetcher
        self.base_url = base_url.rstrip("/")
        self.pages = pages

    def _results(self, query: str) -> list[dict]:
        data = self.fetcher.get(f"{self.base_url}/search", {"q": query, "format": "json"}, trusted=True).json()
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list):
            raise WebError(f"{self.base_url}: unexpected search response (no results list)")
        return [r for r in results if isinstance(r, dict) and isinstance(r.get("url"), str)][: self.pages]

    def _page(self, result: dict) -> Document | None:
        snippet = str(result.get("content") or "")
        title = str(result.get("title") or result["url"])
        try:
            response = self.fetcher.get(result["url"])
        except WebError:
            response = None  # an unreachable page still has its snippet
        text = ""
        if response is not None:
            kind = response.content_type.split(";")[0].strip().lower()
            if kind in ("text/html", "application/xhtml+xml"):
                page_title, text = html_to_text(response.text)
                title = page_title or title
            elif kind.startswith("text/"):
                text = response.text
        text = text or snippet
        return Document(id=result["url"], title=title, text=text) if text.strip() else None

    def search(self, query: str, k: int) -> list[Passage]:
        documents = [doc for result in self._results(query) if (doc := self._page(result))]
        return rank_pages(query, documents, self.name, k)
