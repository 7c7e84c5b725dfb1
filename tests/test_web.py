"""Web retrievers against a real HTTP server on 127.0.0.1, including its fault modes."""

import time

import pytest
from factcheck.retrievers.http import Fetcher, WebOptions, check_url
from factcheck.retrievers.mediawiki import MediaWiki
from factcheck.retrievers.searxng import SearXNG

from factcheck.errors import WebError

CLAIM = "As I Lay Dying is a song by the heavy metal band Metallica."


def fetcher(tmp_path=None, **overrides):
    options = dict(connect_timeout=1.0, read_timeout=1.0, retries=2, backoff=0.05,
                   max_bytes=1_000_000, allow_private=True,
                   cache_dir=(tmp_path / "web") if tmp_path else None)
    options.update(overrides)
    return Fetcher(WebOptions(**options))


def test_mediawiki_search_then_extracts_ranked_passages(wiki):
    results = MediaWiki(fetcher(), wiki.api).search(CLAIM, 4)
    assert results and all(p.source == "web:wikipedia" for p in results)
    assert any("As I Lay Dying" in p.title and "Faulkner" in p.text for p in results)
    assert [p.score for p in results] == sorted((p.score for p in results), reverse=True)


def test_searxng_fetches_pages_and_strips_markup(wiki):
    results = SearXNG(fetcher(), wiki.base).search(CLAIM, 4)
    assert results and all(p.source == "web:searxng" for p in results)
    text = " ".join(p.text for p in results)
    assert "Faulkner" in text and "var x" not in text and "menu" not in text


def test_cache_means_reruns_do_not_touch_the_network(wiki, tmp_path):
    MediaWiki(fetcher(tmp_path), wiki.api).search(CLAIM, 3)
    first = wiki.hits
    assert first > 0
    MediaWiki(fetcher(tmp_path), wiki.api).search(CLAIM, 3)
    assert wiki.hits == first


def test_429_with_retry_after_is_honoured_then_succeeds(wiki):
    wiki.reset("429")
    wiki.fail_times = 1
    start = time.monotonic()
    results = MediaWiki(fetcher(), wiki.api).search(CLAIM, 2)
    assert results and time.monotonic() - start >= 0.9  # waited for Retry-After: 1


@pytest.mark.parametrize("mode, message", [
    ("500", r"HTTP 500; gave up after 3 tries"),
    ("malformed", "did not return valid JSON"),
    ("huge", "byte cap"),
    ("reset", "connection failed"),
    ("truncated", "gave up"),
    ("wrong_type", "did not return valid JSON"),
    ("redirect_loop", "more than 5 redirects"),
])
def test_faults_become_clear_web_errors(wiki, mode, message):
    wiki.reset(mode)
    with pytest.raises(WebError, match=message):
        MediaWiki(fetcher(), wiki.api).search(CLAIM, 2)


def test_slow_server_times_out_within_the_configured_bound(wiki):
    wiki.reset("slow")
    wiki.delay = 2.0
    start = time.monotonic()
    with pytest.raises(WebError, match="timed out"):
        MediaWiki(fetcher(read_timeout=0.3, retries=1), wiki.api).search(CLAIM, 2)
    # two attempts of 0.3 s plus one 0.05 s backoff, with slack for a loaded machine
    assert time.monotonic() - start < 1.5


def test_redirect_into_a_private_network_is_refused(wiki):
    wiki.reset("redirect_private")
    with pytest.raises(WebError, match="private or loopback"):
        MediaWiki(fetcher(allow_private=False), wiki.api).search(CLAIM, 2)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "gopher://h/", "//nohost"])
def test_only_http_and_https_are_fetched(url):
    with pytest.raises(WebError, match="refusing"):
        check_url(url, allow_private=True)


def test_page_on_loopback_from_search_results_is_refused_unless_allowed(wiki):
    """SearXNG results are untrusted URLs: pages on loopback are skipped (snippet kept)."""
    results = SearXNG(fetcher(allow_private=False), wiki.base).search(CLAIM, 4)
    assert results  # from snippets
    assert all(len(p.text) <= 260 for p in results)


