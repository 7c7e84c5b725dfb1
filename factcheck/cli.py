"""The ``factcheck`` command line. Commands parse options, call one library function and
render its result: records on stdout, progress and messages on stderr.

Exit codes: 0 every claim SUPPORTED; 1 at least one REFUTED or NOT_ENOUGH_INFO;
2 usage or input error; 3 model or runtime error.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
import typer.core

from .errors import EXIT_NOT_SUPPORTED, EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, FactcheckError, InputError

# typer would print each argument's Python type beside its name ("CLAIM <list[str]>"); the
# metavar already says what to give.
typer.core.TyperArgument.display_type_rich = lambda self, ctx: None


class _Commands(typer.core.TyperGroup):
    """The command group. A reader of stdout that goes away (``factcheck batch … | head -1``)
    stops factcheck quietly with 141 (128 + SIGPIPE), as Unix tools do; click would print
    nothing but exit 1, which for batch means "some claims failed"."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the exit's flush has nowhere to fail
            sys.exit(EXIT_BROKEN_PIPE)


EXIT_BROKEN_PIPE = 141

# Plain help: typer's rich help prints every flag as "<bool>" and would read "[eval]" in a
# help text as markup.
app = typer.Typer(
    name="factcheck", no_args_is_help=True, add_completion=True, rich_markup_mode=None, cls=_Commands,
    help="Fact-check claims with a local quantized LLM: it searches your evidence (a local index or the web), reads it, and gives each verdict a calibrated confidence.",
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


def _group(name: str, help: str) -> typer.Typer:
    """A sub-command group (factcheck model …, index …, config …, cache …)."""
    group = typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None)
    app.add_typer(group, name=name)
    return group


model_app = _group("model", "Inspect the model.")

_state = {"debug": False, "quiet": False}

