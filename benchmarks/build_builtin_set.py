"""Build the calibration set that ships with factcheck (``factcheck calibrate --builtin``) from
../shared/data: the claims of the fit splits (benchmarks/splits.py; disjoint from every
``*_eval`` split the figures are measured on) and just the documents their searches need.

    python3 benchmarks/splits.py
    python3 benchmarks/build_builtin_set.py [--splits benchmarks/out/splits] [--indexes benchmarks/out/indexes]

Writes factcheck/fitting/builtin/. Corpora: Check-COVID's and FM2's whole (0.6 and 1.6 MB);
of SciFact's 5,183 abstracts (7.7 MB), the gold documents of every claim plus the best
``--distractors`` by BM25 for each SciFact and Check-COVID claim, which are the documents a
search of the whole corpus would rank first: retrieval stays real, the set stays small.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from common import DATA, ROOT, index_for

OUT = ROOT / "factcheck" / "fitting" / "builtin"
# (file in the set, fit splits it holds, how many claims of each)
CLAIMS = {
    "scifact.jsonl": [("scifact_fit", None)],
    "covid.jsonl": [("covid_fit", None)],
    "fm2.jsonl": [("fm2_fit", None), ("fm2_fit_more", 300)],
}


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=Path, default=ROOT / "benchmarks" / "out" / "splits")
    parser.add_argument("--indexes", type=Path, default=ROOT / "benchmarks" / "out" / "indexes")
    parser.add_argument("--distractors", type=int, default=8)
    args = parser.parse_args()
    from factcheck.retrievers.local_index import LocalIndex

    OUT.mkdir(parents=True, exist_ok=True)
    claims = {}
    for name, parts in CLAIMS.items():
        chosen = [r for split, limit in parts for r in rows(args.splits / f"{split}.jsonl")[:limit]]
        claims[name] = chosen
        # what calibrate reads: the claim and its label (the gold rationale is never read)
        (OUT / name).write_text("".join(json.dumps({"id": r["id"], "claim": r["claim"], "label": r["label"]},
                                                   ensure_ascii=False) + "\n" for r in chosen), encoding="utf-8")
    scifact = {d["id"]: d for d in rows(DATA / "scifact" / "corpus.jsonl")}
    index = LocalIndex(index_for("scifact", args.indexes))
    wanted: list[str] = []
    for name in ("scifact.jsonl", "covid.jsonl"):
        for row in claims[name]:
            gold = [e["doc_id"] for e in row.get("evidence") or [] if e["doc_id"] in scifact]
            found = [p.doc_id for p in index.search(row["claim"], 4 * args.distractors)]
            wanted += gold + list(dict.fromkeys(found))[: args.distractors]
    kept = list(dict.fromkeys(wanted))
    (OUT / "scifact_corpus.jsonl").write_text("".join(json.dumps(scifact[i], ensure_ascii=False) + "\n" for i in kept),
                                              encoding="utf-8")
    for source, target in ((DATA / "check-covid" / "corpus.jsonl", "covid_corpus.jsonl"),
                           (DATA / "fm2" / "corpus_dev.jsonl", "fm2_corpus.jsonl")):
        (OUT / target).write_bytes(source.read_bytes())
    sizes = {p.name: p.stat().st_size for p in sorted(OUT.glob("*.jsonl"))}
    print(json.dumps({"claims": {k: len(v) for k, v in claims.items()}, "scifact_documents": len(kept),
                      "bytes": sizes, "total_mb": round(sum(sizes.values()) / 1e6, 2)}, indent=2))


if __name__ == "__main__":
    main()
