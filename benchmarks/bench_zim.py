"""Offline Wikipedia (ZIM archives) measured: quality against a local BM25 index of the same
text, the in-process path against kiwix-serve, and how search scales with the archive.

    python3 benchmarks/bench_zim.py            # writes benchmarks/results/zim.json
    python3 benchmarks/bench_zim.py --accuracy # and runs factcheck eval on both sources (~10 min)

- Quality: FM2 dev's pooled Wikipedia sentences grouped by page (one article a page) are
  built into a ZIM with libzim's Creator (full-text index on) and into a local index
  (``factcheck index build``). On the 150 FM2 eval claims (benchmarks/out/splits), each
  source is searched with the claim: gold-page recall@k (a gold sentence's page among the
  top k passages' pages, k = 5 and 20) and seconds a claim for search, fetch and parsing.
  With ``--accuracy``, ``factcheck eval`` on the same claims with each source (binary
  labels, the shipped profile), accuracy with bootstrap intervals and the paired difference.
- Paths: the same searches through kiwix-serve (Debian's kiwix-tools) on loopback.
- Scale: archives of 1,000 articles up to every corpus in ../shared (FM2 pages, SciFact and
  Check-COVID abstracts), each searched in a fresh process: median search latency and peak
  memory against article count.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from common import DATA, write  # noqa: E402

WORK = ROOT / "benchmarks" / "out" / "zim"
CLAIMS = ROOT / "benchmarks" / "out" / "splits" / "fm2_eval.jsonl"


def fm2_pages() -> dict[str, list[str]]:
    pages: dict[str, list[str]] = defaultdict(list)
    for line in (DATA / "fm2" / "corpus_dev.jsonl").open():
        row = json.loads(line)
        pages[row["title"]].append(row["text"])
    return pages


def all_pages() -> dict[str, list[str]]:
    """Every corpus in ../shared as articles: FM2 pages, SciFact and Check-COVID abstracts."""
    pages = dict(fm2_pages())
    for corpus in ("scifact", "check-covid"):
        for line in (DATA / corpus / "corpus.jsonl").open():
            row = json.loads(line)
            title = row.get("title") or row["id"]
            pages.setdefault(title if title not in pages else f"{title} ({row['id']})", []).append(row["text"])
    return pages


def build_zim(path: Path, pages: dict[str, list[str]], name: str) -> Path:
    from html import escape

    from libzim.writer import Creator, Hint, Item, StringProvider

    class Page(Item):
        def __init__(self, title, paragraphs):
            super().__init__()
            self.title, self.paragraphs = title, paragraphs

        def get_path(self):
            return "A/" + self.title.replace(" ", "_")

        def get_title(self):
            return self.title

        def get_mimetype(self):
            return "text/html"

        def get_contentprovider(self):
            body = "".join(f"<p>{escape(p)}</p>" for p in self.paragraphs)
            return StringProvider(f"<html><head><title>{escape(self.title)}</title></head><body>{body}</body></html>")

        def get_hints(self):
            return {Hint.FRONT_ARTICLE: True}

    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with Creator(str(path)).config_indexing(True, "eng") as creator:
        creator.set_mainpath("A/" + next(iter(pages)).replace(" ", "_"))
        for key, value in {"Name": name, "Title": name, "Language": "eng", "Date": "2026-12-07",
                           "Creator": "bench_zim.py", "Publisher": "factcheck", "Description": name}.items():
            creator.add_metadata(key, value)
        for title, paragraphs in pages.items():
            creator.add_item(Page(title, paragraphs))
    return path


def build_index(folder: Path, pages: dict[str, list[str]]) -> Path:
    if folder.exists():
        return folder
    corpus = folder.with_suffix(".jsonl")
    corpus.write_text("".join(json.dumps({"id": t, "title": t, "text": " ".join(p)}) + "\n" for t, p in pages.items()))
    subprocess.run([sys.executable, "-m", "factcheck", "index", "build", str(corpus), "-o", str(folder)], check=True,
                   capture_output=True)
    return folder


def claims(path: Path = CLAIMS) -> tuple[list[dict], dict[str, str]]:
    titles = {}
    for line in (DATA / "fm2" / "corpus_dev.jsonl").open():
        row = json.loads(line)
        titles[row["id"]] = row["title"]
    rows = [json.loads(line) for line in path.open()]
    return rows, titles


def recall_and_time(source, rows, titles, ks=(5, 20)) -> dict:
    found = {k: [] for k in ks}
    seconds = []
    for row in rows:
        gold = {titles[e["doc_id"]] for e in row["evidence"] if e["doc_id"] in titles}
        start = time.perf_counter()
        passages = source.search(row["claim"], max(ks))
        seconds.append(time.perf_counter() - start)
        if gold:
            for k in ks:
                found[k].append(bool(gold & {p.title for p in passages[:k]}))
    out = {"claims": len(rows), "seconds_per_claim": statistics.mean(seconds),
           "seconds_median": statistics.median(seconds)}
    for k, hits in found.items():
        out[f"recall@{k}"] = sum(hits) / len(hits)
        out[f"recall@{k}_ci"] = _interval(hits)
    return out


def _interval(hits: list[bool], seed: int = 0, n: int = 2000) -> list[float]:
    rng = random.Random(seed)
    draws = sorted(sum(rng.choice(hits) for _ in hits) / len(hits) for _ in range(n))
    return [round(draws[int(0.025 * n)], 3), round(draws[int(0.975 * n) - 1], 3)]


def kiwix_serve(zim: Path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(["kiwix-serve", "--address", "127.0.0.1", "--port", str(port), str(zim)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import httpx

    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(f"{url}/catalog/v2/entries", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    return server, url


# Searched in a fresh process per archive: latency of each search, and the process's peak memory
_SCALE = """
import json, resource, statistics, sys, time
from pathlib import Path
from factcheck.retrievers.zim import ZimArchive
zim = ZimArchive(Path(sys.argv[1]))
queries = json.loads(sys.stdin.read())
times = []
for q in queries:
    start = time.perf_counter()
    zim.search(q, 20)
    times.append(time.perf_counter() - start)