ModelOpt = Annotated[Optional[Path], typer.Option("--model", "-m", metavar="PATH", help="GGUF model file (default: the bundled Qwen2.5-Coder-1.5B). Env FACTCHECK_MODEL.", show_default=False)]
GpuOpt = Annotated[Optional[int], typer.Option("--gpu-layers", metavar="N", help="Layers to offload to the GPU (-1 all). Env FACTCHECK_GPU_LAYERS.", show_default=False)]
ThreadsOpt = Annotated[Optional[int], typer.Option("--threads", metavar="N", help="CPU threads. Env FACTCHECK_THREADS.", show_default=False)]
CtxOpt = Annotated[Optional[int], typer.Option("--ctx", metavar="TOKENS", help="Context length in tokens (default 4096). Env FACTCHECK_CTX.", show_default=False)]
ApiBaseOpt = Annotated[Optional[str], typer.Option("--api-base", metavar="URL", help="Use the model behind an OpenAI-compatible server (llama-server, llama-cpp-python, vLLM), e.g. http://127.0.0.1:8080/v1. Env FACTCHECK_API_BASE.", show_default=False)]
ApiKeyOpt = Annotated[Optional[str], typer.Option("--api-key", metavar="KEY", help="API key for --api-base. Env FACTCHECK_API_KEY, else OPENAI_API_KEY.", show_default=False)]
ApiModelOpt = Annotated[Optional[str], typer.Option("--api-model", metavar="NAME", help="The model's name on the server (default: the first it lists). Env FACTCHECK_API_MODEL.", show_default=False)]
LabelsOpt = Annotated[Optional[str], typer.Option("--labels", metavar="three|binary", help="three (SUPPORTED/REFUTED/NOT_ENOUGH_INFO) or binary (SUPPORTED/REFUTED). Env FACTCHECK_LABELS.", show_default=False)]
IndexOpt = Annotated[Optional[list[Path]], typer.Option("--index", "-i", metavar="DIR", help="Local index folder (from 'factcheck index build'); repeatable. Env FACTCHECK_INDEX.", show_default=False)]
WebOpt = Annotated[Optional[str], typer.Option("--web", metavar="wikipedia|searxng", help="Web source: wikipedia or searxng. Env FACTCHECK_WEB.", show_default=False)]
WebUrlOpt = Annotated[Optional[str], typer.Option("--web-url", metavar="URL", help="MediaWiki api.php URL (default English Wikipedia) or SearXNG base URL. Env FACTCHECK_WEB_URL.", show_default=False)]
KOpt = Annotated[Optional[int], typer.Option("--k", "-k", metavar="N", help="Passages retrieved per search (default: the profile's, 5 for three labels and 20 for binary with the default model); the best sentences of them are shown. Env FACTCHECK_K.", show_default=False)]
SelectionOpt = Annotated[Optional[str], typer.Option("--selection", metavar="words|meaning", help="How the evidence sentences shown are chosen from the passages: by the claim's words (BM25) or by meaning (a small sentence encoder, ~0.2 s per claim on a CPU; finds paraphrases). Default: the profile's (meaning for binary labels, words for three). Env FACTCHECK_SELECTION.", show_default=False)]
ConsistencyOpt = Annotated[Optional[str], typer.Option("--consistency", metavar="framings|rationales|none", help="PCC's four-way routing with gamma from framings (no generation) or rationales (the paper's); none: the profile's fitted router. Env FACTCHECK_CONSISTENCY.", show_default=False)]
AlphaOpt = Annotated[Optional[float], typer.Option("--alpha", metavar="X", help="Threshold on certainty tau (default 0.5). Env FACTCHECK_ALPHA.", show_default=False)]
BetaOpt = Annotated[Optional[float], typer.Option("--beta", metavar="X", help="Threshold on consistency gamma (default 0.9). Env FACTCHECK_BETA.", show_default=False)]
RouteOpt = Annotated[Optional[str], typer.Option("--route", metavar="auto|direct|retrieve|deep", help="auto (default), direct, retrieve or deep. Env FACTCHECK_ROUTE.", show_default=False)]
HopsOpt = Annotated[Optional[int], typer.Option("--max-hops", metavar="N", help="Deep search hops (default 3). Env FACTCHECK_MAX_HOPS.", show_default=False)]
ProfileOpt = Annotated[Optional[Path], typer.Option("--profile", metavar="PATH", help="Profile fitted by factcheck calibrate (default: found by the model's SHA-256). Env FACTCHECK_PROFILE.", show_default=False)]
IfSourcesFailOpt = Annotated[Optional[str], typer.Option("--if-sources-fail", metavar="error|model", help="When every evidence source fails for a claim: an error record (default; exit 3), or the model's own verdict, warned. Env FACTCHECK_IF_SOURCES_FAIL.", show_default=False)]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the result cache.")]
ConfigOpt = Annotated[Optional[Path], typer.Option("--config", metavar="PATH", help="TOML config file (default ~/.config/factcheck/config.toml). Env FACTCHECK_CONFIG.", show_default=False)]


# Every option that is a setting, declared once; commands take the ones they need through
# @setting_options and receive them as one dict, ``flags``.
SETTING_OPTIONS = {
    "labels": LabelsOpt, "index": IndexOpt, "web": WebOpt, "web_url": WebUrlOpt, "k": KOpt,
    "selection": SelectionOpt, "consistency": ConsistencyOpt, "alpha": AlphaOpt, "beta": BetaOpt, "route": RouteOpt,
    "max_hops": HopsOpt,
    "profile": ProfileOpt, "model": ModelOpt, "gpu_layers": GpuOpt, "threads": ThreadsOpt, "ctx": CtxOpt,
    "if_sources_fail": IfSourcesFailOpt, "api_base": ApiBaseOpt, "api_key": ApiKeyOpt, "api_model": ApiModelOpt, "config": ConfigOpt,
}
MODEL_OPTIONS = ("model", "gpu_layers", "threads", "ctx", "api_base", "api_key", "api_model", "config")
SOURCE_OPTIONS = ("index", "web", "web_url", "k", "selection", "if_sources_fail")
ROUTING_OPTIONS = ("consistency", "alpha", "beta", "route", "max_hops", "profile")


