"""A cheaper read tried as a routing rung: the best one or two selected sentences instead of
all of them ("a glance"), alone or beside the full reading, on the same claims.

    python benchmarks/glance_reads.py SPLITS OUT                      # the passes (~30 min)
    python benchmarks/glance_reads.py SPLITS OUT --score SAMPLES      # the scores

For every claim of the six splits: the pipeline's search and sentence selection, then one
evidence pass over the top sentence by selection score (g1) and one over the top two (g2),
stored in OUT/<split>.jsonl. ``--score`` joins them with the full readings of
``collect_samples.py``'s SAMPLES and fits, per label set on the fit splits, a multinomial
logistic model on each reading's answer log-probabilities (alone or side by side), scored on
the eval splits with bootstrap 95% intervals.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

THREE = ["SUPPORTED", "REFUTED", "NOT_ENOUGH_INFO"]
GROUPS = {"three": (["scifact", "covid"], THREE), "binary": (["fm2"], THREE[:2])}
SPLITS = ("fm2_fit", "fm2_eval", "scifact_fit", "scifact_eval", "covid_fit", "covid_eval")
KINDS = ("full", "g1", "g2", "full+g2", "full+g1+g2")


def measure(args) -> None:
    from collect_samples import index_for

    from factcheck.config import resolve
    from factcheck.cost import Meter
    from factcheck.evaluate import label_set_for, read_labeled
    from factcheck.loader import open_model
    from factcheck.pipeline import build_checker
    from factcheck.retrieve import gather

    args.out.mkdir(parents=True, exist_ok=True)
    model = None
    for name in SPLITS:
        claims = read_labeled(args.splits / f"{name}.jsonl")
        settings = resolve({"index": [index_for(name.split("_")[0], args.indexes)],
                            "labels": label_set_for(claims).value, "ctx": 2048})
        model = model or open_model(settings)
        checker = build_checker(settings, lambda _s: model)
        start, seen = time.perf_counter(), set()
        with (args.out / f"{name}.jsonl").open("w") as out:
            for claim in (c.claim for c in claims):
                if claim in seen:  # Check-COVID repeats claim texts under other labels
                    continue
                seen.add(claim)
                passages, _ = gather(checker.sources, claim, checker.k, Meter())
                chosen = checker.selector.select(claim, passages, checker.sentences)
                best = sorted(chosen, key=lambda s: -s.score)
                row = {"claim": claim, "selected": len(chosen)}
                for n in (1, 2):
                    if best:
                        meter = Meter()
                        reading, _, _ = checker.judge.evidence_pass("verdict_sentences", claim, best[:n], meter)
                        row[f"g{n}"] = {k.value: v for k, v in reading.probs.items()}
                        row[f"g{n}_tokens"] = meter.tokens.prompt
                out.write(json.dumps(row) + "\n")
        print(f"{name}: {len(seen)} claims, {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)


def features(sample, glance: dict, kind: str) -> list[float]:
    def logs(probs):
        return [float(np.log((probs or {}).get(label, 1 / 3) + 1e-6)) for label in THREE]

    parts = {"full": logs(sample.joint), "g1": logs(glance.get("g1")), "g2": logs(glance.get("g2"))}
    return [v for part in kind.split("+") for v in parts[part]] + [float(bool(sample.joint))]


def score(args) -> None:
    from compare import every_claim, load
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score, roc_auc_score

    from factcheck.metrics import bootstrap

    def joined(split: str):
        glances = {r["claim"]: r for r in map(json.loads, (args.out / f"{split}.jsonl").open())}
        return [(s, glances[s.claim]) for s in every_claim(load(args.score, split), args.splits / f"{split}.jsonl")]

    for group, (sets, labels) in GROUPS.items():
        fit = [row for d in sets for row in joined(f"{d}_fit")]
        for kind in KINDS:
            model = LogisticRegression(C=1.0, max_iter=2000).fit([features(s, g, kind) for s, g in fit],
                                                                 [s.gold for s, _ in fit])
            for d in sets:
                rows = joined(f"{d}_eval")
                probs = model.predict_proba([features(s, g, kind) for s, g in rows])
                pred = list(model.classes_[probs.argmax(axis=1)])
                gold = [s.gold for s, _ in rows]
                right = [p == g for p, g in zip(pred, gold)]
                f1 = f1_score(gold, pred, average="macro", labels=labels)
                lo, hi = bootstrap(lambda g, p: f1_score(g, p, average="macro", labels=labels), gold, pred)
                # the passes the row reads, as run here: g2 right after g1, so g1's KV prefix
                # served it (a lone g2 pass costs more than its own count, less than the sum)
                parts = kind.split("+")
                tokens = np.mean([("full" in parts) * s.joint_tokens
                                  + ("g1" in parts or "g2" in parts) * g.get("g1_tokens", 0)
                                  + ("g2" in parts) * g.get("g2_tokens", 0) for s, g in rows])
                print(f"{d:8s} {kind:11s} macro-F1 {f1:.3f} [{lo:.3f}, {hi:.3f}]  "
                      f"AUROC {roc_auc_score(right, probs.max(axis=1)):.3f}  tokens/claim {tokens:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("splits", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--score", type=Path, metavar="SAMPLES", help="score against collect_samples.py's samples")
    parser.add_argument("--indexes", type=Path, default=Path(tempfile.gettempdir()) / "factcheck-bench-indexes")
    args = parser.parse_args()
    score(args) if args.score else measure(args)


if __name__ == "__main__":
    main()
