"""The fact-check report's builders: escaping, claims placed on their spans, error records,
Markdown, and the command."""

import json
import re

from typer.testing import CliRunner

from factcheck.cli import app
from factcheck.report import build, from_records, read_records
from factcheck.report.html import render as render_html
from factcheck.report.markdown import render as render_markdown
from factcheck.schema import CheckRecord, ErrorRecord, EvidenceItem, RecordError

DOCUMENT = ("The Eiffel Tower is in Paris. It was finished in 1889.\n\n"
            "The Moon is made of cheese, say some. Water boils at 100 degrees Celsius at sea level.\n")


def span_of(sentence: str) -> dict:
    start = DOCUMENT.index(sentence)
    return {"source": "doc.txt", "start": start, "end": start + len(sentence), "sentence": sentence}


def checked(rid, claim, verdict, confidence, extra=None, evidence=None, **more):
    return CheckRecord(id=rid, claim=claim, verdict=verdict, confidence=confidence, confidence_raw=confidence,
                       route="retrieve", basis="evidence" if evidence else "model", calibrated=True,
                       label_probs={verdict: confidence}, evidence=evidence or [], extra=extra or {}, **more)


def sentence(text, used=True, doc_id="doc-1", source="index:notes", title="Notes"):
    return EvidenceItem(id=f"{doc_id}#0@0", passage_id=f"{doc_id}#0", doc_id=doc_id, title=title, text=text,
                        source=source, start=0, end=len(text), used=used)


def records():
    return [
        checked("1", "The Eiffel Tower is in Paris.", "SUPPORTED", 0.93,
                span_of("The Eiffel Tower is in Paris."), [sentence("The tower stands in Paris.")]),
        checked("2", "The Moon is made of cheese.", "REFUTED", 0.88, span_of("The Moon is made of cheese, say some."),
                [sentence("The Moon is rock.", source="web:wikipedia", doc_id="Moon", title="Moon")]),
        checked("3", "It was finished in 1889.", "NOT_ENOUGH_INFO", 0.41,
                {**span_of("It was finished in 1889."), "start": 3, "end": 9}),  # stale offsets: found by its text
        checked("4", "A claim from a sentence since deleted.", "SUPPORTED", 0.7,
                {"source": "doc.txt", "start": 0, "end": 5, "sentence": "Gone from the document."}),
        ErrorRecord(id="5", claim="Water boils at 100 degrees Celsius.", extra=span_of(
            "Water boils at 100 degrees Celsius at sea level."), error=RecordError(reason="the model server failed",
                                                                                  kind="runtime")),
    ]


def test_every_claim_is_marked_on_its_span_with_its_verdict_in_words():
    claims = from_records(records())
    page = render_html(claims, DOCUMENT)
    marks = re.findall(r'<a class="mark v-(\w+)" href="#([\w-]+)"[^>]*>(.*?)<span class="tag"', page)
    assert [(v, target, text) for v, target, text in marks] == [
        ("supported", "c-1", "The Eiffel Tower is in Paris."), ("nei", "c-3", "It was finished in 1889."),
        ("refuted", "c-2", "The Moon is made of cheese, say some."),
        ("error", "c-5", "Water boils at 100 degrees Celsius at sea level.")]
    assert "1 claim(s) could not be placed in the document" in page  # claim 4: its sentence is gone
    for word in ("Supported", "Refuted", "Not enough info", "Not checked"):  # never colour alone
        assert word in page
    assert 'id="c-4"' in page and "the model server failed" in page


def test_hostile_text_renders_as_text():
    hostile = '<script>alert(1)</script>" onmouseover="steal()'
    evil = [checked("x\"><script>", hostile, "REFUTED", 0.9, {"source": "d", "sentence": "nope"},
                    [sentence(hostile, title=hostile, doc_id='javascript:alert(1)"')])]
    page = render_html(from_records(evil), "doc " + hostile)
    assert "<script>alert(1)" not in page and 'onmouseover="steal' not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot; onmouseover=&quot;steal()" in page
    assert page.count("<script>") == 1  # the report's own, inline
    assert 'href="javascript' not in page
    md = render_markdown(from_records(evil))
    assert "<script>" not in md and "&lt;script&gt;" in md


