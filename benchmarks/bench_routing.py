"""Confidence routing on shared dev/train data, measured side by side in one run.

1. Tune: on the first --tune claims of a fixed shuffle, record tau and gamma (framings),
   the direct verdict and the always-retrieve verdict with their costs, and fit alpha and
   beta (factcheck.calibrate) for the best macro-F1 within 60% of always-retrieve's tokens.
2. Evaluate on the next --eval claims, none of them seen in tuning:
   - strategies never-retrieve, always-retrieve, auto, always-deep: macro-F1, retrieval
     rate, model tokens and seconds per claim;
   - estimators framings and rationales (on the first --rationales eval claims): AUROC of
     the direct route's confidence against its correctness, tokens and seconds per claim.

    python benchmarks/bench_routing.py fm2 --tune 30 --eval 30 --rationales 12
"""

from __future__ import annotations

import argparse
import sys
import time

from common import dataset, label_names, mean, write

from factcheck.calibrate import RouteSample, best_within_budget, grid_search, pareto_front
from factcheck.config import resolve
from factcheck.consistency import Framings, Rationales
from factcheck.loader import open_model
from factcheck.metrics import auroc, macro_f1
from factcheck.pipeline import Checker
from factcheck.records import Claim, Route
from factcheck.route import Thresholds


def cost(record) -> int:
    return record.tokens.prompt + record.tokens.generated


def seconds(record) -> float:
    return sum(record.timings_ms.values()) / 1000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset", choices=["fm2", "scifact"])
    parser.add_argument("--tune", type=int, default=30)
    parser.add_argument("--eval", type=int, default=30)
    parser.add_argument("--rationales", type=int, default=12)
    parser.add_argument("--seed", type=int, default=2601)
    parser.add_argument("--alpha", type=float, help="skip tuning: use these thresholds (fitted by an earlier run)")
    parser.add_argument("--beta", type=float)
    args = parser.parse_args()

    rows, source, label_set, _, close = dataset(args.dataset, args.seed)
    labels = label_names(label_set)
    tune_rows, eval_rows = rows[: args.tune], rows[args.tune: args.tune + args.eval]
    model = open_model(resolve({}))

    def checker(**kw) -> Checker:
        return Checker(model, labels=label_set, sources=[source], **kw)

    # 1. tune (or take thresholds an earlier run of this script fitted on the same tune claims)
    if args.alpha is not None and args.beta is not None:
        thresholds, best, points, always_tokens = Thresholds(alpha=args.alpha, beta=args.beta), None, [], None
    else:
        thresholds, best, points, always_tokens = tune(tune_rows, checker, labels)
    log(f"thresholds {thresholds}")
    evaluate(args, eval_rows, checker, model, label_set, labels, thresholds, best, points, always_tokens, tune_rows, close)


def tune(tune_rows, checker, labels):
    never = checker(route=Route.DIRECT, consistency=Framings())
    always = checker(route=Route.RETRIEVE)
    samples = []
    for i, row in enumerate(tune_rows, 1):
        claim = Claim(id=row["id"], text=row["claim"])
        direct, retrieved = never.check(claim), always.check(claim)
        # a routed claim pays the assessment (with gamma) and then the retrieval
        samples.append(RouteSample(tau=direct.certainty, gamma=direct.consistency, gold=row["label"],
                                   direct=direct.verdict.value, retrieved=retrieved.verdict.value,
                                   direct_tokens=cost(direct), retrieved_tokens=cost(direct) + cost(retrieved)))
        log(f"tune {i}/{len(tune_rows)}")
    always_tokens = mean(s.retrieved_tokens - s.direct_tokens for s in samples)
    points = grid_search(samples, labels)
    best = best_within_budget(points, 0.6 * always_tokens)
    return Thresholds(alpha=min(best.alpha, 1.0), beta=min(best.beta, 1.0)), best, points, always_tokens


