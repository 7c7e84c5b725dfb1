"""What choosing evidence by meaning costs: seconds per claim of each selector on the same
retrieved passages (no language model), the encoder's load time and the memory it adds.

    python3 benchmarks/bench_select.py SPLITS [--claims 100] [--build]   # writes results/bench_select.json

Both selectors run side by side on the same claims, each with its shipped k and sentences
(words: 5 passages, 6 sentences; meaning: 20 passages, 4 sentences), so the ratio holds on a
noisy machine; the retrieval itself is timed apart, by words (BM25) and by meaning over the
index's vectors (``index build --vectors``). ``--build`` also times building the FM2 index
with and without vectors, one after the other, and the vectors' size on disk.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT))  # after site-packages: the installed factcheck, tests/ helpers from the checkout
sys.path.insert(0, str(ROOT / "benchmarks"))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("splits", type=Path)
    parser.add_argument("--claims", type=int, default=100)
    parser.add_argument("--indexes", type=Path, default=Path(tempfile.gettempdir()) / "factcheck-bench-indexes")
    parser.add_argument("--build", action="store_true", help="also time building the FM2 index with and without vectors")
    args = parser.parse_args()

    from common import CORPORA, index_for, write
    from factcheck.retrievers.local_index import VECTORS_FILE, LocalIndex, build_index

    from factcheck.embed import default_encoder
    from factcheck.evidence.select import MeaningSelector, WordSelector
    from factcheck.text import sentence_spans

    index = LocalIndex(index_for("fm2", args.indexes))
    with_vectors = LocalIndex(index_for("fm2", args.indexes, vectors=True))
    claims = [json.loads(line)["claim"] for line in (args.splits / "fm2_eval.jsonl").open()][:args.claims]
    before = rss_mb()
    start = time.perf_counter()
    encoder = default_encoder()
    load_s = time.perf_counter() - start
    added_mb = rss_mb() - before
    selectors = {"words": (WordSelector(), 5, 6), "meaning": (MeaningSelector(encoder), 20, 4)}
    seconds = {name: 0.0 for name in selectors}
    retrieval, by_meaning, sentences_scored = 0.0, 0.0, 0
    for claim in claims:
        start = time.perf_counter()
        passages = index.search(claim, 20)
        retrieval += time.perf_counter() - start
        start = time.perf_counter()
        with_vectors.search_by_meaning(claim, 20)
        by_meaning += time.perf_counter() - start
        for name, (selector, k, n) in selectors.items():
            start = time.perf_counter()
            selector.select(claim, passages[:k], n)
            seconds[name] += time.perf_counter() - start
        sentences_scored += sum(len(sentence_spans(p.text)) for p in passages)
    per_claim = {name: s / len(claims) for name, s in seconds.items()}
    result = {"claims": len(claims), "seconds_per_claim": per_claim,
              "ratio_meaning_to_words": per_claim["meaning"] / per_claim["words"],
              "retrieval_seconds_per_claim": retrieval / len(claims),
              "search_by_meaning_seconds_per_claim": by_meaning / len(claims),
              "index_passages": len(with_vectors.vectors),
              "sentences_encoded_per_claim": sentences_scored / len(claims),
              "encoder_load_seconds": load_s, "encoder_resident_mb": added_mb}
    if args.build:
        corpus = [str(p) for p in CORPORA["fm2"]]
        with tempfile.TemporaryDirectory() as tmp:
            for name, vectors in (("bm25", False), ("bm25_and_vectors", True)):
                start = time.perf_counter()
                build_index(corpus, Path(tmp) / name, vectors=vectors)
                result[f"build_seconds_{name}"] = time.perf_counter() - start
            result["vectors_mb"] = (Path(tmp) / "bm25_and_vectors" / VECTORS_FILE).stat().st_size / 2**20
    print(json.dumps(result, indent=1), file=sys.stderr)
    write("bench_select.json", result)


if __name__ == "__main__":
    main()
