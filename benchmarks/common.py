"""What the benchmark scripts share: the shared data, samples and evidence sources."""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results"
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # after site-packages: the installed factcheck, tests/ helpers from the checkout

from factcheck.schema import LabelSet  # noqa: E402


def shuffled(path: Path, seed: int) -> list[dict]:
    rows = [json.loads(line) for line in path.open()]
    random.Random(seed).shuffle(rows)
    return rows


def dataset(name: str, seed: int):
    """(claims shuffled with ``seed``, evidence source, label set, gold-doc function, closer)."""
    if name == "scifact":
        from factcheck.retrievers.local_index import LocalIndex, build_index

        folder = Path(tempfile.mkdtemp()) / "scifact"
        build_index([str(DATA / "scifact" / "corpus.jsonl")], folder)
        rows = shuffled(DATA / "scifact" / "claims_train.jsonl", seed)
        return rows, LocalIndex(folder), LabelSet.THREE, lambda r: {e["doc_id"] for e in r["evidence"]}, lambda: None
    from factcheck.retrievers.http import Fetcher, WebOptions
    from factcheck.retrievers.mediawiki import MediaWiki

    from tests.wiki_server import WikiServer, load_pages

    server = WikiServer(load_pages(DATA / "fm2" / "corpus_dev.jsonl")).start()
    title_of = {}
    for line in (DATA / "fm2" / "corpus_dev.jsonl").open():
        row = json.loads(line)
        title_of[row["id"]] = row["title"]
    rows = shuffled(DATA / "fm2" / "claims_dev.jsonl", seed)
    source = MediaWiki(Fetcher(WebOptions(allow_private=True)), server.api)
    gold = lambda r: {title_of[e["doc_id"]] for e in r["evidence"] if e["doc_id"] in title_of}  # noqa: E731
    return rows, source, LabelSet.BINARY, gold, server.stop


def mean(values) -> float:
    values = list(values)
    return round(statistics.mean(values), 3) if values else 0.0


def cpu_name() -> str:
    """The CPU's model name as ``lscpu`` gives it: speeds are reported with it."""
    import subprocess

    try:
        return next(line.split(":", 1)[1].strip() for line in subprocess.run(
            ["lscpu"], capture_output=True, text=True).stdout.splitlines() if line.startswith("Model name"))
    except (OSError, StopIteration):
        return "unknown"


def write(name: str, result: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


def _proc_status_mb(pid: int, field: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def sampled_batch(extra: list[str], claims: Path, every: float = 0.5):
    """Run ``factcheck batch CLAIMS -o OUT --no-cache EXTRA`` in a subprocess, sampling
    it every ``every`` seconds (its RSS and peak RSS are gone once it exits). Returns
    (records, seconds, samples as (seconds, rss MB, peak rss MB, records written), stderr)."""
    import subprocess
    import threading
    import time

    out = Path(tempfile.mkdtemp()) / "out.jsonl"
    command = [sys.executable, "-P", "-m", "factcheck", "batch", str(claims), "-o", str(out), "--no-cache", *extra]
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    samples: list[tuple[float, float, float, int]] = []

    def sample() -> None:
        while proc.poll() is None:
            done = len(out.read_text().splitlines()) if out.exists() else 0
            samples.append((time.perf_counter() - start, _proc_status_mb(proc.pid, "VmRSS"),
                            _proc_status_mb(proc.pid, "VmHWM"), done))
            time.sleep(every)

    thread = threading.Thread(target=sample)
    thread.start()
    _, stderr = proc.communicate()
    thread.join()
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(stderr)
    return [json.loads(line) for line in out.read_text().splitlines()], seconds, samples, stderr


# Each data set's corpus, as the fit and eval splits are checked against it (Check-COVID's
# small corpus with SciFact's abstracts as distractors); benchmarks/shipped_profile.toml
# names the same files.
CORPORA = {
    "scifact": [DATA / "scifact" / "corpus.jsonl"],
    "covid": [DATA / "check-covid" / "corpus.jsonl", DATA / "scifact" / "corpus.jsonl"],
    "fm2": [DATA / "fm2" / "corpus_dev.jsonl"],
}


def index_for(dataset: str, indexes: Path, vectors: bool = False) -> Path:
    """A data set's index under ``indexes``, built on first use."""
    from factcheck.retrievers.local_index import build_index

    folder = indexes / (f"{dataset}-vectors" if vectors else dataset)
    if not (folder / "manifest.json").exists():
        build_index([str(p) for p in CORPORA[dataset]], folder, vectors=vectors)
    return folder


def bare_pass(llm, tokens: list[int]) -> float:
    """Seconds for llama.cpp alone to evaluate ``tokens`` from an empty KV cache and give the
    last logits: what a stage of the pipeline is measured against."""
    import time

    import llama_cpp
    import numpy as np

    start = time.perf_counter()
    llm.reset()
    llm.eval(tokens)
    logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm.ctx, -1), shape=(llm.n_vocab(),))
    float(logits.max())
    return time.perf_counter() - start
