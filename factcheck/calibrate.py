"""Calibrate: fit one label set's profile section on the user's labeled claims.

Measures a ``Sample`` per claim (closed-book pass, search, evidence passes with the hidden
state; kept in the cache folder so a refit costs nothing), fits the reader's head, the
label bias, the confidence maps and the router (``fit.py``), and writes them into the
model's profile beside any other label set's section it already holds.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .config import Settings
from .paths import cache_dir, config_dir
from .errors import InputError
from .fit import MAX_LOSS, READERS, cross_validated_macro_f1, fit_section
from .labels import LabelSet
from .profile import write_profile
from .samples import SampleStore, collect


def default_profile_path(model_sha256: str) -> Path:
    return config_dir() / "profiles" / f"{model_sha256}.toml"


def calibrate(claims, checker, settings: Settings, *, reader: str = "auto", budget: float = 0.5,
              max_loss: float = MAX_LOSS, out: Path | None = None, fitted_on: str = "", on_claim: Callable[[], None] | None = None) -> tuple[Path, dict]:
    """Fit ``settings.labels``'s section on ``claims`` (LabeledClaim list) with ``checker``
    and write it to ``out`` (default: the user's profile for this model). Returns (path, report)."""
    import tomllib

    from .cache import samples_key

    if reader != "auto" and reader not in READERS:
        raise InputError(f"--reader must be auto or one of {', '.join(READERS)}, not {reader!r}")
    if not checker.sources:
        raise InputError("calibrate needs an evidence source (--index or --web) to measure reading")
    if reader.endswith("+probe") and not checker.model.supports_hidden:
        raise InputError(f"--reader {reader} learns from the model's hidden state, which a model server does "
                         f"not return: use --reader joint+logits or chunks+logits with --api-base")
    if not 0.0 < budget <= 1.0:
        raise InputError("--budget is a share of always reading's tokens, between 0 and 1")
    if not 0.0 <= max_loss <= 1.0:
        raise InputError("--max-loss is a macro-F1 difference, between 0 and 1")
    sha = checker.model.info.sha256
    store = SampleStore(cache_dir() / "samples")
    samples = collect(checker, claims, settings_key=samples_key(settings, sha), store=store,
                      chunks=reader.startswith("chunks"), on_claim=on_claim)
    usable = [s for s in samples if (s.chunks if reader.startswith("chunks") else s.joint)]
    reader_cv = {}
    if reader == "auto":
        reader, reader_cv = choose_reader(usable, settings.labels)
    section, report = fit_section(usable, settings.labels, reader=reader, budget_fraction=budget, max_loss=max_loss)
    section.update(k=settings.k, sentences=settings.sentences, selection=settings.selection,
                   min_coverage=settings.min_coverage)
    target = out or default_profile_path(sha)
    sections: dict[LabelSet, dict] = {}
    meta: dict = {}
    if target.exists():  # keep what the profile holds for the other label set
        try:
            existing = tomllib.loads(target.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot update profile {target}: {exc}") from None
        if existing.get("meta", {}).get("model_sha256") == sha:
            meta = existing.get("meta", {})
            sections = {LabelSet(k): v for k, v in existing.items() if k in {ls.value for ls in LabelSet}}
    sections[settings.labels] = section
    meta.update({"model_sha256": sha, f"fitted_on_{settings.labels.value}": fitted_on,
                 f"claims_{settings.labels.value}": len(usable)})
    write_profile(target, sections, meta)
    report["without_evidence"] = len(samples) - len(usable)
    if reader_cv:
        report["reader_cv_macro_f1"] = reader_cv
    return target, report


# What --reader auto chooses among: the readers of the label words. The probe reads the hidden
# state better on some data but let injected text flip verdicts (README, Results), so it is
# fitted only on request; the chunk layout needs a pass per sentence.
AUTO_READERS = ("joint+scaled", "joint+logits")
MIN_CLAIMS_TO_CHOOSE = 25  # four fifths of them, the fit of one fold, must be at least 20


def choose_reader(samples, label_set: LabelSet) -> tuple[str, dict[str, float]]:
    """The reader whose whole reading (head, then label bias) scores the best 5-fold
    cross-validated macro-F1 on ``samples``: the rule the shipped profile was chosen by. Too
    few claims to cross-validate (each fit needs 20): the label words with the fewest fitted
    numbers, joint+logits."""
    if len(samples) < MIN_CLAIMS_TO_CHOOSE:
        return "joint+logits", {}
    scores = {r: round(cross_validated_macro_f1(samples, label_set, r), 4) for r in AUTO_READERS}
    return max(scores, key=scores.get), scores
