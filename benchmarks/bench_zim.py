"""Offline Wikipedia (ZIM archives) measured: quality against a local BM25 index of the same
text, the in-process path against kiwix-serve, and how search scales with the archive.

    python3 benchmarks/bench_zim.py                    # quality and scale: benchmarks/results/zim.json
    python3 benchmarks/bench_zim.py --parts accuracy   # factcheck eval with each source (~10 min)

- Quality: FM2 dev's pooled Wikipedia sentences grouped by page (one article a page) are
  built into a ZIM with libzim's Creator (full-text index on) and into a local index
  (``factcheck index build``). On the 150 FM2 eval claims (benchmarks/out/splits), each
  source is searched with the claim: gold-page recall@k (a gold sentence's page among the
  top k passages' pages, k = 5 and 20) and seconds a claim for search, fetch and parsing.
  With ``--parts accuracy``, ``factcheck eval`` on the same claims with each source (binary
  labels, the shipped profile), accuracy with bootstrap intervals and the paired difference.
- Paths: the same searches through kiwix-serve (Debian's kiwix-tools) on loopback.
- Scale: archives of 1,000 pages, every corpus in ../shared as pages (FM2 pages, SciFact and
  Check-COVID abstracts), and every sentence of them as an article of its own, each searched
  in a fresh process: full-text search, title suggestions and whole searches (median and 90th
  percentile), and the memory the open archive adds, against article count.
"""

from __future__ import annotations

import argparse
import json
import random
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
from common import DATA, cpu_name, write  # noqa: E402

from factcheck.text import split_sentences  # noqa: E402

WORK = ROOT / "benchmarks" / "out" / "zim"
CLAIMS = ROOT / "benchmarks" / "out" / "splits" / "fm2_eval.jsonl"
RESULTS_FILE = ROOT / "benchmarks" / "results" / "zim.json"


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


# Searched in a fresh process per archive: the full-text search alone, title suggestions alone,
# a whole search (queries, reading four articles, ranking), and the memory the archive adds
_SCALE = """
import json, statistics, sys, time
from pathlib import Path
from factcheck.retrievers.zim import ZimArchive, entities
from factcheck.text import content_words
def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
queries = json.loads(sys.stdin.read())
before = rss_mb()
zim = ZimArchive(Path(sys.argv[1]))
def timed(call, items):
    times = []
    for item in items:
        start = time.perf_counter()
        call(item)
        times.append(time.perf_counter() - start)
    return {"median_ms": 1000 * statistics.median(times), "p90_ms": 1000 * sorted(times)[int(0.9 * len(times))]}
words = [" ".join(list(dict.fromkeys(content_words(q)))[:3]) for q in queries]
names = [(entities(q) or [q.split()[0]])[0] for q in queries]
out = {"articles": zim.archive.article_count, "fulltext": timed(lambda w: zim.fulltext_search(w, 4), words),
       "suggest": timed(lambda n: zim.suggest(n, 2), names), "search": timed(lambda q: zim.search(q, 20), queries)}
out["rss_added_mb"] = rss_mb() - before
print(json.dumps(out))
"""


def scale(rows) -> list[dict]:
    """Archives of growing size: 1,000 pages, every corpus in ../shared as pages, and every
    sentence and abstract of them as an article of its own."""
    pages = all_pages()
    titles = list(pages)
    random.Random(0).shuffle(titles)
    sentences = {}
    for title in titles:
        for n, text in enumerate(p for paragraph in pages[title] for p in split_sentences(paragraph)):
            sentences[f"{title} ({n})"] = [text]
    archives = [("pages_1000", {t: pages[t] for t in titles[:1000]}), (f"pages_{len(titles)}", pages),
                (f"sentences_{len(sentences)}", sentences)]
    queries = json.dumps([r["claim"] for r in rows[:60]])
    out = []
    for name, articles in archives:
        start = time.perf_counter()
        zim = build_zim(WORK / f"scale_{name}.zim", articles, f"scale_{name}")
        built = time.perf_counter() - start
        done = subprocess.run([sys.executable, "-c", _SCALE, str(zim)], input=queries, capture_output=True, text=True,
                              check=True)
        measured = json.loads(done.stdout)
        measured.update(file_mb=zim.stat().st_size / 2**20, build_s=built)
        out.append(measured)
    return out


