"""Settings, resolved with the precedence flag > environment > config file > default.

The config file is TOML, at ``--config PATH``, ``$FACTCHECK_CONFIG``, or
``$XDG_CONFIG_HOME/factcheck/config.toml`` (else ``~/.config/factcheck/config.toml``).
Its keys are the settings' names; unknown keys and wrong types are errors. Every setting
``name`` can also be set in the environment as ``FACTCHECK_<NAME>``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ConfigError
from ..schema import LabelSet
from .paths import config_dir, read_toml

ENV_PREFIX = "FACTCHECK_"
# How evidence sentences are chosen: by the claim's words, or by meaning (evidence/select.py).
Selection = Literal["words", "meaning"]


def default_threads() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


class Settings(BaseModel):
    """Everything a check needs to know; validated wherever it comes from."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    model: Path | None = None  # None: the default model from factcheck-pcc[default-model]
    # a model behind an OpenAI-compatible server instead of in this process (model/remote/)
    api_base: str | None = None  # e.g. http://127.0.0.1:8080/v1
    api_key: str | None = Field(default=None, repr=False)  # else $OPENAI_API_KEY
    api_model: str | None = None  # the model's name on the server; None: the first it lists
    api_timeout: float = Field(default=120.0, gt=0)  # seconds per request, before retries
    gpu_layers: int = Field(default=0, ge=-1)
    threads: int = Field(default_factory=default_threads, ge=1)
    ctx: int = Field(default=4096, ge=256)
    labels: LabelSet = LabelSet.THREE
    # evidence sources
    index: list[Path] = Field(default_factory=list)  # local BM25 index folders
    zim: list[Path] = Field(default_factory=list)  # Kiwix ZIM archives (offline Wikipedia), read in process
    web: Literal["wikipedia", "searxng", "kiwix"] | None = None
    web_url: str | None = None  # MediaWiki api.php, SearXNG or kiwix-serve base URL
    kiwix_book: str | None = None  # the book to search when a kiwix-serve holds several (its name or UUID)
    web_timeout: float = Field(default=15.0, gt=0)
    web_allow_private: bool = False  # let fetched pages and redirects reach private networks
    # when every source fails for a claim: an error record, or the model's own verdict (warned)
    if_sources_fail: Literal["error", "model"] = "error"
    k: int = Field(default=5, ge=1, le=50)  # passages retrieved per search
    sentences: int = Field(default=4, ge=1, le=20)  # evidence sentences selected from them and shown
    selection: Selection = "words"  # how those sentences are chosen: by words or by meaning (select.py)
    meaning_weight: float = Field(default=1.0, ge=0.0, le=100.0)  # by meaning: cosine's weight against word relevance
    min_coverage: float = Field(default=0.25, ge=0.0, le=1.0)  # share of the claim's words a sentence must hold (words)
    reader: Literal["joint", "chunks"] = "joint"  # how the verdict reads them (readers.py)
    # routing (PCC)
    consistency: Literal["framings", "rationales", "none"] = "framings"
    rationales_k: int = Field(default=2, ge=1, le=8)
    alpha: float = Field(default=0.5, ge=0.0, le=1.0)  # threshold on certainty tau
    beta: float = Field(default=0.9, ge=0.0, le=1.0)  # threshold on consistency gamma
    route: Literal["auto", "direct", "retrieve", "deep"] = "auto"
    max_hops: int = Field(default=3, ge=1, le=10)
    deep_token_budget: int = Field(default=4000, ge=100)
    sufficiency: float = Field(default=0.5, ge=0.0, le=1.0)  # deep search stops at this evidence tau
    # escalate an unsure reading: under this (calibrated) confidence, search wider and read again;
    # None or 0: never. The profile's fit chooses both (routing/route.py Escalation).
    escalate_below: float | None = Field(default=None, ge=0.0, le=1.0)
    escalate_keep: Literal["second", "pooled", "surer"] = "pooled"
    # label-free adaptation to the batch's domain (reading/adapt.py): batch calibration in batch
    # and eval, once 50 claims are read from evidence; auto: with binary labels only (where it
    # measured best, docs/results.md); none: verdicts as the profile reads them
    adapt: Literal["auto", "batch", "none"] = "auto"

    @property
    def adapts(self) -> bool:
        """Whether batch and eval apply batch calibration."""
        return self.adapt == "batch" or (self.adapt == "auto" and self.labels is LabelSet.BINARY)
    # TOML fitted by factcheck calibrate; None: the one found by the model's identity (profile.py)
    profile: Path | None = None
    # answer only when sure: a verdict under this confidence is kept but marked abstained, or
    # the confidence that the profile's risk-coverage curve says reaches this accuracy
    min_confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    target_accuracy: float | None = Field(default=None, gt=0.0, le=1.0)