print(json.dumps({"articles": zim.archive.article_count, "median_s": statistics.median(times),
                  "p90_s": sorted(times)[int(0.9 * len(times))],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def scale(rows) -> list[dict]:
    pages = all_pages()
    titles = list(pages)
    random.Random(0).shuffle(titles)
    out = []
    queries = json.dumps([r["claim"] for r in rows[:60]])
    for size in (1000, 3000, len(titles)):
        zim = build_zim(WORK / f"scale_{size}.zim", {t: pages[t] for t in titles[:size]}, f"scale_{size}")
        done = subprocess.run([sys.executable, "-c", _SCALE, str(zim)], input=queries, capture_output=True, text=True,
                              check=True)
        measured = json.loads(done.stdout)
        measured["file_mb"] = zim.stat().st_size / 2**20
        out.append(measured)
    return out


def accuracy(zim: Path, index: Path, limit: int | None) -> dict:
    """factcheck eval on the FM2 eval claims with each source, one after the other."""
    out = {}
    for name, flags in (("zim", ["--zim", str(zim)]), ("index", ["--index", str(index)])):
        report = WORK / f"eval_{name}"
        shutil.rmtree(report, ignore_errors=True)
        command = [sys.executable, "-m", "factcheck", "eval", str(CLAIMS), *flags, "--labels", "binary",
                   "--ctx", "2048", "--no-cache", "--report", str(report)] + (["--limit", str(limit)] if limit else [])
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        summary = json.loads((report / "report.json").read_text())
        out[name] = {"seconds": time.perf_counter() - start, "report": summary}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accuracy", action="store_true", help="also run factcheck eval with each source")
    parser.add_argument("--limit", type=int, help="eval on the first N claims only")
    args = parser.parse_args()

    from factcheck.retrievers.http import Fetcher, WebOptions
    from factcheck.retrievers.kiwix import KiwixServe
    from factcheck.retrievers.local_index import LocalIndex
    from factcheck.retrievers.zim import ZimArchive

    pages = fm2_pages()
    zim = build_zim(WORK / "fm2_dev_pages.zim", pages, "fm2_dev_pages")
    index = build_index(WORK / "fm2_dev_pages-index", pages)
    rows, titles = claims()
    result = {"cpu": _cpu(), "pages": len(pages), "claims": len(rows)}
    result["quality"] = {"index": recall_and_time(LocalIndex(index), rows, titles),
                         "zim": recall_and_time(ZimArchive(zim), rows, titles)}
    if shutil.which("kiwix-serve"):
        server, url = kiwix_serve(zim)
        try:
            served = KiwixServe(Fetcher(WebOptions()), url)
            result["quality"]["kiwix-serve"] = recall_and_time(served, rows, titles)
            same = sum([p.text for p in ZimArchive(zim).search(r["claim"], 20)] ==
                       [p.text for p in served.search(r["claim"], 20)] for r in rows[:50])
            result["paths_same_passages"] = f"{same} of 50"
        finally:
            server.terminate()
    result["scale"] = scale(rows)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.accuracy:
        result["accuracy"] = accuracy(zim, index, args.limit)
    write("zim.json", result)


def _cpu() -> str:
    try:
        return next(line.split(":", 1)[1].strip() for line in subprocess.run(
            ["lscpu"], capture_output=True, text=True).stdout.splitlines() if line.startswith("Model name"))
    except (OSError, StopIteration):
        return "unknown"


if __name__ == "__main__":
    main()
