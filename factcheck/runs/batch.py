"""Batch runs: many claims in, one JSON line per claim out, resumable after any stop.

The output file is append-only. Each record goes out as one write of one whole line, so a
kill (SIGKILL included) can at worst leave a torn last line; the next run cuts it off,
skips the claims already recorded, and appends the rest. A run resumes only an output made
from the same claims with the same settings (``check_resumable``): anything else would mix
two runs in one file under the same ids.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..claims.inputs import InputItem
from ..errors import InputError
from ..reading.adapt import BatchCalibration, reads_evidence, unadapted
from ..record import error_record
from ..schema import CheckRecord, Claim, UncheckedRecord, parse_record
from .cache import ResultCache, cacheable, cached_check
from .output import RecordWriter


@dataclass
class BatchSummary:
    checked: int = 0
    errors: int = 0
    skipped: int = 0  # already in the output file
    unchecked: int = 0  # a document's sentences that gave no claim to check
    cached: int = 0
    verdicts: Counter = field(default_factory=Counter)
    routes: Counter = field(default_factory=Counter)
    prompt_tokens: int = 0
    generated_tokens: int = 0
    seconds: float = 0.0
    interrupted: bool = False

    def add(self, record: CheckRecord) -> None:
        if record.error is not None:
            self.errors += 1
            return
        if record.unchecked is not None:
            self.unchecked += 1
            return
        self.checked += 1
        self.cached += record.from_cache
        self.verdicts[record.verdict.value] += 1
        self.routes[record.route.value] += 1
        if not record.from_cache:
            self.prompt_tokens += record.tokens.prompt
            self.generated_tokens += record.tokens.generated


@dataclass
class Recorded:
    """What an output file already holds for one id."""

    claim: str | None
    settings_id: str | None
    reading: dict | None = None  # a verdict read from evidence: its reading before adaptation


class Output:
    """Where records go: a resumable JSON Lines file, or stdout (JSON Lines, or rows in
    ``fmt``: tsv, csv, markdown). ``restart`` empties the file."""

    def __init__(self, path: Path | None, restart: bool = False, fmt: str = "jsonl") -> None:
        self.path = path
        self.recorded: dict[str, Recorded] = {}
        self._fd: int | None = None
        self._rows = None
        if fmt not in ("jsonl", "tsv", "csv", "markdown"):
            raise InputError(f"--output-format must be jsonl, tsv, csv or markdown, not {fmt!r}")
        if fmt != "jsonl":
            if path is not None:
                raise InputError("-o files are JSON Lines, so that a batch can resume: --output-format "
                                 f"{fmt} writes to stdout")

            self._rows = RecordWriter(fmt)
        if path is None:
            return
        if path.is_dir():
            raise InputError(f"output path is a directory: {path}")
        if path.exists() and not restart:
            self.recorded = _repair_and_read(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | (os.O_TRUNC if restart else 0)
        self._fd = os.open(path, flags, 0o644)

    @property
    def done(self) -> set[str]:
        return set(self.recorded)

    def write(self, record: CheckRecord) -> None:
        if self._rows is not None:
            self._rows.write(record)
            return
        line = (record.model_dump_json() + "\n").encode()
        if self._fd is None:
            sys.stdout.buffer.write(line)
            sys.stdout.flush()
            return
        view = memoryview(line)
        while view:  # one write normally; loop only if the kernel takes part of it
            view = view[os.write(self._fd, view):]
        self.recorded[record.id] = Recorded(record.claim, record.settings_id, _reading(record))

    def close(self) -> None:
        if self._fd is not None:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None


def _repair_and_read(path: Path) -> dict[str, Recorded]:
    """Cut a torn last line off ``path`` and return what its complete records hold, by id."""
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if end < len(data):
        with path.open("r+b") as fh:
            fh.truncate(end)
    recorded = {}
    for line in data[:end].splitlines():
        try:
            row = json.loads(line)
            recorded[str(row["id"])] = Recorded(row.get("claim"), row.get("settings_id"))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # not a record of ours: leave it, redo nothing for it
        try:  # a resumed batch calibration counts the readings already written
            recorded[str(row["id"])].reading = _reading(parse_record(line))
        except ValueError:
            pass
    return recorded


def _reading(record) -> dict | None:
    return unadapted(record) if reads_evidence(record) else None


def mark_duplicates(items: Iterable[InputItem]) -> Iterable[InputItem]:
    """A second item with an id already seen becomes an error record under an id of its own
    (``id@source:line``), so every record's id stays unique."""
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            item.error = item.error or f"duplicate id {item.id!r} (line {item.line})"
            item.id = f"{item.id}@{item.source}:{item.line}"
        seen.add(item.id)
        yield item


