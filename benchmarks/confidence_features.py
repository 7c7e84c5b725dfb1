"""Does a correctness model over cheap signals rank verdicts better than the calibrated
reading alone? (No language model: the stored samples, replayed with a profile's sections.)

    python3 benchmarks/confidence_features.py SAMPLES --splits SPLITS [--profile P] [--fit-more fm2]

For every claim read (the retrieve route), the profile's verdict and confidence, and a logistic
model of "the verdict is right" over: the reading's log-odds, the margin of its answer words,
the UNKNOWN answer's mass, the search signals (best BM25 score, its margin, the best and shown
sentences' coverage of the claim's words), whether the verdict is NOT_ENOUGH_INFO, and with
``closed`` also the closed-book pass's agreement, its probability of the verdict, and tau (the
retrieve route skips that pass, so those would cost ~60 prompt tokens a claim). Fitted on the
fit samples of the set itself, of the other sets (leave one set out) and of all sets;
AUROC and ECE on the eval claims beside the profile's own confidence. Writes
results/confidence_features.json.
"""

from __future__ import annotations

import argparse
import math
import sys
import tomllib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import write  # noqa: E402
from compare import DATASETS, every_claim, load, load_fit  # noqa: E402

from factcheck.fit import apply_section, sample_label_set  # noqa: E402
from factcheck.labels import LabelSet  # noqa: E402
from factcheck.metrics import auroc, bootstrap, ece  # noqa: E402
from factcheck.model_files import DEFAULT_MODEL_SHA256  # noqa: E402

def features(samples, section: dict, label_set: LabelSet, closed: bool):
    outcomes = apply_section(samples, section, label_set, "retrieve")
    rows, right, shipped = [], [], []
    for sample, outcome in zip(samples, outcomes):
        answers = sample.joint or {"SUPPORTED": 1 / 3, "REFUTED": 1 / 3, "NOT_ENOUGH_INFO": 1 / 3}
        top, second = sorted(answers.values(), reverse=True)[:2]
        raw = min(max(outcome.confidence_raw, 1e-6), 1 - 1e-6)
        signals = sample.signals
        row = [math.log(raw / (1 - raw)), top - second, answers.get("NOT_ENOUGH_INFO", 0.0),
               signals["top_score"], signals["score_margin"], signals["best_coverage"], signals["shown_coverage"],
               float(outcome.verdict == "NOT_ENOUGH_INFO")]
        if closed:
            closed_top = max(sample.closed, key=sample.closed.get)
            row += [float(closed_top == outcome.verdict), sample.closed.get(outcome.verdict, 0.0), sample.tau]
        rows.append(row)
        right.append(outcome.gold == outcome.verdict)
        shipped.append(outcome.confidence)
    return np.array(rows), np.array(right), shipped


def main() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    parser = argparse.ArgumentParser()
    parser.add_argument("samples", type=Path)
    parser.add_argument("--splits", type=Path, required=True)
    parser.add_argument("--profile", type=Path, default=ROOT / "factcheck" / "profiles" / f"{DEFAULT_MODEL_SHA256}.toml")
    parser.add_argument("--fit-more", default="fm2", help="data sets whose *_fit_more samples are fitted on too")
    parser.add_argument("--strength", type=float, default=0.3, help="inverse L2 strength of the logistic model")
    args = parser.parse_args()

    profile = tomllib.loads(args.profile.read_text())
    more = set(filter(None, args.fit_more.split(",")))
    result: dict = {"profile": args.profile.name, "strength": args.strength, "rows": {}}
    for closed in (False, True):
        data = {}
        for d in DATASETS:
            fit = load_fit(args.samples, d, d in more)
            label_set = sample_label_set(fit[0])
            evals = every_claim(load(args.samples, f"{d}_eval"), args.splits / f"{d}_eval.jsonl")
            section = profile[label_set.value]
            data[d] = (features(fit, section, label_set, closed), features(evals, section, label_set, closed))
        for d in DATASETS:
            x_eval, right_eval, shipped = data[d][1]
            row = {"shipped": {"auroc": auroc(shipped, list(right_eval)), "ece": ece(shipped, list(right_eval))}}
            for name, train in (("own set", [d]), ("other sets", [o for o in DATASETS if o != d]), ("all sets", DATASETS)):
                x = np.vstack([data[t][0][0] for t in train])
                y = np.concatenate([data[t][0][1] for t in train])
                scale = StandardScaler().fit(x)
                model = LogisticRegression(C=args.strength, max_iter=2000).fit(scale.transform(x), y)
                confidence = list(model.predict_proba(scale.transform(x_eval))[:, 1])
                row[name] = {"auroc": auroc(confidence, list(right_eval)),
                             "auroc_ci": bootstrap(auroc, confidence, list(right_eval)),
                             "ece": ece(confidence, list(right_eval))}
            key = f"{d}, {'with' if closed else 'without'} the closed-book pass"
            result["rows"][key] = row
            print(f"{key:45} shipped AUROC {row['shipped']['auroc']:.3f} ECE {row['shipped']['ece']:.3f} | "
                  + " | ".join(f"{n} {row[n]['auroc']:.3f} / {row[n]['ece']:.3f}"
                               for n in ("own set", "other sets", "all sets")), file=sys.stderr)
    write("confidence_features.json", result)


if __name__ == "__main__":
    main()
