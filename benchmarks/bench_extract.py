"""Claim extraction measured on hand-labeled paragraphs (tests/fixtures/extraction): the
claims `factcheck extract` finds against the facts each paragraph states.

    python3 benchmarks/bench_extract.py        # writes benchmarks/results/extract.json

Precision: extracted claims that state one of the paragraph's facts (hold all its words).
Recall: facts stated by some extracted claim. Both for the claims as the model wrote them
and as `extract` keeps them (duplicates merged; opinions, fragments and claims the sentence
does not say dropped), with seconds per sentence. Bootstrap 95% intervals over the paragraphs.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT))  # after site-packages: the installed factcheck, tests/ helpers from the checkout
sys.path.insert(0, str(ROOT / "benchmarks"))
FIXTURE = ROOT / "tests" / "fixtures" / "extraction" / "paragraphs.jsonl"


def score(rows: list[dict], claims: dict[str, list[str]]) -> dict:
    from factcheck.text import terms

    right = found = extracted = facts = 0
    for row in rows:
        wanted = [set(terms(" ".join(f))) for f in row["facts"]]
        got = [set(terms(c)) for c in claims[row["id"]]]
        extracted += len(got)
        facts += len(wanted)
        right += sum(any(w <= g for w in wanted) for g in got)
        found += sum(any(w <= g for g in got) for w in wanted)
    return {"precision": right / extracted if extracted else None, "recall": found / facts,
            "claims": extracted, "facts": facts}


def interval(rows, claims, key: str, seed: int = 0, n: int = 1000) -> list[float]:
    rng = random.Random(seed)
    values = []
    for _ in range(n):
        sample = [rng.choice(rows) for _ in rows]
        value = score(sample, claims)[key]
        if value is not None:
            values.append(value)
    values.sort()
    return [values[int(0.025 * len(values))], values[int(0.975 * len(values)) - 1]]


def main() -> None:
    from common import write

    from factcheck.claims import extract as extraction
    from factcheck.config.settings import resolve
    from factcheck.cost import Meter
    from factcheck.model.loader import open_model
    from factcheck.reading.gateway import ModelGateway
    from factcheck.schema import LabelSet

    rows = [json.loads(line) for line in FIXTURE.open(encoding="utf-8")]
    gateway = ModelGateway(open_model(resolve({})), LabelSet.THREE)
    checked, as_written = {}, {}
    original = extraction._parse_claims
    sentences = 0
    start = time.perf_counter()
    for row in rows:
        written: list[str] = []

        def recording(answer: str) -> list[str]:
            claims = original(answer)
            written.extend(claims)
            return claims

        extraction._parse_claims = recording  # every claim the model wrote, before any check
        try:
            kept = extraction.extract_claims(gateway, row["text"], row["id"], Meter())
        finally:
            extraction._parse_claims = original
        checked[row["id"]] = [c.claim for c in kept]
        as_written[row["id"]] = written
        sentences += sum(1 for _ in extraction.sentences(row["text"]))
    seconds = time.perf_counter() - start
    result = {"paragraphs": len(rows), "sentences": sentences, "seconds_per_sentence": seconds / sentences}
    for name, claims in (("checked", checked), ("as_written", as_written)):
        measured = score(rows, claims)
        measured["precision_ci"] = interval(rows, claims, "precision")
        measured["recall_ci"] = interval(rows, claims, "recall")
        result[name] = measured
    result["dropped"] = sum(map(len, as_written.values())) - sum(map(len, checked.values()))
    result["claims"] = checked
    write("extract.json", result)


if __name__ == "__main__":
    main()