def check_resumable(output: Output, items: list[InputItem], settings_id: str) -> None:
    """Resume only what this run would have written itself: the same claim under each
    recorded id, made with the same settings. Anything else stops the run before a claim is
    checked, naming the two ways on (a one-line error)."""
    if not output.recorded:
        return
    ways_on = "use --restart to start it over, or write to a new output file"
    other = next((r for r in output.recorded.values() if r.settings_id != settings_id), None)
    if other is not None:
        raise InputError(f"{output.path} holds records made with other settings (model, options, profile or "
                         f"evidence sources) or by an older factcheck: {ways_on}")
    claims = {item.id: item for item in mark_duplicates(items)}
    for record_id, recorded in output.recorded.items():
        item = claims.get(record_id)
        if item is None:
            raise InputError(f"{output.path} holds a record for id {record_id!r}, which this input does not have: "
                             f"it was made from other claims; {ways_on}")
        if (recorded.claim or "") != (item.text or ""):
            raise InputError(f"{output.path} holds another claim under id {record_id!r} (line {item.line} of "
                             f"{item.source}): it was made from other claims; {ways_on}")


def run_batch(items: Iterable[InputItem], checker, output: Output, *, cache: ResultCache | None,
              cache_key: str, settings_id: str | None = None, on_record: Callable[[CheckRecord], None] | None = None,
              workers: int = 1, should_stop: Callable[[], bool] | None = None,
              started: float | None = None, adapt: BatchCalibration | None = None) -> BatchSummary:
    """Check every item, writing one record per item in input order; returns the summary.

    With ``workers`` > 1 that many claims are in flight at once (a model server with as
    many slots serves them concurrently); records are still written in input order, so a
    kill loses only claims not yet written, and the next run redoes exactly those. The
    cache is read and written here, in the calling thread. Ctrl-C (KeyboardInterrupt), or
    ``should_stop()`` turning true, stops after the records in hand are written. ``adapt``
    (batch calibration) may hold records until enough are read; they are written adapted, or,
    when the run ends first, as read."""
    summary = BatchSummary()
    start = started if started is not None else time.perf_counter()  # (perf_counter) earlier work counts
    # (item, claim, record or future), in input order
    pending: deque[tuple[InputItem, Claim, CheckRecord | Future]] = deque()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="check") if workers > 1 else None

    def finish(item: InputItem, claim: Claim, result: CheckRecord | Future) -> None:
        record = result.result() if isinstance(result, Future) else result
        if isinstance(result, Future) and cache is not None and cacheable(record):
            cache.put(ResultCache.key(claim.text.strip(), cache_key), record)
        if record.error is not None:
            record.error.line, record.error.source = item.line, item.source
        record = record.model_copy(update={"extra": item.extra, "settings_id": settings_id})
        for ready in (adapt(record) if adapt is not None else [record]):
            write(ready)

    def write(record: CheckRecord) -> None:
        output.write(record)
        summary.add(record)
        if on_record:
            on_record(record)

    try:
        for item in mark_duplicates(items):
            if should_stop and should_stop():
                summary.interrupted = True
                break
            if item.id in output.recorded:
                summary.skipped += 1
                continue
            claim = Claim(id=item.id, text=item.text)
            if item.error:
                result: CheckRecord | Future = error_record(claim, item.error, line=item.line, source=item.source)
            elif item.unchecked:
                result = UncheckedRecord(id=item.id, claim=item.text, unchecked=item.unchecked)
            elif pool is None:
                result = cached_check(checker, claim, cache, cache_key)
            elif cache is not None and (hit := cache.get(ResultCache.key(claim.text.strip(), cache_key))):
                result = hit.model_copy(update={"id": claim.id, "from_cache": True})
            else:
                result = pool.submit(checker.check_or_error, claim)
            pending.append((item, claim, result))
            # write what is ready at the head; keep at most 2 x workers claims in hand
            while pending and (not isinstance(pending[0][2], Future) or pending[0][2].done()
                               or len(pending) > 2 * workers):
                finish(*pending.popleft())
        while pending:
            finish(*pending.popleft())
    except KeyboardInterrupt:
        summary.interrupted = True
        # records already computed at the head are written; the rest are redone next run
        while pending and (not isinstance(pending[0][2], Future) or pending[0][2].done()):
            finish(*pending.popleft())
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        for held in (adapt.finish() if adapt is not None else []):
            write(held)
        output.close()
        summary.seconds = time.perf_counter() - start
    return summary
