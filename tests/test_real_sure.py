"""Answering only when sure, on the real default model and its shipped profile: the bar that
--target-accuracy reads from the profile's held-out curve is the one applied, and every
verdict under it is kept as an abstained leaning."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from factcheck.reading.calibration import RiskCoverage

REPO = Path(__file__).resolve().parents[1]
CLAIMS = ["The Eiffel Tower is in Berlin.", "Water boils at 100 degrees Celsius at sea level.",
          "The Moon orbits the Sun directly."]


def factcheck(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-P", "-m", "factcheck", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=900)


@pytest.mark.model
def test_target_accuracy_applies_the_shipped_curves_threshold(tmp_path):
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    assert factcheck("index", "build", "examples/notes", "-o", "notes-index", cwd=tmp_path).returncode == 0
    info = factcheck("model", "info", "--json", "--ctx", "2048", cwd=tmp_path)
    assert info.returncode == 0, info.stderr
    curve = RiskCoverage.model_validate(json.loads(info.stdout)["risk_coverage"])
    bar = curve.threshold_for(0.8)
    assert bar is not None and 0 < bar.threshold < 1 and bar.coverage < 1  # answering fewer claims
    sure = factcheck("check", "--json", "--ctx", "2048", "--index", "notes-index", "--target-accuracy", "0.8",
                     *CLAIMS, cwd=tmp_path)
    records = [json.loads(line) for line in sure.stdout.splitlines()]
    assert len(records) == 3, sure.stderr
    assert all(r["abstained"] == (r["confidence"] < bar.threshold) for r in records), (bar, records)
    unsure = factcheck("check", "--json", "--ctx", "2048", "--index", "notes-index", "--min-confidence", "0.995",
                       CLAIMS[1], cwd=tmp_path)
    record = json.loads(unsure.stdout)
    assert record["abstained"] is True and unsure.returncode == 1  # confidences stop at 0.99: never settled


def fm2_claims(data: Path, n: int) -> list[dict]:
    rows = [json.loads(line) for line in (data / "fm2" / "claims_dev.jsonl").read_text().splitlines()]
    return rows[:n]


@pytest.mark.model
def test_an_unsure_reading_escalates_on_the_real_model(real_model, data, tmp_path):
    from factcheck.retrievers.local_index import build_index

    from factcheck import Checker

    build_index([str(data / "fm2" / "corpus_dev.jsonl")], tmp_path / "idx")
    claim = fm2_claims(data, 1)[0]["claim"]
    with Checker(index=[tmp_path / "idx"], labels="binary", ctx=2048, escalate_below=0.99, cache=False,
                 load=lambda settings: real_model) as checker:
        record = checker.check(claim)
    assert record.route.value == "escalated", record.route_reason
    assert record.route_reason.startswith("read, unsure: confidence") and len(record.hops) == 2
    assert len(record.evidence) > 4  # the first four sentences and the next best ones, read together
    assert record.certainty_from == "reading" and record.certainty is not None
    with Checker(index=[tmp_path / "idx"], labels="binary", ctx=2048, escalate_below=0.0, cache=False,
                 load=lambda settings: real_model) as checker:
        once = checker.check(claim)
    assert once.route.value == "retrieve" and not once.hops and len(once.evidence) <= 4
    assert once.tokens.prompt < record.tokens.prompt  # the escalation's cost is on the record


@pytest.mark.model
def test_batch_calibration_adapts_real_readings(real_model, data, tmp_path):
    from factcheck.retrievers.local_index import build_index

    from factcheck import Checker
    from factcheck.reading.adapt import BatchCalibration, unadapted

    build_index([str(data / "fm2" / "corpus_dev.jsonl")], tmp_path / "idx")
    claims = fm2_claims(data, 12)
    with Checker(index=[tmp_path / "idx"], labels="binary", ctx=2048, cache=False, adapt="none",
                 load=lambda settings: real_model) as checker:
        records = list(checker.check_many(c["claim"] for c in claims))
        adapt = BatchCalibration(checker.profile.fitted.calibration, None, min_claims=10)
    assert all(r.adaptation is None for r in records)
    out = [r for record in records for r in adapt(record)] + adapt.finish()
    assert [r.id for r in out] == [r.id for r in records]
    adapted = [r for r in out if r.adaptation is not None]
    assert len(adapted) == sum(r.basis.value == "evidence" for r in records) >= 10
    for before, after in zip(records, out):
        if after.adaptation is None:
            continue
        assert unadapted(after) == pytest.approx(dict(before.label_probs), abs=1e-4)
        assert after.verdict == max(after.label_probs, key=after.label_probs.get)
    # the batch's mean reading is divided out: adapted, the readings lean less to either label
    def lean(rows, probs):
        return abs(sum(probs(r)["SUPPORTED"] for r in rows) / len(rows) - 0.5)

    assert lean(adapted, lambda r: r.label_probs) < max(lean(adapted, unadapted), 0.05)
