"""Answering only when sure: --min-confidence and --target-accuracy, the abstained record,
the risk-coverage curve calibrate fits on held-out folds, and how every output shows an
unsure verdict. The scripted fake model; tests/test_readme.py runs the real one."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from factcheck.cli import app
from factcheck.fitting.section import held_out_risk_coverage
from factcheck.model.files import DEFAULT_MODEL_SHA256
from factcheck.profiles.profile import write_profile
from factcheck.reading.calibration import CoveragePoint, RiskCoverage
from factcheck.runs.metrics import risk_coverage
from factcheck.schema import Claim, LabelSet

from .fakes import FakeModel, pipeline_of
from .test_verifier import synthetic


@pytest.fixture
def fake(monkeypatch):
    model = FakeModel()
    monkeypatch.setattr("factcheck.model.loader.open_model", lambda settings, progress=None: model)
    return model


def run(*args):
    return CliRunner().invoke(app, list(args))


# A confidence never reaches this: calibrated ones stop at 0.99.
ABOVE_ANY = "0.995"


def test_a_verdict_under_the_bar_is_kept_but_abstained_and_not_settled(fake):
    # closed book, the scripted model answers TRUE 0.6 / FALSE 0.3 / other 0.1: SUPPORTED
    confidence = json.loads(run("check", "--json", "Water is wet.").stdout)["confidence"]
    sure = run("check", "--json", "--min-confidence", str(confidence), "Water is wet.")  # at the bar: kept
    unsure = run("check", "--json", "--min-confidence", ABOVE_ANY, "Water is wet.")
    assert sure.exit_code == 0 and json.loads(sure.stdout)["abstained"] is False
    record = json.loads(unsure.stdout)
    assert record["abstained"] is True and record["verdict"] == "SUPPORTED"  # the leaning is kept
    assert unsure.exit_code == 1  # an unsure SUPPORTED is not settled
    tsv = run("check", "--format", "tsv", "--min-confidence", ABOVE_ANY, "Water is wet.")
    assert "\tunsure: SUPPORTED\t" in tsv.stdout
    table = run("check", "--min-confidence", ABOVE_ANY, "Water is wet.")
    assert "unsure: SUPPORTED" in table.stdout


def test_the_bar_comes_from_the_environment_and_the_config_file_too(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("FACTCHECK_MIN_CONFIDENCE", ABOVE_ANY)
    assert json.loads(run("check", "--json", "Water is wet.").stdout)["abstained"] is True
    monkeypatch.delenv("FACTCHECK_MIN_CONFIDENCE")
    config = tmp_path / "config.toml"
    config.write_text(f"min_confidence = {ABOVE_ANY}\n")
    assert json.loads(run("check", "--json", "--config", str(config), "Water is wet.").stdout)["abstained"] is True


def test_target_accuracy_without_a_curve_is_refused_in_one_line(fake, tmp_path):
    profile = tmp_path / "p.toml"
    write_profile(profile, {LabelSet.THREE: {"alpha": 0.5}}, {"model_sha256": DEFAULT_MODEL_SHA256})
    result = run("check", "--profile", str(profile), "--target-accuracy", "0.8", "Water is wet.")
    assert result.exit_code == 2 and not fake.prompts  # before any model call
    assert "no risk-coverage curve" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    both = run("check", "--min-confidence", "0.5", "--target-accuracy", "0.8", "Water is wet.")
    assert both.exit_code == 2 and "not both" in both.stderr


def test_target_accuracy_reads_its_threshold_from_the_profile_curve(fake, tmp_path):
    curve = RiskCoverage(measured_on=200, points=[
        CoveragePoint(threshold=0.0, coverage=1.0, accuracy=0.6, low=0.5, high=0.7, claims=200),
        CoveragePoint(threshold=0.7, coverage=0.4, accuracy=0.82, low=0.7, high=0.9, claims=80),
        CoveragePoint(threshold=0.9, coverage=0.1, accuracy=0.95, low=0.8, high=1.0, claims=20)])
    profile = tmp_path / "p.toml"
    write_profile(profile, {LabelSet.THREE: {"risk_coverage": curve.model_dump(mode="json")}},
                  {"model_sha256": DEFAULT_MODEL_SHA256})
    record = json.loads(run("check", "--json", "--profile", str(profile), "--target-accuracy", "0.8",
                            "Water is wet.").stdout)
    assert record["confidence"] < 0.7 and record["abstained"] is True  # the bar is 0.7
    record = json.loads(run("check", "--json", "--profile", str(profile), "--target-accuracy", "0.55",
                            "Water is wet.").stdout)
    assert record["abstained"] is False  # the bar is 0.0
    beyond = run("check", "--profile", str(profile), "--target-accuracy", "0.99", "Water is wet.")
    assert beyond.exit_code == 2 and "no confidence reached accuracy 0.99" in beyond.stderr
    info = run("model", "info", "--profile", str(profile))
    assert "answering only when sure" in info.stdout and "0.70" in info.stdout


def test_the_threshold_is_the_lowest_whose_answers_reach_the_target_on_enough_claims():
    curve = RiskCoverage(points=[
        CoveragePoint(threshold=0.5, coverage=0.8, accuracy=0.78, low=0, high=1, claims=160),
        CoveragePoint(threshold=0.6, coverage=0.6, accuracy=0.81, low=0, high=1, claims=120),
        CoveragePoint(threshold=0.7, coverage=0.4, accuracy=0.85, low=0, high=1, claims=80),
        CoveragePoint(threshold=0.9, coverage=0.05, accuracy=1.0, low=0, high=1, claims=10)])  # too few to count
    assert curve.threshold_for(0.8).threshold == 0.6
    assert curve.threshold_for(0.84).threshold == 0.7
    assert curve.threshold_for(0.9) is None


def test_the_curve_answers_fewer_claims_more_often_right_as_the_threshold_rises():
    rng = np.random.default_rng(0)
    confidences = rng.uniform(0.3, 1.0, 400)
    correct = [bool(rng.uniform() < c) for c in confidences]  # calibrated: right as often as sure
    curve = risk_coverage(list(confidences), correct)
    coverage = [p.coverage for p in curve.points]
    assert coverage == sorted(coverage, reverse=True) and curve.points[0].coverage == 1.0
    assert curve.points[-1].accuracy > curve.points[0].accuracy + 0.15
    assert all(p.low <= p.accuracy <= p.high for p in curve.points)


def test_calibrate_measures_its_curve_on_claims_each_fold_was_not_fitted_on():
    samples = synthetic(120)
    curve = held_out_risk_coverage(samples, LabelSet.THREE, "joint+logits", budget_fraction=0.5, max_loss=0.02)
    assert curve.measured_on == 120 and curve.points[0].coverage == 1.0
    assert held_out_risk_coverage(samples[:22], LabelSet.THREE, "joint+logits", budget_fraction=0.5,
                                  max_loss=0.02) is None  # a fold's fit would have under 20 claims


def test_the_pipeline_marks_what_is_under_its_bar():
    pipeline = pipeline_of(FakeModel())
    pipeline.stages.conclude.bar = 0.9
    assert pipeline.check(Claim(id="1", text="Water is wet.")).abstained is True
    pipeline.stages.conclude.bar = None
    assert pipeline.check(Claim(id="1", text="Water is wet.")).abstained is False


def test_reports_show_an_unsure_verdict_as_a_leaning(fake, tmp_path):
    out = tmp_path / "r.jsonl"
    run("check", "--json", "--min-confidence", ABOVE_ANY, "-o", str(out), "Water is wet.")
    page = tmp_path / "r.html"
    assert run("report", str(out), "-o", str(page)).exit_code == 0
    html = page.read_text()
    assert "Unsure, leans supported" in html and "1 of them unsure" in html
    md = tmp_path / "r.md"
    run("report", str(out), "-o", str(md))
    assert "Unsure, leans supported" in md.read_text()
