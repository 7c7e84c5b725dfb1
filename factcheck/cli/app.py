"""The ``factcheck`` application: the command group, program-wide flags, and the helpers
every command uses to resolve settings, load the model and speak on stderr.

Exit codes: 0 every claim SUPPORTED (and sure); 1 at least one REFUTED, NOT_ENOUGH_INFO or unsure;
2 usage or input error; 3 model or runtime error; 130 interrupted; 141 stdout closed early.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import traceback
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
import typer.core

from ..api import Checker
from ..config.paths import cache_dir
from ..config.settings import resolve
from ..errors import EXIT_RUNTIME, FactcheckError
from ..files import write_atomic
from ..model import loader
from ..model.loader import model_identity, versions
from ..reading.adapt import unadapted
from ..report import build, format_for, from_records, read_records, write

# typer would print each argument's Python type beside its name ("CLAIM <list[str]>"); the
# metavar already says what to give.
typer.core.TyperArgument.display_type_rich = lambda self, ctx: None


class _Commands(typer.core.TyperGroup):
    """The command group. factcheck's own errors become one line and their exit code here,
    for every command. A reader of stdout that goes away (``factcheck batch … | head -1``)
    stops factcheck quietly with 141 (128 + SIGPIPE), as Unix tools do; click would print
    nothing but exit 1, which for batch means "some claims failed"."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except FactcheckError as exc:
            fail(exc)
        except BrokenPipeError:
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


def command_group(name: str, help: str) -> typer.Typer:
    """A sub-command group (factcheck model …, index …, config …, cache …)."""
    group = typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None)
    app.add_typer(group, name=name)
    return group



@dataclass(frozen=True)
class Terminal:
    """How this invocation speaks on stderr (--debug, --quiet, or their environment variables).
    Set per invocation in a context variable, so invocations in other threads or contexts of
    one process share nothing."""

    debug: bool = False
    quiet: bool = False

    @classmethod
    def from_environment(cls, debug: bool = False, quiet: bool = False) -> Terminal:
        return cls(debug=debug or _flag("FACTCHECK_DEBUG"), quiet=quiet or _flag("FACTCHECK_QUIET"))


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


_TERMINAL: ContextVar[Terminal | None] = ContextVar("factcheck_terminal", default=None)


def terminal() -> Terminal:
    """This invocation's Terminal (outside a command: the environment's)."""
    return _TERMINAL.get() or Terminal.from_environment()


def stderr_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def say(label: str, style: str, message: str) -> None:
    """One line on stderr: a styled label, then ``message`` as plain text. Messages carry
    claims, titles, paths and URLs, so they never go through rich markup ("[eval]" stays)."""
    from rich.text import Text

    if terminal().quiet and "red" not in style:  # --quiet keeps errors only
        return
    stderr_console().print(Text.assemble((label, style), " ", str(message)), soft_wrap=True)


def fail(exc: BaseException) -> None:
    """Print one line for a known error (traceback with --debug) and exit."""
    if terminal().debug:
        traceback.print_exception(exc, file=sys.stderr)
    code = exc.exit_code if isinstance(exc, FactcheckError) else EXIT_RUNTIME
    label = "error" if isinstance(exc, FactcheckError) else f"unexpected error ({type(exc).__name__})"
    say(f"{label}:", "bold red", str(exc))
    raise typer.Exit(code)


def print_version(value: bool) -> None:
    if value:
        print(versions())
        raise typer.Exit()


@app.callback()
def root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors (before or after the command; env FACTCHECK_DEBUG=1).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only results and errors: no progress, notes or warnings on stderr (env FACTCHECK_QUIET=1).")] = False,
    version: Annotated[bool, typer.Option("--version", "-V", callback=print_version, is_eager=True,
                                          help="Print the version and the llama.cpp backend's, then exit.")] = False,
) -> None:
    _TERMINAL.set(Terminal.from_environment(debug, quiet))


def resolve_settings(flags: dict, **overrides):
    """Settings from a command's ``flags`` (and values the command itself decides)."""

    values = {k: v for k, v in flags.items() if k != "config"}
    return resolve({**values, **overrides}, flags.get("config"))


