"""What the benchmark scripts share: the shared data, samples and evidence sources."""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from factcheck.labels import LabelSet  # noqa: E402


def shuffled(path: Path, seed: int) -> list[dict]:
    rows = [json.loads(line) for line in path.open()]
    random.Random(seed).shuffle(rows)
    return rows


def dataset(name: str, seed: int):
    """(claims shuffled with ``seed``, evidence source, label set, gold-doc function, closer)."""
    if name == "scifact":
        from factcheck.retrievers.local_index import LocalIndex, build_index

        folder = Path(tempfile.mkdtemp()) / "scifact"
        build_index([str(DATA / "scifact" / "corpus.jsonl")], folder)
        rows = shuffled(DATA / "scifact" / "claims_train.jsonl", seed)
        return rows, LocalIndex(folder), LabelSet.THREE, lambda r: {e["doc_id"] for e in r["evidence"]}, lambda: None
    from factcheck.retrievers.http import Fetcher, WebOptions
    from factcheck.retrievers.mediawiki import MediaWiki
    from tests.wiki_server import WikiServer, load_pages

    server = WikiServer(load_pages(DATA / "fm2" / "corpus_dev.jsonl")).start()
    title_of = {}
    for line in (DATA / "fm2" / "corpus_dev.jsonl").open():
        row = json.loads(line)
        title_of[row["id"]] = row["title"]
    rows = shuffled(DATA / "fm2" / "claims_dev.jsonl", seed)
    source = MediaWiki(Fetcher(WebOptions(allow_private=True)), server.api)
    gold = lambda r: {title_of[e["doc_id"]] for e in r["evidence"] if e["doc_id"] in title_of}  # noqa: E731
    return rows, source, LabelSet.BINARY, gold, server.stop


def label_names(label_set: LabelSet) -> list[str]:
    return ["SUPPORTED", "REFUTED", "NOT_ENOUGH_INFO"] if label_set is LabelSet.THREE else ["SUPPORTED", "REFUTED"]


def mean(values) -> float:
    values = list(values)
    return round(statistics.mean(values), 3) if values else 0.0


def write(name: str, result: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
