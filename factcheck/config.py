"""Settings, resolved with the precedence flag > environment > config file > default.

The config file is TOML, at ``--config PATH``, ``$FACTCHECK_CONFIG``, or
``$XDG_CONFIG_HOME/factcheck/config.toml`` (else ``~/.config/factcheck/config.toml``).
Its keys are the settings' names; unknown keys and wrong types are errors. Every setting
``name`` can also be set in the environment as ``FACTCHECK_<NAME>``.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .calibration import Calibration
from .errors import ConfigError
from .labels import LabelSet

ENV_PREFIX = "FACTCHECK_"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "factcheck"


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "factcheck"


def default_threads() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


class Settings(BaseModel):
    """Everything a check needs to know; validated wherever it comes from."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    model: Path | None = None  # None: the default model from factcheck[default-model]
    gpu_layers: int = Field(default=0, ge=-1)
    threads: int = Field(default_factory=default_threads, ge=1)
    ctx: int = Field(default=4096, ge=256)
    labels: LabelSet = LabelSet.THREE
    # evidence sources
    index: list[Path] = Field(default_factory=list)  # local BM25 index folders
    web: Literal["wikipedia", "searxng"] | None = None
    web_url: str | None = None  # MediaWiki api.php or SearXNG base URL
    web_timeout: float = Field(default=15.0, gt=0)
    web_allow_private: bool = False  # let fetched pages and redirects reach private networks
    k: int = Field(default=3, ge=1, le=50)  # passages shown to the verdict
    # routing (PCC)
    consistency: Literal["framings", "rationales", "none"] = "framings"
    rationales_k: int = Field(default=2, ge=1, le=8)
    alpha: float = Field(default=0.5, ge=0.0, le=1.0)  # threshold on certainty tau
    beta: float = Field(default=0.9, ge=0.0, le=1.0)  # threshold on consistency gamma
    route: Literal["auto", "direct", "retrieve", "deep"] = "auto"
    max_hops: int = Field(default=3, ge=1, le=10)
    deep_token_budget: int = Field(default=4000, ge=100)
    profile: Path | None = None  # TOML with alpha, beta, consistency (factcheck calibrate)
    calibration: Calibration | None = None  # confidence map fitted by factcheck calibrate


def _config_path(explicit: Path | None) -> Path | None:
    if explicit is not None:
        return explicit
    if env := os.environ.get(ENV_PREFIX + "CONFIG"):
        return Path(env)
    path = config_dir() / "config.toml"
    return path if path.exists() else None


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"config path is a directory, not a file: {path}") from None
    except PermissionError:
        raise ConfigError(f"config file is not readable: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    return data


def _read_env() -> dict[str, Any]:
    values = {}
    for name in Settings.model_fields:
        if (raw := os.environ.get(ENV_PREFIX + name.upper())) not in (None, ""):
            # list settings take os.pathsep-separated values, like PATH
            values[name] = raw.split(os.pathsep) if name == "index" else raw
    return values


def _describe(exc: ValidationError, origin: str) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{origin}: {where}: {first['msg']}{more}"


# The settings a profile may hold: what `factcheck calibrate` fits for one model.
PROFILE_KEYS = {"alpha", "beta", "consistency", "labels", "k", "calibration"}


def default_profile(model: Path | None) -> Path | None:
    """The profile for a model, found by its SHA-256: the user's own
    (``~/.config/factcheck/profiles/<sha>.toml``) before the one shipped with factcheck.
    Hashing a model file here costs nothing extra: loading it needs the same hash, which is
    computed once per file and remembered; a file that cannot be read has no profile (the
    loader reports it)."""
    from importlib import resources

    from .model_files import DEFAULT_MODEL_SHA256, file_sha256

    try:
        sha = DEFAULT_MODEL_SHA256 if model is None else file_sha256(model.expanduser())
    except OSError:
        return None
    user = config_dir() / "profiles" / f"{sha}.toml"
    if user.is_file():
        return user
    shipped = resources.files("factcheck").joinpath("profiles", f"{sha}.toml")
    return Path(str(shipped)) if shipped.is_file() else None


def resolve(flags: dict[str, Any] | None = None, config: Path | None = None) -> Settings:
    """Merge settings: flags (None means unset) > env > profile > config file > defaults."""
    merged: dict[str, Any] = {}
    layers: list[tuple[str, dict[str, Any]]] = []
    path = _config_path(config)
    file_values = _read_file(path) if path is not None else {}
    if path is not None:
        layers.append((f"config file {path}", file_values))
    env = _read_env()
    options = {k: v for k, v in (flags or {}).items() if v is not None}
    profile = options.get("profile") or env.get("profile") or file_values.get("profile")
    if not profile:
        model = options.get("model") or env.get("model") or file_values.get("model")
        profile = default_profile(Path(model) if model else None)
    if profile:
        values = _read_file(Path(profile))
        values.pop("meta", None)  # how the profile was fitted: for people, not settings
        unknown = set(values) - PROFILE_KEYS
        if unknown:
            raise ConfigError(f"profile {profile}: unknown keys {sorted(unknown)} "
                              f"(a profile may set {sorted(PROFILE_KEYS)})")
        layers.append((f"profile {profile}", values))
    layers.append(("environment", env))
    layers.append(("options", options))
    for origin, values in layers:
        try:  # validate each layer alone so the error names where the bad value came from
            Settings.model_validate({**values})
        except ValidationError as exc:
            raise ConfigError(_describe(exc, origin)) from None
        merged.update(values)
    return Settings.model_validate(merged)
