"""The fact-check report: what a batch (or a check) found, for people rather than scripts.

``read_records`` takes the JSON Lines that ``check --json`` and ``batch`` write; ``locate``
puts each claim back on its span of the source document (``batch --extract`` records where
every claim came from); ``html.render`` and ``markdown.render`` build the two formats. The
HTML file is self-contained (its style and script inline, no request leaves it) and every
text from a record is escaped."""

from pathlib import Path

from ..errors import InputError
from ..files import write_atomic
from . import html, markdown
from .claims import ReportClaim, Verdict, from_records, locate, read_records, summary

__all__ = ["FORMATS", "ReportClaim", "Verdict", "build", "format_for", "from_records", "locate", "read_records",
           "summary"]

FORMATS = ("html", "markdown")


def format_for(path: Path | None, fmt: str | None) -> str:
    """The format asked for, else the one the file's name says (.md: markdown), else HTML."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise InputError(f"--format must be html or markdown, not {fmt!r}")
        return fmt
    return "markdown" if path is not None and path.suffix.lower() in (".md", ".markdown") else "html"


def build(claims: list[ReportClaim], fmt: str, source: Path | None = None) -> str:
    """The report in ``fmt``. With ``source`` (else the one document the records were extracted
    from, when it can be read), HTML shows the document with each claim marked in place."""

    documents = {c.source for c in claims if c.source and c.source != "<stdin>"}
    path = source or (Path(documents.pop()) if len(documents) == 1 else None)
    text = None
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            if source is not None:  # asked for by name: say why it cannot be shown
                raise InputError(f"cannot read the source document {path}: {getattr(exc, 'strerror', None) or exc}") from None
    title = f"Fact-check report: {path.name}" if path is not None and text is not None else "Fact-check report"
    return markdown.render(claims, title) if fmt == "markdown" else html.render(claims, text, title)


def write(report: str, out: Path | None) -> None:
    """To ``out`` (atomically), or to stdout."""
    import sys

    if out is None:
        sys.stdout.write(report)
        return
    write_atomic(out, report)
