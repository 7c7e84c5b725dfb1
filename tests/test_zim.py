"""Kiwix ZIM archives as an evidence source, read in process with libzim: the real Wikipedia
ZIM of the fixtures (129 articles as Kiwix's scraper made them), archives built here with
libzim's Creator, and the two damaged ZIMs. No model: the real-model runs are at the end,
marked ``model``."""

import json
import shutil
import threading
from pathlib import Path

import pytest
from factcheck.retrievers.wiki_html import read_article
from factcheck.retrievers.zim import ZimArchive, entities
from typer.testing import CliRunner

from factcheck.cli import app
from factcheck.config.settings import Settings
from factcheck.errors import InputError
from factcheck.runs.cache import sources_identity

ZIMS = Path(__file__).parent / "fixtures" / "zim"
RAY = ZIMS / "wikipedia_en_ray_charles.zim"


def build_zim(path: Path, articles: dict[str, tuple[str, str]], fulltext: bool = True, name: str = "test_en_all"):
    """A ZIM of ``articles`` (path -> (title, html)), made with libzim's Creator."""
    from libzim.writer import Creator, Hint, Item, StringProvider

    class Page(Item):
        def __init__(self, path, title, html):
            super().__init__()
            self.path, self.title, self.html = path, title, html

        def get_path(self):
            return self.path

        def get_title(self):
            return self.title

        def get_mimetype(self):
            return "text/html"

        def get_contentprovider(self):
            return StringProvider(self.html)

        def get_hints(self):
            return {Hint.FRONT_ARTICLE: True}

    with Creator(str(path)).config_indexing(fulltext, "eng") as creator:
        creator.set_mainpath(next(iter(articles)))
        for key, value in {"Name": name, "Title": "Test", "Language": "eng", "Date": "2026-12-07",
                           "Creator": "factcheck tests", "Publisher": "factcheck tests",
                           "Description": "Test articles"}.items():
            creator.add_metadata(key, value)
        for page, (title, html) in articles.items():
            creator.add_item(Page(page, title, html))
    return path


def page(title: str, *paragraphs: str) -> str:
    return (f"<html><head><title>{title}</title></head><body>"
            + "".join(f"<p>{p}</p>" for p in paragraphs) + "</body></html>")


ARTICLES = {
    "Lisbon": ("Lisbon", page("Lisbon", "Lisbon is the capital and largest city of Portugal.",
                              "The city is built on seven hills above the Tagus estuary.")),
    "Tagus": ("Tagus", page("Tagus", "The Tagus is the longest river in the Iberian Peninsula.",
                            "It rises in the Sierra de Albarracín and flows into the Atlantic Ocean at Lisbon.")),
    "Belem_Tower": ("Belém Tower", page("Belém Tower", "Belém Tower is a fortification in Lisbon, Portugal.",
                                        "It was completed in 1519 as part of a defence system.")),
}


def test_an_article_is_read_as_clean_text_with_infobox_rows_as_sentences():
    html = """<html><head><title>Ray Charles</title><link rel="canonical" href="https://en.wikipedia.org/wiki/Ray_Charles">
    </head><body><table class="infobox vcard"><tr><th colspan="2">Ray Charles</th></tr>
    <tr><th scope="row">Born</th><td><span style="display:none">(1930-09-23)</span>September 23, 1930<br>Albany, Georgia, U.S.</td></tr>
    <tr><th>Genres</th><td><ul><li>R&amp;B</li><li>soul</li></ul></td></tr></table>
    <h2>Early life<span class="mw-editsection">[edit]</span></h2>
    <p>Charles was born in Albany, Georgia.<sup class="reference">[1]</sup> He grew up in Greenville, Florida.</p>
    <table class="wikitable"><tr><td>Year</td><td>Chart</td></tr></table>
    <div class="navbox"><p>Ray Charles albums and singles in one navigation box</p></div>
    <h2>References</h2><ol class="references"><li>A cited book, 1990, page 4.</li></ol>
    <h2>Legacy</h2><p>Charles is a 17-time Grammy Award winner.</p></body></html>"""
    article = read_article(html)
    assert article.title == "Ray Charles" and article.link == "https://en.wikipedia.org/wiki/Ray_Charles"
    assert article.blocks == ["Born: September 23, 1930, Albany, Georgia, U.S.", "Genres: R&B, soul.",
                              "Charles was born in Albany, Georgia. He grew up in Greenville, Florida.",
                              "Charles is a 17-time Grammy Award winner."]


