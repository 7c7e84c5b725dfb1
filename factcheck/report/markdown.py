"""The report as Markdown, for a pull-request comment or a terminal pager: the summary, what to
look at first, and one row per claim. Text from records is escaped for Markdown and for the
HTML that Markdown renderers pass through."""

from __future__ import annotations

from ..schema import ErrorRecord, UncheckedRecord
from ..text import markdown_text
from .claims import ReportClaim, Verdict, summary, unchecked_in_words


def render(claims: list[ReportClaim], title: str = "Fact-check report") -> str:
    facts = summary(claims)
    lines = [f"# {markdown_text(title)}", "", f"{facts['total']} claims: " + ", ".join(
        f"{v.icon} {v.word} **{n}**" for v, n in facts["counts"].items() if n) + "."
        + (f" {facts['unsure']} of them unsure (under the confidence bar, kept as a leaning)." if facts["unsure"] else "")
        + (f" {unchecked_in_words(facts)}: in the table as {Verdict.UNCHECKED.icon} {Verdict.UNCHECKED.word}."
           if facts["unchecked"] else ""),
        ""]
    if facts["models"]:
        lines += ["Model: " + ", ".join(markdown_text(m) for m in facts["models"]) + ".", ""]
    if facts["most_likely_wrong"]:
        lines += ["## Most likely wrong", ""]
        lines += [f"{n}. {markdown_text(c.record.claim, 200)} ({c.confidence:.2f})"
                  for n, c in enumerate(facts["most_likely_wrong"][:10], start=1)]
        lines.append("")
    if facts["not_checked"]:
        lines += ["## Could not be checked", ""]
        lines += [f"- {markdown_text(c.record.claim or '(empty)', 200)}: {markdown_text(c.record.error.reason, 200)}"
                  for c in facts["not_checked"]]
        lines.append("")
    lines += ["## Claims", "", "| # | verdict | confidence | claim | evidence it rests on |", "|---|---|---|---|---|"]
    for c in claims:
        r = c.record
        if isinstance(r, UncheckedRecord):
            lines.append(f"| {markdown_text(r.id)} | {Verdict.UNCHECKED.icon} {Verdict.UNCHECKED.word} ({r.unchecked}) |  "
                         f"| {markdown_text(r.claim, 300)} |  |")
            continue
        if isinstance(r, ErrorRecord):
            lines.append(f"| {markdown_text(r.id)} | {Verdict.ERROR.icon} {Verdict.ERROR.word} |  | {markdown_text(r.claim or '', 300)} "
                         f"| {markdown_text(r.error.reason, 200)} |")
            continue
        evidence = " ".join(f"“{markdown_text(e.text, 200)}” ({markdown_text(e.title or e.doc_id, 60)})"
                            for e in r.bearing()[:2]) or (
            "the model's own knowledge" if r.basis.value == "model" else "none found")
        sure = f"{r.confidence:.2f}" + ("" if r.calibrated else " (uncalibrated)")
        lines.append(f"| {markdown_text(r.id)} | {c.verdict.icon} {c.word} | {sure} | {markdown_text(r.claim, 300)} | {evidence} |")
    return "\n".join(lines) + "\n"
