from __future__ import annotations

import os
from pathlib import Path

import pytest

# Real claims and corpora for the tests ship with the repository (fixtures/README.md says
# what and from where); the full shared data is for benchmarks only.
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session", autouse=True)
def isolated_session(tmp_path_factory):
    """For the whole run: no FACTCHECK_* setting of the user's, and the cache and config
    folders in a temp dir, so no test reads the user's files or writes to ~/.cache
    (the default model is assembled there once per run)."""
    patch = pytest.MonkeyPatch()
    patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    patch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("session-config")))
    for name in list(os.environ):
        if name.startswith("FACTCHECK_"):
            patch.delenv(name)
    yield
    patch.undo()


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path_factory, monkeypatch):
    """Point config at a temp dir and clear FACTCHECK_* settings, so tests never read the
    user's files. The cache dir is shared per session so the default model is assembled once."""
    config = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    for name in list(os.environ):
        if name.startswith("FACTCHECK_"):
            monkeypatch.delenv(name)
    return config


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="session")
def data() -> Path:
    """Real claims and corpora in the shared data's layout, from tests/fixtures."""
    return FIXTURES


@pytest.fixture(scope="session")
def real_model(isolated_session):
    """The real default model, loaded once for the whole test session, after the isolation
    (a user's config.toml or FACTCHECK_MODEL never changes the model under test)."""
    from factcheck.config.settings import resolve
    from factcheck.model.loader import open_model

    return open_model(resolve({"ctx": 2048}))


@pytest.fixture(scope="session")
def wiki_server(data):
    """A MediaWiki/SearXNG stand-in on 127.0.0.1 over FM2's dev corpus."""
    from .wiki_server import WikiServer, load_pages

    server = WikiServer(load_pages(data / "fm2" / "corpus_dev.jsonl")).start()
    yield server
    server.stop()


@pytest.fixture
def wiki(wiki_server):
    wiki_server.reset("ok")
    yield wiki_server
    wiki_server.reset("ok")


@pytest.fixture(scope="session")
def default_checker(real_model):
    """A checker as a user gets it (the shipped profile's reader, label bias and calibration)
    for a label set, without evidence sources: for reading evidence the tests bring."""
    from factcheck.config.settings import resolve
    from factcheck.pipeline import build_pipeline, configure
    from factcheck.schema import LabelSet

    def build(labels: LabelSet = LabelSet.THREE):
        settings, profile = configure(resolve({"ctx": 2048, "labels": labels.value}))
        return build_pipeline(settings, lambda _settings: real_model, profile)

    return build
