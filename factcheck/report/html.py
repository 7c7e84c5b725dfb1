"""The report as one self-contained HTML file: the document with every claim marked in place
(or, without a document, the list of claims), a summary, filters and a search box. Its style
and script are inline and a Content-Security-Policy lets nothing load, so it opens from a
file:// URL on a machine with no network. Every text from a record is escaped."""

from __future__ import annotations

import datetime
from html import escape
from importlib import resources
from urllib.parse import quote

from ..schema import CheckRecord, ErrorRecord
from .claims import (
    SEVERITY,
    ReportClaim,
    Verdict,
    locate,
    settings_in_words,
    summary,
    unchecked_in_words,
)

# Nothing may load: no network, no fonts, no images but inline ones.
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"


def confidence_words(confidence: float) -> str:
    """How sure, in words (the calibrated probability that the verdict is right)."""
    return ("very likely right" if confidence >= 0.9 else "likely right" if confidence >= 0.7
            else "unsure" if confidence >= 0.5 else "doubtful")


def render(claims: list[ReportClaim], document: str | None = None, title: str = "Fact-check report") -> str:
    if document is not None:
        locate(claims, document)
    facts = summary(claims)
    asset = resources.files("factcheck.report")
    css = asset.joinpath("report.css").read_text(encoding="utf-8")
    script = asset.joinpath("report.js").read_text(encoding="utf-8")
    ids = _ids(claims)
    body = [f"<header><h1>{escape(title)}</h1>", _summary(facts, ids), "</header>",
            _attention(facts, ids), _controls(facts)]
    located = document is not None and any(c.span for c in claims)
    body.append("<main>" if located else '<main class="no-document">')
    if located:
        body.append(f'<article id="document" aria-label="The document, claims marked">{_marked(document, claims, ids)}'
                    "</article>")
    cards = [c for c in claims if c.is_claim]  # a sentence that gave no claim is marked, and listed above
    body.append('<section id="claims" aria-label="Claims">' + "".join(_card(c, ids[id(c)]) for c in cards))
    if document is not None and (missing := [c for c in cards if not c.span]):
        body.append(f'<p class="muted">{len(missing)} claim(s) could not be placed in the document '
                    "(it has changed since they were extracted, or they came from elsewhere).</p>")
    body.append("</section></main>")
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(title)}</title><style>{css}</style></head>\n<body>\n"
            + "\n".join(body) + f"\n<script>{script}</script>\n</body></html>\n")


def _ids(claims: list[ReportClaim]) -> dict[int, str]:
    """An element id for every claim, unique even where record ids repeat."""
    seen: dict[str, int] = {}
    out = {}
    for c in claims:
        base = "c-" + "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in c.record.id)[:60]
        seen[base] = seen.get(base, 0) + 1
        out[id(c)] = base if seen[base] == 1 else f"{base}-{seen[base]}"
    return out


def _verdict_tag(verdict: Verdict, word: str | None = None) -> str:
    return (f'<span class="badge v-{verdict.value}"><span class="icon" aria-hidden="true">{verdict.icon}</span> '
            f"{word or verdict.word}</span>")


def _summary(facts: dict, ids) -> str:
    counts = "".join(f'<li class="v-{v.value}"><span class="icon" aria-hidden="true">{v.icon}</span> {v.word}: '
                     f"<strong>{n}</strong></li>" for v, n in facts["counts"].items())
    models = ", ".join(escape(m) for m in facts["models"]) or "none named"
    settings = "; ".join(escape(settings_in_words(s)) for s in facts["settings"])
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    unsure = (f' {facts["unsure"]} of them unsure: under the confidence bar, kept as a leaning.'
              if facts["unsure"] else "")
    unchecked = unchecked_in_words(facts)
    unchecked = (f' <span class="unchecked-count">{escape(unchecked)}: marked <span class="unchecked">like this</span> '
                 "in the document.</span>") if unchecked else ""
    return (f'<p>{facts["total"]} claims.{unsure}{unchecked}</p>'
            f'<ul class="counts" aria-label="Claims by verdict">{counts}</ul>'
            f'<p class="muted">Model: {models}. Settings: {settings or "none named"}. Made {when} by factcheck.</p>')