@pytest.mark.parametrize("mode", ["slow", "500", "reset", "truncated", "huge", "malformed", "wrong_type", "redirect_loop"])
def test_a_failing_web_source_falls_back_to_the_other_source(wiki, tmp_path, mode):
    """The claim still gets evidence from the local index; the web failure is recorded and
    nothing waits past the configured timeouts."""
    import json

    from factcheck.retrievers.local_index import LocalIndex, build_index

    from factcheck.schema import Claim, Route

    from .fakes import FakeModel, pipeline_of

    corpus = tmp_path / "c.jsonl"
    corpus.write_text(json.dumps({"id": "d", "title": "As I Lay Dying", "text": "As I Lay Dying is a novel by William Faulkner."}) + "\n")
    build_index([str(corpus)], tmp_path / "idx")
    wiki.reset(mode)
    wiki.delay = 2.0
    web = MediaWiki(fetcher(read_timeout=0.3, retries=1), wiki.api)
    start = time.monotonic()
    record = pipeline_of(FakeModel(), sources=[web, LocalIndex(tmp_path / "idx")], route=Route.RETRIEVE).check(
        Claim(id="1", text=CLAIM))
    assert time.monotonic() - start < 4.0
    assert record.basis == "evidence" and [e.doc_id for e in record.evidence] == ["d"]
    assert any(e.startswith("web:wikipedia:") for e in record.source_errors)
    assert record.source_errors and record.source_errors[0].startswith("web:wikipedia:")


def test_web_as_the_only_source_failing_is_an_error_record(wiki):
    from factcheck.schema import Claim, Route

    from .fakes import FakeModel, pipeline_of

    wiki.reset("500")
    record = pipeline_of(FakeModel(), sources=[MediaWiki(fetcher(retries=1), wiki.api)], route=Route.RETRIEVE).check_or_error(
        Claim(id="1", text=CLAIM))
    assert record.error.kind == "runtime" and "HTTP 500" in record.error.reason


def test_an_outage_is_exit_3_said_on_stderr_and_not_cached(wiki, monkeypatch, isolated_cache):
    """`check --web … --json` during an outage: an error record, exit 3, one line on stderr;
    once the source is back, the claim is checked again, not served from the cache."""
    import json

    from typer.testing import CliRunner

    from factcheck.cli import app

    from .fakes import FakeModel

    monkeypatch.setattr("factcheck.model.loader.open_model", lambda settings, progress=None: FakeModel())
    monkeypatch.setenv("FACTCHECK_WEB_TIMEOUT", "2")
    args = ["check", "--json", "--web", "wikipedia", "--web-url", wiki.api, CLAIM, "Water is wet."]
    wiki.reset("500")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 3, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(r["verdict"] is None and r["error"]["kind"] == "runtime" for r in records)
    assert "every evidence source failed" in result.stderr
    wiki.reset("ok")
    again = [json.loads(line) for line in CliRunner().invoke(app, args).stdout.splitlines()]
    assert again[0]["error"] is None and again[0]["from_cache"] is False and again[0]["basis"] == "evidence"
    # with the fallback asked for, an outage gives the model's own verdict, warned
    wiki.reset("500")
    # (a claim not searched before: the web cache keeps the responses of the run above)
    fallback = CliRunner().invoke(app, [*args[:-2], "Snow is white.", "--if-sources-fail", "model", "--no-cache"])
    first = json.loads(fallback.stdout.splitlines()[0])
    assert first["basis"] == "model" and first["source_errors"] and "evidence source failed" in fallback.stderr


def test_web_pages_are_ranked_on_the_same_stemmed_terms_as_local_evidence():
    from factcheck.retrievers.passages import Document
    from factcheck.retrievers.web import rank_pages

    pages = [Document(id="a", title="Cats", text="Cats sleep for most of the day."),
             Document(id="b", title="Rivers", text="The river was flooding the valleys after storms."),
             Document(id="c", title="Bread", text="Bread is baked from flour and water."),
             Document(id="d", title="Stars", text="Stars shine by fusing hydrogen.")]
    ranked = rank_pages("rivers flood valley", pages, source="web:test", k=2)
    assert [p.doc_id for p in ranked] == ["b"]  # "flood" meets "flooding", "valley" meets "valleys"
