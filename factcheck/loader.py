"""Turn settings into a model: the default model or any GGUF file in this process, or a
model behind a server (--api-base)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .backends import LanguageModel
from .config import Settings
from .model_files import (DEFAULT_MODEL_NAME, DEFAULT_MODEL_SHA256, check_gguf,
                          ensure_default_model, file_sha256)

Progress = Callable[[int, int], None]


def model_file(settings: Settings, progress: Progress | None = None) -> tuple[Path, str, str | None]:
    """Return (path, sha256, display name or None) of the model the settings ask for."""
    if settings.model is None:
        return ensure_default_model(progress), DEFAULT_MODEL_SHA256, DEFAULT_MODEL_NAME
    path = settings.model.expanduser()
    check_gguf(path)
    return path, file_sha256(path), None


def open_model(settings: Settings, progress: Progress | None = None) -> LanguageModel:
    """Load the model once (or connect to its server); every claim of the process then
    shares it."""
    if settings.api_base:
        from .backends.remote import RemoteModel
        from .config import api_key

        return RemoteModel(settings.api_base, api_key=api_key(settings.api_key), model=settings.api_model,
                           n_ctx=settings.ctx, timeout=settings.api_timeout)
    return open_local_model(settings, progress)


def open_local_model(settings: Settings, progress: Progress | None = None):
    """The model file the settings name, loaded in this process (--api-base aside)."""
    from .backends.local import LlamaModel

    path, sha, name = model_file(settings, progress)
    return LlamaModel(path, sha, n_ctx=settings.ctx, threads=settings.threads,
                      gpu_layers=settings.gpu_layers, name=name)


DISTRIBUTION = "factcheck-pcc"  # the name on PyPI; the command is factcheck


def versions() -> str:
    """One line: factcheck's version and the llama.cpp backend's (no model is loaded)."""
    from importlib import metadata

    from . import __version__

    try:
        backend = f"llama-cpp-python {metadata.version('llama-cpp-python')}"
    except metadata.PackageNotFoundError:
        backend = "llama-cpp-python not installed"
    return f"factcheck {__version__} ({DISTRIBUTION}); backend {backend}"