def _attention(facts: dict, ids) -> str:
    parts = ['<section id="attention" aria-label="What to look at first">']
    wrong = facts["most_likely_wrong"][:10]
    if wrong:
        items = "".join(f'<li><a href="#{ids[id(c)]}">{escape(_cut(c.record.claim, 160))}</a> '
                        f'<span class="muted">({c.confidence:.2f})</span></li>' for c in wrong)
        parts.append(f"<h2>Most likely wrong</h2><ol>{items}</ol>")
    if facts["not_checked"]:
        items = "".join(f'<li><a href="#{ids[id(c)]}">{escape(_cut(c.record.claim or "(empty)", 160))}</a>: '
                        f"{escape(c.record.error.reason)}</li>" for c in facts["not_checked"][:10])
        parts.append(f"<h2>Could not be checked</h2><ul>{items}</ul>")
    if facts["unchecked"]:
        items = "".join(f'<li><a href="#{ids[id(c)]}">{escape(_cut(c.record.claim, 160))}</a> '
                        f'<span class="muted">({escape(c.record.unchecked)})</span></li>' for c in facts["unchecked"])
        parts.append(f'<h2>Sentences not checked ({len(facts["unchecked"])})</h2><ul id="unchecked-list">{items}</ul>')
    return "".join(parts) + "</section>"


def _controls(facts: dict) -> str:
    boxes = "".join(f'<label><input type="checkbox" checked data-verdict="{v.value}"> '
                    f'<span class="icon" aria-hidden="true">{v.icon}</span> {v.word}</label>'
                    for v, n in facts["counts"].items() if n)
    return ('<section id="controls" aria-label="Filters"><fieldset><legend class="muted">Show</legend>'
            f"{boxes}"
            '<label>confidence at least <input type="range" id="min-confidence" min="0" max="100" value="0"> '
            '<output id="min-confidence-value">0.00</output></label>'
            '<label>search <input type="search" id="search" placeholder="words in a claim or its evidence"></label>'
            '<output id="shown-count" class="muted" aria-live="polite"></output></fieldset></section>')


def _marked(document: str, claims: list[ReportClaim], ids) -> str:
    """The document with each claimed span a link to its claims, its worst verdict in words,
    and each sentence that gave no claim marked as such, with the reason."""
    by_span: dict[tuple[int, int], list[ReportClaim]] = {}
    for c in claims:
        if c.span:
            by_span.setdefault(c.span, []).append(c)
    out, cursor = [], 0
    for (start, end), group in sorted(by_span.items()):
        if start < cursor:  # overlaps a span already marked: its claims are listed beside it
            continue
        if not group[0].is_claim:
            why = escape(group[0].record.unchecked)
            out.append(escape(document[cursor:start]))
            out.append(f'<span class="unchecked" id="{ids[id(group[0])]}" tabindex="0" title="Not checked: {why}" '
                       f'aria-label="No claim to check ({why}): {escape(_cut(document[start:end], 80))}">'
                       f'{escape(document[start:end])}<span class="tag" aria-hidden="true">\u2013 {why}</span></span>')
            cursor = end
            continue
        worst = min((c.verdict for c in group), key=SEVERITY.index)
        label = "; ".join(f"{c.word}" + (f" {c.confidence:.2f}" if c.confidence is not None else "")
                          for c in group)
        out.append(escape(document[cursor:start]))
        out.append(f'<a class="mark v-{worst.value}" href="#{ids[id(group[0])]}" '
                   f'data-claims="{" ".join(ids[id(c)] for c in group)}" '
                   f'aria-label="{escape(label)}: {escape(_cut(document[start:end], 80))}">'
                   f"{escape(document[start:end])}"
                   f'<span class="tag" aria-hidden="true">{worst.icon}{"" if len(group) == 1 else f" ×{len(group)}"}</span></a>')
        cursor = end
    out.append(escape(document[cursor:]))
    return "".join(out)


