"""How check results are written, one record at a time as each claim finishes.

Formats: ``json`` (JSON Lines: exactly the stored record), ``table`` (for people: rows on a
wide terminal, one stacked block per claim below ``STACK_BELOW`` columns, a panel per claim
with ``explain``), and ``tsv``, ``csv`` and ``markdown`` (one row per claim, for scripts,
spreadsheets and pull-request comments).
"""

from __future__ import annotations

import csv
import io
import os
import sys
from typing import TextIO

from ..schema import CheckRecord, ErrorRecord, UncheckedRecord
from ..text import markdown_text

FORMATS = ("table", "json", "tsv", "csv", "markdown")
STACK_BELOW = 100  # columns: narrower than this, a table's evidence column is too thin to read
CLAIM_CHARS = 300  # a claim longer than this is cut in tables (the JSON keeps it whole)
_STYLE = {"SUPPORTED": "green", "REFUTED": "red", "NOT_ENOUGH_INFO": "yellow"}
FLAT_COLUMNS = ("id", "verdict", "confidence", "route", "basis", "claim", "evidence", "sources", "tokens", "error")
# How many sentences stand for a verdict in a table row or a flat row: those that bear most.
SHOWN_SENTENCES = 3


def confidence_word(confidence: float) -> tuple[str, str]:
    """A word and a colour for a calibrated confidence, so "0.41" is read as a weak lean."""
    if confidence >= 0.8:
        return "high", "green"
    if confidence >= 0.6:
        return "medium", "yellow"
    return "low", "red"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def deciding(r: CheckRecord) -> list:
    """The sentences the verdict rests on, those that bear most on the claim first."""
    return r.bearing()


def marks_tell(r: CheckRecord) -> bool:
    """A mark helps only when it singles sentences out: with the joint reader every sentence
    read is what the verdict rests on, so none is marked and a note says so."""
    return 0 < len(deciding(r)) < len(r.evidence)


def by_document(evidence) -> list[tuple[str, list]]:
    """Sentences grouped under their document (its title, source and link named once)."""
    groups: dict[str, list] = {}
    for e in evidence:
        link = f" {e.doc_id}" if e.doc_id.startswith(("http://", "https://")) and e.title else ""
        groups.setdefault(f"{e.title or e.doc_id} [{e.source}]{link}", []).append(e)
    return list(groups.items())


def cost_text(r: CheckRecord) -> str:
    spent = f"{r.tokens.prompt} prompt + {r.tokens.generated} generated tokens, {sum(r.timings_ms.values()):.0f} ms"
    return f"none now, served from the cache (the first check: {spent})" if r.from_cache else spent



def stdout_console():
    """A console on stdout whose broken pipe reaches the CLI (exit 141), wide when piped."""
    from rich.console import Console

    class Stdout(Console):
        def on_broken_pipe(self) -> None:  # rich would exit 1; the CLI exits quietly with 141
            raise BrokenPipeError

    console = Stdout(highlight=False, soft_wrap=False)
    if not console.is_terminal and not os.environ.get("COLUMNS"):  # piped: no terminal to fit,
        console.width = max(console.width, 140)                    # unless COLUMNS says otherwise
    return console


