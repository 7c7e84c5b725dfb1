"""Read corpora and split documents into passages.

Sources: a JSON Lines corpus (``{"id", "title", "text"}`` a line, the format of the shared
data), a folder of .txt/.md files, or ``-`` for JSON Lines on stdin. Documents are split at
sentence ends into passages of about ``max_words`` words; every passage keeps its
document's id and title.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from factcheck.files import open_user_file, read_user_text
from factcheck.schema import Passage
from factcheck.text import split_sentences

TEXT_SUFFIXES = {".txt", ".md"}


@dataclass
class Document:
    id: str
    title: str
    text: str


@dataclass
class ReadReport:
    """What reading the sources skipped, so a build can say so without stopping."""

    skipped: list[str] = field(default_factory=list)


def split_passages(doc: Document, source: str, max_words: int = 100) -> list[Passage]:
    """Group whole sentences into passages of at most ``max_words`` words (a longer
    sentence is cut by words)."""
    passages: list[Passage] = []
    current: list[str] = []
    count = 0

    def flush() -> None:
        nonlocal current, count
        if current:
            passages.append(Passage(id=f"{doc.id}#{len(passages)}", doc_id=doc.id, title=doc.title,
                                    text=" ".join(current), source=source))
        current, count = [], 0

    for sentence in split_sentences(doc.text):
        words = sentence.split()
        while len(words) > max_words:  # an over-long "sentence" (tables, lists)
            flush()
            current, count = [" ".join(words[:max_words])], max_words
            flush()
            words = words[max_words:]
        if count + len(words) > max_words:
            flush()
        current.append(" ".join(words))
        count += len(words)
    flush()
    return passages


def _jsonl_documents(lines, origin: str, report: ReadReport) -> Iterator[Document]:
    for number, raw in enumerate(lines, start=1):
        try:
            line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError:
            report.skipped.append(f"{origin}:{number}: not UTF-8")
            continue
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            report.skipped.append(f"{origin}:{number}: not JSON ({exc.msg})")
            continue
        if not isinstance(row, dict):
            report.skipped.append(f"{origin}:{number}: not a JSON object")
            continue
        doc_id, text, title = row.get("id"), row.get("text"), row.get("title", "")
        if not isinstance(text, str) or not text.strip():
            report.skipped.append(f"{origin}:{number}: no 'text' string")
            continue
        if doc_id is None:
            doc_id = f"{Path(origin).stem}-{number}"
        yield Document(id=str(doc_id), title=str(title or ""), text=text)


def _folder_documents(folder: Path, report: ReadReport) -> Iterator[Document]:
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in TEXT_SUFFIXES and p.is_file()):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            report.skipped.append(f"{path}: not UTF-8")
            continue
        except OSError as exc:
            report.skipped.append(f"{path}: {exc.strerror}")
            continue
        heading = next((line for line in text.splitlines() if line.startswith("# ")), "")
        if heading:  # the title, not a sentence: left in, it would run into the first one
            text = text.replace(heading, "", 1)
        if text.strip():
            yield Document(id=str(path.relative_to(folder)), title=heading.lstrip("# ").strip() or path.stem, text=text)


def read_documents(source: str, report: ReadReport) -> Iterator[Document]:
    """Documents from one source; unreadable records are skipped into ``report``."""
    if source == "-":
        yield from _jsonl_documents(sys.stdin.buffer, "<stdin>", report)
        return
    path = Path(source)
    if path.is_dir():
        yield from _folder_documents(path, report)
        return
    if path.suffix.lower() in TEXT_SUFFIXES:
        yield Document(id=path.name, title=path.stem, text=read_user_text(path, "corpus"))
        return
    with open_user_file(path, "corpus") as fh:
        yield from _jsonl_documents(fh, str(path), report)
