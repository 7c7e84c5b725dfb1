"""Benchmark the direct route against a bare llama-cpp-python forward pass.

Measured side by side in one run, on the same tokens, interleaved claim by claim:
  pipeline_fresh   Pipeline.check() with the KV cache cleared first (same work as bare)
  pipeline_cached  Pipeline.check() as it runs in practice (shared prompt prefix reused)
  bare             llm.reset(); llm.eval(tokens); read the last logits
and, in subprocesses: cold start to the first verdict and peak RSS of `factcheck check`.

Usage: python benchmarks/bench_direct.py [--claims 20] [--out benchmarks/results/direct.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT))  # after site-packages: the installed factcheck, tests/ helpers from the checkout
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import bare_pass  # noqa: E402

from factcheck.config.settings import resolve  # noqa: E402
from factcheck.model.loader import open_model  # noqa: E402
from factcheck.pipeline import Pipeline, compose  # noqa: E402
from factcheck.schema import Claim  # noqa: E402


def load_claims(n: int) -> list[str]:
    path = ROOT.parent / "shared" / "data" / "fm2" / "claims_dev.jsonl"
    with path.open() as fh:
        return [json.loads(line)["claim"] for _, line in zip(range(n), fh)]


def in_process(n: int) -> dict:
    model = open_model(resolve({}))
    checker = Pipeline(compose(model))
    claims = load_claims(n)
    fresh, cached, bare, cached_tokens = [], [], [], []
    checker.check(Claim(id="warmup", text=claims[0]))
    for i, text in enumerate(claims):
        tokens = model.chat_tokens(checker.stages.gateway._messages("verdict_closed", claim=text))
        bare.append(bare_pass(model._llm, tokens))
        model._llm.reset()
        start = time.perf_counter()
        checker.check(Claim(id=str(i), text=text))
        fresh.append(time.perf_counter() - start)
        # the previous claim's prompt is in the KV cache: the usual state in a run
        checker.check(Claim(id="prev", text=claims[i - 1]))
        start = time.perf_counter()
        record = checker.check(Claim(id=str(i), text=text))
        cached.append(time.perf_counter() - start)
        cached_tokens.append(record.tokens.prompt)
    med = statistics.median
    return {
        "claims": n,
        "prompt_tokens_per_claim_full": statistics.mean(len(model.chat_tokens(checker.stages.gateway._messages("verdict_closed", claim=c))) for c in claims),
        "prompt_tokens_per_claim_cached": statistics.mean(cached_tokens),
        "median_ms_bare_forward": round(med(bare) * 1000, 1),
        "median_ms_direct_fresh_kv": round(med(fresh) * 1000, 1),
        "median_ms_direct_prefix_cached": round(med(cached) * 1000, 1),
        "ratio_direct_fresh_over_bare": round(med(fresh) / med(bare), 3),
        "ratio_direct_cached_over_bare": round(med(cached) / med(bare), 3),
    }


def cold_start() -> dict:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-P", "-m", "factcheck", "check", "--json",
                           "The Eiffel Tower is in Berlin."], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(proc.stderr)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"cold_start_to_first_verdict_s": round(seconds, 2),
            "peak_rss_factcheck_check_mb": round(peak_kib / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=20)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "direct.json")
    args = parser.parse_args()
    result = {**cold_start(), **in_process(args.claims)}  # cold start first: the page cache is warm either way
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
