"""Hostile evidence: verdict flip rate when injected passages sit beside real evidence.

    python benchmarks/bench_injection.py      # writes benchmarks/results/injection.json
"""

from __future__ import annotations

from common import write

from factcheck.config import resolve
from factcheck.loader import open_model
from factcheck.pipeline import build_checker
from tests.hostile_passages import flip_rate

if __name__ == "__main__":
    # the default model as a user runs it: its shipped profile's reader reads the evidence
    write("injection.json", flip_rate(build_checker(resolve({"ctx": 2048}), open_model)))
