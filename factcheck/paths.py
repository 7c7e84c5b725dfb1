"""Where factcheck keeps its files (XDG base directories); nothing else, so every module
can import it without cycles."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/factcheck`` (else ``~/.cache/factcheck``): the assembled default
    model, model hashes, the result cache, calibration samples, web responses."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "factcheck"


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/factcheck`` (else ``~/.config/factcheck``): config.toml and profiles."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "factcheck"
