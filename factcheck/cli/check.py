"""factcheck check: claims from arguments or stdin, results as each finishes."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..claims.inputs import InputItem
from ..errors import (
    EXIT_NOT_SUPPORTED,
    EXIT_OK,
    EXIT_RUNTIME,
    EXIT_USAGE,
    InputError,
)
from ..record import error_record
from ..runs.output import FORMATS, RecordWriter
from ..schema import Claim
from .activity import Activity
from .app import (
    app,
    open_checker,
    say,
    say_problems,
    showing_progress,
    write_report,
)
from .options import (
    CHECK_OPTIONS,
    NoCacheOpt,
    ReportOpt,
    setting_options,
)


def read_claims(claims: list[str], stdin=None) -> list:
    """Claims from arguments; ``-`` or no arguments with piped stdin read one claim a line.
    Returns InputItems, numbered from 1; a claim that is not UTF-8 is an item with an error
    (an error record), so the others are still checked."""

    stdin = stdin or sys.stdin
    if claims and claims != ["-"]:
        if "-" in claims:
            raise InputError("'-' (read stdin) cannot be mixed with claims given as arguments")
        # the shell passes bytes; Python keeps the ones that are not UTF-8 as lone surrogates
        raw = [c.encode("utf-8", "surrogateescape") for c in claims]
        source = "arguments"
    else:
        if not claims and stdin.isatty():
            raise InputError("no claim given: factcheck check \"CLAIM\" (or pipe claims, one a line)")
        data = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode()
        raw = [line for line in data.splitlines() if line.strip()] or [b""]
        source = "<stdin>"
    items = []
    for number, value in enumerate(raw, start=1):
        try:
            items.append(InputItem(str(number), value.decode("utf-8"), number, source))
        except UnicodeDecodeError as exc:
            items.append(InputItem(str(number), value.decode("utf-8", "replace"), number, source,
                                   error=f"not UTF-8 text (byte {exc.start})"))
    return items


@app.command()
@setting_options(*CHECK_OPTIONS)
def check(
    claims: Annotated[Optional[list[str]], typer.Argument(metavar="CLAIM", help="Claims to check; '-' reads one a line from stdin.", show_default=False)] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON record per claim (JSON Lines); the same as --format json.")] = False,
    output_format: Annotated[Optional[str], typer.Option("--format", "-f", metavar="table|json|tsv|csv|markdown", help="How results are printed (default: table).", show_default=False)] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", metavar="FILE", help="Write the results to FILE instead of stdout.", show_default=False)] = None,
    explain: Annotated[bool, typer.Option("--explain", help="Show each claim as a panel: every sentence read, the ones the verdict rests on, the route and why.")] = False,
    exit_zero: Annotated[bool, typer.Option("--exit-zero", help="Exit 0 whatever the verdicts (errors still exit 2 or 3): for set -e scripts.")] = False,
    report: ReportOpt = None, no_cache: NoCacheOpt = False, *, flags: dict,
) -> None:
    """Check claims and print a verdict, confidence and evidence for each, as each finishes."""

    records = []
    fmt = "json" if json_out else (output_format or "table")
    if fmt not in FORMATS:
        raise InputError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    items = read_claims(list(claims or []))
    checker = open_checker(flags, no_cache=no_cache)
    with _results_file(out) as stream, Activity(len(items), show=showing_progress()) as activity:
        writer = RecordWriter(fmt, explain=explain, stream=stream)
        for number, item in enumerate(items, start=1):
            if activity.stopping:
                break
            activity.working_on(number)
            claim = Claim(id=item.id, text=item.text)
            record = (error_record(claim, item.error, line=item.line, source=item.source) if item.error
                      else checker.check(claim))
            records.append(record)
            with activity.between():
                say_problems(record)
                writer.write(record)  # as it finishes: a script or a reader sees each at once
    if report is not None:
        write_report(records, report)
    if len(records) < len(items):
        say("stopped:", "yellow", f"{len(records)} of {len(items)} claims checked")
        raise typer.Exit(130)
    code = exit_code_for(records)
    code = EXIT_OK if exit_zero and code == EXIT_NOT_SUPPORTED else code
    raise typer.Exit(max(code, EXIT_USAGE) if checker.unreadable else code)  # a source named on the command line was bad


def _results_file(path: Path | None):
    """Where check writes its results: FILE, else stdout."""
    if path is None:
        return contextlib.nullcontext(None)
    try:
        return path.open("w", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from None



def exit_code_for(records) -> int:
    """0 all SUPPORTED, and sure (none abstained); 3 if a claim failed at run time (the model
    server, every evidence source); 2 if a claim was bad input; else 1."""
    if any(r.error and r.error.kind == "runtime" for r in records):
        return EXIT_RUNTIME
    if any(r.error for r in records):
        return EXIT_USAGE
    if all(r.verdict and r.verdict.value == "SUPPORTED" and not r.abstained for r in records):
        return EXIT_OK
    return EXIT_NOT_SUPPORTED
