"""A reader alternative tried on stored samples (no model call): a multinomial logistic
model over the joint evidence pass's label log-probabilities, the closed-book pass's, and
the search signals, fitted on the fit splits (per label set, pooled as the profile is) and
scored on the eval splits, against the evidence pass alone read the same way.

    python benchmarks/stacked_reader.py SAMPLES --splits SPLITS
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from compare import every_claim, load

from factcheck.metrics import bootstrap

THREE = ["SUPPORTED", "REFUTED", "NOT_ENOUGH_INFO"]
GROUPS = {"three": (["scifact", "covid"], THREE), "binary": (["fm2"], THREE[:2])}


def features(sample, labels: list[str], kind: str) -> list[float]:
    joint = [np.log((sample.joint or {}).get(label, 1 / 3) + 1e-6) for label in THREE]
    if kind == "evidence only":
        return joint
    closed = [np.log(sample.closed[label] + 1e-6) for label in labels]
    s = sample.signals
    search = [s["top_score"] / 10, s["score_margin"], s["best_coverage"], s["shown_coverage"], s["documents"] / 5,
              float(bool(sample.joint))]
    return joint + closed + search


def main() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    parser = argparse.ArgumentParser()
    parser.add_argument("samples", type=Path)
    parser.add_argument("--splits", type=Path, required=True)
    args = parser.parse_args()
    for group, (sets, labels) in GROUPS.items():
        fit = [s for d in sets for s in every_claim(load(args.samples, f"{d}_fit"), args.splits / f"{d}_fit.jsonl")]
        for kind in ("evidence only", "stacked"):
            model = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced").fit(
                [features(s, labels, kind) for s in fit], [s.gold for s in fit])
            for d in sets:
                ev = every_claim(load(args.samples, f"{d}_eval"), args.splits / f"{d}_eval.jsonl")
                pred = model.predict([features(s, labels, kind) for s in ev])
                gold = [s.gold for s in ev]
                f1 = f1_score(gold, pred, average="macro")
                lo, hi = bootstrap(lambda g, p: f1_score(g, p, average="macro"), gold, list(pred))
                print(f"{d:8s} {kind:14s} macro-F1 {f1:.3f} [{lo:.3f}, {hi:.3f}]  ({len(fit)} fit claims, {group})")


if __name__ == "__main__":
    main()