def accuracy(zim: Path, index: Path, limit: int | None) -> dict:
    """factcheck eval on the FM2 eval claims with each source, one after the other."""
    out = {}
    for name, flags in (("zim", ["--zim", str(zim)]), ("index", ["--index", str(index)])):
        report = WORK / f"eval_{name}"
        shutil.rmtree(report, ignore_errors=True)
        command = [sys.executable, "-m", "factcheck", "eval", str(CLAIMS), *flags, "--strategy", "auto",
                   "--ctx", "2048", "--no-cache", "--report", str(report)] + (["--limit", str(limit)] if limit else [])
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        summary = json.loads((report / "report.json").read_text())
        out[name] = {"seconds": time.perf_counter() - start, "report": summary}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="quality,scale", help="quality, scale, accuracy (comma-separated)")
    parser.add_argument("--limit", type=int, help="eval on the first N claims only")
    args = parser.parse_args()
    parts = set(args.parts.split(","))

    from factcheck.retrievers.http import Fetcher, WebOptions
    from factcheck.retrievers.kiwix import KiwixServe
    from factcheck.retrievers.local_index import LocalIndex
    from factcheck.retrievers.zim import ZimArchive

    pages = fm2_pages()
    zim = build_zim(WORK / "fm2_dev_pages.zim", pages, "fm2_dev_pages")
    index = build_index(WORK / "fm2_dev_pages-index", pages)
    rows, titles = claims()
    saved = RESULTS_FILE.read_text() if RESULTS_FILE.exists() else "{}"
    result = {**json.loads(saved), "cpu": cpu_name(), "pages": len(pages), "claims": len(rows)}
    if "quality" in parts:
        result["quality"] = {"index": recall_and_time(LocalIndex(index), rows, titles),
                             "zim": recall_and_time(ZimArchive(zim), rows, titles)}
        if shutil.which("kiwix-serve"):
            server, url = kiwix_serve(zim)
            try:
                served = KiwixServe(Fetcher(WebOptions()), url)
                result["quality"]["kiwix-serve"] = recall_and_time(served, rows, titles)
                same = sum([p.text for p in ZimArchive(zim).search(r["claim"], 20)] ==
                           [p.text for p in served.search(r["claim"], 20)] for r in rows)
                result["paths_same_passages"] = f"{same} of {len(rows)}"
            finally:
                server.terminate()
    if "scale" in parts:
        result["scale"] = scale(rows)
    if "accuracy" in parts:
        result["accuracy"] = accuracy(zim, index, args.limit)
    if all((WORK / f"eval_{name}" / "records_auto.jsonl").exists() for name in ("zim", "index")):
        result["accuracy_paired"] = paired()
    write("zim.json", result)


def paired(seed: int = 0, resamples: int = 2000) -> dict:
    """Accuracy with the ZIM minus with the index, on the same claims: a paired bootstrap."""
    gold = {r["id"]: r["label"] for r in map(json.loads, CLAIMS.open())}
    right = {}
    for name in ("zim", "index"):
        for line in (WORK / f"eval_{name}" / "records_auto.jsonl").open():
            record = json.loads(line)
            right.setdefault(record["id"], {})[name] = record.get("verdict") == gold.get(record["id"])
    both = [(r["zim"], r["index"]) for r in right.values() if len(r) == 2]
    rng = random.Random(seed)
    draws = sorted(sum(z - i for z, i in (rng.choice(both) for _ in both)) / len(both) for _ in range(resamples))
    return {"claims": len(both), "zim": sum(z for z, _ in both) / len(both), "index": sum(i for _, i in both) / len(both),
            "difference": sum(z - i for z, i in both) / len(both),
            "difference_ci": [round(draws[int(0.025 * resamples)], 3), round(draws[int(0.975 * resamples) - 1], 3)]}


if __name__ == "__main__":
    main()
