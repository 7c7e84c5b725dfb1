"""Which router to ship, decided on fit data only: 5-fold cross-validation on the fit
splits' samples of each label set, at the 50% token budget, of the fitted logistic router
against PCC's tau alone (and always reading, for reference). No model call.

    python benchmarks/router_cv.py SAMPLES --splits SPLITS
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from compare import _tau_section, every_claim, load, shown_settings

from factcheck.fit import apply_section, fit_section, label_names, macro_f1
from factcheck.labels import LabelSet

GROUPS = {LabelSet.THREE: ["scifact", "covid"], LabelSet.BINARY: ["fm2"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("samples", type=Path)
    parser.add_argument("--splits", type=Path, required=True)
    parser.add_argument("--budget", type=float, default=0.5)
    parser.add_argument("--reader", default="joint+scaled", help="the reader the routers decide for (the shipped one)")
    args = parser.parse_args()
    for ls, sets in GROUPS.items():
        pool = [s for d in sets for s in every_claim(load(args.samples, f"{d}_fit"), args.splits / f"{d}_fit.jsonl")
                if s.joint]
        order = np.random.default_rng(0).permutation(len(pool))
        outcomes: dict[str, list] = {"logistic router": [], "tau alone (PCC)": [], "always read": []}
        for fold in np.array_split(order, 5):
            held = set(fold.tolist())
            train, test = [s for i, s in enumerate(pool) if i not in held], [pool[i] for i in fold]
            section, _ = fit_section(train, ls, reader=args.reader, budget_fraction=args.budget)
            section.update(shown_settings(args.samples, sets[0]))
            tau = _tau_section(section, {"pool": train}, "pool", {"pool": ls}, args.budget)
            outcomes["logistic router"] += apply_section(test, section, ls, "auto")
            outcomes["tau alone (PCC)"] += apply_section(test, tau, ls, "auto")
            outcomes["always read"] += apply_section(test, section, ls, "retrieve")
        for name, outs in outcomes.items():
            f1 = macro_f1([o.gold for o in outs], [o.verdict for o in outs], label_names(ls))
            print(f"{ls.value:6s} {name:16s} macro-F1 {f1:.3f}  tokens/claim {np.mean([o.tokens for o in outs]):.1f}")


if __name__ == "__main__":
    main()
