"""factcheck eval and calibrate with the fake model over a real local index."""

import json
import tomllib

import pytest
from typer.testing import CliRunner

from factcheck.cli import app
from factcheck.config import resolve
from retrievers.local_index import build_index

from .fakes import FakeModel

WORDS = ["apple", "banana", "cherry", "damson", "elder", "fig", "grape", "hazel", "iris", "juniper", "kiwi", "lime"]
DOCS = [{"id": f"d{i}", "title": w.title(), "text": f"The {w} fact is recorded here."} for i, w in enumerate(WORDS)]


def script(prompt):
    claim = prompt.rsplit("<claim>", 1)[-1].split("</claim>", 1)[0]
    if "<evidence>\n" in prompt:  # with evidence: right about every claim
        return {"FALSE": 0.8, "TRUE": 0.2} if "false" in claim else {"TRUE": 0.8, "FALSE": 0.2}
    return {"TRUE": 0.55, "FALSE": 0.45}  # closed book: always says true, unsure


@pytest.fixture
def setup(tmp_path, monkeypatch, isolated_cache, isolated_dirs):
    model = FakeModel(script=script)
    monkeypatch.setattr("factcheck.loader.open_model", lambda settings, progress=None: model)
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(d) + "\n" for d in DOCS))
    build_index([str(corpus)], tmp_path / "idx")
    claims = tmp_path / "claims.jsonl"
    rows = [{"id": f"c{i}", "claim": f"The {WORDS[i]} fact is {'false' if i % 2 else 'true'}.",
             "label": "REFUTED" if i % 2 else "SUPPORTED", "evidence": [{"doc_id": f"d{i}", "text": "…"}]}
            for i in range(12)]
    claims.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path, claims


def test_eval_reports_every_metric_and_writes_plots(setup):
    tmp_path, claims = setup
    result = CliRunner().invoke(app, ["eval", str(claims), "--index", str(tmp_path / "idx"), "--strategy",
                                      "direct,retrieve", "--report", str(tmp_path / "rep"), "--no-cache"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert report["labels"] == ["SUPPORTED", "REFUTED"]  # binary gold labels: scored binary
    direct, retrieve = report["strategies"]["direct"], report["strategies"]["retrieve"]
    assert direct["accuracy"] == 0.5 and retrieve["accuracy"] == 1.0 and retrieve["macro_f1"] == 1.0
    assert retrieve["retrieval_rate"] == 1.0 and direct["retrieval_rate"] == 0.0
    assert retrieve["confusion"] == {"SUPPORTED": {"SUPPORTED": 6, "REFUTED": 0}, "REFUTED": {"SUPPORTED": 0, "REFUTED": 6}}
    assert retrieve["gold_evidence_recall"] > 0.5 and direct["gold_evidence_recall"] == 0.0
    for key in ("auroc", "ece", "brier", "tokens_per_claim", "seconds_per_claim", "routes", "f1"):
        assert key in retrieve
    assert (tmp_path / "rep" / "reliability.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "rep" / "cost_quality.png").stat().st_size > 1000
    assert len((tmp_path / "rep" / "records_direct.jsonl").read_text().splitlines()) == 12
    assert "direct" in result.stdout and "retrieve" in result.stdout


def test_eval_rejects_unknown_strategy_and_unlabeled_claims(setup, tmp_path):
    _, claims = setup
    assert CliRunner().invoke(app, ["eval", str(claims), "--strategy", "magic"]).exit_code == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"claim": "x"}\n')
    result = CliRunner().invoke(app, ["eval", str(bad)])
    assert result.exit_code == 2 and "bad.jsonl:1: not a labeled claim" in result.stderr


def test_calibrate_writes_a_profile_that_is_picked_up_by_model_hash(setup):
    tmp_path, claims = setup
    result = CliRunner().invoke(app, ["calibrate", str(claims), "--index", str(tmp_path / "idx"),
                                      "--budget", "100000", "--pareto"])
    assert result.exit_code == 0, result.output
    assert "alpha=" in result.stdout  # the Pareto front
    from factcheck.config import config_dir
    from factcheck.model_files import DEFAULT_MODEL_SHA256

    written = config_dir() / "profiles" / f"{'0' * 64}.toml"  # named by the (fake) model's hash
    data = tomllib.loads(written.read_text())
    assert data["calibration"]["method"] == "isotonic" and data["meta"]["model_sha256"] == "0" * 64
    # a profile named by the default model's hash is used with the default model
    written.rename(config_dir() / "profiles" / f"{DEFAULT_MODEL_SHA256}.toml")
    # closed book is useless here, so everything retrieves: alpha above every tau
    settings = resolve({})
    assert settings.alpha == data["alpha"] and settings.calibration is not None
    assert resolve({"alpha": 0.1}).alpha == 0.1  # a flag still wins over the profile


def test_calibrate_default_budget_is_sixty_percent_of_always_retrieve(setup):
    tmp_path, claims = setup
    index = ["--index", str(tmp_path / "idx")]
    result = CliRunner().invoke(app, ["eval", str(claims), *index, "--strategy", "retrieve", "--report",
                                      str(tmp_path / "rep")])
    assert result.exit_code == 0, result.output
    always = json.loads((tmp_path / "rep" / "report.json").read_text())["strategies"]["retrieve"]["tokens_per_claim"]
    result = CliRunner().invoke(app, ["calibrate", str(claims), *index, "-o", str(tmp_path / "p.toml")])
    assert result.exit_code == 0, result.output
    assert f"budget: {0.6 * always:.0f} tokens per claim (always-retrieve costs {always:.0f})" in result.stderr
    profile = tomllib.loads((tmp_path / "p.toml").read_text())
    # the fake's framings all agree, so gamma buys nothing and tau alone is chosen; its tau is
    # the same for every claim, so within 60% the only choice is to retrieve for none of them
    assert profile["consistency"] == "none"
    assert profile["meta"]["tokens_per_claim"] <= 0.6 * always and profile["meta"]["retrieval_rate"] == 0
    result = CliRunner().invoke(app, ["calibrate", str(claims), *index, "-o", str(tmp_path / "p.toml"),
                                      "--budget", "10"])
    assert "no thresholds keep within the budget; chose the cheapest" in result.stderr


def test_calibrate_needs_an_evidence_source(setup):
    _, claims = setup
    result = CliRunner().invoke(app, ["calibrate", str(claims)])
    assert result.exit_code == 2 and "needs an evidence source" in result.stderr


def test_profile_with_unknown_keys_is_rejected(tmp_path):
    profile = tmp_path / "p.toml"
    profile.write_text("alpha = 0.5\nthreads = 3\n")
    from factcheck.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown keys \\['threads'\\]"):
        resolve({"profile": profile})