def test_the_page_is_self_contained():
    page = render_html(from_records(records()), DOCUMENT)
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r'<(link|img|iframe)\b|<script\s+src|@import|url\(', page)
    # the only addresses are evidence links, followed only when clicked
    assert re.findall(r'href="(https?://[^"]+)"', page) == ["https://en.wikipedia.org/wiki/Moon"]


def test_without_a_document_the_claims_are_listed_and_the_summary_puts_the_likely_wrong_first():
    page = render_html(from_records(records()), None)
    assert 'class="mark' not in page and 'class="no-document"' in page
    assert page.index("Most likely wrong") < page.index('id="claims"')
    assert re.search(r"Refuted: <strong>1</strong>.*Not checked: <strong>1</strong>", page, re.S)


def test_markdown_has_a_row_per_claim_escaped_for_tables():
    rows = records() + [checked("6", "a | b * c", "SUPPORTED", 0.6)]
    md = render_markdown(from_records(rows))
    table = [line for line in md.splitlines() if line.startswith("| ") and not line.startswith("| #")]
    assert len(table) == 6 and "a \\| b \\* c" in md
    assert "✗ Refuted" in md and "! Not checked" in md and "the model server failed" in md
    assert md.index("## Most likely wrong") < md.index("## Claims")


def test_the_command_reads_records_and_writes_either_format(tmp_path, monkeypatch):
    (tmp_path / "doc.txt").write_text(DOCUMENT)
    out = tmp_path / "checked.jsonl"
    out.write_text("".join(r.model_dump_json() + "\n" for r in records()))
    monkeypatch.chdir(tmp_path)  # the records name doc.txt, as batch --extract run here would
    result = CliRunner().invoke(app, ["report", str(out), "-o", str(tmp_path / "report.html")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "report.html").read_text()
    assert "Fact-check report: doc.txt" in page and page.count('class="mark ') == 4
    result = CliRunner().invoke(app, ["report", str(out), "-o", str(tmp_path / "report.md")])
    assert (tmp_path / "report.md").read_text().startswith("# Fact-check report: doc.txt")
    monkeypatch.undo()
    out.write_text(out.read_text() + "{not json\n")
    result = CliRunner().invoke(app, ["report", str(out)])
    assert result.exit_code == 2 and "line 6 is not a factcheck record" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_records_read_back_as_written():
    claims = read_records_from(records())
    assert [c.verdict.value for c in claims] == ["supported", "refuted", "nei", "supported", "error"]


def read_records_from(rows, tmp=None):
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "r.jsonl"
    path.write_text("".join(json.dumps(json.loads(r.model_dump_json())) + "\n" for r in rows))
    return read_records(path)


def test_build_needs_a_readable_source_when_one_is_named(tmp_path):
    import pytest

    from factcheck.errors import InputError

    with pytest.raises(InputError, match="cannot read the source document"):
        build(from_records(records()), "html", tmp_path / "missing.txt")


def test_check_and_batch_write_the_report_directly(tmp_path, monkeypatch):
    from .fakes import FakeModel

    model = FakeModel()
    monkeypatch.setattr("factcheck.model.loader.open_model", lambda settings, progress=None: model)
    page = tmp_path / "check.html"
    result = CliRunner().invoke(app, ["check", "--json", "--report", str(page), "Water is wet.", "Fire is cold."])
    assert result.exit_code == 0, result.output  # the scripted model supports both
    html = page.read_text()
    assert html.count('<article class="claim') == 2 and "Water is wet." in html
    claims = tmp_path / "claims.txt"
    claims.write_text("Water is wet.\nFire is cold.\n")
    out, md = tmp_path / "out.jsonl", tmp_path / "report.md"
    result = CliRunner().invoke(app, ["batch", str(claims), "-o", str(out), "--report", str(md)])
    assert result.exit_code == 0, result.output
    assert md.read_text().startswith("# Fact-check report") and md.read_text().count("\n| ") >= 3


def test_a_run_with_no_claims_gets_a_report_that_says_so(tmp_path):
    (tmp_path / "empty.jsonl").write_text("")
    result = CliRunner().invoke(app, ["report", str(tmp_path / "empty.jsonl"), "-f", "markdown"])
    assert result.exit_code == 0 and "0 claims" in result.stdout
    assert "<p>0 claims.</p>" in render_html([], None)


def _contrast(a: str, b: str) -> float:
    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_colours_pass_wcag_aa_contrast_in_the_light_and_the_dark_theme():
    from importlib import resources

    css = resources.files("factcheck.report").joinpath("report.css").read_text()
    light = dict(re.findall(r"--([\w-]+): (#[0-9a-f]{6})", css.split("@media (prefers-color-scheme: dark)")[0]))
    dark = dict(re.findall(r"--([\w-]+): (#[0-9a-f]{6})", css.split("@media (prefers-color-scheme: dark)")[1].split("}")[0]))
    assert light.keys() == dark.keys() and len(light) >= 14
    for theme in (light, dark):
        pairs = [("fg", "bg"), ("muted", "bg"), ("fg", "panel"), ("muted", "panel")]
        pairs += [(v, f"{v}-bg") for v in ("supported", "refuted", "nei", "error")]  # marks and badges
        for fg, bg in pairs:  # text: 4.5:1 (WCAG 2.1 AA, 1.4.3)
            assert _contrast(theme[fg], theme[bg]) >= 4.5, (fg, bg, _contrast(theme[fg], theme[bg]))
        for colour in ("supported", "refuted", "nei", "error", "focus"):  # borders and focus rings: 3:1 (1.4.11)
            assert _contrast(theme[colour], theme["bg"]) >= 3.0, colour


def test_markdown_text_cannot_start_a_heading_a_list_or_a_table_cell():
    """One escaper for every Markdown factcheck writes: the report's and --format markdown's."""
    from factcheck.text import markdown_text as text

    assert [text(v) for v in ("# Big", "- item", "1. first", "a | b", "<img src=x>")] == [
        "\\# Big", "\\- item", "1\\. first", "a \\| b", "&lt;img src=x&gt;"]


def test_the_evidence_shown_for_a_verdict_is_what_bears_most_on_it():
    """"The Eiffel Tower was completed in 1925" (REFUTED): of the sentences read, the one about
    1889 bears most (selection's score 0.63); the location and the engineer's name (0.28, 0.2)
    come first in the document but must not stand for the verdict."""
    read = [sentence("The Eiffel Tower is in Paris.").model_copy(update={"score": 0.28, "id": "a"}),
            sentence("It is named after Gustave Eiffel.").model_copy(update={"score": 0.2, "id": "b"}),
            sentence("The tower was completed in 1889.").model_copy(update={"score": 0.63, "id": "c"})]
    record = checked("1", "The Eiffel Tower was completed in 1925.", "REFUTED", 0.8, evidence=read)
    markdown = render_markdown(from_records([record]))
    row = next(line for line in markdown.splitlines() if line.startswith("| 1 |"))
    assert "completed in 1889" in row and row.index("1889") < row.index("Paris") and "Gustave" not in row
    page = render_html(from_records([record]), None)
    rests = page.split("Evidence the verdict rests on")[1]
    assert rests.index("1889") < rests.index("Paris") < rests.index("Gustave")
    from factcheck.runs.output import flat_row

    assert flat_row(record)[6].startswith("“The tower was completed in 1889.”")


def test_the_report_says_how_confidence_was_made_in_words():
    page = render_html(from_records(records()), DOCUMENT)
    assert "calibrated True" not in page and "calibrated confidence" in page


def test_a_sentence_that_gave_no_claim_is_marked_in_place_listed_and_counted():
    from factcheck.schema import UncheckedRecord

    rows = records()[:3] + [UncheckedRecord(id="u", claim="The Moon is made of cheese, say some.", unchecked="opinion",
                                            extra=span_of("The Moon is made of cheese, say some."))]
    rows[1] = rows[1].model_copy(update={"extra": span_of("Water boils at 100 degrees Celsius at sea level.")})
    claims = from_records(rows)
    page = render_html(claims, DOCUMENT)
    assert re.search(r'<span class="unchecked" id="c-u"[^>]*title="Not checked: opinion"[^>]*>'
                     r"The Moon is made of cheese, say some\.<span class=\"tag\"", page)
    assert "3 claims." in page and "1 sentence gave no claim to check (1 opinion)" in page
    assert page.count('<article class="claim') == 3  # cards are claims; the sentence is marked and listed
    assert re.search(r'<ul id="unchecked-list"><li><a href="#c-u">The Moon is made of cheese', page)
    md = render_markdown(claims)
    assert "1 sentence gave no claim to check (1 opinion)" in md
    assert "| u | – No claim to check (opinion) |  | The Moon is made of cheese, say some. |  |" in md