def setting_options(*names: str):
    """Add the options ``names`` (keys of SETTING_OPTIONS) to a command's signature, after
    its own parameters; the command gets their values as ``flags`` (None: not given)."""
    import functools
    import inspect

    def decorate(command):
        own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.name != "flags"]
        added = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, annotation=SETTING_OPTIONS[n], default=None)
                 for n in names]

        @functools.wraps(command)
        def wrapper(*args, **kwargs):
            return command(*args, flags={n: kwargs.pop(n, None) for n in names}, **kwargs)

        wrapper.__signature__ = inspect.Signature(own + added)
        return wrapper

    return decorate


def _stderr():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _say(label: str, style: str, message: str) -> None:
    """One line on stderr: a styled label, then ``message`` as plain text. Messages carry
    claims, titles, paths and URLs, so they never go through rich markup ("[eval]" stays)."""
    from rich.text import Text

    if _state["quiet"] and "red" not in style:  # --quiet keeps errors only
        return
    _stderr().print(Text.assemble((label, style), " ", str(message)), soft_wrap=True)


def _fail(exc: BaseException) -> None:
    """Print one line for a known error (traceback with --debug) and exit."""
    if _state["debug"]:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    code = exc.exit_code if isinstance(exc, FactcheckError) else EXIT_RUNTIME
    label = "error" if isinstance(exc, FactcheckError) else f"unexpected error ({type(exc).__name__})"
    _say(f"{label}:", "bold red", str(exc))
    raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        from .loader import versions

        print(versions())
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors (before or after the command; env FACTCHECK_DEBUG=1).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only results and errors: no progress, notes or warnings on stderr (env FACTCHECK_QUIET=1).")] = False,
    version: Annotated[bool, typer.Option("--version", "-V", callback=_version, is_eager=True,
                                          help="Print the version and the llama.cpp backend's, then exit.")] = False,
) -> None:
    import os

    _state["debug"] = debug or os.environ.get("FACTCHECK_DEBUG", "") not in ("", "0")
    _state["quiet"] = quiet or os.environ.get("FACTCHECK_QUIET", "") not in ("", "0")


def _settings(flags: dict, **overrides):
    """Settings from a command's ``flags`` (and values the command itself decides)."""
    from .config import resolve

    values = {k: v for k, v in flags.items() if k != "config"}
    return resolve({**values, **overrides}, flags.get("config"))


def _load(settings):
    """Load the model, with a progress line on stderr while the default model is assembled."""
    from .loader import open_model

    console = _stderr()
    if not console.is_terminal:
        return open_model(settings)
    with console.status("Loading model…") as status:
        def progress(done: int, total: int) -> None:
            status.update(f"Assembling the default model (first run): {done * 100 // total}%")

        return open_model(settings, progress)


