"""The model in-process against the same model behind a server, on the same claims in one
run: claims/min, model tokens/claim, the HTTP path's time as a ratio of in-process, the
client's peak RSS, and whether the verdicts agree.

Runs `factcheck batch --route retrieve` over the first N FM2 dev claims with a BM25 index of
FM2's dev corpus (result cache off), as:

- in-process (the default);
- `factcheck serve` (factcheck's own server: llama-server's API over the in-process
  model), --workers 1 and 2;
- llama-cpp-python's server as it comes (`python -m llama_cpp.server`), if
  ``--plain-llama-cpp-server`` is given (it repacks weights, which crashes on AMX CPUs);
- llama.cpp's llama-server, if ``--llama-server PATH`` is given, with ``--parallel 2``
  slots, --workers 1 and 2.

Each server is started fresh for each run, with 2 threads (the machine's cores), and
stopped before the next run, so no run competes with another model for CPU or is served
from another run's prompt cache.

    python benchmarks/bench_server.py --claims 30 [--llama-server /path/to/llama-server]
        [--plain-llama-cpp-server] [--out bench_server.json]
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from common import DATA, ROOT, sampled_batch, write


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def batch(claims: Path, index: Path, extra: list[str]) -> dict:
    records, seconds, samples, _ = sampled_batch(["--labels", "binary", "--index", str(index), "--route", "retrieve",
                                                  *extra], claims, every=0.2)
    ok = [r for r in records if not r["error"]]
    return {
        "claims": len(records), "errors": len(records) - len(ok), "seconds": round(seconds, 1),
        "claims_per_min": round(60 * len(records) / seconds, 2),
        "model_tokens_per_claim": round(sum(r["tokens"]["prompt"] for r in ok) / max(1, len(ok)), 1),
        "client_peak_rss_mb": round(max((peak for _, _, peak, _ in samples), default=0.0), 1),
        "_verdicts": {r["id"]: r["verdict"] for r in ok},
        "_probs": {r["id"]: r["label_probs"] for r in ok},
    }


def serve(command: list[str], base: str) -> subprocess.Popen:
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline:
        try:
            if httpx.get(f"{base}/v1/models", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"server did not start: {' '.join(command)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=30)
    parser.add_argument("--llama-server", type=Path, help="a llama-server binary, to run it too")
    parser.add_argument("--plain-llama-cpp-server", action="store_true",
                        help="also run python -m llama_cpp.server as it comes (crashes on AMX CPUs)")
    parser.add_argument("--out", default="bench_server.json", help="result file name under benchmarks/results")
    args = parser.parse_args()
    from factcheck.model.files import ensure_default_model

    model = ensure_default_model()
    work = Path(tempfile.mkdtemp())
    rows = [json.loads(line) for line in (DATA / "fm2" / "claims_dev.jsonl").open()][: args.claims]
    claims = work / "claims.jsonl"
    claims.write_text("".join(json.dumps({"id": r["id"], "claim": r["claim"]}) + "\n" for r in rows))
    subprocess.run([sys.executable, "-P", "-m", "factcheck", "index", "build", str(DATA / "fm2" / "corpus_dev.jsonl"),
                    "-o", str(work / "idx")], check=True, capture_output=True, cwd=ROOT)
    runs: dict[str, dict] = {"in-process": batch(claims, work / "idx", [])}

    servers = {"factcheck serve": lambda port: [
        sys.executable, "-m", "factcheck", "serve", "--model", str(model), "--host", "127.0.0.1", "--port", str(port),
        "--ctx", "4096", "--threads", "2"]}
    if args.plain_llama_cpp_server:
        servers["llama-cpp-python server"] = lambda port: [
            sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1", "--port", str(port),
            "--n_ctx", "4096", "--n_threads", "2", "--verbose", "false"]
    if args.llama_server:
        servers["llama-server --parallel 2"] = lambda port: [
            str(args.llama_server), "-m", str(model), "--host", "127.0.0.1", "--port", str(port),
            "-c", "8192", "--parallel", "2", "-t", "2", "--log-disable"]
    for name, command in servers.items():
        for workers in (1, 2):
            # a fresh server per run: llama-server keeps a cache of earlier prompts, which
            # would serve the second run's prompts from the first's
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            proc = serve(command(port), base)
            try:
                runs[f"{name}, --workers {workers}"] = batch(claims, work / "idx",
                                                            ["--api-base", f"{base}/v1", "--workers", str(workers)])
            finally:
                proc.terminate()
                proc.wait(timeout=60)

    local = runs["in-process"]
    for name, run in runs.items():
        shared = [i for i in run["_verdicts"] if i in local["_verdicts"]]
        run["verdicts_equal_to_in_process"] = f"{sum(run['_verdicts'][i] == local['_verdicts'][i] for i in shared)}/{len(shared)}"
        run["max_label_prob_difference"] = round(max(
            (abs(run["_probs"][i][k] - local["_probs"][i][k]) for i in shared for k in local["_probs"][i]),
            default=0.0), 4)
        run["seconds_vs_in_process"] = round(run["seconds"] / local["seconds"], 2)
    result = {"claims": len(rows), "route": "retrieve", "labels": "binary", "source": "FM2 dev, first N claims",
              "runs": {name: {k: v for k, v in run.items() if not k.startswith("_")} for name, run in runs.items()}}
    write(args.out, result)


if __name__ == "__main__":
    main()
