"""Read claims for ``factcheck batch``: .txt, .jsonl, .csv/.tsv files or stdin.

Every input line becomes one ``InputItem``, in order: a claim to check, or an error (bad
JSON, a missing field, an empty claim, bytes that are not UTF-8) that becomes an error
record in the output. Nothing in the input stops a run.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..files import open_user_file

FORMATS = ("txt", "jsonl", "csv", "tsv")


@dataclass
class InputItem:
    id: str
    text: str
    line: int
    source: str
    extra: dict = field(default_factory=dict)
    error: str | None = None
    unchecked: str | None = None  # a document's sentence that gave no claim: why (written as an UncheckedRecord)


def detect_format(name: str, explicit: str | None) -> str:
    if explicit:
        return explicit
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix in ("jsonl", "ndjson"):
        return "jsonl"
    if suffix in ("csv", "tsv", "txt"):
        return suffix
    return "txt"


def _open_bytes(name: str) -> io.BufferedReader | io.BytesIO:
    return open_user_file(name, "input file")


def read_items(name: str, *, fmt: str | None = None, field_name: str = "claim",
               column: str = "claim", id_prefix: str = "") -> Iterator[InputItem]:
    """Yield one item per input line (blank lines in .txt are skipped)."""
    fmt = detect_format(name, fmt)
    source = "<stdin>" if name == "-" else name
    with _open_bytes(name) as fh:
        if fmt in ("csv", "tsv"):
            yield from _table(fh, source, "\t" if fmt == "tsv" else ",", column, id_prefix)
            return
        for number, raw in enumerate(fh, start=1):
            item_id = f"{id_prefix}{number}"
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as exc:
                yield InputItem(item_id, "", number, source, error=f"line is not UTF-8 (byte {exc.start})")
                continue
            if fmt == "txt":
                if line.strip():
                    yield InputItem(item_id, line, number, source)
                continue
            if not line.strip():
                continue
            yield _json_item(line, number, source, field_name, item_id)


def _json_item(line: str, number: int, source: str, field_name: str, item_id: str) -> InputItem:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        return InputItem(item_id, "", number, source, error=f"not valid JSON ({exc.msg} at column {exc.colno})")
    if not isinstance(row, dict):
        return InputItem(item_id, "", number, source, error="not a JSON object")
    given_id = row.get("id")
    if given_id is not None and not isinstance(given_id, (str, int)):
        return InputItem(item_id, "", number, source, error="field 'id' must be a string or a number")
    item_id = str(given_id) if given_id is not None else item_id
    extra = {k: v for k, v in row.items() if k not in (field_name, "id")}
    if field_name not in row:
        return InputItem(item_id, "", number, source, extra, error=f"missing field '{field_name}'")
    text = row[field_name]
    if not isinstance(text, str):
        return InputItem(item_id, "", number, source, extra,
                         error=f"field '{field_name}' must be a string, not {type(text).__name__}")
    return InputItem(item_id, text, number, source, extra)


def _table(fh, source: str, delimiter: str, column: str, id_prefix: str) -> Iterator[InputItem]:
    data = fh.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{source} is not UTF-8 (byte {exc.start})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    if reader.fieldnames is None:
        return
    if column not in reader.fieldnames:
        raise InputError(f"{source} has no column '{column}' (columns: {', '.join(reader.fieldnames)}); use --column")
    number = 1
    try:
        for row in reader:
            number = reader.line_num
            given_id = row.get("id")
            item_id = given_id if given_id else f"{id_prefix}{number}"
            extra = {k: v for k, v in row.items() if k not in (column, "id") and k is not None}
            if None in row:
                yield InputItem(item_id, "", number, source, extra, error="more fields than the header")
                continue
            yield InputItem(item_id, row[column] or "", number, source, extra)
    except csv.Error as exc:
        # an unterminated quote swallows the rest of the file: say where it started
        yield InputItem(f"{id_prefix}{reader.line_num}", "", reader.line_num, source,
                        error=f"malformed CSV after line {number} ({exc})")