def _card(c: ReportClaim, element_id: str) -> str:
    r = c.record
    words = [r.claim]
    if isinstance(r, ErrorRecord):
        return (f'<article class="claim v-error" id="{element_id}" data-verdict="error" data-confidence="" '
                f'data-text="{escape(r.claim or "")}"><div class="head">{_verdict_tag(c.verdict)}</div>'
                f"<p>{escape(r.claim or '(empty)')}</p><p>{escape(r.error.reason)}</p></article>")
    words += [e.text for e in r.evidence]
    head = (f'{_verdict_tag(c.verdict, c.word)} <span>confidence {r.confidence:.2f}, {confidence_words(r.confidence)}'
            f'{"" if r.calibrated else " (uncalibrated)"}</span>')
    return (f'<article class="claim v-{c.verdict.value}" id="{element_id}" data-verdict="{c.verdict.value}" '
            f'data-confidence="{r.confidence:.4f}" data-text="{escape(" ".join(words))}">'
            f'<div class="head">{head}</div><p>{escape(r.claim)}</p>'
            f"<details><summary>Evidence, route and cost</summary>{_details(r)}</details></article>")


def _details(r: CheckRecord) -> str:
    parts = [f"<p><strong>Route</strong>: {escape(r.route.value)}: {escape(r.route_reason)}</p>"]
    used = r.bearing()  # those that bear most first
    unused = [e for e in r.evidence if not e.used]
    if used:
        parts.append("<p><strong>Evidence the verdict rests on</strong></p><ol>"
                     + "".join(f'<li class="used">{_sentence(e)}</li>' for e in used) + "</ol>")
    elif r.basis.value == "model":
        parts.append("<p>No evidence read: the verdict rests on the model's own knowledge.</p>")
    else:
        parts.append("<p>No evidence sentence settles it.</p>")
    if unused:
        parts.append("<p><strong>Read, not relied on</strong></p><ol>"
                     + "".join(f"<li>{_sentence(e)}</li>" for e in unused) + "</ol>")
    probs = ", ".join(f"{escape(k.value)} {v:.2f}" for k, v in r.label_probs.items())
    parts.append(f'<p class="muted">Label probabilities: {probs}. Confidence before calibration '
                 f"{(r.confidence_raw or 0):.2f}.</p>")
    notes = [f"evidence source failed: {e}" for e in r.source_errors] + r.warnings
    if notes:
        parts.append('<ul class="warnings">' + "".join(f"<li>warning: {escape(w)}</li>" for w in notes) + "</ul>")
    cost = ("served from the result cache" if r.from_cache else
            f"{r.tokens.prompt} prompt + {r.tokens.generated} generated tokens, {sum(r.timings_ms.values()):.0f} ms")
    parts.append(f'<p class="muted">Cost: {cost}.</p>')
    return "".join(parts)


def _sentence(e) -> str:
    """An evidence sentence with its title and where it is: a link for the web, the document id
    and the sentence's offsets in its passage for a local index."""
    title = escape(e.title or e.doc_id)
    if e.doc_id.startswith(("http://", "https://")):
        where = f'<a href="{escape(e.doc_id, quote=True)}" rel="noreferrer">{title}</a>'
    elif e.source == "web:wikipedia":
        url = "https://en.wikipedia.org/wiki/" + quote(e.doc_id.replace(" ", "_"))
        where = f'<a href="{escape(url, quote=True)}" rel="noreferrer">{title}</a> (Wikipedia)'
    else:
        where = f"{title} [{escape(e.source)}: {escape(e.doc_id)}, passage {escape(e.passage_id)}, characters {e.start}-{e.end}]"
    return f'“{escape(e.text)}” <span class="where">— {where}</span>'


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
