"""Fit profiles on the *_fit samples, and compare readers, routers and calibrators on the
*_eval samples, side by side on the same claims, with bootstrap 95% intervals.

    python3 benchmarks/splits.py SPLITS
    python3 benchmarks/collect_samples.py SPLITS SAMPLES --chunks --only scifact_fit,scifact_eval
    python3 benchmarks/collect_samples.py SPLITS SAMPLES --only fm2_fit,fm2_eval,covid_fit,covid_eval
    python3 benchmarks/compare.py SAMPLES [--profile OUT.toml] [--against PREVIOUS_SAMPLES]

Nothing here calls the model: the samples hold every pass the pipeline would make, and
``factcheck.fit.apply_section`` makes the pipeline's decisions from them. ``--against`` names
samples collected with another prompt (or model, or selection) on the same splits: both are
read the same ways, claim by claim, with a paired bootstrap interval of the difference.
``--fit-more [SETS]`` fits on ``<set>_fit`` plus ``<set>_fit_more`` (splits.py) for the
named data sets (all three: measured and not shipped, benchmarks/README.md "More fit claims";
``fm2``: how the shipped binary section was fitted). Each data set's samples record how they
chose their evidence (``settings.json``, collect_samples.py); the sections replay it and the
profile records it. Writes
benchmarks/results/compare.json and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from factcheck.fit import (READERS, apply_section, cross_validated_macro_f1, fit_section, label_names,  # noqa: E402
                           sample_label_set)
from factcheck.labels import LabelSet  # noqa: E402
from factcheck.metrics import accuracy, auroc, bootstrap, ece, f1_per_class, macro_f1  # noqa: E402
from factcheck.samples import SampleStore  # noqa: E402

DATASETS = ("scifact", "covid", "fm2")


def shown_settings(samples_dir: Path, dataset: str) -> dict:
    """How a data set's samples chose their evidence (collect_samples.py records it in each
    folder): selection, min_coverage, k, sentences. A section replays them as collected
    (fit.apply_section applies the word floor only to selection by words), and the profile
    records them, so a check shows what the fit read."""
    from factcheck.config import Settings

    found = {}
    for part in ("fit", "eval"):
        path = samples_dir / f"{dataset}_{part}" / "settings.json"
        found[part] = (json.loads(path.read_text()) if path.exists()
                       else {"k": 5, "sentences": 6, "selection": "words", "min_coverage": Settings().min_coverage})
        found[part].pop("title_terms", None)
    if found["fit"] != found["eval"]:
        raise SystemExit(f"{dataset}: fit and eval samples were collected differently: {found}")
    found["fit"].pop("vectors", None)  # the index's, not a setting: see searched_by_meaning
    return found["fit"]


def searched_by_meaning(samples_dir: Path, dataset: str) -> bool:
    """Whether the samples' index had vectors, so the search ran by meaning too."""
    path = samples_dir / f"{dataset}_fit" / "settings.json"
    return path.exists() and bool(json.loads(path.read_text()).get("vectors"))


def load(samples_dir: Path, name: str):
    store = SampleStore(samples_dir / name)
    return list(store._rows.values())


def load_fit(samples_dir: Path, dataset: str, more: bool = False):
    """A data set's fit samples: ``<set>_fit``, and with ``more`` also ``<set>_fit_more``."""
    extra = samples_dir / f"{dataset}_fit_more"
    if more and not extra.is_dir():
        raise SystemExit(f"--fit-more: {extra} not found (collect_samples.py --only {extra.name})")
    return load(samples_dir, f"{dataset}_fit") + (load(samples_dir, extra.name) if more else [])


def every_claim(samples, split_file: Path, collected_only: bool = False):
    """One sample per claim of ``split_file`` (with ``collected_only``, per claim that was
    collected: a run with ``--limit``). Samples are stored by claim text, and
    Check-COVID repeats texts under different labels (its NOT_ENOUGH_INFO claims reuse the
    text of a SUPPORTED or REFUTED one): identical inputs get identical outputs, each scored
    against its own gold label."""
    import copy

    by_text = {s.claim: s for s in samples}
    out = []
    for line in split_file.open(encoding="utf-8"):
        row = json.loads(line)
        if collected_only and row["claim"] not in by_text:
            continue
        sample = copy.copy(by_text[row["claim"]])
        sample.id, sample.gold = row["id"], row["label"]
        out.append(sample)
    return out


