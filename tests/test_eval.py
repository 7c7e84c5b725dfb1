"""factcheck eval and calibrate with the fake model over a real local index."""

import json
import tomllib

import pytest
from factcheck.retrievers.local_index import build_index
from typer.testing import CliRunner

from factcheck.cli import app
from factcheck.config.settings import resolve
from factcheck.pipeline import configure


def profiled(flags):
    """(settings, profile) as a run applies them."""
    return configure(resolve(flags))

from .fakes import FakeModel

WORDS = ["apple", "banana", "cherry", "damson", "elder", "fig", "grape", "hazel", "iris", "juniper", "kiwi", "lime",
         "mango", "nectarine", "olive", "peach", "quince", "raisin", "sloe", "tomato", "ugli", "vanilla", "walnut", "yam"]
DOCS = [{"id": f"d{i}", "title": w.title(), "text": f"The {w} fact is recorded here."} for i, w in enumerate(WORDS)]


def script(prompt):
    claim = prompt.rsplit("<claim>", 1)[-1].split("</claim>", 1)[0]
    if "<evidence>\n" in prompt:  # with evidence: right about every claim
        return {"FALSE": 0.8, "TRUE": 0.2} if "false" in claim else {"TRUE": 0.8, "FALSE": 0.2}
    return {"TRUE": 0.55, "FALSE": 0.45}  # closed book: always says true, unsure


@pytest.fixture
def setup(tmp_path, monkeypatch, isolated_cache, isolated_dirs):
    model = FakeModel(script=script)
    monkeypatch.setattr("factcheck.model.loader.open_model", lambda settings, progress=None: model)
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(d) + "\n" for d in DOCS))
    build_index([str(corpus)], tmp_path / "idx")
    claims = tmp_path / "claims.jsonl"
    rows = [{"id": f"c{i}", "claim": f"The {WORDS[i]} fact is {'false' if i % 2 else 'true'}.",
             "label": "REFUTED" if i % 2 else "SUPPORTED", "evidence": [{"doc_id": f"d{i}", "text": "…"}]}
            for i in range(len(WORDS))]
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
    assert retrieve["confusion"] == {"SUPPORTED": {"SUPPORTED": 12, "REFUTED": 0}, "REFUTED": {"SUPPORTED": 0, "REFUTED": 12}}
    assert retrieve["gold_evidence_recall"] > 0.5 and direct["gold_evidence_recall"] == 0.0
    for key in ("auroc", "ece", "brier", "tokens_per_claim", "seconds_per_claim", "routes", "f1"):
        assert key in retrieve
    assert (tmp_path / "rep" / "reliability.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "rep" / "cost_quality.png").stat().st_size > 1000
    assert len((tmp_path / "rep" / "records_direct.jsonl").read_text().splitlines()) == 24
    assert retrieve["macro_f1_ci"] == [1.0, 1.0] and direct["accuracy_ci"][0] < 0.5 < direct["accuracy_ci"][1]
    assert "direct" in result.stdout and "retrieve" in result.stdout
    assert "[low–high]" in result.stdout  # the caption is text, not rich markup


def test_eval_rejects_unknown_strategy_and_unlabeled_claims(setup, tmp_path):
    _, claims = setup
    assert CliRunner().invoke(app, ["eval", str(claims), "--strategy", "magic"]).exit_code == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"claim": "x"}\n')
    result = CliRunner().invoke(app, ["eval", str(bad)])
    assert result.exit_code == 2 and "bad.jsonl:1: not a labeled claim" in result.stderr


