"""Render records for people (rich tables) and for programs (JSON Lines) on stdout."""

from __future__ import annotations

import json
import sys

from .backend import ModelInfo
from .records import CheckRecord, Passage

_STYLE = {"SUPPORTED": "green", "REFUTED": "red", "NOT_ENOUGH_INFO": "yellow"}


def _stdout():
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal:  # piped: no terminal to fit, so do not squeeze tables to 80
        console.width = max(console.width, 140)
    return console


def print_records(records: list[CheckRecord], *, json_out: bool) -> None:
    if json_out:
        for record in records:
            sys.stdout.write(record.model_dump_json() + "\n")
        sys.stdout.flush()
        return
    from rich.table import Table

    table = Table(show_lines=False, expand=False)
    for column in ("#", "claim", "verdict", "conf.", "tau", "route", "evidence", "tokens", "ms"):
        table.add_column(column, overflow="fold")
    for r in records:
        if r.error:
            table.add_row(r.id, r.claim or "(empty)", "[bold red]ERROR[/]", "", "", "", r.error.reason, "", "")
            continue
        verdict = r.verdict.value if r.verdict else ""
        if r.basis == "model":
            evidence = "(model knowledge only)"
        else:
            used = [e for e in r.evidence if e.used]
            evidence = "; ".join(f"[{e.source}] {e.title or e.doc_id}" for e in used[:3])
        table.add_row(
            r.id, r.claim, f"[{_STYLE.get(verdict, 'white')}]{verdict}[/]", f"{r.confidence:.2f}",
            f"{r.certainty:.2f}", r.route.value if r.route else "", evidence,
            str(r.tokens.prompt + r.tokens.generated), f"{sum(r.timings_ms.values()):.0f}",
        )
    console = _stdout()
    console.print(table)
    for r in records:
        for warning in r.warnings:
            console.print(f"[yellow]claim {r.id}: {warning}[/]", soft_wrap=True)


def print_model_info(info: ModelInfo, *, json_out: bool) -> None:
    data = {
        "path": str(info.path), "name": info.name, "size_bytes": info.size, "sha256": info.sha256,
        "architecture": info.architecture, "context_length": info.context_length,
        "n_ctx": info.n_ctx, "chat_template": info.chat_template,
    }
    if json_out:
        sys.stdout.write(json.dumps(data) + "\n")
        return
    console = _stdout()
    for key, value in data.items():
        if key == "chat_template":
            continue
        console.print(f"[bold]{key}[/]: {value}", soft_wrap=True)
    console.print("[bold]chat_template[/]:", soft_wrap=True)
    console.print(info.chat_template or "(none: a plain transcript is used)", markup=False, soft_wrap=True)


def print_passages(passages: list[Passage], *, json_out: bool) -> None:
    if json_out:
        for passage in passages:
            sys.stdout.write(passage.model_dump_json() + "\n")
        return
    from rich.table import Table

    table = Table()
    for column in ("rank", "score", "id", "title", "text"):
        table.add_column(column, overflow="fold")
    for rank, p in enumerate(passages, start=1):
        text = p.text if len(p.text) <= 300 else p.text[:300] + "…"
        table.add_row(str(rank), f"{p.score:.2f}", p.id, p.title, text)
    _stdout().print(table)


class BatchProgress:
    """A progress bar with rate and ETA on stderr, only when stderr is a terminal."""

    def __init__(self, total: int, already_done: int) -> None:
        from rich.console import Console

        self._console = Console(stderr=True)
        self._progress = None
        if self._console.is_terminal:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                       TimeRemainingColumn)

            self._progress = Progress(TextColumn("checking"), BarColumn(), MofNCompleteColumn(),
                                      TextColumn("{task.fields[rate]}"), TimeRemainingColumn(),
                                      console=self._console, transient=True)
            self._task = self._progress.add_task("check", total=total, completed=already_done, rate="")
        self._start = None

    def __enter__(self) -> BatchProgress:
        import time

        self._start = time.perf_counter()
        self._count = 0
        if self._progress:
            self._progress.start()
        return self

    def advance(self, record: CheckRecord | None = None) -> None:
        import time

        self._count += 1
        if self._progress:
            per_min = self._count / max(time.perf_counter() - self._start, 1e-9) * 60
            self._progress.update(self._task, advance=1, rate=f"{per_min:.1f}/min")

    def __exit__(self, *exc) -> None:
        if self._progress:
            self._progress.stop()


def print_summary(summary) -> None:
    """The end-of-run summary, on stderr."""
    from rich.console import Console

    console = Console(stderr=True, highlight=False)
    verdicts = ", ".join(f"{k} {v}" for k, v in sorted(summary.verdicts.items())) or "none"
    routes = ", ".join(f"{k} {v}" for k, v in sorted(summary.routes.items())) or "none"
    console.print(
        f"{'interrupted: ' if summary.interrupted else ''}{summary.checked} checked "
        f"({summary.cached} from cache), {summary.errors} errors, {summary.skipped} already done; "
        f"verdicts: {verdicts}; routes: {routes}; {summary.seconds:.1f} s, "
        f"{summary.prompt_tokens} prompt + {summary.generated_tokens} generated tokens",
        soft_wrap=True)


def print_eval(result: dict) -> None:
    """One row per strategy: quality, calibration and cost."""
    from rich.table import Table

    table = Table(title=f"{result.get('claims_file', '')}")
    for column in ("strategy", "acc", "macro-F1", "AUROC", "ECE", "Brier", "retrieval", "tokens/claim", "s/claim"):
        table.add_column(column, justify="right")
    fmt = lambda v: "—" if v is None else f"{v:.3f}"  # noqa: E731
    for name, r in result["strategies"].items():
        table.add_row(name, fmt(r["accuracy"]), fmt(r["macro_f1"]), fmt(r["auroc"]), fmt(r["ece"]),
                      fmt(r["brier"]), f"{r['retrieval_rate']:.2f}", f"{r['tokens_per_claim']:.0f}",
                      f"{r['seconds_per_claim']:.1f}")
    _stdout().print(table)