def config_file(explicit: Path | None) -> Path:
    """The config file in force, whether or not it exists (``factcheck config show``)."""
    return _config_path(explicit) or config_dir() / "config.toml"


def _config_path(explicit: Path | None) -> Path | None:
    if explicit is not None:
        return explicit
    if env := os.environ.get(ENV_PREFIX + "CONFIG"):
        return Path(env)
    path = config_dir() / "config.toml"
    return path if path.exists() else None


def _read_env() -> dict[str, Any]:
    values = {}
    for name in Settings.model_fields:
        if (raw := os.environ.get(ENV_PREFIX + name.upper())) not in (None, ""):
            # list settings take os.pathsep-separated values, like PATH
            values[name] = raw.split(os.pathsep) if name in ("index", "zim") else raw
    return values


def _describe(exc: ValidationError, origin: str) -> str:
    """One line naming the setting as the user wrote it: FACTCHECK_K in the environment, the
    key in a file, with a suggestion for a misspelt key."""
    import difflib

    first = exc.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else ""
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    if first["type"] == "extra_forbidden":
        close = difflib.get_close_matches(field, Settings.model_fields, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return f"{origin}: unknown setting {field!r}{hint}{more}"
    where = ENV_PREFIX + field.upper() if origin == "environment" else ".".join(str(p) for p in first["loc"]) or "(top level)"
    return f"{origin}: {where}: {first['msg']}{more}"


def api_key(explicit: str | None) -> str | None:
    """--api-key or $FACTCHECK_API_KEY, else $OPENAI_API_KEY, as other OpenAI clients do."""
    return explicit or os.environ.get("OPENAI_API_KEY") or None


def resolve(flags: dict[str, Any] | None = None, config: Path | None = None) -> Settings:
    """Merge settings: flags (None means unset) > env > config file > defaults. Reads the
    config file and the environment, nothing else: the model's profile is applied once the
    model is known (``Profile.apply``), and what the user set here wins over it."""
    return resolve_with_sources(flags, config)[0]


def resolve_with_sources(flags: dict[str, Any] | None = None,
                         config: Path | None = None) -> tuple[Settings, dict[str, str]]:
    """``resolve``, and for every setting where its value came from (``factcheck config show``)."""
    path = _config_path(config)
    file_values = read_toml(path, "config file") if path is not None else {}
    env = _read_env()
    options = {k: v for k, v in (flags or {}).items() if v is not None}
    layers: list[tuple[str, dict[str, Any]]] = []
    if path is not None:
        layers.append((f"config file {path}", file_values))
    layers.append(("environment", env))
    layers.append(("options", options))
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for origin, values in layers:
        try:  # validate each layer alone so the error names where the bad value came from
            Settings.model_validate({**values})
        except ValidationError as exc:
            raise ConfigError(_describe(exc, origin)) from None
        merged.update(values)
        sources.update(dict.fromkeys(values, origin))
    settings = Settings.model_validate(merged)
    return settings, {name: sources.get(name, "default") for name in Settings.model_fields}