def read_claims(claims: list[str], stdin=None) -> list:
    """Claims from arguments; ``-`` or no arguments with piped stdin read one claim a line.
    Returns InputItems, numbered from 1; a claim that is not UTF-8 is an item with an error
    (an error record), so the others are still checked."""
    from .inputs import InputItem

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
@setting_options("labels", *SOURCE_OPTIONS, *ROUTING_OPTIONS, *MODEL_OPTIONS)
def check(
    claims: Annotated[Optional[list[str]], typer.Argument(metavar="CLAIM", help="Claims to check; '-' reads one a line from stdin.", show_default=False)] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON record per claim (JSON Lines); the same as --format json.")] = False,
    output_format: Annotated[Optional[str], typer.Option("--format", "-f", metavar="table|json|tsv|csv|markdown", help="How results are printed (default: table).", show_default=False)] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", metavar="FILE", help="Write the results to FILE instead of stdout.", show_default=False)] = None,
    explain: Annotated[bool, typer.Option("--explain", help="Show each claim as a panel: every sentence read, the ones the verdict rests on, the route and why.")] = False,
    exit_zero: Annotated[bool, typer.Option("--exit-zero", help="Exit 0 whatever the verdicts (errors still exit 2 or 3): for set -e scripts.")] = False,
    no_cache: NoCacheOpt = False, *, flags: dict,
) -> None:
    """Check claims and print a verdict, confidence and evidence for each, as each finishes."""
    from .activity import Activity
    from .cache import cached_check, run_cache
    from .output import FORMATS, RecordWriter
    from .pipeline import OnDemand, build_checker
    from .sources import check_sources
    from .record import error_record
    from .schema import Claim

    records = []
    try:
        fmt = "json" if json_out else (output_format or "table")
        if fmt not in FORMATS:
            raise InputError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        items = read_claims(list(claims or []))
        settings = _settings(flags)
        _note_without_evidence(settings)
        check_sources(settings)
        checker = OnDemand(lambda: build_checker(settings, _load))
        cache, cache_key = run_cache(settings, no_cache)
        with _results_file(out) as stream, Activity(len(items), show=_showing_progress()) as activity:
            writer = RecordWriter(fmt, explain=explain, stream=stream)
            for number, item in enumerate(items, start=1):
                if activity.stopping:
                    break
                activity.working_on(number)
                claim = Claim(id=item.id, text=item.text)
                record = (error_record(claim, item.error, line=item.line, source=item.source) if item.error
                          else cached_check(checker, claim, cache, cache_key))
                records.append(record)
                with activity.between():
                    _say_problems(record)
                    writer.write(record)  # as it finishes: a script or a reader sees each at once
    except FactcheckError as exc:
        _fail(exc)
    if len(records) < len(items):
        _say("stopped:", "yellow", f"{len(records)} of {len(items)} claims checked")
        raise typer.Exit(130)
    code = exit_code_for(records)
    raise typer.Exit(EXIT_OK if exit_zero and code == EXIT_NOT_SUPPORTED else code)


def _showing_progress() -> bool:
    return _stderr().is_terminal and not _state["quiet"]