def metrics(outcomes, names) -> dict:
    gold = [o.gold for o in outcomes]
    pred = [o.verdict for o in outcomes]
    conf = [o.confidence for o in outcomes]
    ok = [g == p for g, p in zip(gold, pred)]
    mf1 = lambda g, p: macro_f1(g, p, names)  # noqa: E731
    return {
        "claims": len(outcomes),
        "accuracy": accuracy(gold, pred), "accuracy_ci": bootstrap(accuracy, gold, pred),
        "macro_f1": mf1(gold, pred), "macro_f1_ci": bootstrap(mf1, gold, pred),
        "f1": f1_per_class(gold, pred, names),
        "auroc": auroc(conf, ok), "auroc_ci": bootstrap(auroc, conf, ok),
        "ece": ece(conf, ok), "ece_ci": bootstrap(ece, conf, ok),
        "predicted": {n: pred.count(n) for n in names},
        "read_rate": sum(o.read for o in outcomes) / len(outcomes),
        "tokens_per_claim": sum(o.tokens for o in outcomes) / len(outcomes),
        "max_confidence": max(conf), "min_confidence": min(conf),
    }


def fmt(m: dict, key: str) -> str:
    v, ci = m[key], m.get(key + "_ci")
    if v is None:
        return "—"
    return f"{v:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else f"{v:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("samples", type=Path)
    parser.add_argument("--profile", type=Path, help="write the fitted default profile here")
    parser.add_argument("--splits", type=Path, help="the splits folder: evaluate every claim of each eval split")
    parser.add_argument("--budget", type=float, default=0.5, help="router budget, share of always-read tokens")
    parser.add_argument("--fit-more", nargs="?", const=",".join(DATASETS), default="", metavar="SETS",
                        help="fit on these data sets' *_fit_more samples too (default: all three)")
    parser.add_argument("--with-probe", action="store_true",
                        help="let the rule choose the probe too; its profile then needs the model in-process "
                             "(a model server returns no hidden state)")
    parser.add_argument("--default-reader", choices=READERS,
                        help="ship this reader instead of the best on the fit splits (the probe failed the "
                             "injection and unrelated-evidence tests: README, Results)")
    parser.add_argument("--against", type=Path, help="samples of the same splits collected another way, to compare")
    args = parser.parse_args()

    more = set(filter(None, args.fit_more.split(",")))
    if more - set(DATASETS):
        raise SystemExit(f"--fit-more: unknown data sets {sorted(more - set(DATASETS))}")
    fit = {d: load_fit(args.samples, d, d in more) for d in DATASETS}
    evals = {d: load(args.samples, f"{d}_eval") for d in DATASETS}
    if args.splits:  # every claim of the eval split, with its own label (see every_claim)
        evals = {d: every_claim(evals[d], args.splits / f"{d}_eval.jsonl") for d in DATASETS}
    label_set_of = {d: sample_label_set(fit[d][0]) for d in DATASETS}
    shown = {}
    for d in DATASETS:
        if shown.setdefault(label_set_of[d], shown_settings(args.samples, d)) != shown_settings(args.samples, d):
            raise SystemExit(f"{d}: collected differently from the other data sets of its label set")
    results: dict = {"fit_claims": {d: len(fit[d]) for d in DATASETS},
                     "eval_claims": {d: len(evals[d]) for d in DATASETS}, "readers": {}, "routing": {}, "loso": {}}

    def sections_for(reader: str, datasets=DATASETS, probe_pool=None):
        """One section per label set, fitted on ``datasets``' fit samples of that set."""
        out, reports = {}, {}
        for ls in (LabelSet.THREE, LabelSet.BINARY):
            own = [s for d in datasets if label_set_of[d] is ls for s in fit[d]]
            if not own:
                continue
            pool = probe_pool if probe_pool is not None else [s for d in datasets for s in fit[d]]
            usable = [s for s in own if (s.chunks if reader.startswith("chunks") else s.joint)]
            out[ls], reports[ls.value] = fit_section(usable, ls, reader=reader, budget_fraction=args.budget,
                                                     probe_samples=pool if reader == "joint+probe" else None)
            out[ls].update(shown[ls])  # applied as the pipeline applies it (fit.apply_section)
        return out, reports

    # 1. readers, always reading (the retrieve route), on every eval set the samples measured
    # them on (per-sentence passes and hidden states are optional in collect_samples.py)
    def measured(reader: str, d: str) -> bool:
        if reader.startswith("chunks"):
            return all(s.chunks for s in fit[d])
        if reader == "joint+probe":
            return all(s.hidden is not None for s in fit[d] if s.joint)
        return True

    fitted = {}
    for reader in READERS:
        has = [d for d in DATASETS if measured(reader, d)]
        if not has:
            continue
        sections, reports = sections_for(reader, has)
        fitted[reader] = sections
        results["readers"][reader] = {"fit": reports}
        for d in has:
            ls = label_set_of[d]
            results["readers"][reader][d] = metrics(apply_section(evals[d], sections[ls], ls, "retrieve"),
                                                    label_names(ls))
    # the label words with no fitted bias: the reading as the model gives it
    raw_logits = {ls: {"reader": "joint", "calibration": None, **shown[ls]} for ls in LabelSet}
    results["readers"]["joint+logits, no bias, uncalibrated"] = {
        d: metrics(apply_section(evals[d], raw_logits[label_set_of[d]], label_set_of[d], "retrieve"),
                   label_names(label_set_of[d])) for d in DATASETS}
    # the probe trained on its own label set only (an alternative training pool)
    for ls in (LabelSet.THREE, LabelSet.BINARY):
        own_sets = [d for d in DATASETS if label_set_of[d] is ls and measured("joint+probe", d)]
        if not own_sets:
            continue
        pool = [s for d in own_sets for s in fit[d]]
        sections, _ = sections_for("joint+probe", own_sets, probe_pool=pool)
        for d in own_sets:
            results["readers"].setdefault("joint+probe, own label set only", {})[d] = metrics(
                apply_section(evals[d], sections[ls], ls, "retrieve"), label_names(ls))

    # the default reader, per label set: the best cross-validated macro-F1 of the whole
    # section on the fit claims (fit.cross_validated_macro_f1), never the eval sets
    fit_score: dict = {}
    for ls in (LabelSet.THREE, LabelSet.BINARY):
        own = [s for d in DATASETS if label_set_of[d] is ls for s in fit[d] if s.joint]
        pool = [s for d in DATASETS for s in fit[d]]
        for reader in fitted:
            if ls in fitted[reader] and all(measured(reader, d) for d in DATASETS if label_set_of[d] is ls):
                fit_score.setdefault(ls.value, {})[reader] = round(cross_validated_macro_f1(
                    own, ls, reader, pool if reader == "joint+probe" else None), 4)
    # the shipped profile serves a model server too, which returns no hidden state: the
    # probe is a candidate only with --with-probe (a profile for the in-process model)
    candidates = {ls: {r: v for r, v in fit_score[ls.value].items() if args.with_probe or not r.endswith("+probe")}
                  for ls in (LabelSet.THREE, LabelSet.BINARY)}
    default = {ls: args.default_reader or max(candidates[ls], key=candidates[ls].get)
               for ls in (LabelSet.THREE, LabelSet.BINARY)}
    results["default_reader"] = {ls.value: r for ls, r in default.items()}
    results["default_reader_fit_scores"] = fit_score
    default_sections = {ls: fitted[default[ls]][ls] for ls in default}

    # 2. routing with the default reader; the router's threshold chosen in-sample (as
    # shipped) or on out-of-fold probabilities
    oof_sections, budget_sections = {}, {}
    for ls in (LabelSet.THREE, LabelSet.BINARY):
        own = [s for d in DATASETS if label_set_of[d] is ls for s in fit[d] if s.joint]
        oof_sections[ls], _ = fit_section(own, ls, reader=default[ls], budget_fraction=args.budget,
                                          router_threshold="out_of_fold", max_loss=1.0)
        oof_sections[ls].update(shown[ls])
        # the budget kept whatever it costs (max_loss 1): what the router does when made to route
        budget_sections[ls], _ = fit_section(own, ls, reader=default[ls], budget_fraction=args.budget, max_loss=1.0)
        budget_sections[ls].update(shown[ls])
    for d in DATASETS:
        ls = label_set_of[d]
        names = label_names(ls)
        section = default_sections[ls]
        rows = {"direct": apply_section(evals[d], section, ls, "direct"),
                "retrieve": apply_section(evals[d], section, ls, "retrieve"),
                "auto (shipped: fitted router, max loss 0.02)": apply_section(evals[d], section, ls, "auto"),
                "auto (fitted router, budget kept)": apply_section(evals[d], budget_sections[ls], ls, "auto")}
        # PCC with tau alone: read when tau < alpha, alpha fitted on the fit samples within the budget
        rows["auto (tau alone, PCC)"] = apply_section(evals[d], _tau_section(section, fit, d, label_set_of, args.budget), ls, "auto")
        rows["auto (fitted router, budget kept, out-of-fold threshold)"] = apply_section(evals[d], oof_sections[ls], ls,
                                                                                        "auto")
        results["routing"][d] = {name: metrics(out, names) for name, out in rows.items()}

    # 3. leave one data set out: fit everything on the other data sets, evaluate on this one
    for d in DATASETS:
        others = [o for o in DATASETS if o != d]
        ls = label_set_of[d]
        pool = [s for o in others for s in fit[o]]
        own = [s for o in others for s in fit[o] if s.gold in label_names(ls)]
        section, report = fit_section([s for s in own if s.joint], ls, reader=default[ls], budget_fraction=args.budget,
                                      probe_samples=pool if default[ls] == "joint+probe" else None)
        section.update(shown[ls])  # this data set's own selection, as its samples were collected
        results["loso"][d] = {"fitted_on": others, "retrieve": metrics(apply_section(evals[d], section, ls, "retrieve"),
                                                                        label_names(ls))}

    if args.against:
        results["against"] = {"samples": str(args.against),
                              **_against(args, evals, label_set_of, default, raw_logits, default_sections)}

    out = ROOT / "benchmarks" / "results" / "compare.json"
    out.write_text(json.dumps(results, indent=1, default=str) + "\n")
    print_tables(results)
    if args.profile:
        from factcheck.profile import write_profile

        # each section records how its samples chose the evidence its maps were fitted on
        write_profile(args.profile, {ls: {**sec, **shown[ls]} for ls, sec in default_sections.items()},
                      meta={"fitted_on": "shared/data fit splits (benchmarks/splits.py): "
                            + ", ".join(f"{d}_fit{'+fit_more' if d in more else ''} {len(fit[d])}" for d in DATASETS),
                            "command": "python3 benchmarks/compare.py SAMPLES --profile OUT"
                            + (f" --fit-more {args.fit_more}" if more else "") + (" --with-probe" if args.with_probe else ""),
                            "reader": ", ".join(f"{ls.value} {r}" for ls, r in default.items()),
                            "indexes": ", ".join(f"{d}: " + ("BM25 and vectors (index build --vectors)"
                                                             if searched_by_meaning(args.samples, d) else "BM25")
                                                 for d in DATASETS)})


def _against(args, evals, label_set_of, default, raw_logits, default_sections) -> dict:
    """These samples against ``args.against``'s on the same eval claims: the reading as the
    model gives it (nothing fitted, so only what was collected differs) and this collection's
    default kind of reader, fitted on each collection's own fit splits (the other collection's
    own rule might choose another kind: run compare.py on it for that), with paired bootstrap
    intervals of the difference in macro-F1 (this minus the other)."""
    other_fit = {d: load_fit(args.against, d) for d in DATASETS}  # the other as shipped
    shown_against = {label_set_of[d]: shown_settings(args.against, d) for d in DATASETS}
    other_evals = {d: load(args.against, f"{d}_eval") for d in DATASETS}
    if args.splits:
        other_evals = {d: every_claim(other_evals[d], args.splits / f"{d}_eval.jsonl") for d in DATASETS}
    other_sections = {}
    for ls in (LabelSet.THREE, LabelSet.BINARY):
        own = [s for d in DATASETS if label_set_of[d] is ls for s in other_fit[d] if s.joint]
        other_sections[ls], _ = fit_section(own, ls, reader=default[ls], budget_fraction=args.budget)
        other_sections[ls].update(shown_against[ls])
    key = (lambda s: s.id) if args.splits else (lambda s: s.claim)  # ids are per claim only with --splits
    out = {}
    for d in DATASETS:
        ls = label_set_of[d]
        names = label_names(ls)
        shared = {key(s) for s in other_evals[d]} & {key(s) for s in evals[d]}
        these = sorted((s for s in evals[d] if key(s) in shared), key=key)
        others = sorted((s for s in other_evals[d] if key(s) in shared), key=key)
        diff = lambda g, p, q: macro_f1(g, p, names) - macro_f1(g, q, names)  # noqa: E731
        for name, this_section, other_section in (("reading as given", raw_logits[ls], raw_logits[ls]),
                                                  ("default reader", default_sections[ls], other_sections[ls])):
            a = apply_section(these, this_section, ls, "retrieve")
            b = apply_section(others, other_section, ls, "retrieve")
            gold = [o.gold for o in a]
            out.setdefault(d, {})[name] = {
                "claims": len(a), "this": metrics(a, names), "other": metrics(b, names),
                "macro_f1_difference": diff(gold, [o.verdict for o in a], [o.verdict for o in b]),
                "macro_f1_difference_ci": bootstrap(diff, gold, [o.verdict for o in a], [o.verdict for o in b])}
    return out


def _tau_section(section: dict, fit, d, label_set_of, budget):
    """The same section with PCC's tau-alone rule as the router: read when tau < alpha."""
    from factcheck.fit import _closed_distribution, always_read_tokens, reading_tokens, route_outcomes

    ls = label_set_of[d]
    names = label_names(ls)
    samples = [s for o in fit if label_set_of[o] is ls for s in fit[o] if s.joint]
    direct = [_closed_distribution(s).top.value for s in samples]
    evidence = [o.verdict for o in apply_section(samples, section, ls, "retrieve")]
    read_cost = [s.closed_tokens + reading_tokens(s, section["reader"], after_closed=True) for s in samples]
    always = always_read_tokens(samples, section["reader"])
    best = None
    for alpha in sorted({0.0, 1.01, *(round(s.tau, 4) for s in samples)}):
        point = route_outcomes([s.tau < alpha for s in samples], direct, evidence, [s.gold for s in samples],
                               [s.closed_tokens for s in samples], read_cost, names)
        if point.tokens_per_claim <= budget * always and (best is None or point.macro_f1 > best[1]):
            best = (alpha, point.macro_f1)
    alpha = best[0] if best else 0.0
    # tau < alpha reads: a router with weight -1 on tau, intercept alpha, threshold 0.5
    router = {"features": ["tau"], "weights": [-1000.0], "intercept": 1000.0 * alpha, "threshold": 0.5}
    return {**section, "router": router}


def print_tables(results: dict) -> None:
    print("\n## Readers (retrieve route), eval splits\n")
    print("| reader | set | accuracy | macro-F1 | AUROC | ECE | predicted | tokens/claim |")
    print("|---|---|---|---|---|---|---|---|")
    for reader, per_set in results["readers"].items():
        for d, m in per_set.items():
            if d == "fit":
                continue
            print(f"| {reader} | {d} | {fmt(m, 'accuracy')} | {fmt(m, 'macro_f1')} | {fmt(m, 'auroc')} | "
                  f"{fmt(m, 'ece')} | {m['predicted']} | {m['tokens_per_claim']:.0f} |")
    print(f"\ndefault reader per label set (cross-validated macro-F1 on the fit claims): {results['default_reader']} "
          f"{results['default_reader_fit_scores']}")
    print("\n## Routing with the default reader\n")
    print("| set | strategy | macro-F1 | accuracy | AUROC | ECE | read rate | tokens/claim |")
    print("|---|---|---|---|---|---|---|---|")
    for d, rows in results["routing"].items():
        for name, m in rows.items():
            print(f"| {d} | {name} | {fmt(m, 'macro_f1')} | {fmt(m, 'accuracy')} | {fmt(m, 'auroc')} | "
                  f"{fmt(m, 'ece')} | {m['read_rate']:.2f} | {m['tokens_per_claim']:.0f} |")
    if "against" in results:
        print(f"\n## These samples against {results['against']['samples']} (retrieve route, same claims)\n")
        print("| set | reading | macro-F1 here | macro-F1 there | difference | tokens/claim here / there |")
        print("|---|---|---|---|---|---|")
        for d, rows in results["against"].items():
            if d == "samples":
                continue
            for name, row in rows.items():
                ci = row["macro_f1_difference_ci"]
                print(f"| {d} | {name} | {fmt(row['this'], 'macro_f1')} | {fmt(row['other'], 'macro_f1')} | "
                      f"{row['macro_f1_difference']:+.3f} [{ci[0]:+.3f}, {ci[1]:+.3f}] | "
                      f"{row['this']['tokens_per_claim']:.0f} / {row['other']['tokens_per_claim']:.0f} |")
    print("\n## Leave one data set out (retrieve route)\n")
    print("| held-out set | fitted on | macro-F1 | AUROC | ECE |")
    print("|---|---|---|---|---|")
    for d, row in results["loso"].items():
        m = row["retrieve"]
        print(f"| {d} | {' + '.join(row['fitted_on'])} | {fmt(m, 'macro_f1')} | {fmt(m, 'auroc')} | {fmt(m, 'ece')} |")


if __name__ == "__main__":
    main()