def test_calibrate_writes_a_profile_table_for_its_label_set_used_for_that_model_only(setup):
    tmp_path, claims = setup
    result = CliRunner().invoke(app, ["calibrate", str(claims), "--index", str(tmp_path / "idx"),
                                      "--reader", "joint+probe"])
    assert result.exit_code == 0, result.output
    assert "router:" in result.stderr and "label bias" in result.stderr
    from factcheck.config.paths import config_dir
    from factcheck.model.files import DEFAULT_MODEL_SHA256

    written = config_dir() / "profiles" / f"{'0' * 64}.toml"  # named by the (fake) model's hash
    data = tomllib.loads(written.read_text())
    assert data["meta"]["model_sha256"] == "0" * 64
    assert set(data) == {"meta", "binary"}  # SUPPORTED/REFUTED claims fit the binary table only
    table = data["binary"]
    assert table["probe"]["labels"] and table["calibration"]["evidence"]["method"] in ("platt", "isotonic")
    assert set(table["router"]) == {"features", "weights", "intercept", "threshold"}
    # the evidence it was fitted on was chosen as the profile in force chose it (binary: by meaning)
    assert (table["selection"], table["k"], table["sentences"]) == ("meaning", 20, 4)
    # another model never gets it
    from factcheck.errors import ConfigError

    with pytest.raises(ConfigError, match="fitted for model 000000000000"):
        profiled({"profile": written, "labels": "binary"})
    # named by the default model's hash and fitted for it, it is used with the default model...
    data["meta"]["model_sha256"] = DEFAULT_MODEL_SHA256
    import tomli_w

    (config_dir() / "profiles" / f"{DEFAULT_MODEL_SHA256}.toml").write_text(tomli_w.dumps(data))
    binary = profiled({"labels": "binary"})[1].fitted
    assert binary.probe is not None and binary.router is not None and binary.calibration is not None
    # ...for binary runs only: a three-label run gets none of it
    three = profiled({})[1].fitted
    assert three.probe is None and three.router is None and three.calibration is None
    assert profiled({"labels": "binary", "k": 2})[0].k == 2  # a flag still wins over the profile


def test_calibrated_check_never_prints_certainty(setup):
    tmp_path, claims = setup
    profile = tmp_path / "p.toml"
    assert CliRunner().invoke(app, ["calibrate", str(claims), "--index", str(tmp_path / "idx"),
                                    "-o", str(profile), "--reader", "joint+probe"]).exit_code == 0
    text = profile.read_text()
    from factcheck.model.files import DEFAULT_MODEL_SHA256

    profile.write_text(text.replace("0" * 64, DEFAULT_MODEL_SHA256))
    result = CliRunner().invoke(app, ["check", "--json", "--labels", "binary", "--index", str(tmp_path / "idx"),
                                      "--profile", str(profile), "--route", "retrieve", "The apple fact is true.", "The banana fact is false."])
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["verdict"] for r in records] == ["SUPPORTED", "REFUTED"]
    assert all(0.005 < r["confidence"] < 0.995 for r in records)
    # a three-label run with a binary-only profile given explicitly is refused, in one line
    result = CliRunner().invoke(app, ["check", "--profile", str(profile), "The apple fact is true."])
    assert result.exit_code == 2 and "has no [three] table" in result.stderr and "Traceback" not in result.output


def test_calibrate_router_keeps_within_its_budget(setup):
    tmp_path, claims = setup
    result = CliRunner().invoke(app, ["calibrate", str(claims), "--index", str(tmp_path / "idx"),
                                      "-o", str(tmp_path / "p.toml"), "--budget", "0.6", "--max-loss", "1"])
    assert result.exit_code == 0, result.output
    import re

    used, always = map(float, re.search(r"(\d+) tokens per claim \(always reading: (\d+)", result.stderr).groups())
    assert used <= 0.6 * always
    # held-out figures with intervals, and whether routing pays, in words
    low, high = map(float, re.search(r"reading evidence [\d.]+ \[([\d.]+), ([\d.]+)\]", result.stderr).groups())
    assert 0 <= low <= high <= 1
    assert re.search(r"routing (pays|does not pay|is not shown to pay) for this model: \d+% of always reading's tokens", result.stderr)
    # the default --reader auto, on too few claims to cross-validate: the label words as read
    assert "reader joint+logits" in result.stderr
    assert "answer_map" not in tomllib.loads((tmp_path / "p.toml").read_text())["binary"]
    result = CliRunner().invoke(app, ["calibrate", str(claims), "--index", str(tmp_path / "idx"), "--budget", "2"])
    assert result.exit_code == 2 and "--budget is a share" in result.stderr
    result = CliRunner().invoke(app, ["calibrate", str(claims), "--index", str(tmp_path / "idx"), "--max-loss", "-1"])
    assert result.exit_code == 2 and "--max-loss is a macro-F1 difference" in result.stderr