class RecordWriter:
    """Writes records as they come, in one format, to ``stream`` (stdout by default)."""

    def __init__(self, fmt: str = "table", *, explain: bool = False, stream: TextIO | None = None) -> None:
        self.fmt, self.explain = fmt, explain
        self.stream = stream
        self._console = None
        self._rows = 0

    # --- the console for people -------------------------------------------------------
    @property
    def console(self):
        if self._console is None:

            self._console = stdout_console() if self.stream is None else _file_console(self.stream)
        return self._console

    def _out(self) -> TextIO:
        return self.stream or sys.stdout

    def write(self, r: CheckRecord | ErrorRecord | UncheckedRecord) -> None:
        if self.fmt == "json":
            self._out().write(r.model_dump_json() + "\n")
            self._out().flush()
        elif self.fmt in ("tsv", "csv", "markdown"):
            self._flat(r)
        elif self.explain:
            self._panel(r)
        elif self.console.width < STACK_BELOW:
            self._stacked(r)
        else:
            self._row(r)
        self._rows += 1

    # --- table: a header once, then each claim's row as it finishes ---------------------
    def _widths(self) -> list[int]:
        fixed = {"#": 4, "verdict": 19, "confidence": 11, "route": 9, "tokens": 7}
        free = max(self.console.width - sum(fixed.values()) - 2 * 7, 40)
        return [fixed["#"], free * 2 // 5, fixed["verdict"], fixed["confidence"], fixed["route"],
                free - free * 2 // 5, fixed["tokens"]]

    def _row(self, r: CheckRecord) -> None:
        from rich import box
        from rich.table import Table
        from rich.text import Text

        table = Table(box=box.SIMPLE_HEAD, show_header=self._rows == 0, show_edge=False, pad_edge=False)
        for name, width in zip(("#", "claim", "verdict", "confidence", "route", "evidence it rests on", "tokens"),
                               self._widths()):
            table.add_column(name, width=width, overflow="fold" if name == "claim" else "ellipsis")
        claim = Text(_cut(r.claim or "(empty)", CLAIM_CHARS))
        if r.error:
            table.add_row(Text(r.id), claim, Text("ERROR", style="bold red"), "", "", Text(r.error.reason), "")
        elif r.unchecked:
            table.add_row(Text(r.id), claim, Text("not checked", style="dim"), "", "", Text(r.unchecked, style="dim"), "")
        else:
            word, colour = confidence_word(r.confidence)
            verdict = r.verdict.value
            table.add_row(Text(r.id), claim, Text(r.verdict_text, style="dim" if r.abstained else _STYLE.get(verdict, "")),
                          Text(f"{r.confidence:.2f} {word}", style=colour), Text(r.route.value),
                          self._evidence_cell(r, 160), Text("cached" if r.from_cache else
                                                            str(r.tokens.prompt + r.tokens.generated)))
        self.console.print(table)

    def _evidence_cell(self, r: CheckRecord, quote_chars: int):
        from rich.text import Text

        if r.basis == "model":
            return Text("(the model's own knowledge; no evidence read)", style="dim")
        shown = deciding(r)
        if not shown:
            return Text("(no sentence settles it)" if r.evidence else "(no evidence found)", style="dim")
        cell = Text()
        for n, (source, sentences) in enumerate(by_document(shown[:SHOWN_SENTENCES])):
            if n:
                cell.append("\n")
            cell.append(" ".join(f"“{_cut(e.text, quote_chars)}”" for e in sentences))
            cell.append(f" — {source}", style="dim")
        if len(shown) > SHOWN_SENTENCES:
            cell.append(f"\n(+{len(shown) - SHOWN_SENTENCES} more; --explain shows them)", style="dim")
        return cell

    # --- stacked: narrow terminals ------------------------------------------------------
    def _stacked(self, r: CheckRecord) -> None:
        from rich.text import Text

        head = Text(f"{r.id}. ")
        if r.error:
            head.append("ERROR", style="bold red")
            head.append(f"  {r.error.reason}")
        elif r.unchecked:
            head.append(f"not checked: {r.unchecked}", style="dim")
        else:
            word, colour = confidence_word(r.confidence)
            head.append(r.verdict_text, style="dim" if r.abstained else f"bold {_STYLE.get(r.verdict.value, '')}")
            head.append("  ")
            head.append(f"{r.confidence:.2f} {word}", style=colour)
            head.append(f" · {r.route.value} · " + ("cached" if r.from_cache else
                                                    f"{r.tokens.prompt + r.tokens.generated} tokens"), style="dim")
        from rich.padding import Padding

        self.console.print(head, overflow="fold")
        self.console.print(Padding(Text(_cut(r.claim or "(empty)", CLAIM_CHARS)), (0, 0, 0, 3)))
        if not r.error and not r.unchecked:
            self.console.print(Padding(self._evidence_cell(r, 200), (0, 0, 0, 3)))
        self.console.print()

    # --- explain: a panel per claim -----------------------------------------------------
    def _panel(self, r: CheckRecord) -> None:
        from rich.panel import Panel
        from rich.text import Text

        title_room = max(self.console.width - 12, 20)
        title = Text(_cut(f"{r.id}. {r.claim}", title_room))
        body = Text()
        if len(f"{r.id}. {r.claim}") > title_room:  # the whole claim, since the title is cut
            body.append(f"claim: {_cut(r.claim, 4 * CLAIM_CHARS)}\n\n")
        if r.error or r.unchecked:
            body.append("ERROR " if r.error else "not checked: ", style="bold red" if r.error else "dim")
            body.append(r.error.reason if r.error else r.unchecked)
            self.console.print(Panel(body, title=title, title_align="left"))
            return
        word, colour = confidence_word(r.confidence)
        body.append(r.verdict_text, style="dim" if r.abstained else f"bold {_STYLE.get(r.verdict.value, '')}")
        body.append("   confidence ")
        body.append(f"{r.confidence:.2f} ({word})", style=colour)
        if r.abstained:
            body.append("\nunder the bar this run was given: a leaning, not a settled verdict", style="dim")
        probs = ", ".join(f"{k.value} {v:.2f}" for k, v in r.label_probs.items())
        body.append(f"\nlabel probabilities: {probs}", style="dim")
        body.append(f"\nroute: {r.route.value} — {r.route_reason}", style="dim")
        if r.evidence:
            marked = marks_tell(r)
            body.append("\n\nevidence read" + (f" ({r.reader})" if r.reader else "") + ":")
            for source, sentences in by_document(r.evidence):
                body.append(f"\n {source}", style="dim")
                for e in sentences:
                    body.append("\n ★ " if marked and e.used else "\n   ", style="bold")
                    body.append(f"“{_cut(e.text, 400)}”")
            body.append("\n ★ the sentences the verdict rests on" if marked else
                        "\n the verdict rests on every sentence read" if deciding(r) else
                        "\n no sentence read settles it", style="dim")
        elif r.basis == "model":
            body.append("\n\nno evidence read: the verdict rests on the model's own knowledge", style="dim")
        body.append(f"\n\ncost: {cost_text(r)}", style="dim")
        for warning in [f"evidence source failed: {e}" for e in r.source_errors] + r.warnings:
            body.append(f"\nwarning: {warning}", style="yellow")
        self.console.print(Panel(body, title=title, title_align="left"))

    # --- tsv, csv, markdown -------------------------------------------------------------
    def _flat(self, r: CheckRecord) -> None:
        values = flat_row(r)
        out = self._out()
        if self.fmt == "markdown":
            if self._rows == 0:
                out.write("| " + " | ".join(FLAT_COLUMNS) + " |\n|" + "---|" * len(FLAT_COLUMNS) + "\n")
            cells = (markdown_text(v) for v in values)
            out.write("| " + " | ".join(cells) + " |\n")
        else:
            buffer = io.StringIO()
            writer = csv.writer(buffer, delimiter="\t" if self.fmt == "tsv" else ",", lineterminator="\n")
            if self._rows == 0:
                writer.writerow(FLAT_COLUMNS)
            if self.fmt == "tsv":  # TSV has no quoting: tabs and newlines inside a field become spaces
                values = [" ".join(v.split()) for v in values]
            writer.writerow(values)
            out.write(buffer.getvalue())
        out.flush()


def flat_row(r: CheckRecord | ErrorRecord | UncheckedRecord) -> list[str]:
    """One claim as plain fields, in ``FLAT_COLUMNS`` order (a sentence that gave no claim:
    "not checked: <why>" as its verdict)."""
    if isinstance(r, ErrorRecord):
        return [r.id, "", "", "", "", r.claim or "", "", "", "", r.error.reason]
    if isinstance(r, UncheckedRecord):
        return [r.id, f"not checked: {r.unchecked}", "", "", "", r.claim, "", "", "", ""]
    shown = deciding(r)[:SHOWN_SENTENCES]
    return [
        r.id, r.verdict_text, f"{r.confidence:.3f}", r.route.value, r.basis.value, r.claim or "",
        " ".join(f"“{e.text}”" for e in shown), "; ".join(source for source, _ in by_document(shown)),
        str(r.tokens.prompt + r.tokens.generated), "",
    ]


def _file_console(stream: TextIO):
    from rich.console import Console

    return Console(file=stream, highlight=False, soft_wrap=False, width=140, no_color=True)