def test_the_real_wikipedia_zim_gives_passages_a_person_can_follow():
    zim = ZimArchive(RAY)
    assert zim.name == "zim:wikipedia_en_ray_charles.zim (2020-03-31)" and zim.fulltext
    passages = zim.search("Ray Charles was born in Albany, Georgia.", 5)
    assert passages and passages[0].title == "Ray Charles"
    assert "Born: September 23, 1930, Albany, Georgia" in passages[0].text  # the infobox, as a sentence
    assert passages[0].doc_id == "https://en.wikipedia.org/wiki/Ray_Charles"
    assert passages[0].id.startswith("6f1d19d0:A/Ray_Charles#")  # stable: the archive's UUID and the path
    assert all(p.source == zim.name for p in passages)
    assert len({p.text for p in passages}) == len(passages)
    assert not any("This article is issued from Wikipedia" in p.text for p in passages)  # Kiwix's footer


def test_a_whole_claim_that_matches_nothing_is_relaxed_until_something_does():
    zim = ZimArchive(RAY)
    claim = "The song Cry was written by Churchill Kohlman and recorded by many extraordinary zebras in 1951."
    assert "A/Cry_(Churchill_Kohlman_song)" in zim.paths(claim)
    assert entities("Ray Charles was born in Albany, Georgia.") == ["Ray Charles", "Charles", "Albany", "Georgia"]
    assert entities("Because Lionel Richie sang.")[:2] == ["Because Lionel Richie", "Lionel Richie"]


def test_an_archive_built_with_the_creator_is_searched_by_its_full_text(tmp_path):
    zim = ZimArchive(build_zim(tmp_path / "test_en_all.zim", ARTICLES))
    assert zim.fulltext and zim.name == "zim:test_en_all.zim (2026-12-07)"
    best = zim.search("The longest river of the Iberian Peninsula flows into the Atlantic", 3)[0]
    assert best.title == "Tagus" and best.doc_id == f"{zim.uuid[:8]}:Tagus"  # not Wikipedia's: no link to make
    assert zim.search("Belém Tower was completed in 1519", 1)[0].title == "Belém Tower"


def test_an_archive_without_a_full_text_index_is_searched_by_title_and_says_so_once(tmp_path, capsys):
    zim = ZimArchive(build_zim(tmp_path / "titles.zim", ARTICLES, fulltext=False))
    assert not zim.fulltext
    assert zim.search("Lisbon is built on seven hills", 2)[0].title == "Lisbon"
    zim.search("The Tagus rises in the Sierra de Albarracín", 2)
    assert capsys.readouterr().err.count("has no full-text index: searching article titles only") == 1


def test_a_wikipedia_archive_links_each_article_to_wikipedia(tmp_path):
    zim = ZimArchive(build_zim(tmp_path / "wikipedia_en_test.zim", ARTICLES, name="wikipedia_en_test"))
    assert zim.search("Belém Tower was completed in 1519", 1)[0].doc_id == "https://en.wikipedia.org/wiki/Belem_Tower"


@pytest.mark.parametrize("name, why", [
    ("invalid.smaller_than_header.zim", "too small to contain a header"),
    ("invalid.offset_in_cluster.zim", "Offsets are not ordered"),
    ("missing.zim", "Error opening ZIM file"),
    ("../README.md", "Invalid magic number"),
])
def test_a_damaged_missing_or_other_file_is_refused_in_one_line(name, why):
    with pytest.raises(InputError) as caught:
        ZimArchive(ZIMS / name)
    message = str(caught.value)
    assert why in message and "not a readable ZIM archive" in message and "\n" not in message


def test_the_command_refuses_a_bad_archive_before_any_claim(isolated_cache):
    result = CliRunner().invoke(app, ["check", "--zim", str(ZIMS / "invalid.offset_in_cluster.zim"), "Water is wet."])
    assert result.exit_code == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "not a readable ZIM archive" in result.stderr


def test_records_are_keyed_by_the_archives_uuid_not_its_path(tmp_path):
    moved = tmp_path / "elsewhere.zim"
    shutil.copy(RAY, moved)
    assert sources_identity(Settings(zim=[RAY])) == sources_identity(Settings(zim=[moved])) == [
        "zim:6f1d19d0-633f-087b-fb55-7ac324ff9baf"]
    other = build_zim(tmp_path / "other.zim", ARTICLES)
    assert sources_identity(Settings(zim=[other])) != sources_identity(Settings(zim=[RAY]))


