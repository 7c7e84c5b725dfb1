"""Evaluate strategies on labeled claims, side by side in one run, and fit profiles.

``evaluate`` runs each strategy (auto, direct, retrieve, deep) over the same claims and
scores it: accuracy, macro and per-class F1, confusion matrix, AUROC of confidence against
correctness, ECE (15 bins), Brier score, routes, retrieval rate, cost, and recall of gold
evidence documents, each with a bootstrap 95% interval over the claims.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..config.settings import resolve
from ..errors import InputError
from ..files import open_user_file
from ..pipeline import build_pipeline, configure
from ..reading.adapt import BatchCalibration
from ..schema import CheckRecord, Claim, Label, LabelSet, Route, label_names
from .cache import ResultCache, cached_check, settings_key
from .metrics import (
    accuracy,
    auroc,
    bootstrap,
    brier,
    confusion,
    ece,
    f1_per_class,
    macro_f1,
    reliability_bins,
    risk_coverage,
)
from .plots import cost_quality, reliability_diagram, risk_coverage_plot

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
    with io.TextIOWrapper(open_user_file(path, "claims file"), encoding="utf-8") as handle:
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
        # claims routed to evidence (the fitted router searches every claim, which costs ~2 ms,
        # so a search alone does not count: reading is what costs)
        "retrieval_rate": sum(r.route is not Route.DIRECT for r in ok) / len(ok),
        # a cached record keeps the cost it was computed at, so a re-run from the cache
        # reports the same figures (and says how many it served)
        "tokens_per_claim": sum(r.tokens.prompt + r.tokens.generated for r in ok) / max(len(ok), 1),
        "generated_tokens_per_claim": sum(r.tokens.generated for r in ok) / max(len(ok), 1),
        "seconds_per_claim": sum(sum(r.timings_ms.values()) for r in ok) / 1000 / max(len(ok), 1),
        "from_cache": sum(r.from_cache for r in ok),
        "gold_evidence_recall": sum(recall) / len(recall) if recall else None,
        # answering only when sure: the share answered (not abstained) and how often it was right
        "answered": sum(not r.abstained for r in ok) / max(len(ok), 1),
        "answered_accuracy": answered_accuracy(ok, correct),
        "answered_accuracy_ci": bootstrap(lambda rs, cs: answered_accuracy(rs, cs), ok, correct),
        "risk_coverage": risk_coverage(confidences, correct).model_dump(mode="json"),
    }


def answered_accuracy(records: list[CheckRecord], correct: list[bool]) -> float | None:
    """Accuracy over the claims that were not abstained on (None: every one was)."""
    kept = [ok for r, ok in zip(records, correct) if not r.abstained]
    return sum(kept) / len(kept) if kept else None


def evaluate(claims: list[LabeledClaim], checkers: dict[str, object], *, cache=None, cache_keys=None,
             on_claim: Callable[[], None] | None = None, adapt: bool = False) -> tuple[dict, dict[str, list[CheckRecord]]]:
    """Run every strategy's checker over the same claims; returns (report, records). With
    ``adapt``, each strategy's records go through batch calibration in order, as ``batch``'s do.

    One strategy over all claims, then the next: the strategies share one model, and run
    claim by claim a strategy would find the previous strategy's prompt for the same claim in
    the KV cache and be charged almost nothing for it (measured: 1 token a claim)."""
    labels = label_names(next(iter(checkers.values())).stages.label_set)
    records: dict[str, list[CheckRecord]] = {name: [] for name in checkers}
    for name, checker in checkers.items():
        key = (cache_keys or {}).get(name, "")
        for item in claims:
            records[name].append(cached_check(checker, Claim(id=item.id, text=item.claim), cache, key))
            if on_claim:
                on_claim()
        if adapt:
            calibrate = BatchCalibration(checker.stages.conclude.calibration, checker.stages.conclude.bar)
            records[name] = [r for record in records[name] for r in calibrate(record)] + calibrate.finish()
    report = {"labels": labels, "strategies": {n: score(claims, recs, labels) for n, recs in records.items()}}
    for name, recs in records.items():
        adapted = [r.adaptation.claims for r in recs if getattr(r, "adaptation", None) is not None]
        report["strategies"][name]["adapted"] = len(adapted)
    return report, records


def strategy_pipelines(settings, strategies: list[str], load, variants: dict[str, dict] | None = None,
                       profile=None):
    """One Pipeline per strategy over one loaded model, with the settings it ran under:
    forced routes for all but auto, and no consistency estimate where gamma cannot change
    the route (retrieve, deep). ``variants`` adds named checkers with their own settings."""

    updates = {}
    for name in strategies:
        updates[name] = {} if name == "auto" else {"route": name}
        if name in ("retrieve", "deep"):
            updates[name]["consistency"] = "none"
    updates.update(variants or {})
    model = load(settings)
    result = {}
    for name, update in updates.items():
        own = settings.model_copy(update=update)
        result[name] = (build_pipeline(own, lambda _settings: model, profile), own)
    return result


def strategy_cache(strategies, no_cache: bool, profile=None):
    """The result cache and each strategy's key prefix, or (None, {}) with --no-cache."""
    if no_cache:
        return None, {}

    sha = next(iter(strategies.values()))[0].model.info.sha256
    return ResultCache(), {name: settings_key(own, sha, profile) for name, (_, own) in strategies.items()}


