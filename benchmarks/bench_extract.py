"""Claim extraction measured on hand-labeled paragraphs, today's release against an earlier one,
side by side on the same documents, one model process at a time.

    python3 benchmarks/bench_extract.py --baseline ce58983   # writes benchmarks/results/extract.json

Hand-labeled sets (tests/fixtures/extraction): ``paragraphs`` (12 paragraphs, 27 sentences:
the rules were written from it), ``heldout`` (12 paragraphs of other kinds of text, 52
sentences, every sentence labeled before any rule was written) and ``heldout_more`` (12 more,
49 sentences, labeled before any rule ran on them); ``heldout_all`` is the two together.

- precision: claims that state one of the paragraph's facts (hold all its words);
- recall: facts some claim states;
- faithful: claims whose every content word is in their sentence or the two before it;
- coverage (held-out sets): sentences that state a fact and gave a claim; "accounted": sentences
  stating none that are listed as not checked, and with the labeled reason;
- seconds per sentence, the whole extraction (model calls and rules) over every sentence.
Bootstrap 95% intervals over the paragraphs (seed 0, 2,000 resamples). The baseline runs
from a wheel of ``--baseline`` installed into a scratch folder, in a subprocess.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
FIXTURES = ROOT / "tests" / "fixtures" / "extraction"
SETS = {"paragraphs": FIXTURES / "paragraphs.jsonl", "heldout": FIXTURES / "heldout.jsonl",
        "heldout_more": FIXTURES / "heldout_more.jsonl"}

# Run inside the baseline's environment: its extract_claims over every paragraph, as JSON.
_BASELINE = """
import json, sys, time
from factcheck.claims import extract as extraction
from factcheck.config.settings import resolve
from factcheck.cost import Meter
from factcheck.model.loader import open_model
from factcheck.reading.gateway import ModelGateway
from factcheck.schema import LabelSet
gateway = ModelGateway(open_model(resolve({})), LabelSet.THREE)
out = {}
for line in sys.stdin:
    row = json.loads(line)
    start = time.perf_counter()
    found = extraction.extract_claims(gateway, row["text"], row["id"], Meter())
    found = getattr(found, "claims", found)
    out[row["id"]] = {"seconds": time.perf_counter() - start,
                      "claims": [{"claim": c.claim, "sentence": c.sentence} for c in found], "unchecked": []}
