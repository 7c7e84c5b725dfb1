"""The shipped profile on every collected claim its fit never saw, pooled, for intervals a
150-claim eval split cannot give. (No language model: stored samples, replayed.)

    python3 benchmarks/held_apart.py SAMPLES --splits SPLITS --labels binary \
        --part fm2_eval --part fm2_fit_more:300

A part is a split collected into SAMPLES: SPLIT, SPLIT:N (its claims after the first N, when
``collect_samples.py --limit N`` took those to fit the profile; the profile's meta says how
many) or SPLIT::N (its first N). Each part is scored alone and all of them pooled, with the
default model's shipped profile section for the label set applied as the pipeline applies
it (``fit.apply_section``, retrieve route). Also, for the supported and refuted claims, how often
the verdict is right when a sentence of a gold document was shown and when not: whether finding
or reading is what fails. Writes results/held_apart_<first part's data set>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import write  # noqa: E402
from compare import every_claim, fmt, load, metrics  # noqa: E402

from factcheck.config import read_profile  # noqa: E402
from factcheck.fit import apply_section, label_names  # noqa: E402
from factcheck.labels import LabelSet  # noqa: E402
from factcheck.model_files import DEFAULT_MODEL_SHA256  # noqa: E402


def part_samples(samples_dir: Path, splits: Path, part: str) -> tuple[list, list[dict]]:
    """The samples and labeled claims of a part: SPLIT, SPLIT:N (its claims after the first
    N) or SPLIT::N (its first N); every claim must have been collected."""
    name, _, rest = part.partition(":")
    start, _, stop = rest.partition(":")
    claims = [json.loads(line) for line in (splits / f"{name}.jsonl").read_text().splitlines()]
    claims = claims[int(start or 0):int(stop) if stop else None]
    wanted = {c["id"] for c in claims}
    samples = [s for s in every_claim(load(samples_dir, name), splits / f"{name}.jsonl", collected_only=True)
               if s.id in wanted]
    if len(samples) < len(wanted):
        raise SystemExit(f"{part}: {len(wanted) - len(samples)} of its claims are not collected in {samples_dir}")
    return samples, claims


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("samples", type=Path)
    parser.add_argument("--splits", type=Path, required=True)
    parser.add_argument("--labels", choices=[ls.value for ls in LabelSet], required=True)
    parser.add_argument("--part", action="append", required=True, help="SPLIT, SPLIT:N (its claims after the first N) or SPLIT::N (its first N)")
    parser.add_argument("--profile", type=Path, default=ROOT / "factcheck" / "profiles" / f"{DEFAULT_MODEL_SHA256}.toml")
    args = parser.parse_args()
    label_set = LabelSet(args.labels)
    section = read_profile(args.profile, label_set, DEFAULT_MODEL_SHA256, explicit=True)
    names = label_names(label_set)
    results, pooled, gold_counts = {}, [], {}
    for part in args.part:
        samples, claims = part_samples(args.samples, args.splits, part)
        outcomes = apply_section(samples, section, label_set, "retrieve")
        results[part] = metrics(outcomes, names)
        pooled += outcomes
        evidence = {c["id"]: {e["doc_id"] for e in c.get("evidence") or []} for c in claims}
        for s, o in zip(samples, outcomes):
            if s.gold != "NOT_ENOUGH_INFO" and evidence[s.id]:  # is finding or reading the bottleneck?
                seen = "gold_shown" if evidence[s.id] & set(s.shown_docs) else "gold_not_shown"
                gold_counts.setdefault(seen, [0, 0])
                gold_counts[seen][0] += o.verdict == o.gold
                gold_counts[seen][1] += 1
    results["pooled"] = metrics(pooled, names)
    results["pooled"]["right_by_gold_document"] = {k: {"right": r, "claims": n, "rate": r / n}
                                                   for k, (r, n) in gold_counts.items()}
    print("| claims | accuracy | macro-F1 | AUROC | ECE | predicted | tokens/claim |")
    print("|---|---|---|---|---|---|---|")
    for part, m in results.items():
        print(f"| {part} ({m['claims']}) | {fmt(m, 'accuracy')} | {fmt(m, 'macro_f1')} | {fmt(m, 'auroc')} | "
              f"{fmt(m, 'ece')} | {m['predicted']} | {m['tokens_per_claim']:.0f} |")
    for seen, c in results["pooled"]["right_by_gold_document"].items():
        shown = "with" if seen == "gold_shown" else "without"
        print(f"supported and refuted claims {shown} a gold document's sentence shown: "
              f"{c['right']} of {c['claims']} right ({c['rate']:.3f})")
    write(f"held_apart_{args.part[0].split('_')[0]}.json", {"profile": args.profile.name, "parts": args.part, "results": results})


if __name__ == "__main__":
    main()
