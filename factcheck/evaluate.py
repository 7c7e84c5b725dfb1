"""Evaluate strategies on labeled claims, side by side in one run, and fit profiles.

``evaluate`` runs each strategy (auto, direct, retrieve, deep) over the same claims and
scores it: accuracy, macro and per-class F1, confusion matrix, AUROC of confidence against
correctness, ECE (15 bins), Brier score, routes, retrieval rate, cost, and recall of gold
evidence documents, each with a bootstrap 95% interval over the claims.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .cache import cached_check
from .errors import InputError
from .labels import LabelSet
from .metrics import accuracy, auroc, bootstrap, brier, confusion, ece, f1_per_class, macro_f1, reliability_bins
from .records import CheckRecord, Claim, Label

STRATEGIES = ("auto", "direct", "retrieve", "deep")


@dataclass
class LabeledClaim:
    id: str
    claim: str
    label: str
    gold_docs: set[str]


def read_labeled(path: Path, limit: int | None = None) -> list[LabeledClaim]:
    """Claims with gold labels (the shared data's format); bad lines are an input error
    naming the line, since scores over a silently shortened set would mislead."""
    rows: list[LabeledClaim] = []
    try:
        handle = path.open(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise InputError(f"cannot read claims file {path}: {exc.strerror}") from None
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    label = Label(row["label"]).value
                    text = row["claim"]
                    if not isinstance(text, str) or not text.strip():
                        raise ValueError("empty claim")
                except (ValueError, KeyError, TypeError) as exc:
                    raise InputError(f"{path}:{number}: not a labeled claim ({exc})") from None
                docs = {str(e.get("doc_id")) for e in row.get("evidence") or [] if isinstance(e, dict)}
                rows.append(LabeledClaim(str(row.get("id", number)), text, label, docs))
                if limit and len(rows) >= limit:
                    break
        except UnicodeDecodeError:
            raise InputError(f"{path} is not UTF-8") from None
    if not rows:
        raise InputError(f"{path} holds no labeled claims")
    return rows


def label_set_for(claims: list[LabeledClaim]) -> LabelSet:
    """Binary (SUPPORTED/REFUTED) when the gold labels are, as in FM2."""
    return LabelSet.BINARY if all(c.label != Label.NOT_ENOUGH_INFO.value for c in claims) else LabelSet.THREE


def label_names(label_set: LabelSet) -> list[str]:
    if label_set is LabelSet.BINARY:
        return [Label.SUPPORTED.value, Label.REFUTED.value]
    return [label.value for label in Label]


def score(claims: list[LabeledClaim], records: list[CheckRecord], labels: list[str]) -> dict:
    ok = [r for r in records if r.error is None]
    gold = [c.label for c, r in zip(claims, records) if r.error is None]
    predicted = [r.verdict.value for r in ok]
    correct = [g == p for g, p in zip(gold, predicted)]
    confidences = [r.confidence for r in ok]
    with_docs = [(c, r) for c, r in zip(claims, records) if c.gold_docs and r.error is None]
    recall = [len(c.gold_docs & {e.doc_id for e in r.evidence}) / len(c.gold_docs) for c, r in with_docs]
    mf1 = lambda g, p: macro_f1(g, p, labels)  # noqa: E731
    return {
        "claims": len(records), "errors": len(records) - len(ok),
        "accuracy": accuracy(gold, predicted), "macro_f1": macro_f1(gold, predicted, labels),
        # bootstrap 95% intervals over the claims (1000 resamples, seed 0)
        "accuracy_ci": bootstrap(accuracy, gold, predicted), "macro_f1_ci": bootstrap(mf1, gold, predicted),
        "auroc_ci": bootstrap(auroc, confidences, correct), "ece_ci": bootstrap(ece, confidences, correct),
        "f1": f1_per_class(gold, predicted, labels), "confusion": confusion(gold, predicted, labels),
        "auroc": auroc(confidences, correct), "ece": ece(confidences, correct), "brier": brier(confidences, correct),
        "reliability": reliability_bins(confidences, correct),
        "routes": dict(Counter(r.route.value for r in ok)),
        "retrieval_rate": sum(r.calls.retrieval > 0 for r in ok) / len(ok),
        # a cached record keeps the cost it was computed at, so a re-run from the cache
        # reports the same figures (and says how many it served)
        "tokens_per_claim": sum(r.tokens.prompt + r.tokens.generated for r in ok) / max(len(ok), 1),
        "generated_tokens_per_claim": sum(r.tokens.generated for r in ok) / max(len(ok), 1),
        "seconds_per_claim": sum(sum(r.timings_ms.values()) for r in ok) / 1000 / max(len(ok), 1),
        "from_cache": sum(r.from_cache for r in ok),
        "gold_evidence_recall": sum(recall) / len(recall) if recall else None,
    }


def evaluate(claims: list[LabeledClaim], checkers: dict[str, object], *, cache=None, cache_keys=None,
             on_claim: Callable[[], None] | None = None) -> tuple[dict, dict[str, list[CheckRecord]]]:
    """Run every strategy's checker over the same claims; returns (report, records)."""
    labels = label_names(next(iter(checkers.values())).judge.label_set)
    records: dict[str, list[CheckRecord]] = {name: [] for name in checkers}
    for item in claims:
        for name, checker in checkers.items():
            claim = Claim(id=item.id, text=item.claim)
            key = (cache_keys or {}).get(name, "")
            records[name].append(cached_check(checker, claim, cache, key))
        if on_claim:
            on_claim()
    report = {"labels": labels, "strategies": {n: score(claims, recs, labels) for n, recs in records.items()}}
    return report, records