def test_calibrate_needs_an_evidence_source(setup):
    _, claims = setup
    result = CliRunner().invoke(app, ["calibrate", str(claims)])
    assert result.exit_code == 2 and "needs an evidence source" in result.stderr


def test_profile_with_unknown_keys_or_old_format_is_rejected(tmp_path):
    from factcheck.errors import ConfigError
    from factcheck.model.files import DEFAULT_MODEL_SHA256

    profile = tmp_path / "p.toml"
    profile.write_text(f'[meta]\nmodel_sha256 = "{DEFAULT_MODEL_SHA256}"\n[three]\nalpha = 0.5\nthreads = 3\n')
    with pytest.raises(ConfigError, match="unknown keys \\['threads'\\]"):
        profiled({"profile": profile})
    profile.write_text("alpha = 0.5\n")
    with pytest.raises(ConfigError, match="older factcheck"):
        profiled({"profile": profile})
    profile.write_text("[three]\nalpha = 0.5\n")
    with pytest.raises(ConfigError, match="model_sha256 is missing"):
        profiled({"profile": profile})


def test_eval_counts_reading_not_the_routers_search(setup):
    """The fitted router searches every claim (2 ms) but reads none here: nothing was retrieved for reading."""
    from factcheck.runs.evaluate import score
    from factcheck.schema import CheckRecord, Label, Route

    tmp_path, claims = setup
    from factcheck.runs.evaluate import read_labeled

    items = read_labeled(claims, 2)
    records = [CheckRecord(id=c.id, claim=c.claim, verdict=Label.SUPPORTED, confidence=0.6, route=Route.DIRECT,
                           basis="model", calls={"model": 1, "retrieval": 1}) for c in items]
    assert score(items, records, ["SUPPORTED", "REFUTED"])["retrieval_rate"] == 0.0


def test_eval_charges_each_strategy_its_own_prompts(setup):
    """Strategies share one model: run claim by claim, a strategy asking the same prompt as
    the one before it would find it in the KV cache and be charged almost nothing."""
    from factcheck.model import loader
    from factcheck.runs.evaluate import run_eval

    tmp_path, claims = setup
    result, _ = run_eval(claims, "retrieve,deep", 6, lambda settings: loader.open_model(settings),  # the fake
                         no_cache=True, index=[tmp_path / "idx"], max_hops=1)
    first, second = (result["strategies"][n]["tokens_per_claim"] for n in ("retrieve", "deep"))
    assert second > 0.5 * first > 5, (first, second)


def test_a_profile_fitted_with_other_verdict_prompts_warns_and_still_applies(tmp_path, caplog):
    from factcheck.model.files import DEFAULT_MODEL_SHA256

    profile = tmp_path / "p.toml"
    profile.write_text(f'[meta]\nmodel_sha256 = "{DEFAULT_MODEL_SHA256}"\nprompts_sha256 = "{"0" * 64}"\n'
                       f'[three]\nalpha = 0.4\n')
    with caplog.at_level("WARNING", logger="factcheck"):
        assert profiled({"profile": profile})[0].alpha == 0.4
    assert f"profile {profile} was fitted with other verdict prompts" in caplog.text


