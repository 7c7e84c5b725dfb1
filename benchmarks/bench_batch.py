"""Batch throughput and memory: claims per minute, and peak RSS sampled along the run.

The model loads once; the shared prompt prefix stays in the KV cache across claims.
Runs `factcheck batch` in a subprocess on the first N FM2 dev claims, sampling the child's
RSS from /proc every 0.5 s, for the direct route and for auto routing (loopback MediaWiki
server over FM2's corpus as the evidence source). The result cache is off. The direct run
uses ``--consistency none`` (one forward pass per claim: the throughput ceiling); auto runs
with the defaults (framings).

    python benchmarks/bench_batch.py --direct 100 --auto 20
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from common import DATA, ROOT, sampled_batch, write


def run(claims: Path, extra: list[str]) -> dict:
    records, seconds, sampled, stderr = sampled_batch(["--labels", "binary", *extra], claims)
    samples = [(t, rss, done) for t, rss, _, done in sampled]  # (seconds, rss MB, records written)
    first = next(t for t, _, n in samples if n >= 1)
    # memory once the model is loaded and the first claims are done, against the end
    settled = [r for t, r, n in samples if n >= min(5, len(records))]
    return {
        "claims": len(records),
        "wall_seconds": round(seconds, 1),
        "claims_per_minute_after_first": round((len(records) - 1) / (seconds - first) * 60, 2),
        "seconds_to_first_record": round(first, 1),
        "rss_mb_after_5_claims": round(settled[0], 1) if settled else None,
        "rss_mb_peak": round(max(r for _, r, _ in samples), 1),
        "rss_mb_at_end": round(settled[-1], 1) if settled else None,
        "routes": {r: sum(x["route"] == r for x in records) for r in {x["route"] for x in records}},
        "summary": stderr.strip().splitlines()[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--direct", type=int, default=100)
    parser.add_argument("--auto", type=int, default=30)
    args = parser.parse_args()
    rows = [json.loads(line) for line in (DATA / "fm2" / "claims_dev.jsonl").open()]

    def claims_file(n: int) -> Path:
        path = Path(tempfile.mkdtemp()) / "claims.jsonl"
        path.write_text("".join(json.dumps({"id": r["id"], "claim": r["claim"]}) + "\n" for r in rows[:n]))
        return path

    sys.path.append(str(ROOT))  # after site-packages: the installed factcheck, tests/ helpers from the checkout
    from tests.wiki_server import WikiServer, load_pages

    server = WikiServer(load_pages(DATA / "fm2" / "corpus_dev.jsonl")).start()
    try:
        result = {
            "direct": run(claims_file(args.direct), ["--route", "direct", "--consistency", "none"]),
            "auto": run(claims_file(args.auto), ["--web", "wikipedia", "--web-url", server.api]),
        }
    finally:
        server.stop()
    write("batch.json", result)


if __name__ == "__main__":
    main()
