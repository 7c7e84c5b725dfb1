"""The reader's verdict with the probe's confidence in it: does the hidden state rank the
verdicts' correctness better than the answer words do? (No language model: stored samples.)

    python3 benchmarks/confidence_probe.py SAMPLES --splits SPLITS --labels binary \
        --fit fm2_fit --fit fm2_fit_more::300 --held fm2_eval --held fm2_fit_more:300

A part is SPLIT, SPLIT:N (its claims after the first N) or SPLIT::N (its first N). On the
``--fit`` claims, 5-fold cross-validation (each fold's reader section and probe fitted on the
other four); then both fitted on all of them and applied to the ``--held`` claims. The
verdict is always the reader's (the shipped kind for the label set); its confidence is either
the reader's own probability for it or the probe's (a linear softmax head on the final hidden
state, ``fit.fit_section(reader="joint+probe")``). AUROC against correctness, with the paired
bootstrap interval of the difference. Writes results/confidence_probe_<labels>.json.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import write  # noqa: E402
from compare import shown_settings  # noqa: E402
from held_apart import part_samples  # noqa: E402

from factcheck.fit import apply_section, fit_section  # noqa: E402
from factcheck.labels import LabelSet  # noqa: E402
from factcheck.metrics import auroc, bootstrap  # noqa: E402
from factcheck.readers import LinearHead, restrict  # noqa: E402
from factcheck.schema import Label  # noqa: E402

SHIPPED_READER = {LabelSet.THREE: "joint+scaled", LabelSet.BINARY: "joint+logits"}


def read_samples(samples_dir: Path, splits: Path, part: str):
    """The part's claims read, with their hidden state (held_apart.part_samples: SPLIT, SPLIT:N, SPLIT::N)."""
    return [s for s in part_samples(samples_dir, splits, part)[0] if s.joint and s.hidden is not None]


def confidences(train, test, label_set: LabelSet, shown: dict):
    """Correctness of the reader's verdicts on ``test`` and the two confidences in them."""
    section, _ = fit_section(train, label_set, reader=SHIPPED_READER[label_set])
    section.update(shown)
    probe = LinearHead.model_validate(fit_section(train, label_set, reader="joint+probe")[0]["probe"])
    outcomes = apply_section(test, section, label_set, "retrieve")
    right = [o.verdict == o.gold for o in outcomes]
    own = [o.confidence_raw for o in outcomes]
    by_probe = [restrict(probe(s.hidden), label_set, None).probs[Label(o.verdict)] for s, o in zip(test, outcomes)]
    return right, own, by_probe


def compared(right, own, by_probe) -> dict:
    diff = lambda p, r, o: None if None in (auroc(p, r), auroc(o, r)) else auroc(p, r) - auroc(o, r)  # noqa: E731
    return {"claims": len(right), "accuracy": sum(right) / len(right), "auroc_reader": auroc(own, right),
            "auroc_probe": auroc(by_probe, right), "difference": diff(by_probe, right, own),
            "difference_ci": bootstrap(diff, by_probe, right, own)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("samples", type=Path)
    parser.add_argument("--splits", type=Path, required=True)
    parser.add_argument("--labels", choices=[ls.value for ls in LabelSet], required=True)
    parser.add_argument("--fit", action="append", required=True)
    parser.add_argument("--held", action="append", required=True)
    args = parser.parse_args()
    label_set = LabelSet(args.labels)
    shown = shown_settings(args.samples, args.fit[0].split(":")[0].split("_")[0])
    fit = [s for part in args.fit for s in read_samples(args.samples, args.splits, part)]
    held = [s for part in args.held for s in read_samples(args.samples, args.splits, part)]
    order = list(range(len(fit)))
    random.Random(0).shuffle(order)
    folds = [set(order[f::5]) for f in range(5)]
    pooled: tuple[list, list, list] = ([], [], [])
    for fold in folds:
        got = confidences([fit[i] for i in order if i not in fold], [fit[i] for i in sorted(fold)], label_set, shown)
        for column, values in zip(pooled, got):
            column.extend(values)
    results = {"fit, 5-fold CV": compared(*pooled), "held apart": compared(*confidences(fit, held, label_set, shown))}
    for name, r in results.items():
        low, high = r["difference_ci"]
        print(f"{name} ({r['claims']} claims read, accuracy {r['accuracy']:.3f}): AUROC reader {r['auroc_reader']:.3f}, "
              f"probe {r['auroc_probe']:.3f}, difference {r['difference']:+.3f} [{low:+.3f}, {high:+.3f}]")
    write(f"confidence_probe_{label_set.value}.json", {"fit": args.fit, "held": args.held, "results": results})


if __name__ == "__main__":
    main()
