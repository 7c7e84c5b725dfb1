"""Hostile evidence: verdict flip rate when injected passages sit beside real evidence.

    python benchmarks/bench_injection.py                   # writes benchmarks/results/injection.json
                                                           # (each injection plain, and opening with the claim)
    python benchmarks/bench_injection.py --api-base URL    # the same through a model server
                                                           # (results/injection_server.json)
    python benchmarks/bench_injection.py --labels binary   # the binary section's reader and selection
                                                           # (results/injection_binary.json)
    python benchmarks/bench_injection.py --labels binary --selection words
                                                           # another selection than the profile's
                                                           # (results/injection_binary_words.json)
"""

from __future__ import annotations

import argparse

from common import write

from factcheck.config.settings import resolve
from factcheck.model.loader import open_model
from factcheck.pipeline import build_pipeline
from tests.hostile_passages import flip_rate

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--api-base", help="read through this model server instead of in-process")
    parser.add_argument("--labels", choices=("three", "binary"), default="three",
                        help="the label set, so the profile section whose reader is measured")
    parser.add_argument("--selection", choices=("words", "meaning"), help="how sentences are chosen (default: "
                        "the profile's)")
    args = parser.parse_args()
    flags = {"ctx": 2048} if not args.api_base else {"api_base": args.api_base}
    flags.update(labels=args.labels, selection=args.selection)
    # the default model as a user runs it: its shipped profile's selection and reader
    settings = resolve(flags)
    checker = build_pipeline(settings, open_model)
    result = flip_rate(checker)
    # the same injections opening with the claim's own words, so the relevance floor shows them
    result["echoing_the_claim"] = flip_rate(checker, echo=True)
    if args.api_base:
        result["server"] = args.api_base
    result["labels"] = args.labels
    name = "injection_server" if args.api_base else "injection"
    suffix = ("" if args.labels == "three" else f"_{args.labels}") + (f"_{args.selection}" if args.selection else "")
    result["selection"], result["sentences"] = settings.selection, settings.sentences
    write(f"{name}{suffix}.json", result)
