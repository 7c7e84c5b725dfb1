"""Profiles: what ``factcheck calibrate`` fits for one model, one table per label set. This
module locates, reads, validates, merges and writes them.

    [meta]     model_sha256 (a profile applies to that model only), prompts_sha256 (the verdict
               prompts it was fitted with), how, on what and when it was fitted
    [three]    settings for SUPPORTED / REFUTED / NOT_ENOUGH_INFO runs
    [binary]   settings for SUPPORTED / REFUTED runs

A label set's table holds plain numbers and names (reader, probe weights, label bias,
confidence maps, router), so applying a profile needs nothing beyond factcheck. Where one is
found: ``--profile``, else the user's for the model's SHA-256, else the one shipped with
factcheck for the default model.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from .. import prompts
from ..config.paths import config_dir, read_toml
from ..config.settings import Settings
from ..errors import ConfigError, InputError, warn
from ..files import write_atomic
from ..model.files import DEFAULT_MODEL_SHA256
from ..reading.calibration import Calibration, RiskCoverage
from ..reading.readers import LinearHead
from ..routing.route import Router
from ..schema import Label, LabelSet

# What calibrate fits from the readings (samples measured before a refit stay valid after it):
# fitted objects the stages are handed (``Fitted``), and settings it chooses (a user's own wins);
# then how the evidence was chosen when it fitted them (a check applies the same).
FITTED_OBJECTS = frozenset({"calibration", "probe", "answer_map", "label_bias", "router", "risk_coverage"})
FITTED_SETTINGS = frozenset({"alpha", "beta", "consistency", "reader", "escalate_below", "escalate_keep"})
FITTED_KEYS = FITTED_OBJECTS | FITTED_SETTINGS
SELECTION_KEYS = frozenset({"k", "sentences", "selection", "min_coverage", "meaning_weight"})
# What one label set's section may hold.
SECTION_KEYS = FITTED_KEYS | SELECTION_KEYS | {"sufficiency"}
SECTIONS = {"meta", *(ls.value for ls in LabelSet)}


class Fitted(BaseModel):
    """What calibrate fitted for one label set, handed to the stages that use it."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, frozen=True)

    calibration: Calibration | None = None  # confidence maps per basis (verify)
    probe: LinearHead | None = None  # the reader's learned head on the hidden state
    answer_map: LinearHead | None = None  # or a fitted map of the label logits; neither: the logits as read
    label_bias: dict[Label, float] | None = None  # log-space offsets deciding the label
    router: Router | None = None  # routing on search signals; None: PCC's thresholds
    risk_coverage: RiskCoverage | None = None  # accuracy against the share answered, held out


@dataclass(frozen=True)
class Profile:
    """The profile a run applies: one label set's section of the model's profile file, or
    nothing (``Profile()``: no profile for this model, or none for this label set)."""

    path: Path | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)  # the settings the section chooses
    fitted: Fitted = field(default_factory=Fitted)
    digest: str | None = None  # SHA-256 of the file: part of the result cache's key

    def apply(self, settings: Settings) -> Settings:
        """``settings`` with the section's choices where the user chose nothing."""
        if not self.settings:
            return settings
        own = settings.model_dump(include=settings.model_fields_set)
        return type(settings).model_validate({**self.settings, **own})

    def abstention_bar(self, settings: Settings) -> float | None:
        """The confidence under which a verdict is marked abstained: ``--min-confidence``, or
        the threshold at which this profile's risk-coverage curve reaches ``--target-accuracy``;
        None when neither is set. InputError, in one line, when the curve cannot say."""
        if settings.min_confidence is not None and settings.target_accuracy is not None:
            raise InputError("give --min-confidence or --target-accuracy, not both")
        if settings.target_accuracy is None:
            return settings.min_confidence
        curve = self.fitted.risk_coverage
        if curve is None:
            raise InputError("this model's profile has no risk-coverage curve, so --target-accuracy has no "
                             "threshold to read: give --min-confidence, or refit with factcheck calibrate")
        point = curve.threshold_for(settings.target_accuracy)
        if point is None:
            best = max((p.accuracy for p in curve.points), default=0.0)
            raise InputError(f"no confidence reached accuracy {settings.target_accuracy:g} on the profile's "
                             f"held-out claims (the best was {best:.2f}): lower --target-accuracy")
        return point.threshold

    @property
    def fitted_at(self) -> str | None:
        return self.meta.get("fitted_at")


