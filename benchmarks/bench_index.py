"""Choose the local BM25 engine: bm25s (persisted, memory-mapped) vs. rank-bm25 (`pip install
rank-bm25` first: the product no longer depends on it).

Corpus: every passage of the shared corpora (SciFact, Check-COVID, FM2), repeated with
fresh document ids until there are 100,000 passages. Each engine runs in its own
subprocess so peak RSS is its own. Quality: recall@5 / recall@20 of gold documents and
document-level nDCG@10 for all 809 SciFact train claims over the SciFact corpus alone.

    python benchmarks/bench_index.py            # writes benchmarks/results/index.json
"""

from __future__ import annotations

import json
import math
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.append(str(ROOT))  # after site-packages: the installed factcheck, tests/ helpers from the checkout

TARGET = 100_000
QUERIES = 200


def make_corpus(path: Path) -> None:
    rows = []
    for name in ("scifact/corpus.jsonl", "check-covid/corpus.jsonl", "fm2/corpus_dev.jsonl"):
        rows += [json.loads(line) for line in (DATA / name).open()]
    from factcheck.retrievers.passages import Document, split_passages

    passages = [p for r in rows for p in split_passages(Document(str(r["id"]), r.get("title", ""), r["text"]), "x")]
    with path.open("w") as fh:
        n = 0
        copy = 0
        while n < TARGET:
            for p in passages:
                if n >= TARGET:
                    break
                fh.write(json.dumps({"id": f"{p.doc_id}~{copy}~{n}", "title": p.title, "text": p.text}) + "\n")
                n += 1
            copy += 1


def queries() -> list[str]:
    rows = [json.loads(line)["claim"] for line in (DATA / "scifact" / "claims_train.jsonl").open()]
    return rows[:QUERIES]


def run_bm25s(corpus: Path) -> dict:
    from factcheck.retrievers.local_index import build_index

    folder = Path(tempfile.mkdtemp()) / "idx"
    start = time.perf_counter()
    build_index([str(corpus)], folder, max_words=1000)  # already passages: keep them whole
    build = time.perf_counter() - start
    rss_after_build = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"build_s": round(build, 2), "peak_rss_build_mb": round(rss_after_build / 1024, 1),
            "folder": str(folder)}


def run_bm25s_query(folder: str) -> dict:
    from factcheck.retrievers.local_index import LocalIndex

    start = time.perf_counter()
    index = LocalIndex(Path(folder))
    load = time.perf_counter() - start
    times = []
    for q in queries():
        t = time.perf_counter()
        index.search(q, 20)
        times.append(time.perf_counter() - t)
    return {"load_s": round(load, 3), "query_p50_ms": round(statistics.median(times) * 1000, 2),
            "query_p95_ms": round(sorted(times)[int(len(times) * 0.95)] * 1000, 2),
            "peak_rss_query_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def run_rank_bm25(corpus: Path) -> dict:
    from rank_bm25 import BM25Okapi

    from factcheck.text import terms as words

    texts = [json.loads(line) for line in corpus.open()]
    start = time.perf_counter()
    bm25 = BM25Okapi([words(f"{r['title']} {r['text']}") or ["_"] for r in texts])
    build = time.perf_counter() - start
    times = []
    for q in queries()[:20]:  # seconds per query: 20 are enough
        t = time.perf_counter()
        scores = bm25.get_scores(words(q))
        sorted(range(len(scores)), key=scores.__getitem__, reverse=True)[:20]
        times.append(time.perf_counter() - t)
    return {"build_s": round(build, 2), "load_s": None,
            "query_p50_ms": round(statistics.median(times) * 1000, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def quality() -> dict:
    from factcheck.retrievers.local_index import LocalIndex, build_index

    folder = Path(tempfile.mkdtemp()) / "scifact"
    build_index([str(DATA / "scifact" / "corpus.jsonl")], folder)
    index = LocalIndex(folder)
    rows = [json.loads(line) for line in (DATA / "scifact" / "claims_train.jsonl").open()]
    rows = [r for r in rows if r["evidence"]]
    r5 = r20 = ndcg = 0.0
    for r in rows:
        gold = {e["doc_id"] for e in r["evidence"]}
        docs: list[str] = []
        for p in index.search(r["claim"], 100):  # passages -> documents, best passage first
            if p.doc_id not in docs:
                docs.append(p.doc_id)
        r5 += len(gold & set(docs[:5])) / len(gold)
        r20 += len(gold & set(docs[:20])) / len(gold)
        dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(docs[:10]) if d in gold)
        ideal = sum(1 / math.log2(i + 2) for i in range(min(len(gold), 10)))
        ndcg += dcg / ideal
    n = len(rows)
    return {"claims_with_gold": n, "recall_at_5": round(r5 / n, 4), "recall_at_20": round(r20 / n, 4),
            "ndcg_at_10": round(ndcg / n, 4)}


def child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1:  # child mode
        mode, arg = sys.argv[1], sys.argv[2]
        result = {"bm25s_build": lambda: run_bm25s(Path(arg)), "bm25s_query": lambda: run_bm25s_query(arg),
                  "rank_bm25": lambda: run_rank_bm25(Path(arg))}[mode]()
        print(json.dumps(result))
        return
    corpus = Path(tempfile.mkdtemp()) / "corpus100k.jsonl"
    make_corpus(corpus)
    built = child(["bm25s_build", str(corpus)])
    queried = child(["bm25s_query", built.pop("folder")])
    result = {
        "passages": TARGET,
        "bm25s": {**built, **queried},
        "rank_bm25": child(["rank_bm25", str(corpus)]),
        "quality_scifact_bm25s": quality(),
    }
    result["query_speedup_bm25s_over_rank_bm25"] = round(
        result["rank_bm25"]["query_p50_ms"] / result["bm25s"]["query_p50_ms"], 1)
    out = ROOT / "benchmarks" / "results" / "index.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
