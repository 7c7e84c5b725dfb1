"""Assembling the default model from its chunk packages, tested on small fake chunks."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from factcheck.errors import ModelError, ModelNotInstalled
from factcheck.model import files as model_files


@pytest.fixture
def chunks(tmp_path, monkeypatch, isolated_cache):
    parts = []
    for i in range(3):
        part = tmp_path / f"part{i:02d}.bin"
        part.write_bytes(bytes([i]) * (300_000 + i))
        parts.append(part)
    blob = b"".join(p.read_bytes() for p in parts)
    monkeypatch.setattr(model_files, "_chunk_paths", lambda: parts)
    monkeypatch.setattr(model_files, "DEFAULT_MODEL_SIZE", len(blob))
    monkeypatch.setattr(model_files, "DEFAULT_MODEL_SHA256", hashlib.sha256(blob).hexdigest())
    return blob


def test_assembles_once_into_the_cache_dir(chunks, isolated_cache):
    path = model_files.ensure_default_model()
    assert path.parent == isolated_cache / "factcheck" / "models"
    assert path.read_bytes() == chunks
    assert not list(path.parent.glob("*.part"))
    mtime = path.stat().st_mtime_ns
    assert model_files.ensure_default_model() == path and path.stat().st_mtime_ns == mtime


def test_wrong_hash_leaves_no_file_and_says_what_to_reinstall(chunks, monkeypatch):
    monkeypatch.setattr(model_files, "DEFAULT_MODEL_SHA256", "f" * 64)
    with pytest.raises(ModelError, match="pip install --force-reinstall"):
        model_files.ensure_default_model()
    folder = model_files.default_model_path().parent
    assert not model_files.default_model_path().exists()
    assert not list(folder.glob("*.part"))


def test_a_corrupted_cached_file_is_rebuilt(chunks):
    path = model_files.ensure_default_model()
    path.write_bytes(b"garbage")
    assert model_files.ensure_default_model().read_bytes() == chunks


# Run in separate processes (python -P: the installed factcheck, never the checkout's folder).
_ASSEMBLE_IN_CHILD = """
import sys
from pathlib import Path
from factcheck.model import files as model_files
cache, size, sha, *parts = sys.argv[1:]
model_files._chunk_paths = lambda: [Path(p) for p in parts]
model_files.DEFAULT_MODEL_SIZE = int(size)
model_files.DEFAULT_MODEL_SHA256 = sha
print(model_files.ensure_default_model())
"""


def test_concurrent_first_runs_do_not_corrupt(chunks, isolated_cache, tmp_path):
    parts = [str(p) for p in model_files._chunk_paths()]
    command = [sys.executable, "-P", "-c", _ASSEMBLE_IN_CHILD, str(isolated_cache),
               str(model_files.DEFAULT_MODEL_SIZE), model_files.DEFAULT_MODEL_SHA256, *parts]
    env = {**os.environ, "XDG_CACHE_HOME": str(isolated_cache)}
    children = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                for _ in range(4)]
    results = [child.communicate(timeout=120) for child in children]
    assert all(child.returncode == 0 for child in children), [err for _, err in results]
    paths = {out.strip() for out, _ in results}
    assert len(paths) == 1
    assert Path(paths.pop()).read_bytes() == chunks


def test_missing_packages_name_the_install_command(monkeypatch):
    monkeypatch.setattr(model_files.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelNotInstalled, match=r"pip install 'factcheck-pcc\[default-model\]'"):
        model_files._chunk_paths()


def test_file_hash_is_remembered_by_size_and_mtime(tmp_path, isolated_cache):
    f = tmp_path / "m.gguf"
    f.write_bytes(b"GGUF" + b"x" * 100)
    first = model_files.file_sha256(f)
    assert first == hashlib.sha256(f.read_bytes()).hexdigest()
    f.write_bytes(b"GGUF" + b"y" * 101)  # size changes: hashed again
    assert model_files.file_sha256(f) == hashlib.sha256(f.read_bytes()).hexdigest() != first


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "model file not found"),
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: p.write_bytes(b"\x00\x01"), "is not a GGUF model file"),
])
def test_check_gguf_names_the_file_and_the_fix(tmp_path, make, message):
    path = tmp_path / "model.gguf"
    make(path)
    with pytest.raises(ModelError, match=message) as info:
        model_files.check_gguf(path)
    assert str(path) in str(info.value)