def load_model(settings):
    """Load the model, with a progress line on stderr while the default model is assembled."""

    console = stderr_console()
    if not console.is_terminal:
        return loader.open_model(settings)
    with console.status("Loading model…") as status:
        def progress(done: int, total: int) -> None:
            status.update(f"Assembling the default model (first run): {done * 100 // total}%")

        return loader.open_model(settings, progress)


def showing_progress() -> bool:
    return stderr_console().is_terminal and not terminal().quiet




def say_problems(record) -> None:
    """On stderr, whatever the output format: why a claim failed, which sources failed for
    it, and its other warnings (truncations, no evidence found)."""
    if record.error:
        say(f"claim {record.id}:", "red", record.error.reason)
        return
    if record.source_errors:
        say(f"claim {record.id}:", "yellow", "evidence source failed: " + "; ".join(record.source_errors))
    for warning in record.warnings:
        say(f"claim {record.id}:", "yellow", warning)


def say_adaptation(adapt, records) -> None:
    """On stderr, once a run: whether batch calibration adapted the verdicts, and from what."""
    adapted = [r for r in records if getattr(r, "adaptation", None) is not None]
    if adapted:
        changed = sum(1 for r in adapted if r.verdict is not max((read := unadapted(r)), key=read.get))
        say("adapted:", "", f"batch calibration adjusted {len(adapted)} verdicts read from evidence to this batch "
                             f"(its mean reading over {adapted[-1].adaptation.claims} claims divided out; {changed} "
                             f"changed label); --adapt none turns it off")
    elif adapt.readings:  # a run with no verdict read from evidence has nothing to adapt
        say("not adapted:", "", f"batch calibration needs {adapt.min_claims} claims read from evidence, this run had "
                                f"{adapt.readings}")


def note_without_evidence(settings) -> None:
    """Once a run, on a terminal: without a source the verdict is the model's own guess."""
    if not (settings.index or settings.zim or settings.web) and showing_progress():
        say("note:", "yellow", "no evidence source, so verdicts rest on the model's own knowledge (near chance "
             "for the default model): add --index DIR (see factcheck index build) or --web wikipedia")


def note_uncalibrated(settings, profile) -> None:
    """When the model has loaded, once for each model (remembered in the cache folder): a
    model without a fitted profile gives uncalibrated confidences, so say so and name the
    command that fits one."""
    if profile.fitted.calibration is not None or terminal().quiet:
        return
    identity = model_identity(settings) or str(settings.model)
    noted = cache_dir() / "uncalibrated-models.json"
    try:
        seen = set(json.loads(noted.read_text()))
    except (OSError, ValueError):
        seen = set()
    key = f"{identity}:{settings.labels.value}"
    if key in seen:
        return
    which = (["--api-base", settings.api_base, "--api-model", settings.api_model or ""] if settings.api_base
             else ["--model", str(settings.model)] if settings.model else [])
    fit = shlex.join(["factcheck", "calibrate", "--builtin", *which])
    say("note:", "yellow", f"no profile is fitted for this model's {settings.labels.value}-label checks, so its "
                           f"confidences are uncalibrated (records say calibrated: false); fit one with: {fit}")
    try:
        write_atomic(noted, json.dumps(sorted(seen | {key})))
    except OSError:
        pass  # said again next time: no harm


def open_checker(flags: dict, *, no_cache: bool = False) -> Checker:
    """The Checker of a check or batch run (the Python API's), from the command's flags: the
    evidence sources checked first, a note when there are none, and, when the model loads, a
    note once for a model without a profile."""
    settings = resolve_settings(flags)
    note_without_evidence(settings)
    checker = Checker(settings, cache=not no_cache, load=load_model,
                      on_load=lambda _pipeline: note_uncalibrated(checker.settings, checker.profile))
    for problem in checker.unreadable:  # the run goes on with the other sources, and exits 2
        say("error:", "red", f"{problem}; checking with the other sources")
    return checker


def write_report(records, path) -> None:
    """``--report PATH`` of check and batch: the run's records (or a records file) as a report."""

    claims = read_records(records) if isinstance(records, Path) else from_records(records)
    write(build(claims, format_for(path, None)), path)
    say("report:", "", str(path))


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
        stderr_console().print("interrupted")
        sys.exit(130)
    except Exception as exc:  # last resort: one line, the traceback only with --debug
        try:
            fail(exc)
        except typer.Exit as exit_:
            sys.exit(exit_.exit_code)