print(json.dumps(out))
"""


def normal(text: str) -> str:
    return " ".join(text.lstrip("-*+ ").split())


def measure(rows: list[dict], runs: dict) -> dict:
    """The figures for ``runs`` (per paragraph id: claims with their sentence, unchecked
    sentences with their reason) on ``rows``."""
    from factcheck.claims.extract import sentences
    from factcheck.text import terms

    n = {k: 0 for k in ("claims", "right", "facts", "found", "faithful", "factual", "covered", "none",
                        "listed", "reason_right", "sentences")}
    for row in rows:
        run = runs[row["id"]]
        facts = [set(terms(" ".join(f))) for f in _facts(row)]
        got = [set(terms(c["claim"])) for c in run["claims"]]
        n["claims"] += len(got)
        n["facts"] += len(facts)
        n["right"] += sum(any(f <= g for f in facts) for g in got)
        n["found"] += sum(any(f <= g for g in got) for f in facts)
        split = [normal(s) for _, _, s in sentences(row["text"])]
        n["sentences"] += len(split)
        for c in run["claims"]:
            at = split.index(normal(c["sentence"])) if normal(c["sentence"]) in split else 0
            span = set(terms(" ".join(split[max(0, at - 2):at + 1])))
            n["faithful"] += set(terms(c["claim"])) <= span
        if "sentences" not in row:
            continue
        claimed = {normal(c["sentence"]) for c in run["claims"]}
        listed = {normal(u["sentence"]): u["reason"] for u in run["unchecked"]}
        for labeled in row["sentences"]:
            text = normal(labeled["text"])
            if labeled["reason"] is None:
                n["factual"] += 1
                n["covered"] += text in claimed
            else:
                n["none"] += 1
                n["listed"] += text in listed
                n["reason_right"] += listed.get(text) == labeled["reason"]
    out = {"claims": n["claims"], "facts": n["facts"], "sentences": n["sentences"],
           "precision": n["right"] / n["claims"] if n["claims"] else None, "recall": n["found"] / n["facts"],
           "faithful": n["faithful"] / n["claims"] if n["claims"] else None}
    if n["factual"]:
        out.update(coverage=n["covered"] / n["factual"], factual_sentences=n["factual"], sentences_without_fact=n["none"])
    if n["none"]:  # (a resample can hold none)
        out.update(accounted=n["listed"] / n["none"], reason_right=n["reason_right"] / n["none"])
    return out


def _facts(row: dict) -> list[list[str]]:
    return row["facts"] if "facts" in row else [f for s in row["sentences"] for f in s["facts"]]


def with_intervals(rows: list[dict], runs: dict, seed: int = 0, resamples: int = 2000) -> dict:
    point = measure(rows, runs)
    rng = random.Random(seed)
    draws: dict[str, list[float]] = {}
    for _ in range(resamples):
        sample = measure([rng.choice(rows) for _ in rows], runs)
        for key, value in sample.items():
            if isinstance(value, float):
                draws.setdefault(key, []).append(value)
    for key, values in draws.items():
        values.sort()
        point[f"{key}_ci"] = [round(values[int(0.025 * len(values))], 3), round(values[int(0.975 * len(values)) - 1], 3)]
    return point


def current(rows: list[dict]) -> dict:
    from factcheck.claims.extract import extract_claims
    from factcheck.config.settings import resolve
    from factcheck.cost import Meter
    from factcheck.model.loader import open_model
    from factcheck.reading.gateway import ModelGateway
    from factcheck.schema import LabelSet

    gateway = ModelGateway(open_model(resolve({})), LabelSet.THREE)
    out = {}
    for row in rows:
        start = time.perf_counter()
        found = extract_claims(gateway, row["text"], row["id"], Meter())
        out[row["id"]] = {"seconds": time.perf_counter() - start, "generations": found.generations,
                          "claims": [{"claim": c.claim, "sentence": c.sentence, "made": c.made} for c in found.claims],
                          "unchecked": [{"sentence": u.sentence, "reason": u.reason} for u in found.unchecked]}
    return out


def baseline(rows: list[dict], revision: str) -> dict:
    """``revision``'s extraction: a wheel of it installed into a scratch folder, run there."""
    scratch = Path(tempfile.mkdtemp(prefix="extract-baseline-"))
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(scratch / "src"), revision],
                   check=True, capture_output=True)
    try:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                        "--target", str(scratch / "site"), str(scratch / "src")], check=True)
        env = dict(os.environ, PYTHONPATH=str(scratch / "site"))
        done = subprocess.run([sys.executable, "-c", _BASELINE], input="".join(json.dumps(r) + "\n" for r in rows),
                              capture_output=True, text=True, env=env, check=True, cwd=scratch)
        return json.loads(done.stdout)
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(scratch / "src")],
                       capture_output=True)


def main() -> None:
    from common import cpu_name, write

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", metavar="REV", help="an earlier release's commit to measure beside this one")
    args = parser.parse_args()
    sets = {name: [json.loads(line) for line in path.open(encoding="utf-8")] for name, path in SETS.items()}
    everything = [r for rows in sets.values() for r in rows]
    sets["heldout_all"] = sets["heldout"] + sets["heldout_more"]  # 101 sentences, 152 facts
    runs = {"current": current(everything)}
    if args.baseline:
        runs["baseline"] = baseline(everything, args.baseline)
    result = {"baseline": args.baseline, "cpu": cpu_name(), "sets": {}}
    for name, rows in sets.items():
        result["sets"][name] = {}
        for which, run in runs.items():
            figures = with_intervals(rows, run)
            seconds = sum(run[r["id"]]["seconds"] for r in rows)
            figures["seconds_per_sentence"] = round(seconds / figures["sentences"], 3)
            if which == "current":
                figures["generations"] = sum(run[r["id"]]["generations"] for r in rows)
            result["sets"][name][which] = figures
    if args.baseline:
        for name in sets:
            pair = result["sets"][name]
            pair["speedup"] = round(pair["baseline"]["seconds_per_sentence"] / pair["current"]["seconds_per_sentence"], 2)
    result["claims"] = {which: {r["id"]: run[r["id"]] for r in everything} for which, run in runs.items()}
    write("extract.json", result)


if __name__ == "__main__":
    main()