def load_profile(settings: Settings, model_sha: str | None) -> Profile:
    """The profile for ``settings``'s label set: ``settings.profile``, else the one found by
    the model's SHA-256 (None: unknown, so only an explicit profile applies)."""
    explicit = settings.profile is not None
    path = settings.profile.expanduser() if explicit else default_profile(model_sha)
    if path is None:
        return Profile()
    section = read_profile(path, settings.labels, model_sha, explicit=explicit)
    where = f"profile {path} [{settings.labels.value}]"
    chosen = {k: v for k, v in section.items() if k not in FITTED_OBJECTS}
    try:
        Settings.model_validate(chosen)
        fitted = Fitted.model_validate({k: v for k, v in section.items() if k in FITTED_OBJECTS})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"{where}: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    meta = read_toml(path, "profile").get("meta") or {}
    return Profile(path=path, meta=meta, settings=chosen, fitted=fitted,
                   digest=hashlib.sha256(path.read_bytes()).hexdigest())


def user_profile_path(model_sha256: str) -> Path:
    """Where calibrate writes a model's profile, and where checks look for it first."""
    return config_dir() / "profiles" / f"{model_sha256}.toml"


def default_profile(sha: str | None) -> Path | None:
    """The profile for a model, found by its SHA-256: the user's own
    (``~/.config/factcheck/profiles/<sha>.toml``) before the one shipped with factcheck."""
    from importlib import resources

    if sha is None:
        return None
    user = user_profile_path(sha)
    if user.is_file():
        return user
    shipped = resources.files("factcheck").joinpath("profiles", f"{sha}.toml")
    return Path(str(shipped)) if shipped.is_file() else None


def read_profile(path: Path, labels: LabelSet, model_sha: str | None, *, explicit: bool) -> dict[str, Any]:
    """The settings of ``labels``'s section of a profile, after checking that the profile
    was fitted for this model. A profile found automatically that has no section for the
    label set applies nothing (it was never fitted for it); one given explicitly is an error."""
    values = read_toml(path, "profile")
    unknown = set(values) - SECTIONS
    if unknown:
        hint = " (written by an older factcheck: refit it with factcheck calibrate)" if unknown & SECTION_KEYS else ""
        raise ConfigError(f"profile {path}: unknown keys {sorted(unknown)}; a profile holds "
                          f"[meta], [three] and [binary] tables{hint}")
    meta = values.get("meta") or {}
    fitted_for = meta.get("model_sha256") if isinstance(meta, dict) else None
    if not isinstance(fitted_for, str):
        raise ConfigError(f"profile {path}: [meta] model_sha256 is missing: which model it was fitted for is unknown")
    if model_sha is not None and fitted_for != model_sha:
        raise ConfigError(f"profile {path} was fitted for model {fitted_for[:12]}…, not this model "
                          f"({model_sha[:12]}…): refit it with factcheck calibrate --model …")

    if meta.get("prompts_sha256") not in (None, prompts.digest(reading_only=True)):
        warn(f"profile {path} was fitted with other verdict prompts than this factcheck's: its maps may "
                  f"not fit these readings; refit it with factcheck calibrate")
    section = values.get(labels.value)
    if section is None:
        if explicit:
            fitted = sorted(k for k in values if k != "meta")
            raise ConfigError(f"profile {path} has no [{labels.value}] table: it was fitted for "
                              f"{', '.join(fitted) or 'no label set'} labels only")
        return {}
    if not isinstance(section, dict):
        raise ConfigError(f"profile {path}: [{labels.value}] must be a table")
    unknown = set(section) - SECTION_KEYS
    if unknown:
        raise ConfigError(f"profile {path}: [{labels.value}] has unknown keys {sorted(unknown)} "
                          f"(a profile may set {sorted(SECTION_KEYS)})")
    return section



def read_existing(path: Path, model_sha256: str) -> tuple[dict[LabelSet, dict], dict]:
    """What a profile on disk holds for ``model_sha256``: its sections and meta (nothing if it
    is another model's or absent), so a refit of one label set keeps the other."""
    import tomllib

    if not path.exists():
        return {}, {}
    try:
        existing = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot update profile {path}: {exc}") from None
    meta = existing.get("meta", {})
    if meta.get("model_sha256") != model_sha256:
        return {}, {}
    return {ls: existing[ls.value] for ls in LabelSet if ls.value in existing}, meta


def write_profile(path: Path, sections: dict[LabelSet, dict], meta: dict) -> None:
    """Write ``sections`` (label set -> settings) and ``meta`` (must hold model_sha256, or
    it is taken as the default model's) atomically to ``path``. The digest of the prompts the
    fitted numbers were read with goes into ``meta`` too (``read_profile`` checks it)."""
    import tomli_w

    meta = {"model_sha256": DEFAULT_MODEL_SHA256, "prompts_sha256": prompts.digest(reading_only=True), **meta}
    document = {"meta": meta, **{ls.value: _plain(section) for ls, section in sections.items()}}
    write_atomic(path, "# factcheck profile, written by factcheck calibrate\n" + tomli_w.dumps(document))


def _plain(value: Any):
    """TOML has no null: drop None values, recursively."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
