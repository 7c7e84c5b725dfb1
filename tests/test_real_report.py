"""The report in a real browser: headless Chromium opens, from a file:// URL, the report of a
real ``batch --extract`` of a real document checked by the real default model, and the DOM
shows every claim marked, its evidence on a click, filters that hide what they should, and no
request leaving the page. Screenshots (desktop and narrow) go to the test's temp folder, and
to docs/ with REPORT_SCREENSHOTS=docs. Slow: marked ``model``."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from . import browser

pytestmark = pytest.mark.model
ROOT = Path(__file__).resolve().parents[1]

DOCUMENT = """# The Eiffel Tower and water

The Eiffel Tower is in Paris. It was completed in 1925 for the World's Fair.
The tower is made of wrought iron and is about 330 metres tall.
Visit it in spring, when the queues are short.

At standard pressure, pure water boils at 100 degrees Celsius.
Pure water freezes at 50 degrees Celsius at standard pressure.
"""
FACTUAL = ["The Eiffel Tower is in Paris.", "It was completed in 1925 for the World's Fair.",
           "The tower is made of wrought iron and is about 330 metres tall.",
           "At standard pressure, pure water boils at 100 degrees Celsius.",
           "Pure water freezes at 50 degrees Celsius at standard pressure."]
ADVICE = "Visit it in spring, when the queues are short."
FALSE = ["It was completed in 1925 for the World's Fair.", "Pure water freezes at 50 degrees Celsius at standard pressure."]


def factcheck(*args, cwd):
    return subprocess.run([sys.executable, "-P", "-m", "factcheck", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=1200)


@pytest.fixture(scope="module")
def report(tmp_path_factory, isolated_session):
    if why := browser.available():
        pytest.skip(why)
    folder = tmp_path_factory.mktemp("report")
    (folder / "article.md").write_text(DOCUMENT, encoding="utf-8")
    built = factcheck("index", "build", str(ROOT / "examples" / "notes"), "-o", "notes-index", cwd=folder)
    assert built.returncode == 0, built.stderr
    checked = factcheck("batch", "--extract", "article.md", "--index", "notes-index", "-o", "checked.jsonl",
                        cwd=folder)
    assert checked.returncode in (0, 1), checked.stderr
    made = factcheck("report", "checked.jsonl", "-o", "report.html", cwd=folder)
    assert made.returncode == 0, made.stderr
    records = [json.loads(line) for line in (folder / "checked.jsonl").read_text().splitlines()]
    return folder, records


def test_every_factual_sentence_gives_a_claim_and_the_false_ones_are_refuted(report):
    _, records = report
    by_sentence = {}
    for r in records:
        by_sentence.setdefault(r["extra"]["sentence"], []).append(r)
    assert sorted(by_sentence) == sorted(FACTUAL + [ADVICE])  # every sentence of the document, accounted for
    assert [(r["claim"], r["unchecked"]) for r in records if r["unchecked"]] == [(ADVICE, "instruction")]
    for sentence in FALSE:
        assert {r["verdict"] for r in by_sentence[sentence]} == {"REFUTED"}, by_sentence[sentence]


def claims_of(records):
    return [r for r in records if not r["unchecked"]]


def test_every_claim_is_marked_and_a_click_shows_its_evidence(report):
    from selenium.webdriver.common.by import By

    folder, records = report
    with browser.chromium() as page:
        page.get((folder / "report.html").as_uri())
        cards = page.find_elements(By.CSS_SELECTOR, "article.claim")
        assert len(cards) == len(claims_of(records))
        spans = {(r["extra"]["start"], r["extra"]["end"]) for r in claims_of(records)}
        marks = page.find_elements(By.CSS_SELECTOR, "a.mark")
        assert len(marks) == len(spans)  # every claim's sentence is marked, once
        marked = {c for m in marks for c in m.get_attribute("data-claims").split()}
        assert marked == {c.get_attribute("id") for c in cards}
        for mark in marks:  # the verdict in words, not colour alone
            assert any(w in mark.get_attribute("aria-label") for w in ("Supported", "Refuted", "Not enough info",
                                                                        "Not checked"))
        unchecked = page.find_element(By.CSS_SELECTOR, "#document span.unchecked")  # in place, not as a verdict
        assert unchecked.text.startswith(ADVICE) and "instruction" in unchecked.get_attribute("aria-label")
        assert "1 sentence gave no claim to check (1 instruction)" in page.find_element(By.TAG_NAME, "header").text
        page.save_screenshot(str(folder / "report-desktop.png"))  # as it opens: the summary and the document
        _to_docs(folder / "report-desktop.png")
        first = marks[0]
        target = first.get_attribute("data-claims").split()[0]
        first.click()
        card = page.find_element(By.ID, target)
        assert "selected" in card.get_attribute("class")
        details = card.find_element(By.TAG_NAME, "details")
        assert details.get_attribute("open") is not None and details.text.strip()
        assert "Route" in details.text
        page.save_screenshot(str(folder / "report-claim.png"))
        assert browser.requested_urls(page) == [(folder / "report.html").as_uri()]  # nothing else was asked for


def test_filters_and_search_hide_what_they_should(report):
    from selenium.webdriver.common.by import By

    folder, records = report
    with browser.chromium() as page:
        page.get((folder / "report.html").as_uri())
        verdicts = {c.get_attribute("id"): c.get_attribute("data-verdict")
                    for c in page.find_elements(By.CSS_SELECTOR, "article.claim")}
        shown = next(iter(set(verdicts.values())))
        page.find_element(By.CSS_SELECTOR, f'input[data-verdict="{shown}"]').click()
        for card in page.find_elements(By.CSS_SELECTOR, "article.claim"):
            assert card.is_displayed() == (card.get_attribute("data-verdict") != shown)
        page.find_element(By.CSS_SELECTOR, f'input[data-verdict="{shown}"]').click()  # back on
        search = page.find_element(By.ID, "search")
        search.send_keys("Eiffel")
        for card in page.find_elements(By.CSS_SELECTOR, "article.claim"):
            assert card.is_displayed() == ("eiffel" in card.get_attribute("data-text").lower())
        counted = page.find_element(By.ID, "shown-count").text
        assert counted.endswith(f"of {len(claims_of(records))} claims shown")
        assert browser.requested_urls(page) == [(folder / "report.html").as_uri()]


def test_a_narrow_screen_shows_one_column(report):
    from selenium.webdriver.common.by import By

    folder, _ = report
    with browser.chromium(width=390, height=844) as page:
        page.get((folder / "report.html").as_uri())
        document = page.find_element(By.ID, "document").rect
        claims = page.find_element(By.ID, "claims").rect
        assert claims["y"] > document["y"] + document["height"] - 1  # below the document, not beside it
        page.save_screenshot(str(folder / "report-narrow.png"))
        _to_docs(folder / "report-narrow.png")


def _to_docs(shot: Path) -> None:
    if os.environ.get("REPORT_SCREENSHOTS") == "docs":
        (ROOT / "docs" / shot.name).write_bytes(shot.read_bytes())


def test_the_keyboard_reaches_a_claim_and_opens_it(report):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    folder, _ = report
    with browser.chromium() as page:
        page.get((folder / "report.html").as_uri())
        body = page.find_element(By.TAG_NAME, "body")
        for _ in range(60):  # Tab through the summary's links and the filters to the first marked claim
            body.send_keys(Keys.TAB) if page.switch_to.active_element.tag_name == "body" else \
                page.switch_to.active_element.send_keys(Keys.TAB)
            active = page.switch_to.active_element
            if "mark" in (active.get_attribute("class") or ""):
                break
        else:
            raise AssertionError("no marked claim is reachable by Tab")
        target = active.get_attribute("data-claims").split()[0]
        active.send_keys(Keys.ENTER)
        card = page.find_element(By.ID, target)
        assert "selected" in card.get_attribute("class")
        assert card.find_element(By.TAG_NAME, "details").get_attribute("open") is not None
