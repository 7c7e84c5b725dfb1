"""factcheck eval and calibrate end to end on the real default model and real Check-COVID
claims. Slow: marked ``model``."""

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import factcheck

pytestmark = pytest.mark.model


def run(*args, env):
    return subprocess.run([sys.executable, "-P", "-m", "factcheck", *map(str, args)], capture_output=True, text=True,
                          timeout=1200, env=env)


@pytest.fixture(scope="module")
def covid_index(data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("covid") / "idx"
    built = run("index", "build", data / "check-covid" / "corpus.jsonl", "-o", folder, env=dict(os.environ))
    assert built.returncode == 0, built.stderr
    return folder


def test_default_profile_reads_evidence_on_the_auto_route(covid_index):
    # the default model, as a user runs it: its shipped profile's [three] table applies, and
    # its router, fitted to read every claim (routing lost more than 0.02 macro-F1), reads
    proc = run("check", "--json", "--no-cache", "--index", covid_index, "--ctx", "2048",
               "COVID-19 can be emitted in air particles while speaking.", env=dict(os.environ))
    assert proc.returncode in (0, 1), proc.stderr
    record = json.loads(proc.stdout)
    shipped = tomllib.loads(next((Path(factcheck.__file__).parent / "profiles").glob("*.toml")).read_text())
    assert shipped["three"]["router"]["threshold"] == 0.0
    assert record["route"] == "retrieve" and "reads every claim" in record["route_reason"]
    assert record["basis"] == "evidence" and record["calls"]["model"] == 1 and record["certainty_from"] == "reading"
    assert 0.005 < record["confidence"] < 0.995


def test_eval_on_real_claims_with_intervals_and_a_cache(covid_index, data, real_model, tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}  # a fresh result cache
    covid = data / "check-covid"
    common = ["--index", covid_index, "--limit", "10", "--model", real_model.info.path, "--ctx", "2048"]

    proc = run("eval", covid / "claims_dev.jsonl", "--strategy", "direct,retrieve", "--report", tmp_path / "rep",
               *common, env=env)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    direct, retrieve = report["strategies"]["direct"], report["strategies"]["retrieve"]
    assert report["labels"] == ["SUPPORTED", "REFUTED", "NOT_ENOUGH_INFO"]
    assert direct["claims"] == retrieve["claims"] == 10 and direct["errors"] == 0
    assert direct["retrieval_rate"] == 0 and retrieve["retrieval_rate"] == 1
    assert retrieve["tokens_per_claim"] > direct["tokens_per_claim"] > 0
    assert retrieve["gold_evidence_recall"] > 0  # some gold documents are found
    low, high = retrieve["macro_f1_ci"]
    assert low <= retrieve["macro_f1"] <= high
    assert sum(sum(row.values()) for row in retrieve["confusion"].values()) == 10
    assert (tmp_path / "rep" / "reliability.png").read_bytes()[:4] == b"\x89PNG"

    again = run("eval", covid / "claims_dev.jsonl", "--strategy", "direct,retrieve", "--report", tmp_path / "rep2",
                *common, env=env)
    assert again.returncode == 0, again.stderr
    cached = json.loads((tmp_path / "rep2" / "report.json").read_text())["strategies"]["retrieve"]
    assert cached["from_cache"] == 10 and cached["macro_f1"] == retrieve["macro_f1"]
    assert cached["tokens_per_claim"] == retrieve["tokens_per_claim"]  # the cost each check had
