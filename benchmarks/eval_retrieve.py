"""Always-retrieve vs. never-retrieve on shared claims, side by side in one run.

SciFact over a local index of its corpus:
    python benchmarks/eval_retrieve.py scifact --limit 40
FM2 dev through the loopback MediaWiki server (tests/wiki_server.py) over its corpus:
    python benchmarks/eval_retrieve.py fm2 --limit 40

Claims are a fixed-seed random sample. Writes benchmarks/results/retrieve_<dataset>.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

from factcheck.config import resolve  # noqa: E402
from factcheck.labels import LabelSet  # noqa: E402
from factcheck.loader import open_model  # noqa: E402
from factcheck.metrics import accuracy, f1_per_class, macro_f1  # noqa: E402
from factcheck.pipeline import Checker  # noqa: E402
from factcheck.records import Claim, Route  # noqa: E402


def sample(path: Path, limit: int, seed: int) -> list[dict]:
    rows = [json.loads(line) for line in path.open()]
    random.Random(seed).shuffle(rows)
    return rows[:limit]


def summarize(rows, records, labels, gold_docs) -> dict:
    gold = [r["label"] for r in rows]
    pred = [rec.verdict.value for rec in records]
    found = [bool(g & {e.doc_id for e in rec.evidence}) for g, rec in zip(gold_docs, records) if g]
    return {
        "accuracy": round(accuracy(gold, pred), 4),
        "macro_f1": round(macro_f1(gold, pred, labels), 4),
        "f1": {k: round(v, 4) for k, v in f1_per_class(gold, pred, labels).items()},
        "seconds_per_claim": round(statistics.mean(sum(r.timings_ms.values()) for r in records) / 1000, 2),
        "prompt_tokens_per_claim": round(statistics.mean(r.tokens.prompt for r in records), 1),
        "generated_tokens_per_claim": round(statistics.mean(r.tokens.generated for r in records), 1),
        "gold_doc_in_evidence": round(sum(found) / len(found), 4) if found else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset", choices=["scifact", "fm2"])
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--k", type=int, default=3)
    args = parser.parse_args()

    if args.dataset == "scifact":
        from retrievers.local_index import LocalIndex, build_index

        rows = sample(DATA / "scifact" / "claims_train.jsonl", args.limit, args.seed)
        folder = Path(tempfile.mkdtemp()) / "scifact"
        build_index([str(DATA / "scifact" / "corpus.jsonl")], folder)
        source, label_set, server = LocalIndex(folder), LabelSet.THREE, None
        gold_docs = [{e["doc_id"] for e in r["evidence"]} for r in rows]
    else:
        from retrievers.http import Fetcher, WebOptions
        from retrievers.mediawiki import MediaWiki
        from tests.wiki_server import WikiServer, load_pages

        rows = sample(DATA / "fm2" / "claims_dev.jsonl", args.limit, args.seed)
        server = WikiServer(load_pages(DATA / "fm2" / "corpus_dev.jsonl")).start()
        source = MediaWiki(Fetcher(WebOptions(allow_private=True)), server.api)
        label_set = LabelSet.BINARY
        title_of = {json.loads(line)["id"]: json.loads(line)["title"] for line in (DATA / "fm2" / "corpus_dev.jsonl").open()}
        gold_docs = [{title_of[e["doc_id"]] for e in r["evidence"] if e["doc_id"] in title_of} for r in rows]

    labels = ["SUPPORTED", "REFUTED", "NOT_ENOUGH_INFO"] if label_set is LabelSet.THREE else ["SUPPORTED", "REFUTED"]
    model = open_model(resolve({}))
    never = Checker(model, labels=label_set)
    always = Checker(model, labels=label_set, sources=[source], k=args.k, route=Route.RETRIEVE)
    never_records, always_records = [], []
    start = time.time()
    for i, row in enumerate(rows, start=1):
        claim = Claim(id=row["id"], text=row["claim"])
        never_records.append(never.check(claim))
        always_records.append(always.check(claim))
        print(f"{i}/{len(rows)} {row['label']:<16} never={never_records[-1].verdict.value:<16} "
              f"always={always_records[-1].verdict.value:<16} {time.time() - start:.0f}s", file=sys.stderr, flush=True)
    if server:
        server.stop()
    result = {
        "dataset": args.dataset, "claims": len(rows), "seed": args.seed, "k": args.k,
        "labels": label_set.value,
        "never_retrieve": summarize(rows, never_records, labels, [set()] * len(rows)),
        "always_retrieve": summarize(rows, always_records, labels, gold_docs),
    }
    out = ROOT / "benchmarks" / "results" / f"retrieve_{args.dataset}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
