import os
from pathlib import Path

import pytest

from factcheck.config.settings import resolve
from factcheck.errors import ConfigError
from factcheck.schema import LabelSet


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_defaults_without_any_source():
    settings = resolve({})
    assert settings.model is None and settings.ctx == 4096 and settings.gpu_layers == 0
    assert settings.labels is LabelSet.THREE and settings.threads >= 1


def test_precedence_flag_over_env_over_file(tmp_path, monkeypatch):
    cfg = write(tmp_path / "c.toml", 'ctx = 1024\nthreads = 3\ngpu_layers = 5\nmodel = "/file.gguf"\n')
    monkeypatch.setenv("FACTCHECK_CTX", "2048")
    monkeypatch.setenv("FACTCHECK_THREADS", "2")
    settings = resolve({"ctx": 512, "threads": None}, cfg)
    assert settings.ctx == 512  # flag
    assert settings.threads == 2  # env
    assert settings.gpu_layers == 5  # file
    assert settings.model == Path("/file.gguf")


def test_config_file_from_xdg_config_home(isolated_dirs):
    (isolated_dirs / "factcheck").mkdir()
    write(isolated_dirs / "factcheck" / "config.toml", 'labels = "binary"\n')
    assert resolve({}).labels is LabelSet.BINARY


def test_config_file_from_env_var(tmp_path, monkeypatch):
    monkeypatch.setenv("FACTCHECK_CONFIG", str(write(tmp_path / "x.toml", "ctx = 999\n")))
    assert resolve({}).ctx == 999


@pytest.mark.parametrize("text, message", [
    ("colour = 'blue'\n", "unknown setting 'colour'"),
    ("ctx = 'large'\n", "ctx: Input should be a valid integer"),
    ("ctx = 10\n", "ctx: Input should be greater than or equal to 256"),
    ("labels = 'four'\n", "labels: Input should be 'three' or 'binary'"),
    ("ctx = = 3\n", "is not valid TOML"),
])
def test_bad_config_file_names_file_key_and_problem(tmp_path, text, message):
    cfg = write(tmp_path / "bad.toml", text)
    with pytest.raises(ConfigError) as info:
        resolve({}, cfg)
    assert message in str(info.value) and str(cfg) in str(info.value)


def test_config_path_that_is_a_directory_or_missing(tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        resolve({}, tmp_path)
    with pytest.raises(ConfigError, match="not found"):
        resolve({}, tmp_path / "nope.toml")


def test_bad_env_value_names_the_environment(monkeypatch):
    monkeypatch.setenv("FACTCHECK_THREADS", "many")
    with pytest.raises(ConfigError, match="environment: FACTCHECK_THREADS"):
        resolve({})


def test_profile_for_any_model_file_is_found_by_its_hash_on_the_first_run(tmp_path, isolated_dirs, isolated_cache):
    import hashlib

    model = tmp_path / "mine.gguf"
    model.write_bytes(b"GGUF" + b"\0" * 100)
    profiles = isolated_dirs / "factcheck" / "profiles"
    profiles.mkdir(parents=True)
    sha = hashlib.sha256(model.read_bytes()).hexdigest()
    (profiles / f"{sha}.toml").write_text(f'[meta]\nmodel_sha256 = "{sha}"\n[three]\nalpha = 0.33\nconsistency = "none"\n')
    from factcheck.pipeline import configure

    assert resolve({"model": str(model)}).alpha == 0.5  # resolving settings reads no model file
    settings, profile = configure(resolve({"model": str(model)}))  # nothing hashed before: the hash is computed now
    assert settings.alpha == 0.33 and settings.consistency == "none" and profile.path == profiles / f"{sha}.toml"
    assert configure(resolve({"model": str(tmp_path / "missing.gguf")}))[0].alpha == 0.5  # unreadable: no profile, no error here


def test_tests_never_touch_the_users_folders():
    from factcheck.config.paths import cache_dir, config_dir

    home = Path.home()
    assert not cache_dir().is_relative_to(home / ".cache")
    assert not config_dir().is_relative_to(home / ".config")
    assert not any(name.startswith("FACTCHECK_") for name in os.environ)


def test_config_file_wins_over_the_profile_and_config_show_says_where_each_value_came_from(tmp_path):
    """Defect: an alpha in config.toml was silently ignored for the default model because
    the shipped profile outranked the config file."""
    import json

    from typer.testing import CliRunner

    from factcheck.cli import app
    from factcheck.model.files import DEFAULT_MODEL_SHA256

    profile = tmp_path / "p.toml"
    profile.write_text(f'[meta]\nmodel_sha256 = "{DEFAULT_MODEL_SHA256}"\n[three]\nalpha = 0.2\nk = 4\n')
    config = tmp_path / "config.toml"
    config.write_text(f'alpha = 0.7\nprofile = "{profile}"\n')
    from factcheck.pipeline import configure

    settings, _ = configure(resolve({}, config))
    assert settings.alpha == 0.7 and settings.k == 4
    result = CliRunner().invoke(app, ["config", "show", "--json", "--config", str(config)])
    rows = json.loads(result.stdout)
    assert rows["alpha"] == {"value": 0.7, "source": f"config file {config}"}
    assert rows["k"]["value"] == 4 and rows["k"]["source"].startswith("profile ")
    assert rows["threads"]["source"] == "default"
    assert rows["router"] == {"value": None, "source": "none fitted"}  # fitted objects are shown beside settings


def test_config_show_hashes_no_model_file_and_model_info_names_the_profile(tmp_path, isolated_dirs, isolated_cache,
                                                                          monkeypatch):
    import hashlib
    import json

    from typer.testing import CliRunner

    from factcheck.cli import app
    from factcheck.model.files import remembered_sha256

    from .fakes import FakeModel

    model = tmp_path / "mine.gguf"
    model.write_bytes(b"GGUF" + b"\0" * 100)
    sha = hashlib.sha256(model.read_bytes()).hexdigest()
    profiles = isolated_dirs / "factcheck" / "profiles"
    profiles.mkdir(parents=True)
    (profiles / f"{sha}.toml").write_text(f'[meta]\nmodel_sha256 = "{sha}"\nfitted_at = "2026-12-01T10:00:00Z"\n'
                                          f'[three]\nalpha = 0.33\n')
    shown = CliRunner().invoke(app, ["config", "show", "--model", str(model)])
    assert shown.exit_code == 0 and "not known until the model loads" in shown.stdout
    assert remembered_sha256(model) is None  # showing settings read no model file
    fake = FakeModel()
    fake.info = fake.info.__class__(**{**fake.info.__dict__, "sha256": sha, "path": model})
    monkeypatch.setattr("factcheck.model.loader.open_model", lambda settings, progress=None: fake)
    info = CliRunner().invoke(app, ["model", "info", "--json", "--model", str(model)])
    data = json.loads(info.stdout)
    assert data["profile"] == str(profiles / f"{sha}.toml") and data["profile_fitted_at"] == "2026-12-01T10:00:00Z"
    shown = CliRunner().invoke(app, ["config", "show", "--json", "--model", str(model)])  # hashed now: found
    assert json.loads(shown.stdout)["alpha"]["value"] == 0.33
