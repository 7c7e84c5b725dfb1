"""The ``factcheck`` application: the command group, program-wide flags, and the helpers
every command uses to resolve settings, load the model and speak on stderr.

Exit codes: 0 every claim SUPPORTED; 1 at least one REFUTED or NOT_ENOUGH_INFO;
2 usage or input error; 3 model or runtime error; 130 interrupted; 141 stdout closed early.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
import typer.core

from ..errors import EXIT_RUNTIME, FactcheckError

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


def command_group(name: str, help: str) -> typer.Typer:
    """A sub-command group (factcheck model …, index …, config …, cache …)."""
    group = typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None)
    app.add_typer(group, name=name)
    return group



state = {"debug": False, "quiet": False}


def stderr_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def say(label: str, style: str, message: str) -> None:
    """One line on stderr: a styled label, then ``message`` as plain text. Messages carry
    claims, titles, paths and URLs, so they never go through rich markup ("[eval]" stays)."""
    from rich.text import Text

    if state["quiet"] and "red" not in style:  # --quiet keeps errors only
        return
    stderr_console().print(Text.assemble((label, style), " ", str(message)), soft_wrap=True)


def fail(exc: BaseException) -> None:
    """Print one line for a known error (traceback with --debug) and exit."""
    if state["debug"]:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    code = exc.exit_code if isinstance(exc, FactcheckError) else EXIT_RUNTIME
    label = "error" if isinstance(exc, FactcheckError) else f"unexpected error ({type(exc).__name__})"
    say(f"{label}:", "bold red", str(exc))
    raise typer.Exit(code)


def print_version(value: bool) -> None:
    if value:
        from ..model.loader import versions

        print(versions())
        raise typer.Exit()


@app.callback()
def root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors (before or after the command; env FACTCHECK_DEBUG=1).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only results and errors: no progress, notes or warnings on stderr (env FACTCHECK_QUIET=1).")] = False,
    version: Annotated[bool, typer.Option("--version", "-V", callback=print_version, is_eager=True,
                                          help="Print the version and the llama.cpp backend's, then exit.")] = False,
) -> None:
    import os

    state["debug"] = debug or os.environ.get("FACTCHECK_DEBUG", "") not in ("", "0")
    state["quiet"] = quiet or os.environ.get("FACTCHECK_QUIET", "") not in ("", "0")


def resolve_settings(flags: dict, **overrides):
    """Settings from a command's ``flags`` (and values the command itself decides)."""
    from ..config.settings import resolve

    values = {k: v for k, v in flags.items() if k != "config"}
    return resolve({**values, **overrides}, flags.get("config"))


def load_model(settings):
    """Load the model, with a progress line on stderr while the default model is assembled."""
    from ..model.loader import open_model

    console = stderr_console()
    if not console.is_terminal:
        return open_model(settings)
    with console.status("Loading model…") as status:
        def progress(done: int, total: int) -> None:
            status.update(f"Assembling the default model (first run): {done * 100 // total}%")

        return open_model(settings, progress)


def showing_progress() -> bool:
    return stderr_console().is_terminal and not state["quiet"]




def say_problems(record) -> None:
    """On stderr, whatever the output format: why a claim failed, which sources failed for
    it, and its other warnings (truncations, no evidence found)."""
    if record.error:
        say(f"claim {record.id}:", "red", record.error.reason)
        return
    if record.source_errors:
        say(f"claim {record.id}:", "yellow", "evidence source failed: " + "; ".join(record.source_errors))
    for warning in record.warnings:
        if not warning.startswith("source failed: "):  # said just above
            say(f"claim {record.id}:", "yellow", warning)


def note_without_evidence(settings) -> None:
    """Once a run, on a terminal: without a source the verdict is the model's own guess."""
    if not (settings.index or settings.web) and showing_progress():
        say("note:", "yellow", "no evidence source, so verdicts rest on the model's own knowledge (near chance "
             "for the default model): add --index DIR (see factcheck index build) or --web wikipedia")


def note_uncalibrated(settings, profile, checker):
    """When the model has loaded, once for each model (remembered in the cache folder): a
    model without a fitted profile gives uncalibrated confidences, so say so and name the
    command that fits one. Returns ``checker``."""
    import json
    import shlex

    from ..config.paths import cache_dir
    from ..model.loader import model_identity

    if profile.fitted.calibration is not None or state["quiet"]:
        return checker
    identity = model_identity(settings) or str(settings.model)
    noted = cache_dir() / "uncalibrated-models.json"
    try:
        seen = set(json.loads(noted.read_text()))
    except (OSError, ValueError):
        seen = set()
    key = f"{identity}:{settings.labels.value}"
    if key in seen:
        return checker
    which = (["--api-base", settings.api_base, "--api-model", settings.api_model or ""] if settings.api_base
             else ["--model", str(settings.model)] if settings.model else [])
    fit = shlex.join(["factcheck", "calibrate", "--builtin", *which])
    say("note:", "yellow", f"no profile is fitted for this model's {settings.labels.value}-label checks, so its "
                           f"confidences are uncalibrated (records say calibrated: false); fit one with: {fit}")
    try:
        noted.parent.mkdir(parents=True, exist_ok=True)
        noted.write_text(json.dumps(sorted(seen | {key})))
    except OSError:
        pass  # said again next time: no harm
    return checker


def on_demand_checker(settings, profile):
    """The Checker of a check or batch run, built when the first claim needs the model: the
    evidence sources checked first, a note when there are none, and a note once for a model
    without a profile when it loads."""
    from ..evidence.sources import check_sources
    from ..pipeline import OnDemand, build_checker

    note_without_evidence(settings)
    check_sources(settings)
    return OnDemand(lambda: note_uncalibrated(settings, profile, build_checker(settings, load_model, profile)))


def write_report(records, path) -> None:
    """``--report PATH`` of check and batch: the run's records (or a records file) as a report."""
    from ..report import build, format_for, from_records, read_records, write

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