def _results_file(path: Path | None):
    """Where check writes its results: FILE, else stdout."""
    import contextlib

    if path is None:
        return contextlib.nullcontext(None)
    try:
        return path.open("w", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from None


def _say_problems(record) -> None:
    """On stderr, whatever the output format: why a claim failed, which sources failed for
    it, and its other warnings (truncations, no evidence found)."""
    if record.error:
        _say(f"claim {record.id}:", "red", record.error.reason)
        return
    if record.source_errors:
        _say(f"claim {record.id}:", "yellow", "evidence source failed: " + "; ".join(record.source_errors))
    for warning in record.warnings:
        if not warning.startswith("source failed: "):  # said just above
            _say(f"claim {record.id}:", "yellow", warning)


def _note_without_evidence(settings) -> None:
    """Once a run, on a terminal: without a source the verdict is the model's own guess."""
    if not (settings.index or settings.web) and _showing_progress():
        _say("note:", "yellow", "no evidence source, so verdicts rest on the model's own knowledge (near chance "
             "for the default model): add --index DIR (see factcheck index build) or --web wikipedia")



def exit_code_for(records) -> int:
    """0 all SUPPORTED; 3 if a claim failed at run time (the model server, every evidence
    source); 2 if a claim was bad input; else 1."""
    if any(r.error and r.error.kind == "runtime" for r in records):
        return EXIT_RUNTIME
    if any(r.error for r in records):
        return EXIT_USAGE
    if all(r.verdict and r.verdict.value == "SUPPORTED" for r in records):
        return EXIT_OK
    return EXIT_NOT_SUPPORTED


@model_app.command("info")
@setting_options(*MODEL_OPTIONS)
def model_info(
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False, *, flags: dict,
) -> None:
    """Show the model file: path, size, SHA-256, chat template, context length."""
    from .render import print_model_info

    try:
        print_model_info(_load(_settings(flags)).info, json_out=json_out)
    except FactcheckError as exc:
        _fail(exc)


index_app = _group("index", "Build and inspect local BM25 indexes.")


@index_app.command("build")
def index_build(
    sources: Annotated[list[str], typer.Argument(metavar="SOURCE", help="JSON Lines corpora ({id,title,text}), folders of .txt/.md files, or '-' for JSON Lines on stdin.")],
    out: Annotated[Path, typer.Option("--out", "-o", metavar="DIR", help="Index folder to write.")],
    passage_words: Annotated[int, typer.Option("--passage-words", metavar="N", min=20, max=1000, help="Words per passage; documents are split at sentence ends.")] = 100,
    vectors: Annotated[bool, typer.Option("--vectors", help="Also embed every passage by meaning (all-MiniLM-L6-v2; ~11 ms a one-sentence passage on 2 cores), so checks that choose evidence by meaning search the whole index by meaning as well as by words.")] = False,
) -> None:
    """Split documents into passages and build a persistent BM25 index."""
    from factcheck.retrievers.local_index import build_index

    from .render import BatchProgress

    try:
        if vectors:
            with BatchProgress(0, 0, label="embedding passages") as bar:
                manifest = build_index(sources, out, max_words=passage_words, vectors=True, on_progress=bar.reached)
        else:
            manifest = build_index(sources, out, max_words=passage_words)
    except FactcheckError as exc:
        _fail(exc)
    for skipped in manifest["skipped"][:10]:
        _say("skipped", "yellow", skipped)
    if manifest["skipped_count"] > 10:
        _say("…", "yellow", f"and {manifest['skipped_count'] - 10} more skipped")
    _say("indexed", "", f"{manifest['documents']} documents as {manifest['passages']} passages "
                        f"into {out} in {manifest['build_seconds']} s")


@index_app.command("info")
def index_info(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="Index folder.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show what an index holds and how it was built."""
    import json

    from factcheck.retrievers.local_index import read_manifest

    try:
        manifest = read_manifest(folder)
    except FactcheckError as exc:
        _fail(exc)
    if json_out:
        print(json.dumps(manifest))
        return
    from .render import print_index_info

    print_index_info(manifest)


@app.command()
def search(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="Index folder.")],
    query: Annotated[str, typer.Argument(metavar="QUERY", help="Search query.")],
    k: Annotated[int, typer.Option("--k", "-k", metavar="N", min=1, max=1000, help="Passages to return.")] = 5,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON passage a line.")] = False,
    meaning: Annotated[bool, typer.Option("--meaning", help="Search by meaning (cosine; the index must be built with --vectors) instead of BM25.")] = False,
) -> None:
    """Search a local index and print ranked passages with their BM25 scores (or cosines)."""
    from factcheck.retrievers.local_index import LocalIndex

    from .render import print_passages

    try:
        index = LocalIndex(folder)
        passages = index.search_by_meaning(query, k) if meaning else index.search(query, k)
    except FactcheckError as exc:
        _fail(exc)
    print_passages(passages, json_out=json_out)


@app.command()
@setting_options("labels", *SOURCE_OPTIONS, *ROUTING_OPTIONS, *MODEL_OPTIONS)
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
    no_cache: NoCacheOpt = False, *, flags: dict,
) -> None:
    """Check every claim of files or stdin; one JSON record per claim, resumable.

    Exit codes: 0 every claim checked; 1 some records are errors; 2 usage error or no claim
    could be checked; 3 model or runtime error; 130 interrupted (the output is complete up
    to the last record and the next run resumes)."""
    from .batch import Output, check_resumable, run_batch
    from .cache import run_cache, settings_id
    from .pipeline import OnDemand
    from .sources import check_sources
    from .inputs import FORMATS, read_items
    from .render import BatchProgress, print_summary
    from .pipeline import build_checker

    try:
        if fmt is not None and fmt not in FORMATS:
            raise InputError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        settings = _settings(flags)
        if workers < 1:
            raise InputError(f"--workers must be at least 1, not {workers}")
        if workers > 1 and not settings.api_base:
            raise InputError("--workers N needs a model server (--api-base): the in-process model "
                             "checks one claim at a time, and its threads already use every core")
        output = Output(out, restart=restart, fmt=output_format)
        identity = settings_id(settings)
        if not extract:  # read every input first: bad files fail before the model loads
            many = len(inputs) > 1
            items = [item for name in inputs for item in read_items(
                name, fmt=fmt, field_name=field_name, column=column,
                id_prefix=f"{Path(name).name}:" if many else "")]
            if not items:
                raise InputError("no claims in the input: nothing to check")
            check_resumable(output, items, identity)
        _note_without_evidence(settings)
        check_sources(settings)
        checker = OnDemand(lambda: build_checker(settings, _load))  # extraction needs it; a cached run does not
        started = time.perf_counter()  # the run's time includes extraction
        if extract:
            items = _extracted_items(checker.checker, inputs)
            check_resumable(output, items, identity)
        cache, cache_key = run_cache(settings, no_cache)
        from .activity import Activity

        with BatchProgress(len(items), len(output.done & {i.id for i in items}), show=_showing_progress()) as progress, \
                Activity(len(items), show=False) as activity:  # the bar shows progress; this takes Ctrl-C
            def on_record(record) -> None:
                progress.advance(record)
                if record.source_errors:  # a source outage is news; error records are counted in the summary
                    _say_problems(record)

            summary = run_batch(items, checker, output, cache=cache, cache_key=cache_key, settings_id=identity,
                                on_record=on_record, workers=workers, should_stop=lambda: activity.stopping,
                                started=started)
    except FactcheckError as exc:
        _fail(exc)
    if not _state["quiet"]:
        print_summary(summary)
    if summary.interrupted:
        raise typer.Exit(130)
    if summary.errors and not summary.checked and not summary.skipped:
        raise typer.Exit(EXIT_USAGE)
    raise typer.Exit(1 if summary.errors else EXIT_OK)


