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
