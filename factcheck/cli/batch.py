"""factcheck batch and extract: files of claims, and documents whose claims are extracted."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..api import Checker, document_fields
from ..claims.extract import ExtractedClaim, read_document
from ..claims.inputs import FORMATS, InputItem, read_items
from ..errors import EXIT_OK, EXIT_USAGE, InputError
from ..runs.batch import Output, check_resumable, run_batch
from ..runs.cache import settings_id
from ..schema import CheckRecord
from .activity import Activity
from .app import (
    app,
    load_model,
    open_checker,
    resolve_settings,
    say_adaptation,
    say_problems,
    showing_progress,
    terminal,
    write_report,
)
from .options import (
    ADAPT_OPTIONS,
    CHECK_OPTIONS,
    MODEL_OPTIONS,
    NoCacheOpt,
    ReportOpt,
    setting_options,
)
from .render import BatchProgress, print_summary


@app.command()
@setting_options(*CHECK_OPTIONS, *ADAPT_OPTIONS)
def batch(
    inputs: Annotated[list[str], typer.Argument(metavar="INPUT", help="Claim files (.txt one a line, .jsonl, .csv/.tsv) or '-' for stdin; documents with --extract.")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", metavar="PATH", help="JSON Lines output; re-running with the same file resumes. Default: stdout.", show_default=False)] = None,
    field_name: Annotated[str, typer.Option("--field", metavar="NAME", help="JSON Lines field that holds the claim.")] = "claim",
    column: Annotated[str, typer.Option("--column", metavar="NAME", help="CSV/TSV column that holds the claim.")] = "claim",
    fmt: Annotated[Optional[str], typer.Option("--format", metavar="txt|jsonl|csv|tsv", help="txt, jsonl, csv or tsv (default: from the file name; stdin: txt).", show_default=False)] = None,
    extract: Annotated[bool, typer.Option("--extract", help="Inputs are documents (.txt/.md): extract claims with the model, then check them.")] = False,
    workers: Annotated[int, typer.Option("--workers", "-w", metavar="N", help="Claims in flight at once against a model server (--api-base) with N slots; output stays in input order.")] = 1,
    restart: Annotated[bool, typer.Option("--restart", help="Empty the --out file and check every claim again, instead of resuming.")] = False,
    output_format: Annotated[str, typer.Option("--output-format", metavar="jsonl|tsv|csv|markdown", help="Records on stdout as JSON Lines, or as rows (--format names the input's format).")] = "jsonl",
    report: ReportOpt = None, no_cache: NoCacheOpt = False, *, flags: dict,
) -> None:
    """Check every claim of files or stdin; one JSON record per claim, resumable.

    Exit codes: 0 every claim checked; 1 some records are errors; 2 usage error, no claim
    could be checked, or an unreadable --zim (left out: the other sources were searched);
    3 model or runtime error; 130 interrupted (the output is complete up
    to the last record and the next run resumes)."""

    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if workers < 1:
        raise InputError(f"--workers must be at least 1, not {workers}")
    checker = open_checker(flags, no_cache=no_cache)  # the model loads when a claim needs it
    if workers > 1 and not checker.settings.api_base:
        raise InputError("--workers N needs a model server (--api-base): the in-process model "
                         "checks one claim at a time, and its threads already use every core")
    output = Output(out, restart=restart, fmt=output_format)
    identity = settings_id(checker.cache_key)
    if not extract:  # read every input first: bad files fail before the model loads
        many = len(inputs) > 1
        items = [item for name in inputs for item in read_items(
            name, fmt=fmt, field_name=field_name, column=column,
            id_prefix=f"{Path(name).name}:" if many else "")]
        if not items:
            raise InputError("no claims in the input: nothing to check")
        check_resumable(output, items, identity)
    started = time.perf_counter()  # the run's time includes extraction
    streamed = False
    if extract:  # extraction needs the model; a run answered from the cache does not
        documents = [(name, read_document(name)) for name in inputs]  # a bad file fails before the model loads
        if output.recorded:  # resuming: the claims must be known first, to match the file's
            items = list(_extracted_items(checker, documents))
            check_resumable(output, items, identity)
        else:  # each sentence checked as soon as its claims are out: the first verdict comes early
            items, streamed = _extracted_items(checker, documents), True

    total = None if streamed else len(items)
    done = 0 if streamed else len(output.done & {i.id for i in items})
    with BatchProgress(total, done, show=showing_progress()) as progress, \
            Activity(total or 0, show=False) as activity:  # the bar shows progress; this takes Ctrl-C
        made = []

        def on_record(record) -> None:
            made.append(record)
            progress.advance(record)
            if isinstance(record, CheckRecord) and record.source_errors:  # an outage is news; errors are counted in the summary
                say_problems(record)

        adapt = checker.batch_calibration(seen=[r.reading for r in output.recorded.values() if r.reading])
        summary = run_batch(items, checker, output, cache=checker.cache, cache_key=checker.cache_key,
                            settings_id=identity,
                            on_record=on_record, workers=workers, should_stop=lambda: activity.stopping,
                            started=started, adapt=adapt)
    if adapt is not None and not terminal().quiet:
        say_adaptation(adapt, made)
    if report is not None:  # the whole output file, with records of earlier runs it resumed
        write_report(made if out is None else out, report)
    if not terminal().quiet:
        print_summary(summary)
    if summary.interrupted:
        raise typer.Exit(130)
    if (summary.errors and not summary.checked and not summary.skipped) or checker.unreadable:
        raise typer.Exit(EXIT_USAGE)  # nothing checked, or a source named on the command line was bad
    raise typer.Exit(1 if summary.errors else EXIT_OK)


def _extracted_items(checker: Checker, documents: list[tuple[str, str]]) -> Iterator[InputItem]:
    """Every sentence of each document as batch items, as it is extracted: its claims, or the
    sentence and why it gives none; each carries the sentence and its offsets."""
    for name, text in documents:
        source = "<stdin>" if name == "-" else name
        for sentence in checker.extract_each(text, source):
            for i in sentence.items:
                if isinstance(i, ExtractedClaim):
                    yield InputItem(i.id, i.claim, 0, i.source, extra=document_fields(i))
                else:
                    yield InputItem(i.id, i.sentence, 0, i.source, extra=document_fields(i), unchecked=i.reason)


@app.command()
@setting_options(*MODEL_OPTIONS)
def extract(
    documents: Annotated[list[str], typer.Argument(metavar="DOCUMENT", help="Prose documents (.txt, .md) or '-' for stdin.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object per claim.")] = False,
    *, flags: dict,
) -> None:
    """Extract self-contained, check-worthy claims, each with its source span.

    Every sentence is accounted for: one that gives no claim is said on stderr with the
    reason (opinion, question, instruction, fragment, no factual statement); with --json it
    is a line of its own, with "unchecked" the reason."""
    texts = [(name, read_document(name)) for name in documents]
    checker = Checker(resolve_settings(flags), cache=False, load=load_model)
    with Activity(0, show=showing_progress(), what="extracting") as activity:
        for name, text in texts:
            if activity.stopping:
                break
            source = "<stdin>" if name == "-" else name
            progress = lambda done, total, source=source: activity.say(  # noqa: E731
                f"extracting claims from {source}: sentence {done} of {total}…")
            found = checker.extract(text, source, on_sentence=progress)
            with activity.between():
                for item in found.items:
                    if json_out:
                        print(json.dumps(item.to_json()), flush=True)
                    elif isinstance(item, ExtractedClaim):
                        print(f"{item.source}:{item.start}-{item.end}\t{item.claim}", flush=True)
                    elif not terminal().quiet:
                        typer.echo(f"{item.source}:{item.start}-{item.end}: not checked ({item.reason}): "
                                   f"{item.sentence}", err=True)
