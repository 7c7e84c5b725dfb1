from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(os.environ.get("FACTCHECK_SHARED_DATA",
                                  Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path_factory, monkeypatch):
    """Point config at a temp dir and clear FACTCHECK_* settings, so tests never read the
    user's files. The cache dir is shared per session so the default model is assembled once."""
    config = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    for name in list(os.environ):
        if name.startswith("FACTCHECK_") and name != "FACTCHECK_SHARED_DATA":
            monkeypatch.delenv(name)
    return config


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared data not found at {SHARED_DATA}; set FACTCHECK_SHARED_DATA")
    return SHARED_DATA


@pytest.fixture(scope="session")
def real_model():
    """The real default model, loaded once for the whole test session."""
    from factcheck.config import resolve
    from factcheck.loader import open_model

    return open_model(resolve({"ctx": 2048}))


@pytest.fixture(scope="session")
def wiki_server(shared_data):
    """A MediaWiki/SearXNG stand-in on 127.0.0.1 over FM2's dev corpus."""
    from .wiki_server import WikiServer, load_pages

    server = WikiServer(load_pages(shared_data / "fm2" / "corpus_dev.jsonl")).start()
    yield server
    server.stop()


@pytest.fixture
def wiki(wiki_server):
    wiki_server.reset("ok")
    yield wiki_server
    wiki_server.reset("ok")
