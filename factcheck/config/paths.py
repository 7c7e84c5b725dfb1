"""Where factcheck keeps its files (XDG base directories), and how its TOML files are read."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from ..errors import ConfigError
from ..files import open_user_file


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/factcheck`` (else ``~/.cache/factcheck``): the assembled default
    model, model hashes, the result cache, calibration samples, web responses."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "factcheck"


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/factcheck`` (else ``~/.config/factcheck``): config.toml and profiles."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "factcheck"


def read_toml(path: Path, what: str) -> dict:
    """A TOML file (a config file, a profile), or a ConfigError naming ``what`` and why."""
    with open_user_file(path, what, error=ConfigError) as fh:
        try:
            return tomllib.load(fh)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{what} {path} is not valid TOML: {exc}") from None
