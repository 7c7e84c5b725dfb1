"""The pipeline stages with the scripted fake model."""

import json

import pytest

from factcheck.errors import InputError
from factcheck.schema import (
    CheckRecord,
    Claim,
    ErrorRecord,
    Label,
    LabelSet,
    Route,
    parse_record,
)

from .fakes import FakeModel, pipeline_of


def test_record_has_every_documented_field():
    record = pipeline_of(FakeModel()).check(Claim(id="a", text="Water is wet."))
    data = json.loads(record.model_dump_json())
    for key in ("id", "claim", "verdict", "confidence", "label_probs", "certainty", "route",
                "evidence", "model", "timings_ms", "tokens", "warnings"):
        assert key in data
    assert data["model"] == {"name": "fake", "sha256": "0" * 64, "server": None}
    assert set(data["tokens"]) >= {"prompt", "generated"}
    assert data["route"] == "direct" and data["basis"] == "model" and data["evidence"] == []
    assert set(data["label_probs"]) == {"SUPPORTED", "REFUTED", "NOT_ENOUGH_INFO"}
    assert CheckRecord.model_validate_json(record.model_dump_json()) == record


def test_a_record_is_a_checked_or_an_error_record_with_the_same_keys_on_the_wire():
    checked = pipeline_of(FakeModel()).check(Claim(id="a", text="Water is wet."))
    failed = pipeline_of(FakeModel()).check_or_error(Claim(id="b", text="\x00"))
    assert isinstance(failed, ErrorRecord) and not hasattr(failed, "verdict")
    wire = json.loads(failed.model_dump_json())
    assert list(wire) == list(json.loads(checked.model_dump_json()))  # same keys, same order
    assert wire["verdict"] is None and wire["evidence"] == [] and wire["error"]["reason"].startswith("empty claim")
    assert parse_record(checked.model_dump_json()) == checked  # told apart by "error"
    assert parse_record(failed.model_dump_json()) == failed
    assert json.loads(checked.model_dump_json())["basis"] == "model"  # the Basis enum is its value on the wire


def test_confidence_is_the_verdict_probability_and_tau_the_margin():
    record = pipeline_of(FakeModel()).check(Claim(id="1", text="Water is wet."))
    probs = record.label_probs
    assert record.verdict is Label.SUPPORTED
    assert record.confidence == pytest.approx(probs[Label.SUPPORTED], abs=1e-6)
    assert record.certainty == pytest.approx(probs[Label.SUPPORTED] - probs[Label.REFUTED], abs=1e-5)


def test_binary_labels_never_give_not_enough_info():
    record = pipeline_of(FakeModel(), labels=LabelSet.BINARY).check(Claim(id="1", text="Water is false."))
    assert record.verdict is Label.REFUTED
    assert set(record.label_probs) == {Label.SUPPORTED, Label.REFUTED}


def test_second_claim_reuses_the_cached_prompt_prefix():
    checker = pipeline_of(FakeModel())
    first = checker.check(Claim(id="1", text="Water is wet."))
    second = checker.check(Claim(id="2", text="Grass is green."))
    assert first.tokens.cached == 0 and second.tokens.cached > 0
    assert second.tokens.prompt < first.tokens.prompt


def test_claim_longer_than_context_is_truncated_with_a_warning():
    model = FakeModel(n_ctx=700)
    record = pipeline_of(model).check(Claim(id="1", text="word " * 2000))
    assert record.verdict.value == "SUPPORTED" and record.basis == "model"  # read from what fit
    assert any("claim truncated" in w for w in record.warnings)
    assert model.prompts[-1].count("word") < 2000  # the fake raises if the prompt overflows


def test_empty_and_nul_only_claims_are_input_errors():
    checker = pipeline_of(FakeModel())
    for text in ("", "   \n\t", "\x00\x00"):
        with pytest.raises(InputError, match="empty claim"):
            checker.check(Claim(id="1", text=text))
    record = checker.check_or_error(Claim(id="x", text=" "))
    assert isinstance(record, ErrorRecord) and record.error.kind == "input"
    assert json.loads(record.model_dump_json())["verdict"] is None  # on the wire: every key, empty


def test_nul_bytes_are_removed_from_a_claim():
    model = FakeModel()
    pipeline_of(model).check(Claim(id="1", text="Water\x00 is wet."))
    assert "<claim>Water is wet.</claim>" in model.prompts[-1]


def test_route_is_direct_without_sources_even_when_forced():
    record = pipeline_of(FakeModel(), route=Route.DEEP).check(Claim(id="1", text="x y"))
    assert record.route is Route.DIRECT and "no evidence source" in record.route_reason
