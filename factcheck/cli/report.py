"""factcheck report: a batch's records as a page to read (HTML) or a comment to post (Markdown)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..report import build, format_for, read_records, write
from .app import app, say


@app.command()
def report(
    records: Annotated[str, typer.Argument(metavar="RECORDS", help="JSON Lines written by factcheck batch or check --json; '-' for stdin.")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", metavar="PATH", help="File to write (default: stdout).", show_default=False)] = None,
    fmt: Annotated[Optional[str], typer.Option("--format", "-f", metavar="FORMAT", help="html or markdown (default: from --out's suffix, .md is markdown; else html).", show_default=False)] = None,
    source: Annotated[Optional[Path], typer.Option("--source", metavar="DOC", help="The document the claims came from, shown with each claim marked in place (default: the one batch --extract recorded).", show_default=False)] = None,
) -> None:
    """Make a fact-check report: the document with every claim marked by its verdict, a summary and filters."""

    claims = read_records(records)
    write(build(claims, format_for(out, fmt), source), out)
    if out is not None:
        say("wrote", "", str(out))
