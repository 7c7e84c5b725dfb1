"""Turn settings into evidence sources: local indexes, ZIM archives and a web source
(Wikipedia's API, SearXNG or a kiwix-serve)."""

from __future__ import annotations

from factcheck.retrievers.http import Fetcher, WebOptions
from factcheck.retrievers.kiwix import KiwixServe
from factcheck.retrievers.local_index import IndexByMeaning, LocalIndex
from factcheck.retrievers.mediawiki import DEFAULT_API, MediaWiki
from factcheck.retrievers.searxng import SearXNG
from factcheck.retrievers.zim import ZimArchive

from ..config.paths import cache_dir
from ..config.settings import Settings
from ..errors import InputError
from ..retrievers import Retriever


def open_sources(settings: Settings) -> list[Retriever]:
    """Local indexes first, then ZIM archives, then the web source, in the order they were given. With
    evidence chosen by meaning, an index built with vectors is searched by meaning as well
    as by words (measured: docs/experiments.md, "Search by meaning")."""

    sources: list[Retriever] = []
    for path in settings.index:
        index = LocalIndex(path.expanduser())
        sources.append(index)
        if settings.selection == "meaning" and index.vectors is not None:
            sources.append(IndexByMeaning(index))
    for path in settings.zim:
        sources.append(ZimArchive(path.expanduser(), cache_dir=cache_dir() / "zim"))
    if settings.web:
        from urllib.parse import urlsplit

        if settings.web_url and urlsplit(settings.web_url).scheme not in ("http", "https"):
            raise InputError(f"--web-url must be an http or https URL, not {settings.web_url!r}")

        fetcher = Fetcher(WebOptions(read_timeout=settings.web_timeout,
                                     allow_private=settings.web_allow_private,
                                     cache_dir=cache_dir() / "web"))
        if settings.web == "wikipedia":
            sources.append(MediaWiki(fetcher, settings.web_url or DEFAULT_API))
        elif settings.web == "kiwix":
            if not settings.web_url:
                raise InputError("--web kiwix needs --web-url, the base URL of a kiwix-serve (e.g. http://127.0.0.1:8080)")
            sources.append(KiwixServe(fetcher, settings.web_url, settings.kiwix_book))
        else:
            if not settings.web_url:
                raise InputError("--web searxng needs --web-url, the base URL of a SearXNG instance")
            sources.append(SearXNG(fetcher, settings.web_url))
    return sources


def check_sources(settings: Settings) -> tuple[Settings, list[str]]:
    """Open and close every source once: a bad index or URL fails now, before any claim, even
    in a run that the result cache answers whole. A ZIM archive that cannot be read is left
    out and named: returns the settings without it and a line for each. With no source left,
    the first one's error is raised (exit 2): there would be nothing to check against."""
    readable, problems = [], []
    for path in settings.zim:
        try:
            ZimArchive(path.expanduser()).close()
            readable.append(path)
        except InputError as exc:
            problems.append(str(exc))
    for source in open_sources(settings.model_copy(update={"zim": []})):
        source.close()
    if not problems:
        return settings, []
    remaining = settings.model_copy(update={"zim": readable})
    if not (remaining.index or remaining.zim or remaining.web):
        raise InputError(problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    return remaining, problems