def run_eval(claims_file: Path, strategy: str, limit: int | None, load, *, on_total=None, on_claim=None,
             no_cache: bool = False, config: Path | None = None, **flags) -> tuple[dict, dict[str, list[CheckRecord]]]:
    """``factcheck eval``: read the labeled claims, build one checker per strategy over one
    model and score them side by side. Returns (report, records per strategy)."""

    names = [s.strip() for s in strategy.split(",") if s.strip()]
    if not names or any(n not in STRATEGIES for n in names):
        raise InputError(f"--strategy takes a comma-separated list of {', '.join(STRATEGIES)}")
    claims = read_labeled(claims_file, limit)
    if on_total:
        on_total(len(claims) * len(names))
    settings, profile = configure(resolve({**{k: v for k, v in flags.items() if k != "config"},
                                           "labels": label_set_for(claims).value}, flags.get("config", config)))
    strategies = strategy_pipelines(settings, names, load, profile=profile)
    checkers = {name: checker for name, (checker, _) in strategies.items()}
    cache, keys = strategy_cache(strategies, no_cache, profile)
    result, records = evaluate(claims, checkers, cache=cache, cache_keys=keys, on_claim=on_claim,
                               adapt=settings.adapts)
    first = next(iter(checkers.values()))
    result.update({"claims_file": str(claims_file), "model": first.model.info.name,
                   "settings": {"k": settings.k, "sentences": settings.sentences, "selection": settings.selection,
                                "labels": settings.labels.value,
                                "reader": first.stages.read.reader.name,
                                "router": "fitted" if first.stages.route.router else "thresholds",
                                "alpha": settings.alpha, "beta": settings.beta, "consistency": settings.consistency,
                                "adapt": settings.adapt, "escalate_below": settings.escalate_below,
                                "escalate_keep": settings.escalate_keep}})
    return result, records


def write_report(folder: Path, result: dict, records: dict[str, list[CheckRecord]]) -> str | None:
    """report.json and each strategy's records, then the plots; returns why the plots were
    skipped (matplotlib missing), or None."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(result, indent=2) + "\n")
    for name, recs in records.items():
        (folder / f"records_{name}.jsonl").write_text("".join(r.model_dump_json() + "\n" for r in recs))
    try:
        reliability_diagram(result, folder / "reliability.png")
        cost_quality(result, folder / "cost_quality.png")
        risk_coverage_plot(result, folder / "risk_coverage.png")
    except InputError as exc:
        return str(exc)
    return None
