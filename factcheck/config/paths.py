"""Where factcheck keeps its files (XDG base directories), and how its TOML files are read;
nothing else, so every module can import it without cycles."""

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


def read_toml(path: Path, what: str) -> dict:
    """A TOML file (a config file, a profile), or a ConfigError naming ``what`` and why."""
    import tomllib

    from ..errors import ConfigError

    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"{what} path is a directory, not a file: {path}") from None
    except PermissionError:
        raise ConfigError(f"{what} is not readable: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{what} {path} is not valid TOML: {exc}") from None
