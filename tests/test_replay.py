"""One implementation of a check: replaying a fitted profile over stored passes
(fitting/replay.py, what calibrate scores and chooses by) gives the verdicts, confidences and
routes that a live check gives the same claims, on every route (scripted fake model, a real
local index)."""

import json

import pytest
from factcheck.retrievers.local_index import build_index

from factcheck.config.settings import resolve
from factcheck.fitting.calibrate import fit_label_set
from factcheck.fitting.replay import apply_section
from factcheck.fitting.samples import collect
from factcheck.model.files import DEFAULT_MODEL_SHA256
from factcheck.pipeline import build_pipeline, configure
from factcheck.profiles.profile import write_profile
from factcheck.runs.evaluate import read_labeled
from factcheck.schema import Claim, LabelSet

from .fakes import FakeModel

TOPICS = ["apple", "banana", "cherry", "damson", "elder", "fig", "grape", "hazel", "iris", "juniper", "kiwi", "lime",
          "mango", "nectarine", "olive", "peach", "quince", "raisin", "sloe", "tomato", "ugli", "vanilla", "walnut",
          "yam", "zucchini", "almond", "bean", "carrot", "dill", "endive"]


def script(prompt: str) -> dict[str, float]:
    """Closed book: sure of some claims and wrong about others; with evidence: right, with
    a strength that varies, and unsure where the evidence does not settle it."""
    claim = prompt.rsplit("<claim>", 1)[-1].split("</claim>", 1)[0]
    n = sum(map(ord, claim)) % 7
    if "<evidence>\n" in prompt:
        if "unsettled" in prompt.split("<claim>")[0]:
            return {"UNKNOWN": 0.6, "TRUE": 0.25, "FALSE": 0.15}
        strength = 0.55 + 0.06 * n
        return {"FALSE": strength, "TRUE": 1 - strength} if "false" in claim else {"TRUE": strength, "FALSE": 1 - strength}
    return {"TRUE": 0.5 + 0.07 * n, "FALSE": 0.5 - 0.07 * n} if n % 2 else {"FALSE": 0.6, "TRUE": 0.3, "UNKNOWN": 0.1}


@pytest.fixture
def world(tmp_path, monkeypatch, isolated_cache):
    model = FakeModel(script=script)
    monkeypatch.setattr("factcheck.model.loader.open_model", lambda settings, progress=None: model)
    docs = [{"id": f"d{i}", "title": w.title(), "text": f"The {w} fact is recorded here."
             + (" It is unsettled." if i % 5 == 4 else "")} for i, w in enumerate(TOPICS[:26])]
    (tmp_path / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    build_index([str(tmp_path / "corpus.jsonl")], tmp_path / "idx")
    rows = []
    for i, w in enumerate(TOPICS):
        label = ("SUPPORTED", "REFUTED", "NOT_ENOUGH_INFO")[i % 3]
        word = {"SUPPORTED": "true", "REFUTED": "false", "NOT_ENOUGH_INFO": "unknown"}[label]
        # the last four share no word with any document: the search finds nothing to read
        text = f"The {w} fact is {word}." if i < 26 else f"{w.title()} grows {word}ly."
        rows.append({"id": f"c{i}", "claim": text, "label": label})
    (tmp_path / "claims.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path, read_labeled(tmp_path / "claims.jsonl")


@pytest.mark.parametrize("max_loss", [0.0, 1.0])  # a router that reads every claim, and one kept to its budget
@pytest.mark.parametrize("route", ["auto", "retrieve", "direct"])
def test_replay_and_a_live_check_agree(world, route, max_loss):
    tmp_path, claims = world
    base = {"index": [tmp_path / "idx"], "labels": "three", "k": 3}
    measuring = build_pipeline(resolve({**base, "route": "retrieve"}), lambda _s: FakeModel(script=script))
    samples = collect(measuring.stages, claims, settings_key="replay", store=None)
    section, _ = fit_label_set(samples, LabelSet.THREE, resolve({**base, "route": "retrieve"}), reader="joint+logits",
                               budget=0.5, max_loss=max_loss)
    profile = tmp_path / "profile.toml"
    write_profile(profile, {LabelSet.THREE: section}, {"model_sha256": DEFAULT_MODEL_SHA256})  # what resolve takes it for
    settings, fitted = configure(resolve({**base, "profile": profile, "route": route}))
    live = build_pipeline(settings, lambda _s: FakeModel(script=script), fitted)
    replayed = apply_section(samples, section, LabelSet.THREE, route)
    routes = set()
    for claim, sample, outcome in zip(claims, samples, replayed):
        record = live.check(Claim(id=claim.id, text=claim.claim))
        routes.add((record.route.value, record.basis.value))
        assert record.verdict.value == outcome.verdict, (claim.claim, record.route_reason)
        assert record.confidence == pytest.approx(outcome.confidence, abs=1e-6)
        assert (record.basis == "evidence") == outcome.read
    if route == "direct":
        assert routes == {("direct", "model")}
    elif route == "auto" and max_loss == 1.0:  # a router kept to its budget answers claims directly
        assert ("direct", "model") in routes
    else:  # read, and nothing found to read
        assert {"evidence", "none"} <= {basis for _, basis in routes}