def evaluate(args, eval_rows, checker, model, label_set, labels, thresholds, best, points, always_tokens,
             tune_rows, close) -> None:
    # 2. evaluate strategies
    strategies = {
        "never_retrieve": checker(route=Route.DIRECT, consistency=Framings()),
        "always_retrieve": checker(route=Route.RETRIEVE),
        "auto": checker(consistency=Framings(), thresholds=thresholds),
        "always_deep": checker(route=Route.DEEP, thresholds=thresholds),
    }
    records = {name: [] for name in strategies}
    start = time.time()
    for i, row in enumerate(eval_rows, 1):
        claim = Claim(id=row["id"], text=row["claim"])
        for name, strategy in strategies.items():
            records[name].append(strategy.check(claim))
        log(f"eval {i}/{len(eval_rows)} {time.time() - start:.0f}s")
    gold = [r["label"] for r in eval_rows]
    summary = {}
    for name, recs in records.items():
        summary[name] = {
            "macro_f1": round(macro_f1(gold, [r.verdict.value for r in recs], labels), 4),
            "retrieval_rate": round(sum(r.calls.retrieval > 0 for r in recs) / len(recs), 3),
            "model_tokens_per_claim": mean(cost(r) for r in recs),
            "generated_tokens_per_claim": mean(r.tokens.generated for r in recs),
            "seconds_per_claim": mean(seconds(r) for r in recs),
            "routes": {route: sum(r.route.value == route for r in recs) for route in {r.route.value for r in recs}},
        }

    # 3. estimators: the direct route's confidence against its correctness
    estimators = {}
    for name, estimator, n in (("framings", Framings(), len(eval_rows)), ("rationales", Rationales(k=2), args.rationales)):
        direct = Checker(model, labels=label_set, consistency=estimator)
        recs = []
        for row in eval_rows[:n]:
            recs.append(direct.check(Claim(id=row["id"], text=row["claim"])))
            log(f"{name} {len(recs)}/{n}")
        correct = [r.verdict.value == row["label"] for r, row in zip(recs, eval_rows)]
        estimators[name] = {
            "claims": n,
            "auroc_confidence": auroc([r.confidence for r in recs], correct),
            "auroc_tau_alone": auroc([r.certainty for r in recs], correct),
            "auroc_gamma_alone": auroc([r.consistency for r in recs], correct),
            "model_tokens_per_claim": mean(cost(r) for r in recs),
            "generated_tokens_per_claim": mean(r.tokens.generated for r in recs),
            "seconds_per_claim": mean(seconds(r) for r in recs),
        }
    fr, ra = estimators["framings"], estimators["rationales"]
    close()
    write(f"routing_{args.dataset}.json", {
        "dataset": args.dataset, "labels": label_set.value, "seed": args.seed,
        "tune_claims": len(tune_rows), "eval_claims": len(eval_rows),
        "thresholds": {"alpha": thresholds.alpha, "beta": thresholds.beta,
                       "fitted_here": best is not None,
                       "tune_macro_f1": round(best.macro_f1, 4) if best else None,
                       "tune_tokens_per_claim": round(best.tokens_per_claim, 1) if best else None,
                       "tune_always_retrieve_tokens": always_tokens},
        "pareto_front_tune": [p.__dict__ for p in pareto_front(points)],
        "strategies": summary,
        "estimators": estimators,
        "ratios": {
            "framings_over_rationales_tokens": round(fr["model_tokens_per_claim"] / ra["model_tokens_per_claim"], 3),
            "framings_over_rationales_seconds": round(fr["seconds_per_claim"] / ra["seconds_per_claim"], 3),
            "auto_over_always_tokens": round(summary["auto"]["model_tokens_per_claim"]
                                             / summary["always_retrieve"]["model_tokens_per_claim"], 3),
            "auto_minus_always_macro_f1": round(summary["auto"]["macro_f1"] - summary["always_retrieve"]["macro_f1"], 4),
        },
    })


if __name__ == "__main__":
    main()