def _extracted_items(checker, documents: list[str]):
    from .activity import Activity
    from .extract import extract_claims, read_document
    from .inputs import InputItem

    items = []
    for name in documents:
        text = read_document(name)
        source = "<stdin>" if name == "-" else name
        with Activity(0, show=_showing_progress(), what="extracting") as activity:
            found = extract_claims(checker.judge, text, source, on_sentence=lambda done, total: activity.say(
                f"extracting claims from {source}: sentence {done} of {total}…"))
        for claim in found:
            items.append(InputItem(claim.id, claim.claim, 0, claim.source, extra={
                "source": claim.source, "start": claim.start, "end": claim.end, "sentence": claim.sentence}))
    return items


@app.command()
@setting_options(*MODEL_OPTIONS)
def extract(
    documents: Annotated[list[str], typer.Argument(metavar="DOCUMENT", help="Prose documents (.txt, .md) or '-' for stdin.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object per claim.")] = False,
    *, flags: dict,
) -> None:
    """Extract atomic, self-contained, check-worthy claims, each with its source span."""
    import json

    from .extract import extract_claims, read_document
    from .judge import Judge

    from .activity import Activity

    try:
        texts = [(name, read_document(name)) for name in documents]
        settings = _settings(flags)
        judge = Judge(_load(settings), settings.labels)
        with Activity(0, show=_showing_progress(), what="extracting") as activity:
            for name, text in texts:
                if activity.stopping:
                    break
                source = "<stdin>" if name == "-" else name
                progress = lambda done, total, source=source: activity.say(  # noqa: E731
                    f"extracting claims from {source}: sentence {done} of {total}…")
                claims = extract_claims(judge, text, source, on_sentence=progress)
                with activity.between():
                    for claim in claims:
                        if json_out:
                            print(json.dumps(claim.to_json()), flush=True)
                        else:
                            print(f"{claim.source}:{claim.start}-{claim.end}\t{claim.claim}", flush=True)
    except FactcheckError as exc:
        _fail(exc)


