"""The two consistency estimators side by side on the same claims, in one run.

For each claim the direct route runs once with ``framings`` and once with ``rationales``
(K=2, the paper's), interleaved so that machine noise hits both alike. Reported per
estimator: AUROC against correctness of the direct verdict for the combined confidence
(uncalibrated: the shipped calibrator was fitted on framings), for tau alone and for gamma
alone; model tokens, generated tokens and seconds per claim; and the cost ratios.

    python benchmarks/bench_consistency.py --claims 30

Claims: the first --claims of Check-COVID dev in file order (labels interleaved S/R/NEI),
the same claims ``factcheck eval ... --limit 30`` scores in the README's results table.
"""

from __future__ import annotations

import argparse
import sys
import time

from common import DATA, mean, write

from factcheck.config import resolve
from factcheck.consistency import Framings, Rationales
from factcheck.evaluate import read_labeled
from factcheck.labels import LabelSet
from factcheck.loader import open_model
from factcheck.metrics import auroc, macro_f1
from factcheck.pipeline import Checker
from factcheck.schema import Claim, Route

LABELS = ["SUPPORTED", "REFUTED", "NOT_ENOUGH_INFO"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=30)
    parser.add_argument("--k", type=int, default=2, help="rationales per side")
    args = parser.parse_args()

    claims = read_labeled(DATA / "check-covid" / "claims_dev.jsonl", args.claims)
    model = open_model(resolve({}))
    estimators = {"framings": Framings(), "rationales": Rationales(k=args.k)}
    checkers = {name: Checker(model, labels=LabelSet.THREE, route=Route.DIRECT, consistency=estimator)
                for name, estimator in estimators.items()}
    records = {name: [] for name in checkers}
    start = time.time()
    for i, claim in enumerate(claims, 1):
        for name, checker in checkers.items():
            records[name].append(checker.check(Claim(id=claim.id, text=claim.claim)))
        print(f"{i}/{len(claims)} {time.time() - start:.0f}s", file=sys.stderr, flush=True)

    gold = [c.label for c in claims]
    result = {}
    for name, recs in records.items():
        correct = [r.verdict.value == g for r, g in zip(recs, gold)]
        result[name] = {
            "claims": len(recs),
            "accuracy": round(sum(correct) / len(correct), 4),
            "macro_f1": round(macro_f1(gold, [r.verdict.value for r in recs], LABELS), 4),
            "auroc_confidence": _round(auroc([_raw(r) for r in recs], correct)),
            "auroc_tau_alone": _round(auroc([r.certainty for r in recs], correct)),
            "auroc_gamma_alone": _round(auroc([r.consistency for r in recs], correct)),
            "model_tokens_per_claim": mean(r.tokens.prompt + r.tokens.generated for r in recs),
            "generated_tokens_per_claim": mean(r.tokens.generated for r in recs),
            "model_calls_per_claim": mean(r.calls.model for r in recs),
            "seconds_per_claim": mean(sum(r.timings_ms.values()) / 1000 for r in recs),
        }
    fr, ra = result["framings"], result["rationales"]
    write("consistency_check_covid_dev.json", {
        "data": "check-covid/claims_dev.jsonl", "first_claims": len(claims), "k": args.k,
        "estimators": result,
        "ratios": {
            "framings_over_rationales_tokens": round(fr["model_tokens_per_claim"] / ra["model_tokens_per_claim"], 3),
            "framings_over_rationales_seconds": round(fr["seconds_per_claim"] / ra["seconds_per_claim"], 3),
            "framings_minus_rationales_auroc": _round(
                None if None in (fr["auroc_confidence"], ra["auroc_confidence"])
                else fr["auroc_confidence"] - ra["auroc_confidence"]),
        },
    })


def _raw(record) -> float:
    return record.confidence if record.confidence_raw is None else record.confidence_raw


def _round(value):
    return None if value is None else round(value, 4)


if __name__ == "__main__":
    main()
