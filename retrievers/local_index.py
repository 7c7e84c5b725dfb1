"""A persistent BM25 index over local corpora (bm25s, memory-mapped).

Layout of an index folder:
    manifest.json     format, counts, settings, sources
    bm25/             the bm25s sparse matrix and vocabulary (loaded with mmap)
    passages.jsonl    one passage a line
    offsets.npy       byte offset of each passage line, so a hit reads one line
    vectors.npy       optional (``build --vectors``): each passage's unit vector by meaning
                      (all-MiniLM-L6-v2, float16), so a search by meaning reaches the whole
                      corpus, not only what BM25 ranked

bm25s was chosen over rank-bm25 and tantivy by benchmarks/bench_index.py: rank-bm25 scores
every passage in Python for each query (hundreds of ms at 50k passages).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from factcheck.embed import DIMENSIONS, ENCODER_NAME, default_encoder
from factcheck.errors import IndexFormatError, InputError
from factcheck.files import atomic_file
from factcheck.schema import Passage
from factcheck.text import index_tokens

from .base import Retriever
from .passages import ReadReport, read_documents, split_passages

FORMAT = "factcheck-bm25"
VERSION = 1


VECTORS_FILE = "vectors.npy"
_EMBED_BATCH = 256  # passages a progress step
_SCAN_ROWS = 16384  # vectors compared per step of a search by meaning (~25 MB as float32)


def build_index(sources: Iterable[str], out: Path, *, max_words: int = 100, vectors: bool = False,
                on_progress: Callable[[int, int], None] | None = None) -> dict:
    """Read, split and index the sources into ``out``; returns the manifest. ``vectors``:
    also embed every passage by meaning (~11 ms a one-sentence passage on 2 cores), reporting
    ``on_progress(done, total)``."""
    import bm25s

    start = time.perf_counter()
    encoder = None
    if vectors:  # a missing encoder fails now, before the corpus is read

        encoder = default_encoder()
    report = ReadReport()
    sources = list(sources)
    if out.exists() and not out.is_dir():
        raise InputError(f"index output exists and is not a folder: {out}")
    if out.is_dir() and any(out.iterdir()) and not (out / "manifest.json").is_file():
        # an index is rebuilt in place; any other folder's files are not ours to mix with
        raise InputError(f"{out} holds other files, not a factcheck index: give -o a new or empty folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create index folder {out}: {exc.strerror}") from None
    texts: list[str] = []
    offsets: list[int] = []
    documents = 0
    with atomic_file(out / "passages.jsonl", "wb") as fh:  # in place only once the whole index is built
        for source in sources:
            label = "local" if source == "-" else Path(source).name
            for doc in read_documents(source, report):
                documents += 1
                for passage in split_passages(doc, source=f"index:{label}", max_words=max_words):
                    offsets.append(fh.tell())
                    fh.write(passage.model_dump_json().encode() + b"\n")
                    # the title is indexed with every passage of its document
                    texts.append(f"{passage.title}. {passage.text}" if passage.title else passage.text)
        if not texts:
            raise InputError("no passages to index: the sources held no readable documents"
                             + (f" ({len(report.skipped)} records skipped)" if report.skipped else ""))
        retriever = bm25s.BM25()
        tokens = index_tokens(texts)
        if not any(tokens):
            raise InputError("no indexable words in the sources (only stop words, numbers or single letters)")
        retriever.index(tokens, show_progress=False)
        if (out / "bm25").exists():
            shutil.rmtree(out / "bm25")
        retriever.save(str(out / "bm25"), show_progress=False)
        np.save(out / "offsets.npy", np.asarray(offsets, dtype=np.int64))
    (out / VECTORS_FILE).unlink(missing_ok=True)  # a rebuild never keeps another corpus's vectors
    if encoder is not None:
        matrix = np.zeros((len(texts), encoder.dimensions), np.float16)
        for begin in range(0, len(texts), _EMBED_BATCH):
            matrix[begin:begin + _EMBED_BATCH] = encoder.embed(texts[begin:begin + _EMBED_BATCH])
            if on_progress:
                on_progress(min(begin + _EMBED_BATCH, len(texts)), len(texts))
        with atomic_file(out / VECTORS_FILE, "wb") as fh:
            np.save(fh, matrix)
    manifest = {
        "format": FORMAT, "version": VERSION, "documents": documents, "passages": len(texts),
        "passage_words": max_words, "stemmer": "english", "stopwords": "en",
        "vectors": encoder.name if encoder is not None else None,
        "sources": [str(s) for s in sources], "skipped": report.skipped[:100],
        "skipped_count": len(report.skipped), "build_seconds": round(time.perf_counter() - start, 2),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def read_manifest(folder: Path) -> dict:
    path = folder / "manifest.json"
    hint = f"build one with: factcheck index build CORPUS -o {folder}"
    if folder.is_file():  # a corpus given where its index was meant: never suggest overwriting it
        raise IndexFormatError(f"{folder} is a file, not an index folder: build an index from it with "
                               f"factcheck index build {folder} -o {folder.with_suffix('')}-index")
    if not folder.is_dir():
        raise IndexFormatError(f"index folder not found: {folder} ({hint})")
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise IndexFormatError(f"{folder} is not a factcheck index (no manifest.json): {hint}") from None
    except (OSError, ValueError) as exc:
        raise IndexFormatError(f"{path} is unreadable or corrupt ({exc}): rebuild the index") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IndexFormatError(f"{folder} is not a factcheck index: {hint}")
    if manifest.get("version") != VERSION:
        raise IndexFormatError(f"{folder} has index version {manifest.get('version')}, "
                               f"this factcheck reads version {VERSION}: rebuild it")
    return manifest


class LocalIndex(Retriever):
    """BM25 search over a built index folder."""

    def __init__(self, folder: Path) -> None:
        import bm25s

        self.folder = folder
        self.manifest = read_manifest(folder)
        self.name = f"index:{folder.name}"
        try:
            self._bm25 = bm25s.BM25.load(str(folder / "bm25"), mmap=True, show_progress=False)
            self._offsets = np.load(folder / "offsets.npy", mmap_mode="r")
            self._passages = (folder / "passages.jsonl").open("rb")
        except (OSError, ValueError, KeyError) as exc:
            raise IndexFormatError(f"index {folder} is corrupt ({exc}): rebuild it with factcheck index build") from None
        if len(self._offsets) != self.manifest["passages"]:
            raise IndexFormatError(f"index {folder} is corrupt (passage count mismatch): rebuild it")
        self.vectors = None
        if self.manifest.get("vectors"):
            if self.manifest["vectors"] != ENCODER_NAME:  # another encoder's space: cosines would be noise
                raise IndexFormatError(f"index {folder} holds vectors of {self.manifest['vectors']}, this factcheck "
                                       f"embeds with {ENCODER_NAME}: rebuild it with --vectors")
            try:
                self.vectors = np.load(folder / VECTORS_FILE, mmap_mode="r")
            except (OSError, ValueError) as exc:
                raise IndexFormatError(f"index {folder} is corrupt ({VECTORS_FILE}: {exc}): rebuild it") from None
            if self.vectors.shape != (len(self._offsets), DIMENSIONS):
                raise IndexFormatError(f"index {folder} is corrupt ({VECTORS_FILE} does not match its passages): "
                                       f"rebuild it")
        self._vocab = self._bm25.vocab_dict

    def search(self, query: str, k: int) -> list[Passage]:
        tokens = [t for t in index_tokens([query])[0] if t in self._vocab]
        if not tokens or k <= 0:
            return []
        k = min(k, len(self._offsets))
        ids, scores = self._bm25.retrieve([tokens], k=k, show_progress=False, n_threads=1)
        results = []
        for index, score in zip(ids[0], scores[0]):
            if score <= 0:
                continue
            results.append(self._read(int(index)).model_copy(update={"score": float(score)}))
        return results

    def search_by_meaning(self, query: str, k: int) -> list[Passage]:
        """The ``k`` passages nearest ``query`` in meaning (cosine), over the whole index;
        needs an index built with ``--vectors``."""

        if self.vectors is None:
            raise IndexFormatError(f"index {self.folder} has no vectors: rebuild it with "
                                   f"factcheck index build --vectors")
        if k <= 0 or not query.strip():
            return []
        query_vector = default_encoder().embed([query])[0]
        cosine = np.empty(len(self.vectors), np.float32)
        for begin in range(0, len(self.vectors), _SCAN_ROWS):  # bounded memory, whatever the index's size
            cosine[begin:begin + _SCAN_ROWS] = self.vectors[begin:begin + _SCAN_ROWS].astype(np.float32) @ query_vector
        k = min(k, len(cosine))
        best = np.argpartition(-cosine, k - 1)[:k]
        best = best[np.argsort(-cosine[best], kind="stable")]
        return [self._read(int(i)).model_copy(update={"score": float(cosine[i])}) for i in best]

    def _read(self, index: int) -> Passage:
        try:
            self._passages.seek(int(self._offsets[index]))
            return Passage.model_validate_json(self._passages.readline())
        except (OSError, ValueError):
            raise IndexFormatError(f"index {self.folder} is corrupt: passage {index} is missing or unreadable "
                                   f"(passages.jsonl changed after the index was built): rebuild it") from None

    def close(self) -> None:
        self._passages.close()


class IndexByMeaning(Retriever):
    """The same index searched by meaning: beside its BM25 search, a claim's paraphrases
    reach the evidence pool too (the search stage, evidence/retrieve.py, interleaves the two by rank)."""

    def __init__(self, index: LocalIndex) -> None:
        self.index = index
        self.name = f"{index.name}:meaning"

    def search(self, query: str, k: int) -> list[Passage]:
        return self.index.search_by_meaning(query, k)
