"""Turn settings into a model: the default model or any GGUF file in this process, or a
model behind a server (--api-base)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..config.settings import Settings, api_key
from ..version import __version__
from . import LanguageModel
from .files import (
    DEFAULT_MODEL_NAME,
    DEFAULT_MODEL_SHA256,
    NAMED_MODELS,
    check_gguf,
    ensure_default_model,
    ensure_named_model,
    file_sha256,
    named_model,
    remembered_sha256,
)
from .llama import LlamaModel
from .remote import Http, connect, remote_identity, served_model_name, split_api_base

Progress = Callable[[int, int], None]


def model_file(settings: Settings, progress: Progress | None = None) -> tuple[Path, str, str | None]:
    """Return (path, sha256, display name or None) of the model the settings ask for."""
    if settings.model is None:
        return ensure_default_model(progress), DEFAULT_MODEL_SHA256, DEFAULT_MODEL_NAME
    if name := named_model(settings.model):
        return ensure_named_model(name), NAMED_MODELS[name][2], name
    path = settings.model.expanduser()
    check_gguf(path)
    return path, file_sha256(path), None


def model_identity(settings: Settings, *, look: bool = True) -> str | None:
    """The SHA-256 that profiles and cache keys know the model by. A model file is hashed
    once (then remembered by path, size and time); a served model is known by its name, which
    the server is asked for when --api-model names none. ``look=False``: only what is known
    without hashing or asking (None otherwise), for commands that only show settings."""
    if settings.api_base:
        if settings.api_model is None and not look:
            return None
        return remote_identity(settings.api_model or served_name(settings))
    if settings.model is None:
        return DEFAULT_MODEL_SHA256
    if name := named_model(settings.model):
        return NAMED_MODELS[name][2]
    path = settings.model.expanduser()
    try:
        return file_sha256(path) if look else remembered_sha256(path)
    except OSError:
        return None  # the loader says why the file cannot be read


def served_name(settings: Settings) -> str:
    """The model a server serves, as it names it (its first at /v1/models)."""

    root, _ = split_api_base(settings.api_base)
    http = Http(root, api_key(settings.api_key), timeout=min(settings.api_timeout, 30.0), retries=1)
    try:
        return served_model_name(http)
    finally:
        http.close()


def open_model(settings: Settings, progress: Progress | None = None) -> LanguageModel:
    """Load the model once (or connect to its server); every claim of the process then
    shares it."""
    if settings.api_base:
        return connect(settings.api_base, api_key=api_key(settings.api_key), model=settings.api_model,
                       n_ctx=settings.ctx, timeout=settings.api_timeout)
    return open_local_model(settings, progress)


def open_local_model(settings: Settings, progress: Progress | None = None):
    """The model file the settings name, loaded in this process (--api-base aside)."""

    path, sha, name = model_file(settings, progress)
    return LlamaModel(path, sha, n_ctx=settings.ctx, threads=settings.threads,
                      gpu_layers=settings.gpu_layers, name=name)


DISTRIBUTION = "factcheck-pcc"  # the name on PyPI; the command is factcheck


def versions() -> str:
    """One line: factcheck's version and the llama.cpp backend's (no model is loaded)."""
    from importlib import metadata

    try:
        backend = f"llama-cpp-python {metadata.version('llama-cpp-python')}"
    except metadata.PackageNotFoundError:
        backend = "llama-cpp-python not installed"
    return f"factcheck {__version__} ({DISTRIBUTION}); backend {backend}"
