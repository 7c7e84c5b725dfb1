"""Always-retrieve vs. never-retrieve on shared claims, side by side in one run.

SciFact over a local index of its corpus:
    python benchmarks/eval_retrieve.py scifact --limit 40
FM2 dev through the loopback MediaWiki server (tests/wiki_server.py) over its corpus:
    python benchmarks/eval_retrieve.py fm2 --limit 40

Claims are a fixed-seed random sample. Writes benchmarks/results/retrieve_<dataset>.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from common import dataset, label_names, write

from factcheck.config import resolve
from factcheck.loader import open_model
from factcheck.metrics import accuracy, f1_per_class, macro_f1
from factcheck.pipeline import Checker
from factcheck.schema import Claim, Route


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

    rows, source, label_set, gold_of, close = dataset(args.dataset, args.seed)
    rows = rows[: args.limit]
    labels = label_names(label_set)
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
    close()
    write(f"retrieve_{args.dataset}.json", {
        "dataset": args.dataset, "claims": len(rows), "seed": args.seed, "k": args.k,
        "labels": label_set.value,
        "never_retrieve": summarize(rows, never_records, labels, [set()] * len(rows)),
        "always_retrieve": summarize(rows, always_records, labels, [gold_of(r) for r in rows]),
    })


if __name__ == "__main__":
    main()
