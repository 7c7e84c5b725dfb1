"""Records as a report shows them: each claim with its verdict, in words and an icon, and
its span in the source document."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from ..errors import InputError
from ..files import read_user_text
from ..schema import CheckRecord, ErrorRecord, UncheckedRecord, parse_record


class Verdict(str, Enum):
    """A verdict as a reader sees it: a word and an icon, never colour alone."""

    SUPPORTED = "supported"
    REFUTED = "refuted"
    NOT_ENOUGH_INFO = "nei"
    ERROR = "error"
    UNCHECKED = "unchecked"  # a sentence of the document that gave no claim to check

    @property
    def word(self) -> str:
        return {"supported": "Supported", "refuted": "Refuted", "nei": "Not enough info", "error": "Not checked",
                "unchecked": "No claim to check"}[self.value]

    @property
    def icon(self) -> str:
        return {"supported": "\u2713", "refuted": "\u2717", "nei": "?", "error": "!", "unchecked": "\u2013"}[self.value]


# The verdicts of claims (a sentence that gave none is not one)
CLAIM_VERDICTS = (Verdict.SUPPORTED, Verdict.REFUTED, Verdict.NOT_ENOUGH_INFO, Verdict.ERROR)
# Which verdict a span shows when several claims share it: the one most in need of an editor.
SEVERITY = (Verdict.REFUTED, Verdict.ERROR, Verdict.NOT_ENOUGH_INFO, Verdict.SUPPORTED, Verdict.UNCHECKED)


@dataclass
class ReportClaim:
    record: CheckRecord | ErrorRecord | UncheckedRecord
    verdict: Verdict
    span: tuple[int, int] | None = None  # character offsets in the source document
    source: str | None = None  # the document the claim was extracted from

    @property
    def confidence(self) -> float | None:
        return self.record.confidence if isinstance(self.record, CheckRecord) else None

    @property
    def is_claim(self) -> bool:
        """A claim (checked, or that failed), not a sentence that gave none."""
        return self.verdict is not Verdict.UNCHECKED

    @property
    def unsure(self) -> bool:
        """Kept only as a leaning: under the confidence bar the run was given."""
        return isinstance(self.record, CheckRecord) and self.record.abstained

    @property
    def word(self) -> str:
        """The verdict in words; an abstained one as unsure, leaning to it."""
        return f"Unsure, leans {self.verdict.word.lower()}" if self.unsure else self.verdict.word


def verdict_of(record: CheckRecord | ErrorRecord | UncheckedRecord) -> Verdict:
    if isinstance(record, ErrorRecord):
        return Verdict.ERROR
    if isinstance(record, UncheckedRecord):
        return Verdict.UNCHECKED
    return {"SUPPORTED": Verdict.SUPPORTED, "REFUTED": Verdict.REFUTED}.get(record.verdict.value, Verdict.NOT_ENOUGH_INFO)


def read_records(path: Path | str) -> list[ReportClaim]:
    """The records of a JSON Lines file (``-``: stdin). A line that is not a record is an error
    naming its line: a report that silently dropped claims would mislead. An empty file is a
    report of no claims."""
    import sys

    text = sys.stdin.read() if str(path) == "-" else _read(Path(path))
    claims = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = parse_record(line)
        except ValueError as exc:
            first = str(exc).splitlines()[0] if str(exc) else "not a record"
            raise InputError(f"{path}: line {number} is not a factcheck record ({first})") from None
        extra = record.extra or {}
        source = extra.get("source") if isinstance(extra.get("source"), str) else None
        claims.append(ReportClaim(record, verdict_of(record), source=source))
    return claims  # none: a report that says so (a document with no check-worthy claim)


def _read(path: Path) -> str:
    return read_user_text(path, "records file", hint=": give the JSON Lines that factcheck wrote")


def locate(claims: list[ReportClaim], document: str) -> None:
    """Each claim's span in ``document``: the offsets ``batch --extract`` recorded, when the text
    there is still the sentence it recorded; else where that sentence now is; else none."""
    for claim in claims:
        extra = claim.record.extra or {}
        start, end, sentence = extra.get("start"), extra.get("end"), extra.get("sentence")
        if not isinstance(sentence, str) or not sentence:
            continue
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(document) \
                and " ".join(document[start:end].split()) == " ".join(sentence.split()):
            claim.span = (start, end)
        elif (found := document.find(sentence)) >= 0:
            claim.span = (found, found + len(sentence))


def summary(claims: list[ReportClaim]) -> dict:
    """Counts per verdict, the claims most likely wrong first (refuted, most confident first),
    the claims that could not be checked, the sentences that gave no claim (with the count of
    each reason), and the models and settings the records name."""
    unchecked = [c for c in claims if not c.is_claim]
    claims = [c for c in claims if c.is_claim]
    counts = Counter(c.verdict for c in claims)
    refuted = sorted((c for c in claims if c.verdict is Verdict.REFUTED), key=lambda c: -(c.confidence or 0))
    checked = [c.record for c in claims if isinstance(c.record, CheckRecord)]
    models = sorted({f"{r.model.name} ({r.model.sha256[:12]})" + (f" at {r.model.server}" if r.model.server else "")
                     for r in checked if r.model})
    settings = sorted({json.dumps({"reader": r.reader, "selection": r.selection, "calibrated": r.calibrated,
                                   "profile": r.profile, "adapted": r.adaptation is not None}, sort_keys=True)
                       for r in checked})
    return {"total": len(claims), "counts": {v: counts.get(v, 0) for v in CLAIM_VERDICTS}, "most_likely_wrong": refuted,
            "unchecked": unchecked, "unchecked_reasons": Counter(c.record.unchecked for c in unchecked),
            "unsure": sum(c.unsure for c in claims),
            "not_checked": [c for c in claims if c.verdict is Verdict.ERROR], "models": models,
            "settings": [json.loads(s) for s in settings]}


def unchecked_in_words(facts: dict) -> str:
    """ "2 sentences gave no claim to check (1 opinion, 1 question)", or "" when none."""
    reasons = facts["unchecked_reasons"]
    if not reasons:
        return ""
    n = sum(reasons.values())
    why = ", ".join(f"{count} {reason}" for reason, count in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    return f"{n} sentence{'s' if n != 1 else ''} gave no claim to check ({why})"


def from_records(records: list[CheckRecord | ErrorRecord | UncheckedRecord]) -> list[ReportClaim]:
    """The claims of records a run has just made (``check --report``, ``batch --report``)."""
    out = []
    for record in records:
        source = (record.extra or {}).get("source")
        out.append(ReportClaim(record, verdict_of(record), source=source if isinstance(source, str) else None))
    return out


def settings_in_words(setting: dict) -> str:
    """How a run's records were made, for people: "reader joint+scaled, sentences by words,
    calibrated confidence (profile 0123…)", never a Python value."""
    parts = [f"reader {setting['reader']}"] if setting.get("reader") else []
    if setting.get("selection"):
        parts.append(f"sentences chosen by {setting['selection']}")
    calibrated = "calibrated confidence" if setting.get("calibrated") else "uncalibrated confidence"
    profile = setting.get("profile")
    parts.append(calibrated + (f" (profile {profile[:12]})" if profile else " (no profile)"))
    if setting.get("adapted"):
        parts.append("adapted to the batch by batch calibration")
    return ", ".join(parts)
