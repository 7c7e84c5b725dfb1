"""Fixed, stratified, disjoint fit/eval splits of ../shared/data, written as JSON Lines.

    python3 benchmarks/splits.py [OUT_DIR]     # default benchmarks/out/splits

Every figure in docs/results.md is measured on an ``*_eval`` file and fitted on ``*_fit``
files only (benchmarks/shipped_profile.toml names the fit files the shipped profile is fitted on). Seed 0; each split is stratified by label and the fit and eval parts of one
file never share a claim (nor a claim text: Check-COVID repeats texts across labels).

| set | fit (from) | eval (from) |
|---|---|---|
| scifact | 180 = 60/60/60 (claims_train) | 150 = 50/50/50 (claims_train, other claims) |
| fm2 | 200 = 100/100 (claims_dev) | 150 = 75/75 (claims_dev, other claims) |
| covid | 150 = 50/50/50 (claims_train) | 150 = 50/50/50 (claims_dev) |

The ``*_fit_more`` files are further fit claims, drawn after the splits above and disjoint
from both, for measuring what more fit claims buy (docs/experiments.md, "More fit claims"; the
shipped binary section is fitted on fm2_fit and the first 300 of fm2_fit_more): scifact 180 = 60/60/60 (claims_train),
covid 150 = 50/50/50 (claims_train), fm2 796 = 100/100 then 298/298 (claims_dev; what is
left of it, balanced).
"""

from __future__ import annotations

import json
import random
import sys
from collections import defaultdict
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SEED = 0


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def stratified(rows: list[dict], per_label: dict[str, int], seed: int, exclude: set[str] = frozenset()) -> list[dict]:
    """``per_label[label]`` claims of each label, drawn with ``seed``, skipping claim texts in
    ``exclude``; returned in a seeded shuffled order so a --limit prefix stays mixed."""
    rng = random.Random(seed)
    by_label: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        if row["claim"].strip().casefold() not in exclude:
            by_label[row["label"]].append(row)
    chosen = []
    for label, n in per_label.items():
        pool = sorted(by_label[label], key=lambda r: r["id"])
        rng.shuffle(pool)
        if len(pool) < n:
            raise SystemExit(f"only {len(pool)} {label} claims, {n} wanted")
        chosen += pool[:n]
    rng.shuffle(chosen)
    return chosen


def texts(rows: list[dict]) -> set[str]:
    return {r["claim"].strip().casefold() for r in rows}


def make_splits() -> dict[str, list[dict]]:
    three = ("SUPPORTED", "REFUTED", "NOT_ENOUGH_INFO")
    scifact = _rows(DATA / "scifact" / "claims_train.jsonl")
    sci_eval = stratified(scifact, dict.fromkeys(three, 50), SEED)
    sci_fit = stratified(scifact, dict.fromkeys(three, 60), SEED + 1, texts(sci_eval))
    fm2 = _rows(DATA / "fm2" / "claims_dev.jsonl")
    fm2_eval = stratified(fm2, dict.fromkeys(three[:2], 75), SEED)
    fm2_fit = stratified(fm2, dict.fromkeys(three[:2], 100), SEED + 1, texts(fm2_eval))
    covid_train = _rows(DATA / "check-covid" / "claims_train.jsonl")
    covid_fit = stratified(covid_train, dict.fromkeys(three, 50), SEED)
    covid_eval = stratified(_rows(DATA / "check-covid" / "claims_dev.jsonl"), dict.fromkeys(three, 50), SEED,
                            texts(covid_fit))
    # further fit claims, drawn last so the splits above stay as they were measured
    sci_more = stratified(scifact, dict.fromkeys(three, 60), SEED + 2, texts(sci_eval) | texts(sci_fit))
    covid_more = stratified(covid_train, dict.fromkeys(three, 50), SEED + 2, texts(covid_eval) | texts(covid_fit))
    fm2_more = stratified(fm2, dict.fromkeys(three[:2], 100), SEED + 2, texts(fm2_eval) | texts(fm2_fit))
    # a second draw, as the claims were measured (in two runs); together, all FM2 dev has left
    fm2_more += stratified(fm2, dict.fromkeys(three[:2], 298), SEED + 3,
                           texts(fm2_eval) | texts(fm2_fit) | texts(fm2_more))
    return {"scifact_fit": sci_fit, "scifact_eval": sci_eval, "fm2_fit": fm2_fit, "fm2_eval": fm2_eval,
            "covid_fit": covid_fit, "covid_eval": covid_eval,
            "scifact_fit_more": sci_more, "fm2_fit_more": fm2_more, "covid_fit_more": covid_more}


def main(out: Path) -> None:
    if not DATA.is_dir():
        raise SystemExit(f"shared data not found at {DATA}")
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in make_splits().items():
        (out / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        print(f"{name}: {len(rows)} claims", file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "out" / "splits")