@app.command("eval")
@setting_options(*SOURCE_OPTIONS, "consistency", "alpha", "beta", "max_hops", "profile", *MODEL_OPTIONS)
def eval_command(
    claims_file: Annotated[Path, typer.Argument(metavar="CLAIMS", help="Labeled claims, JSON Lines ({id, claim, label, evidence}).")],
    strategy: Annotated[str, typer.Option("--strategy", metavar="LIST", help="Comma-separated: auto, direct, retrieve, deep.")] = "auto,direct,retrieve,deep",
    limit: Annotated[Optional[int], typer.Option("--limit", metavar="N", min=1, help="Only the first N claims.", show_default=False)] = None,
    report: Annotated[Optional[Path], typer.Option("--report", metavar="DIR", help="Folder for report.json, records and PNG plots.", show_default=False)] = None,
    no_cache: NoCacheOpt = False, *, flags: dict,
) -> None:
    """Score strategies side by side on labeled claims: F1, AUROC, ECE, Brier, cost (with bootstrap 95% intervals)."""
    from .evaluate import run_eval, write_report
    from .render import BatchProgress, print_eval

    try:
        with BatchProgress(0, 0, show=_showing_progress()) as bar:
            result, records = run_eval(claims_file, strategy, limit, _load, on_total=bar.set_total,
                                       on_claim=bar.advance, no_cache=no_cache, **flags)
        if report is not None:
            skipped = write_report(report, result, records)
            if skipped:
                _say("plots skipped:", "yellow", f"{skipped}; report.json and the records were written to {report}")
        print_eval(result)
    except FactcheckError as exc:
        _fail(exc)


@app.command()
@setting_options(*SOURCE_OPTIONS, *MODEL_OPTIONS)
def calibrate(
    claims_file: Annotated[Optional[Path], typer.Argument(metavar="[CLAIMS]", help="Labeled claims, JSON Lines ({id, claim, label}), checked against --index or --web.", show_default=False)] = None,
    calibration_set: Annotated[Optional[Path], typer.Option("--set", metavar="FILE", help="A calibration set instead: labeled parts, each with its own corpus or index, per label set (TOML; README, Calibration).", show_default=False)] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", metavar="PATH", help="Profile to write (default: ~/.config/factcheck/profiles/<model sha256>.toml, used automatically for that model).", show_default=False)] = None,
    reader: Annotated[str, typer.Option("--reader", metavar="READER", help="How evidence is read: auto (joint+scaled or joint+logits, whichever cross-validates better on these claims), joint+scaled (the label words through a fitted linear map), joint+logits (the label words, with a bias where it holds out), joint+probe (a learned head on the hidden state: fit it on data like yours) or chunks+logits.")] = "auto",
    budget: Annotated[float, typer.Option("--budget", metavar="SHARE", help="Router budget: most model tokens per claim, as a share of always reading evidence.")] = 0.5,
    max_loss: Annotated[float, typer.Option("--max-loss", metavar="F1", help="Most macro-F1 the router may give up against always reading to keep the budget; beyond it auto reads every claim.")] = 0.02,
    limit: Annotated[Optional[int], typer.Option("--limit", metavar="N", min=20, help="Only the first N claims of CLAIMS.", show_default=False)] = None,
    *, flags: dict,
) -> None:
    """Fit how evidence is read, the label decision, confidence and routing on labeled claims; write a profile.

    Claims whose labels are all SUPPORTED/REFUTED fit the binary table of the profile, others
    the three-label one; a table not refitted is kept. Needs scikit-learn (the eval extra)."""
    from .calibrate import calibrate as fit_profile
    from .calibration_set import prepare, read_set, single_part
    from .evaluate import read_labeled
    from .render import CalibrationProgress, print_fit_report

    try:
        if (claims_file is None) == (calibration_set is None):
            raise InputError("give either CLAIMS (with --index or --web) or --set FILE")
        if calibration_set is not None:
            if flags.get("index"):
                raise InputError("--index goes with CLAIMS: each part of a --set names its own corpus or index")
            chosen = read_set(calibration_set)
        else:
            chosen = single_part(claims_file, read_labeled(claims_file, limit), flags.get("index") or [])
        with CalibrationProgress(chosen, quiet=_state["quiet"]) as progress:
            prepare(chosen, on_build=progress.building)
            target, reports = fit_profile(
                chosen, lambda plan: _settings(flags, labels=plan.label_set.value, route="retrieve", **plan.settings),
                _load, reader=reader, budget=budget, max_loss=max_loss, out=out,
                command=_calibrate_command(claims_file, calibration_set, reader, budget, max_loss),
                on_claim=progress.advance)
        for label_set, report in reports.items():
            print_fit_report(report, label_set)
        _say("wrote", "", str(target))
    except FactcheckError as exc:
        _fail(exc)


