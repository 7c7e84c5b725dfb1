"""A persistent BM25 index over local corpora (bm25s, memory-mapped).

Layout of an index folder:
    manifest.json     format, counts, settings, sources
    bm25/             the bm25s sparse matrix and vocabulary (loaded with mmap)
    passages.jsonl    one passage a line
    offsets.npy       byte offset of each passage line, so a hit reads one line

bm25s was chosen over rank-bm25 and tantivy by benchmarks/bench_index.py: rank-bm25 scores
every passage in Python for each query (hundreds of ms at 50k passages).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from factcheck.errors import IndexFormatError, InputError
from factcheck.schema import Passage

from .base import Retriever
from .passages import ReadReport, read_documents, split_passages

FORMAT = "factcheck-bm25"
VERSION = 1


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def _tokenize(texts: list[str], stemmer) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False)


def build_index(sources: Iterable[str], out: Path, *, max_words: int = 100) -> dict:
    """Read, split and index the sources into ``out``; returns the manifest."""
    import bm25s

    start = time.perf_counter()
    report = ReadReport()
    sources = list(sources)
    if out.exists() and not out.is_dir():
        raise InputError(f"index output exists and is not a folder: {out}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create index folder {out}: {exc.strerror}") from None
    texts: list[str] = []
    offsets: list[int] = []
    documents = 0
    tmp_passages = out / "passages.jsonl.tmp"
    with tmp_passages.open("wb") as fh:
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
        tmp_passages.unlink(missing_ok=True)
        raise InputError("no passages to index: the sources held no readable documents"
                         + (f" ({len(report.skipped)} records skipped)" if report.skipped else ""))
    retriever = bm25s.BM25()
    tokens = _tokenize(texts, _stemmer())
    if not any(tokens):
        tmp_passages.unlink(missing_ok=True)
        raise InputError("no indexable words in the sources (only stop words, numbers or single letters)")
    retriever.index(tokens, show_progress=False)
    if (out / "bm25").exists():
        shutil.rmtree(out / "bm25")
    retriever.save(str(out / "bm25"), show_progress=False)
    np.save(out / "offsets.npy", np.asarray(offsets, dtype=np.int64))
    tmp_passages.replace(out / "passages.jsonl")
    manifest = {
        "format": FORMAT, "version": VERSION, "documents": documents, "passages": len(texts),
        "passage_words": max_words, "stemmer": "english", "stopwords": "en",
        "sources": [str(s) for s in sources], "skipped": report.skipped[:100],
        "skipped_count": len(report.skipped), "build_seconds": round(time.perf_counter() - start, 2),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def read_manifest(folder: Path) -> dict:
    path = folder / "manifest.json"
    hint = f"build one with: factcheck index build CORPUS -o {folder}"
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
        self._stemmer = _stemmer()
        self._vocab = self._bm25.vocab_dict

    def search(self, query: str, k: int) -> list[Passage]:
        tokens = [t for t in _tokenize([query], self._stemmer)[0] if t in self._vocab]
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

    def _read(self, index: int) -> Passage:
        try:
            self._passages.seek(int(self._offsets[index]))
            return Passage.model_validate_json(self._passages.readline())
        except (OSError, ValueError) as exc:
            raise IndexFormatError(f"index {self.folder} is corrupt at passage {index} ({exc}): rebuild it") from None

    def close(self) -> None:
        self._passages.close()
