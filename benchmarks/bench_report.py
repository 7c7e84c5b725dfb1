"""How fast a report of 1,000 claims renders in a real browser (headless Chromium, as the
report's test drives it), and how fast its filter and search answer.

    python3 benchmarks/bench_report.py [--claims 1000]      # writes benchmarks/results/bench_report.json

The document is generated: paragraphs of sentences, each one a claim with a record shaped as
batch --extract writes it (verdicts spread over the four kinds, three evidence sentences each).
Target: the page loaded and laid out in under a second."""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import write  # noqa: E402


def document_and_records(n: int):
    from factcheck.schema import CheckRecord, ErrorRecord, EvidenceItem, RecordError

    sentences, records, offset = [], [], 0
    verdicts = ["SUPPORTED", "REFUTED", "NOT_ENOUGH_INFO", None]
    for i in range(n):
        sentence = f"Claim number {i} says that river {i % 37} floods in month {i % 12 + 1} of year {1900 + i}."
        sep = "\n\n" if i % 8 == 7 else " "
        extra = {"source": "doc.md", "start": offset, "end": offset + len(sentence), "sentence": sentence}
        if verdicts[i % 4] is None:
            records.append(ErrorRecord(id=str(i), claim=sentence, extra=extra,
                                       error=RecordError(reason="every evidence source failed", kind="runtime")))
        else:
            evidence = [EvidenceItem(id=f"d{i}-{j}#0@0", passage_id=f"d{i}-{j}#0", doc_id=f"d{i}-{j}",
                                     title=f"Document {i}-{j}", text=f"Evidence sentence {j} about river {i % 37}.",
                                     source="index:bench", start=0, end=40, used=j == 0) for j in range(3)]
            records.append(CheckRecord(id=str(i), claim=sentence, verdict=verdicts[i % 4], confidence=0.5 + (i % 50) / 100,
                                       route="retrieve", basis="evidence", evidence=evidence, extra=extra,
                                       label_probs={verdicts[i % 4]: 0.7}))
        sentences.append(sentence + sep)
        offset += len(sentence) + len(sep)
    return "".join(sentences), records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from selenium.webdriver.common.by import By

    from factcheck.report import from_records
    from factcheck.report.html import render
    from tests import browser

    document, records = document_and_records(args.claims)
    start = time.perf_counter()
    page = render(from_records(records), document, "bench")
    build_seconds = time.perf_counter() - start
    path = Path(tempfile.mkdtemp()) / "report.html"
    path.write_text(page, encoding="utf-8")
    loads, filters, searches = [], [], []
    with browser.chromium() as driver:
        for _ in range(args.rounds):
            driver.get(path.as_uri())
            timing = driver.execute_script(
                "var t = performance.getEntriesByType('navigation')[0]; return [t.domContentLoadedEventEnd, t.loadEventEnd];")
            loads.append(timing[1] / 1000)
            box = driver.find_element(By.CSS_SELECTOR, 'input[data-verdict="supported"]')
            filters.append(driver.execute_script(
                "var b = arguments[0], t0 = performance.now(); b.click(); document.body.offsetHeight;"
                "return (performance.now() - t0) / 1000;", box))
            searches.append(driver.execute_script(
                "var s = document.getElementById('search'), t0 = performance.now(); s.value = 'river 7';"
                "s.dispatchEvent(new Event('input')); document.body.offsetHeight; return (performance.now() - t0) / 1000;"))
        assert len(driver.find_elements(By.CSS_SELECTOR, "a.mark")) == args.claims
    median = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    result = {"claims": args.claims, "html_bytes": len(page.encode()), "build_seconds": round(build_seconds, 3),
              "load_seconds_median": round(median(loads), 3), "load_seconds": [round(x, 3) for x in loads],
              "filter_seconds_median": round(median(filters), 4), "search_seconds_median": round(median(searches), 4),
              "target_load_seconds": 1.0, "browser": "headless Chromium (Debian)",
              "cpu": next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), platform.machine())}
    write("bench_report.json", result)


if __name__ == "__main__":
    main()
