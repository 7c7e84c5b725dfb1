"""Turn settings into evidence sources and a ready Checker."""

from __future__ import annotations

from .retrievers import Retriever

from .config import Settings, cache_dir


def open_sources(settings: Settings) -> list[Retriever]:
    """Local indexes first, then the web source, in the order they were given."""
    from factcheck.retrievers.local_index import LocalIndex

    sources: list[Retriever] = [LocalIndex(path.expanduser()) for path in settings.index]
    if settings.web:
        from urllib.parse import urlsplit

        from factcheck.retrievers.http import Fetcher, WebOptions

        from .errors import InputError

        if settings.web_url and urlsplit(settings.web_url).scheme not in ("http", "https"):
            raise InputError(f"--web-url must be an http or https URL, not {settings.web_url!r}")

        fetcher = Fetcher(WebOptions(read_timeout=settings.web_timeout,
                                     allow_private=settings.web_allow_private,
                                     cache_dir=cache_dir() / "web"))
        if settings.web == "wikipedia":
            from factcheck.retrievers.mediawiki import DEFAULT_API, MediaWiki

            sources.append(MediaWiki(fetcher, settings.web_url or DEFAULT_API))
        else:
            from factcheck.retrievers.searxng import SearXNG

            if not settings.web_url:
                raise InputError("--web searxng needs --web-url, the base URL of a SearXNG instance")
            sources.append(SearXNG(fetcher, settings.web_url))
    return sources


def make_checker(settings: Settings, load):
    """Open the sources first (cheap, and a bad index fails before the model loads), then
    load the model with ``load(settings)`` and build the Checker."""
    from .consistency import estimator
    from .pipeline import Checker
    from .readers import Reader
    from .records import Route
    from .route import Thresholds

    sources = open_sources(settings)
    return Checker(
        load(settings), labels=settings.labels, sources=sources, k=settings.k,
        route=None if settings.route == "auto" else Route(settings.route),
        consistency=estimator(settings.consistency, settings.rationales_k),
        thresholds=Thresholds(alpha=settings.alpha, beta=settings.beta),
        max_hops=settings.max_hops, deep_token_budget=settings.deep_token_budget,
        calibration=settings.calibration, sentences=settings.sentences,
        reader=Reader(settings.reader, head=settings.probe, label_set=settings.labels, bias=settings.label_bias),
        router=settings.router if settings.consistency == "none" else None,
        sufficiency=settings.sufficiency,
    )