def _calibrate_command(claims_file, calibration_set, reader: str, budget: float, max_loss: float) -> str:
    """How a profile was fitted, for its [meta] table: what was fitted on and any fit option changed."""
    import shlex

    words = ["factcheck", "calibrate", *(["--set", str(calibration_set)] if calibration_set else [str(claims_file)])]
    for option, value, default in (("--reader", reader, "auto"), ("--budget", budget, 0.5), ("--max-loss", max_loss, 0.02)):
        if value != default:
            words += [option, str(value)]
    return shlex.join(words)


config_app = _group("config", "Show the settings in force.")


@config_app.command("show")
@setting_options("labels", "model", "api_base", "api_key", "api_model", "profile", "config")
def config_show(
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False, *, flags: dict,
) -> None:
    """Print every setting, its value and where it came from (option, environment, config file, profile, default)."""
    from .config import resolve_with_sources
    from .render import print_settings

    from .config import config_file, profile_file

    try:
        settings, sources = resolve_with_sources({k: v for k, v in flags.items() if k != "config"}, flags["config"])
        files = {"config file": config_file(flags["config"]), "profile": profile_file(settings)}
    except FactcheckError as exc:
        _fail(exc)
    print_settings(settings, sources, json_out=json_out, files=files)


@app.command()
@setting_options("model", "gpu_layers", "threads", "ctx", "config")
def serve(
    host: Annotated[str, typer.Option("--host", metavar="ADDRESS", help="Address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", metavar="PORT", min=1, max=65535, help="Port to listen on.")] = 8080,
    api_key: Annotated[Optional[str], typer.Option("--api-key", metavar="KEY", envvar="FACTCHECK_API_KEY", show_envvar=False, show_default=False, help="Answer only clients that send this key (their --api-key). Env FACTCHECK_API_KEY.")] = None,
    *, flags: dict,
) -> None:
    """Serve the model to factcheck in other processes or on other machines (--api-base URL):
    the same verdicts as in process, with llama-server's API."""
    from .backends.serve import serve as run_server

    try:
        run_server(_settings(flags), host=host, port=port, api_key=api_key)
    except FactcheckError as exc:
        _fail(exc)


cache_app = _group("cache", "Inspect or clear the result cache.")


@cache_app.command("info")
def cache_info(json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Show where the result cache is, how many results it holds and its size."""
    import json

    from .cache import ResultCache

    info = ResultCache().info()
    if json_out:
        print(json.dumps(info))
        return
    megabytes = lambda n: f"{n / 2**20:,.1f} MB"  # noqa: E731
    print(f"results: {info['entries']} in {info['path']} ({megabytes(info['bytes'])}, integrity {info['integrity']})")
    for name, what in (("models", "the assembled default model"), ("samples", "calibration samples"),
                       ("calibration-indexes", "calibration indexes"), ("web", "web responses")):
        print(f"{what}: {megabytes(info[name + '_bytes'])}")
    print("(factcheck cache clear empties the results; the other folders can be deleted by hand)")


@cache_app.command("clear")
def cache_clear() -> None:
    """Delete every cached result."""
    from .cache import ResultCache

    removed = ResultCache().clear()
    _say("removed", "", f"{removed} cached results")


GLOBAL_FLAGS = ("--debug", "--quiet", "-q")


def global_flags_first(argv: list[str]) -> list[str]:
    """--debug and --quiet belong to the whole program, so they are taken after the command
    too (``factcheck check --debug …``): moved to the front, up to a ``--``."""
    end = argv.index("--") if "--" in argv else len(argv)
    found = [a for a in argv[:end] if a in GLOBAL_FLAGS]
    return found + [a for a in argv[:end] if a not in GLOBAL_FLAGS] + argv[end:]


def main() -> None:
    try:
        app(args=global_flags_first(sys.argv[1:]), prog_name="factcheck")
    except KeyboardInterrupt:
        _stderr().print("interrupted")
        sys.exit(130)
    except Exception as exc:  # last resort: one line, the traceback only with --debug
        try:
            _fail(exc)
        except typer.Exit as exit_:
            sys.exit(exit_.exit_code)