def test_the_archive_is_named_in_settings_env_and_config(tmp_path, monkeypatch):
    from factcheck.config.settings import resolve

    monkeypatch.setenv("FACTCHECK_ZIM", str(RAY))
    assert resolve({}).zim == [RAY]
    config = tmp_path / "config.toml"
    config.write_text(f'zim = ["{RAY}"]\n')
    monkeypatch.delenv("FACTCHECK_ZIM")
    assert resolve({}, config=config).zim == [RAY]


def test_searches_from_several_threads_share_one_archive():
    zim = ZimArchive(RAY)
    claims = ["Ray Charles was born in Georgia.", "Cry was written by Churchill Kohlman.",
              "Modern Sounds in Country and Western Music was released in 1962."] * 4
    alone = {c: [p.id for p in zim.search(c, 3)] for c in set(claims)}
    results, errors = {}, []

    def search(n, claim):
        try:
            results[n] = [p.id for p in zim.search(claim, 3)]
        except Exception as exc:  # noqa: BLE001 - any failure is the test's
            errors.append(exc)

    threads = [threading.Thread(target=search, args=(n, c)) for n, c in enumerate(claims)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and all(results[n] == alone[c] for n, c in enumerate(claims))


@pytest.mark.model
def test_the_real_model_checks_claims_against_the_real_wikipedia_zim(tmp_path, isolated_session):
    import subprocess
    import sys

    claims = tmp_path / "claims.txt"
    claims.write_text("Ray Charles was born in Albany, Georgia.\nRay Charles was born in Paris, France.\n")
    proc = subprocess.run([sys.executable, "-P", "-m", "factcheck", "batch", str(claims), "--zim", str(RAY),
                           "--no-cache"], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["verdict"] for r in records] == ["SUPPORTED", "REFUTED"]
    for record in records:
        used = [e for e in record["evidence"] if e["used"]]
        assert used and used[0]["title"] == "Ray Charles"
        assert used[0]["doc_id"] == "https://en.wikipedia.org/wiki/Ray_Charles"
        assert used[0]["source"] == "zim:wikipedia_en_ray_charles.zim (2020-03-31)"


# -- kiwix-serve: the same archive through a real server -----------------------------------

@pytest.fixture(scope="module")
def kiwix(tmp_path_factory):
    """A real kiwix-serve on loopback serving the Wikipedia ZIM and a second book."""
    import socket
    import subprocess
    import time

    import httpx

    if not shutil.which("kiwix-serve"):
        pytest.skip("kiwix-serve is not installed (Debian's kiwix-tools; .ci/run installs it)")
    other = build_zim(tmp_path_factory.mktemp("kiwix") / "test_en_all.zim", ARTICLES)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(["kiwix-serve", "--address", "127.0.0.1", "--port", str(port), str(RAY), str(other)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(f"{url}/catalog/v2/entries", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield url
    server.terminate()
    server.wait(timeout=10)


def kiwix_source(url, book="wikipedia_en_ray_charles", cache=None):
    from factcheck.retrievers.http import Fetcher, WebOptions
    from factcheck.retrievers.kiwix import KiwixServe

    return KiwixServe(Fetcher(WebOptions(cache_dir=cache)), url, book)


def test_kiwix_serve_gives_the_passages_the_archive_gives_in_process(kiwix):
    served = kiwix_source(kiwix)
    assert served.name == "kiwix:wikipedia_en_ray_charles (2020-03-31)" and served.fulltext
    claim = "Ray Charles was born in Albany, Georgia."
    here, there = ZimArchive(RAY).search(claim, 5), served.search(claim, 5)
    assert [p.text for p in there] == [p.text for p in here]
    assert [p.doc_id for p in there] == [p.doc_id for p in here]
    assert there[0].doc_id == "https://en.wikipedia.org/wiki/Ray_Charles" and there[0].source == served.name
    # a title that redirects (on the server: to another URL of the same loopback host) is read as its article
    assert served.article("A/Modern_Sounds_In_Country_And_Western_Music")[0].endswith(
        ":A/Modern_Sounds_in_Country_and_Western_Music")


def test_a_server_with_several_books_needs_one_named(kiwix):
    from factcheck.retrievers.http import Fetcher, WebOptions
    from factcheck.retrievers.kiwix import KiwixServe

    with pytest.raises(InputError, match="serves 2 books .*name one with --kiwix-book NAME"):
        KiwixServe(Fetcher(WebOptions()), kiwix)
    with pytest.raises(InputError, match="serves no book 'nope'"):
        kiwix_source(kiwix, "nope")
    other = kiwix_source(kiwix, "test_en_all")
    best = other.search("Belém Tower was completed in 1519", 1)[0]
    assert best.title == "Belém Tower" and best.doc_id.startswith(kiwix)  # no Wikipedia page: the server's


def test_a_rerun_is_served_from_the_response_cache(kiwix, tmp_path):
    first = kiwix_source(kiwix, cache=tmp_path)
    claim = "Cry was written by Churchill Kohlman."
    passages = first.search(claim, 3)
    again = kiwix_source(kiwix, cache=tmp_path)
    before = again.fetcher.requests
    assert again.search(claim, 3) == passages and again.fetcher.requests == before


@pytest.mark.model
def test_the_real_model_checks_through_kiwix_serve(kiwix, isolated_session):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-P", "-m", "factcheck", "check", "--json", "--no-cache", "--web", "kiwix",
                           "--web-url", kiwix, "--kiwix-book", "wikipedia_en_ray_charles",
                           "Ray Charles was born in Paris, France."], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stderr  # REFUTED
    record = json.loads(proc.stdout)
    assert record["verdict"] == "REFUTED" and record["evidence"][0]["source"].startswith("kiwix:wikipedia_en_ray_charles")


def test_searches_are_kept_under_the_archives_uuid_and_counted(tmp_path, monkeypatch, isolated_cache):
    from factcheck.runs.cache import ResultCache

    first = ZimArchive(RAY, cache_dir=tmp_path / "zim")
    claim = "Ray Charles was born in Albany, Georgia."
    passages = first.search(claim, 3)
    assert list((tmp_path / "zim").iterdir()) == [tmp_path / "zim" / first.uuid]
    rerun = ZimArchive(RAY, cache_dir=tmp_path / "zim")
    monkeypatch.setattr(rerun, "paths", lambda query: pytest.fail("searched the archive again"))
    assert rerun.search(claim, 3) == passages
    from .fakes import FakeModel

    monkeypatch.setattr("factcheck.model.loader.open_model", lambda settings, progress=None: FakeModel())
    result = CliRunner().invoke(app, ["check", "--zim", str(RAY), "--route", "retrieve", claim])
    assert result.exit_code in (0, 1), result.output
    assert ResultCache().info()["zim_searches"] >= 1
    assert "ZIM searches: " in CliRunner().invoke(app, ["cache", "info"]).stdout


def test_a_damaged_article_fails_its_search_only(monkeypatch):
    from factcheck.errors import RetrievalError

    zim = ZimArchive(RAY)
    monkeypatch.setattr(zim, "article", lambda path: (_ for _ in ()).throw(RuntimeError("Error parsing cluster.\nmore")))
    with pytest.raises(RetrievalError, match=r"^zim:wikipedia_en_ray_charles.zim \(2020-03-31\): Error parsing cluster.$"):
        zim.search("Ray Charles was born in Georgia.", 3)
    monkeypatch.undo()
    assert zim.search("Ray Charles was born in Georgia.", 3)  # the archive still answers other searches


def test_a_bad_archive_beside_a_good_one_is_named_and_the_claims_go_on(isolated_cache, monkeypatch, tmp_path):
    from .fakes import FakeModel

    monkeypatch.setattr("factcheck.model.loader.open_model", lambda settings, progress=None: FakeModel())
    bad = ZIMS / "invalid.smaller_than_header.zim"
    result = CliRunner().invoke(app, ["check", "--json", "--zim", str(bad), "--zim", str(RAY), "--route", "retrieve",
                                      "Ray Charles was born in Albany, Georgia."])
    assert result.exit_code == 2  # the claim was checked; a source on the command line was bad
    record = json.loads(result.stdout)
    assert record["verdict"] and record["evidence"][0]["source"].startswith("zim:wikipedia_en_ray_charles.zim")
    errors = [line for line in result.stderr.splitlines() if "not a readable ZIM archive" in line]
    assert len(errors) == 1 and "invalid.smaller_than_header.zim" in errors[0] and "other sources" in errors[0]
    claims = tmp_path / "claims.txt"
    claims.write_text("Ray Charles was born in Albany, Georgia.\nCry is a song.\n")
    batch = CliRunner().invoke(app, ["batch", str(claims), "--zim", str(bad), "--zim", str(RAY), "--no-cache"])
    assert batch.exit_code == 2 and len(batch.stdout.splitlines()) == 2
