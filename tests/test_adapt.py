"""Label-free adaptation: batch calibration over a stream of records, as batch, eval and
Checker.check_many apply it (scripted fake model; tests/test_real_sure.py runs the real one)."""

import json

import pytest
from typer.testing import CliRunner

from factcheck.cli import app
from factcheck.reading.adapt import (
    BatchCalibration,
    mean_distribution,
    prior_shift,
    shifted,
    unadapted,
)
from factcheck.schema import Basis, CheckRecord, Label, Route

from .fakes import FakeModel

S, R, N = Label.SUPPORTED, Label.REFUTED, Label.NOT_ENOUGH_INFO


def record(i: int, probs: dict, basis: Basis = Basis.EVIDENCE) -> CheckRecord:
    top = max(probs, key=probs.get)
    return CheckRecord(id=str(i), claim=f"claim {i}", verdict=top, confidence=probs[top], label_probs=probs,
                       route=Route.RETRIEVE, basis=basis)


def test_the_prior_is_divided_out():
    prior = mean_distribution([{S: 0.2, R: 0.8}, {S: 0.4, R: 0.6}])
    assert prior == pytest.approx({S: 0.3, R: 0.7})
    even = shifted({S: 0.3, R: 0.7}, prior_shift(prior))
    assert even == pytest.approx({S: 0.5, R: 0.5})


def test_records_wait_for_enough_readings_then_come_out_adapted_in_order():
    adapt = BatchCalibration(None, bar=None, min_claims=4)
    # a batch that leans to REFUTED: every reading gives it 0.6-0.7, but two lean less
    readings = [{S: 0.4, R: 0.6}, {S: 0.3, R: 0.7}, {S: 0.45, R: 0.55}, {S: 0.3, R: 0.7}, {S: 0.42, R: 0.58}]
    out = []
    out += adapt(record(0, readings[0]))
    out += adapt(record(1, {S: 0.5, R: 0.5}, basis=Basis.MODEL))  # not read from evidence: held in order
    out += adapt(record(2, readings[1]))
    out += adapt(record(3, readings[2]))
    assert out == []
    out += adapt(record(4, readings[3]))  # the fourth reading: every held record goes out
    assert [r.id for r in out] == ["0", "1", "2", "3", "4"]
    out += adapt(record(5, readings[4]))
    assert out[1].adaptation is None and out[1].verdict is S  # the model's own verdict is left as it is
    adapted = [r for r in out if r.adaptation is not None]
    assert [r.adaptation.claims for r in adapted] == [4, 4, 4, 4, 5]
    # the least REFUTED-leaning readings now read SUPPORTED; the others stay REFUTED
    assert {r.id: r.verdict for r in adapted} == {"0": S, "2": R, "3": S, "4": R, "5": S}
    # the reading as read is recoverable from the record
    assert unadapted(adapted[0]) == pytest.approx(readings[0])


def test_a_run_too_short_to_adapt_writes_its_records_as_read():
    adapt = BatchCalibration(None, bar=None, min_claims=50)
    assert adapt(record(0, {S: 0.3, R: 0.7})) == []
    left = adapt.finish()
    assert [r.id for r in left] == ["0"] and left[0].adaptation is None and left[0].verdict is R


def test_an_adapted_verdict_is_recalibrated_and_meets_the_bar():
    from factcheck.reading.calibration import Calibration, ConfidenceMap

    calibration = Calibration(evidence=ConfidenceMap(method="platt", a=1.0, b=0.0))
    adapt = BatchCalibration(calibration, bar=0.9, min_claims=2, seen=[{S: 0.2, R: 0.8}])
    out = adapt(record(0, {S: 0.3, R: 0.7}))
    assert len(out) == 1 and out[0].verdict is S and out[0].abstained  # flipped, and unsure
    assert out[0].confidence == pytest.approx(calibration(out[0].confidence_raw))


def leaning_to_false(prompt: str) -> dict[str, float]:
    """Evidence pass: FALSE a little above TRUE always, less so when the claim says 'likely'."""
    claim = prompt.rsplit("<claim>", 1)[-1].split("</claim>", 1)[0]
    if "likely" in claim:
        return {"TRUE": 0.2, "FALSE": 0.7, "Maybe": 0.1}
    return {"TRUE": 0.05, "FALSE": 0.85, "Maybe": 0.1}


def test_batch_adapts_from_fifty_readings_up_and_says_so(monkeypatch, tmp_path):
    model = FakeModel(leaning_to_false)
    monkeypatch.setattr("factcheck.model.loader.open_model", lambda settings, progress=None: model)
    corpus = tmp_path / "notes"
    corpus.mkdir()
    (corpus / "a.txt").write_text("The river is long and the river is likely wide. The river flows north.\n")
    runner = CliRunner()
    assert runner.invoke(app, ["index", "build", str(corpus), "-o", str(tmp_path / "idx")]).exit_code == 0
    claims = tmp_path / "claims.txt"
    claims.write_text("".join(f"The river is {'likely ' if i % 3 == 0 else ''}wide {i}.\n" for i in range(60)))
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["batch", str(claims), "-o", str(out), "--index", str(tmp_path / "idx"),
                                 "--labels", "binary", "--route", "retrieve", "--no-cache"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 60 and all(r["adaptation"]["method"] == "batch" for r in records)
    assert "batch calibration adjusted 60 verdicts" in result.stderr
    plain = runner.invoke(app, ["batch", str(claims), "--index", str(tmp_path / "idx"), "--labels", "binary",
                                "--route", "retrieve", "--adapt", "none", "--no-cache"])
    rows = [json.loads(line) for line in plain.stdout.splitlines()]
    assert {r["verdict"] for r in rows} == {"REFUTED"} and all(r["adaptation"] is None for r in rows)
    # the batch's lean divided out: the claims that lean least to REFUTED now read SUPPORTED
    assert {r["id"] for r in records if r["verdict"] == "SUPPORTED"} == {str(i + 1) for i in range(0, 60, 3)}


def test_auto_adapts_binary_batches_only():
    # measured leaving each domain out: batch calibration helped the binary ranking and cost
    # three-label batches that were not balanced across labels (docs/results.md)
    from factcheck.config.settings import Settings

    assert Settings(labels="binary").adapts and not Settings().adapts
    assert Settings(adapt="batch").adapts and not Settings(labels="binary", adapt="none").adapts
