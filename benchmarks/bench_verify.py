"""The verify stage against a bare llama.cpp pass over the same tokens, side by side, and
start-up: cold (no answer-token map kept), warm (the map kept) and a run answered whole
from the result cache (no model loaded).

Verify, interleaved claim by claim on the first N FM2 eval claims (benchmarks/splits.py),
with the sentences a check would read (BM25 over FM2's dev corpus, 4 sentences by words):
  verify   the evidence reading as a check runs it (Reader.read: prompt rendering, fitting
           every sentence to its budget, the pass, reading the three answers), KV cache cleared
  bare     llm.reset(); llm.eval(the same tokens); the last logits
Start-up, each in a fresh process, one after the other: `factcheck check` of one claim.

    python3 benchmarks/bench_verify.py [--claims 30]     # writes benchmarks/results/verify.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT))  # after site-packages: the installed factcheck, tests/ helpers from the checkout
sys.path.insert(0, str(ROOT / "benchmarks"))


def verify_stage(claims: int, indexes: Path) -> dict:
    from common import bare_pass, index_for

    from factcheck.config.settings import resolve
    from factcheck.cost import Meter
    from factcheck.model.loader import open_model
    from factcheck.pipeline import build_pipeline, configure
    from factcheck.schema import LabelSet

    settings, profile = configure(resolve({"index": [index_for("fm2", indexes)], "labels": LabelSet.THREE.value,
                                           "ctx": 2048, "selection": "words", "k": 5}))
    model = open_model(settings)
    checker = build_pipeline(settings, lambda _s: model, profile)
    rows = [json.loads(line) for line in (ROOT / "benchmarks" / "out" / "splits" / "fm2_eval.jsonl").open()][:claims]
    verify, bare, tokens = [], [], []
    for row in rows:
        claim = row["claim"]
        stages = checker.stages
        passages = stages.search.sources[0].search(claim, stages.search.k)
        sentences = stages.select.pick(claim, passages)
        if not sentences:
            continue
        model._llm.reset()
        meter = Meter()
        start = time.perf_counter()
        stages.read.reader.read(stages.gateway, claim, sentences, meter)
        verify.append(time.perf_counter() - start)
        prompt_tokens = list(model._llm.input_ids[: model._llm.n_tokens])  # exactly what the pass evaluated
        tokens.append(len(prompt_tokens))
        bare.append(bare_pass(model._llm, prompt_tokens))
    return {"claims": len(verify), "tokens_per_claim": statistics.mean(tokens),
            "verify_seconds": sum(verify), "bare_seconds": sum(bare),
            "verify_tokens_per_second": sum(tokens) / sum(verify), "bare_tokens_per_second": sum(tokens) / sum(bare),
            "ratio_verify_to_bare": sum(verify) / sum(bare)}


def start_up() -> dict:
    """Wall time of `factcheck check` of one claim, in fresh processes."""
    cache = Path(tempfile.mkdtemp())
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "XDG_CONFIG_HOME": str(cache / "config")}
    claim = "The Eiffel Tower is in Paris."

    def run(*extra: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-P", "-m", "factcheck", "check", "--json", *extra, claim], env=env,
                       capture_output=True, check=False)
        return time.perf_counter() - start

    run("--no-cache")  # assembles the default model into this cache folder once
    results = {}
    for _ in range(3):
        shutil.rmtree(cache / "factcheck" / "token-maps", ignore_errors=True)
        results.setdefault("cold_seconds", []).append(run("--no-cache"))  # maps made from the vocabulary
        results.setdefault("warm_seconds", []).append(run("--no-cache"))  # maps read from the cache folder
    run()  # into the result cache
    results["cached_result_seconds"] = [run() for _ in range(3)]  # answered whole: no model loaded
    shutil.rmtree(cache, ignore_errors=True)
    return {k: statistics.median(v) for k, v in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=30)
    parser.add_argument("--indexes", type=Path, default=Path(tempfile.gettempdir()) / "factcheck-bench-indexes")
    args = parser.parse_args()
    from common import write

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
    result = {"cpu": cpu, "threads": os.cpu_count(), "verify": verify_stage(args.claims, args.indexes),
              "start_up": start_up()}
    print(json.dumps(result, indent=1), file=sys.stderr)
    write("verify.json", result)


if __name__ == "__main__":
    main()