def test_the_shipped_profile_was_fitted_with_these_verdict_prompts():
    """Editing a verdict prompt changes every reading the shipped maps were fitted on: refit
    the profile (factcheck calibrate --set benchmarks/shipped_profile.toml, docs/results.md) in the same change."""
    from pathlib import Path

    import factcheck
    from factcheck import prompts
    from factcheck.model.files import DEFAULT_MODEL_SHA256

    shipped = Path(factcheck.__file__).parent / "profiles" / f"{DEFAULT_MODEL_SHA256}.toml"
    meta = tomllib.loads(shipped.read_text())["meta"]
    assert meta["prompts_sha256"] == prompts.digest(reading_only=True)


def _three_label_claims(path):
    """24 claims with three labels: 'unknown' claims have nothing to settle them."""
    rows = [{"id": f"t{i}", "claim": f"The {w} fact is {('true', 'false', 'unknown')[i % 3]}.",
             "label": ("SUPPORTED", "REFUTED", "NOT_ENOUGH_INFO")[i % 3]} for i, w in enumerate(WORDS)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_calibrate_set_fits_every_label_set_from_its_parts_in_one_profile(setup):
    tmp_path, claims = setup
    _three_label_claims(tmp_path / "three.jsonl")
    (tmp_path / "set.toml").write_text(
        'name = "two parts"\n'
        '[three]\nk = 3\nsentences = 2\n'
        '[[three.part]]\nclaims = "three.jsonl"\ncorpus = ["corpus.jsonl"]\n'  # indexed into the cache folder
        '[binary]\nk = 4\n'
        '[[binary.part]]\nclaims = "claims.jsonl"\nindex = ["idx"]\nlimit = 20\n')
    result = CliRunner().invoke(app, ["calibrate", "--set", str(tmp_path / "set.toml"), "-o", str(tmp_path / "p.toml")])
    assert result.exit_code == 0, result.output
    assert "indexing the corpus of three.jsonl" in result.stderr
    assert "three labels: fitted on 24 claims" in result.stderr and "binary labels: fitted on 20 claims" in result.stderr
    profile = tomllib.loads((tmp_path / "p.toml").read_text())
    assert (profile["three"]["k"], profile["three"]["sentences"], profile["binary"]["k"]) == (3, 2, 4)
    assert profile["meta"]["fitted_on_binary"] == "two parts: claims.jsonl (20 claims)"
    assert profile["meta"]["fitted_at"] and profile["meta"]["command"].startswith("factcheck calibrate --set")
    # every claim was measured once and kept: a rerun (after an interrupt, say) reads no claim again
    from factcheck.model import loader

    model = loader.open_model(None)  # the fixture's one fake model
    passes = []
    original = model.next_token
    model.next_token = lambda *a, **k: passes.append(1) or original(*a, **k)
    again = CliRunner().invoke(app, ["calibrate", "--set", str(tmp_path / "set.toml"), "-o", str(tmp_path / "q.toml")])
    assert again.exit_code == 0 and "indexing" not in again.stderr and passes == []
    assert tomllib.loads((tmp_path / "q.toml").read_text())["three"] == profile["three"]


@pytest.mark.parametrize("content, message", [
    ('[three]\n[[three.part]]\nclaims = "three.jsonl"\ncorpus = ["missing.jsonl"]\n', "corpus not found"),
    ('[three]\n[[three.part]]\nclaims = "three.jsonl"\n', "either corpus"),
    ('[binary]\n[[binary.part]]\nclaims = "three.jsonl"\ncorpus = ["corpus.jsonl"]\n', "holds NOT_ENOUGH_INFO claims"),
    ('[three]\n[[three.part]]\nclaims = "three.jsonl"\ncorpus = ["corpus.jsonl"]\nlimit = 10\n', "at least 20 labeled claims"),
    ('[tree]\n', "tree"),
    ('name = "nothing"\n', "no [three] or [binary] table"),
])
def test_a_bad_calibration_set_fails_before_the_model_loads(setup, monkeypatch, content, message):
    tmp_path, _ = setup
    _three_label_claims(tmp_path / "three.jsonl")
    (tmp_path / "set.toml").write_text(content)

    def no_model(settings, progress=None):
        raise AssertionError("the model was loaded for a calibration set that cannot be fitted")

    monkeypatch.setattr("factcheck.model.loader.open_model", no_model)
    result = CliRunner().invoke(app, ["calibrate", "--set", str(tmp_path / "set.toml")])
    assert result.exit_code == 2 and message in result.stderr, result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_calibrate_with_too_few_claims_fails_before_the_model_loads(setup, monkeypatch):
    tmp_path, claims = setup
    few = tmp_path / "few.jsonl"
    few.write_text("".join(claims.read_text().splitlines(keepends=True)[:10]))
    monkeypatch.setattr("factcheck.model.loader.open_model", lambda *a, **k: pytest.fail("model loaded"))
    result = CliRunner().invoke(app, ["calibrate", str(few), "--index", str(tmp_path / "idx")])
    assert result.exit_code == 2 and "needs at least 20 labeled claims" in result.stderr and "got 10" in result.stderr


def test_calibrate_without_a_terminal_reports_progress_in_lines(setup):
    tmp_path, claims = setup
    result = CliRunner().invoke(app, ["calibrate", str(claims), "--index", str(tmp_path / "idx"), "-o", str(tmp_path / "p.toml")])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("calibrating:")]
    assert lines[0].startswith("calibrating: 10/24 claims (claims.jsonl)") and lines[-1].startswith("calibrating: 24/24")


