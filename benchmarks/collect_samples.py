"""Measure calibration samples (closed-book pass, search signals, joint and per-sentence
evidence passes with hidden states) for the fit/eval splits of ../shared/data.

    python3 benchmarks/splits.py SPLITS
    python3 benchmarks/collect_samples.py SPLITS SAMPLES [--chunks] [--only NAME,...] [--limit N] [--title-terms]
                                          [--selection words|meaning] [--k N] [--sentences N]

Each split is checked over its own corpus: SciFact over its 5,183 abstracts, Check-COVID
over its corpus plus SciFact's as distractors, FM2 over its pooled Wikipedia sentences.
Samples go to SAMPLES/<split>/ and a re-run measures only what is missing. The selection,
k and sentences are the shipped profile's for the split's label set unless given; each
folder's ``settings.json`` records those used (compare.py writes them into the profile).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"

CORPORA = {
    "scifact": [DATA / "scifact" / "corpus.jsonl"],
    "covid": [DATA / "check-covid" / "corpus.jsonl", DATA / "scifact" / "corpus.jsonl"],
    "fm2": [DATA / "fm2" / "corpus_dev.jsonl"],
}
ORDER = ["scifact_fit", "fm2_fit", "covid_fit", "scifact_eval", "fm2_eval", "covid_eval"]
# further fit claims (splits.py), measured only when named: --only scifact_fit_more,fm2_fit_more,covid_fit_more


def index_for(dataset: str, indexes: Path, vectors: bool = False) -> Path:
    from factcheck.retrievers.local_index import build_index

    folder = indexes / (f"{dataset}-vectors" if vectors else dataset)
    if not (folder / "manifest.json").exists():
        build_index([str(p) for p in CORPORA[dataset]], folder, vectors=vectors)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("splits", type=Path)
    parser.add_argument("samples", type=Path)
    parser.add_argument("--chunks", action="store_true", help="also the per-sentence (chunk) passes")
    parser.add_argument("--only", default=",".join(ORDER))
    parser.add_argument("--limit", type=int)
    parser.add_argument("--title-terms", action="store_true",
                        help="select sentences with their document title counted (select.py), to compare")
    parser.add_argument("--selection", choices=("words", "meaning"), help="how sentences are chosen (select.py)")
    parser.add_argument("--k", type=int, help="passages retrieved")
    parser.add_argument("--sentences", type=int, help="sentences shown")
    parser.add_argument("--meaning-weight", type=float, help="by meaning: cosine's weight against word relevance")
    parser.add_argument("--vectors", action="store_true",
                        help="search an index built with vectors (by meaning as well as by words, with --selection meaning)")
    parser.add_argument("--indexes", type=Path, default=Path(tempfile.gettempdir()) / "factcheck-bench-indexes")
    args = parser.parse_args()

    from factcheck.cache import samples_key
    from factcheck.config import resolve
    from factcheck.evaluate import label_set_for, read_labeled
    from factcheck.loader import open_model
    from factcheck.samples import SampleStore, collect
    from factcheck.pipeline import build_checker
    from factcheck.select import WordSelector

    model = None
    for name in args.only.split(","):
        dataset = name.split("_")[0]
        claims = read_labeled(args.splits / f"{name}.jsonl", args.limit)
        settings = resolve({"index": [index_for(dataset, args.indexes, args.vectors)],
                            "labels": label_set_for(claims).value, "ctx": 2048, "selection": args.selection,
                            "k": args.k, "sentences": args.sentences, "meaning_weight": args.meaning_weight})
        if model is None:
            model = open_model(settings)
        checker = build_checker(settings, lambda _s: model)
        if args.title_terms:
            checker.selector = WordSelector(settings.min_coverage, title_terms=True)
        store = SampleStore(args.samples / name)
        shown = {"k": settings.k, "sentences": settings.sentences, "selection": settings.selection,
                 "min_coverage": settings.min_coverage, "title_terms": args.title_terms}
        if settings.selection == "meaning":  # recorded only where they apply, so older folders still match
            shown["meaning_weight"] = settings.meaning_weight
        if args.vectors:
            shown["vectors"] = True
        recorded = store.folder / "settings.json"
        if recorded.exists() and json.loads(recorded.read_text()) != shown:
            raise SystemExit(f"{store.folder} holds samples collected with {recorded.read_text().strip()}, "
                             f"not {json.dumps(shown)}: collect into another folder")
        recorded.write_text(json.dumps(shown) + "\n")
        start, done = time.perf_counter(), [0]

        def tick() -> None:
            done[0] += 1
            if done[0] % 10 == 0:
                rate = (time.perf_counter() - start) / done[0]
                print(f"{name}: {done[0]}/{len(claims)} ({rate:.1f} s/claim)", file=sys.stderr, flush=True)

        samples = collect(checker, claims, settings_key=samples_key(settings, model.info.sha256), store=store,
                          chunks=args.chunks, on_claim=tick)
        tokens = sum(s.closed_tokens + s.joint_tokens for s in samples) / len(samples)
        warm = sum(s.joint_tokens_warm or s.joint_tokens for s in samples) / len(samples)
        print(f"{name}: {len(samples)} samples, {tokens:.0f} tokens/claim (closed + joint), {warm:.0f} reading "
              f"after reading, "
              f"{time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