def test_a_claim_text_repeated_under_another_label_keeps_each_label():
    """Check-COVID reuses a claim's text under another label: each labeled claim is its own
    sample (the measured passes shared), so neither label is lost."""
    from factcheck.fitting.samples import Sample, collect
    from factcheck.runs.evaluate import LabeledClaim

    measured = Sample(id="x", claim="Same text.", gold="", closed={}, tau=0.0, closed_tokens=1, signals={},
                      joint={"SUPPORTED": 1.0}, joint_tokens=1)

    class Measured:  # like SampleStore: the one sample measured for the text, each time it is asked
        def get(self, key):
            return measured

    claims = [LabeledClaim("a", "Same text.", "REFUTED", set()), LabeledClaim("b", "Same text.", "NOT_ENOUGH_INFO", set())]
    samples = collect(None, claims, settings_key="k", store=Measured())
    assert [(s.id, s.gold) for s in samples] == [("a", "REFUTED"), ("b", "NOT_ENOUGH_INFO")]


def test_calibrate_compares_escalation_and_measures_transfer_part_by_part(setup):
    tmp_path, claims = setup
    rows = [json.loads(line) for line in claims.read_text().splitlines()]
    (tmp_path / "other.jsonl").write_text("".join(json.dumps(dict(r, id="b" + r["id"])) + "\n" for r in rows))
    (tmp_path / "set.toml").write_text(
        'name = "two parts"\n[binary]\nk = 4\n'
        '[[binary.part]]\nclaims = "claims.jsonl"\nindex = ["idx"]\n'
        '[[binary.part]]\nclaims = "other.jsonl"\nindex = ["idx"]\n')
    result = CliRunner().invoke(app, ["calibrate", "--set", str(tmp_path / "set.toml"), "--transfer",
                                      "-o", str(tmp_path / "p.toml")])
    assert result.exit_code == 0, result.output
    assert "escalation, held out on 48 claims" in result.stderr and "read once" in result.stderr
    assert "transfer: each part left out" in result.stderr
    assert "claims.jsonl" in result.stderr and "other.jsonl" in result.stderr and "batch" in result.stderr
    # every reading was right and sure already: escalating cannot pay, and the profile says never
    assert tomllib.loads((tmp_path / "p.toml").read_text())["binary"]["escalate_below"] == 0.0
