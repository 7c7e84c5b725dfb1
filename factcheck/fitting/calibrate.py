"""Calibrate: fit a model's profile on labeled claims, one section per label set.

Measures a ``Sample`` per claim (closed-book pass, search, evidence passes with the hidden
state; kept in the cache folder, so a refit or an interrupted run costs no model call twice),
fits the reader's head, the label bias, the confidence maps and the router (section.py), and
writes them into the model's profile beside any other label set's section it already holds.
The claims come as a calibration set (``calibration_set.py``): parts, each checked against its
own evidence, pooled per label set.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from ..config.paths import cache_dir
from ..config.settings import Settings
from ..errors import InputError
from ..pipeline import build_pipeline
from ..profiles.profile import read_existing, user_profile_path, write_profile
from ..runs.cache import samples_key
from ..schema import LabelSet
from .calibration_set import CalibrationSet, LabelSetPlan, Part
from .escalation import escalation_claims, fit_escalation
from .router import MAX_LOSS
from .samples import SampleStore, collect
from .section import (
    READERS,
    cross_validated_macro_f1,
    fit_section,
    held_out_risk_coverage,
)
from .transfer import content_free_answers, leave_one_out


def check_options(settings: Settings, *, reader: str, budget: float, max_loss: float) -> None:
    """The options calibrate takes, checked before any work."""
    if reader != "auto" and reader not in READERS:
        raise InputError(f"--reader must be auto or one of {', '.join(READERS)}, not {reader!r}")
    if reader.endswith("+probe") and settings.api_base:
        raise InputError(f"--reader {reader} learns from the model's hidden state, which a model server does "
                         f"not return: use --reader joint+logits or chunks+logits with --api-base")
    if not 0.0 < budget <= 1.0:
        raise InputError("--budget is a share of always reading's tokens, between 0 and 1")
    if not 0.0 <= max_loss <= 1.0:
        raise InputError("--max-loss is a macro-F1 difference, between 0 and 1")


def calibrate(calibration_set: CalibrationSet, settings_for: Callable[[LabelSetPlan], Settings], load_model, *,
              reader: str = "auto", budget: float = 0.5, max_loss: float = MAX_LOSS, out: Path | None = None,
              escalation: bool = True, transfer: bool = False, command: str = "", on_claim: Callable[[Part], None] | None = None) -> tuple[Path, dict[LabelSet, dict]]:
    """Fit a section for every label set of ``calibration_set`` and write them to ``out``
    (default: the user's profile for this model, which checks then find by its identity).

    ``settings_for(plan)`` gives the settings a label set's claims are checked with (the
    route is forced to retrieve, so every claim is read); each part searches its own index.
    ``load_model(settings)`` is called once. With ``escalation``, an escalation is measured on
    up to ESCALATION_CLAIMS claims per label set and fitted (escalation.py). With ``transfer``,
    each label set's report also holds the leave-one-part-out table (transfer.py). Returns
    (profile path, report per label set)."""

    model = None

    def load_once(settings):
        nonlocal model
        if model is None:
            model = load_model(settings)
        return model

    sections: dict[LabelSet, dict] = {}
    reports: dict[LabelSet, dict] = {}
    meta: dict = {}
    bases = {plan.label_set: settings_for(plan) for plan in calibration_set.plans}
    for plan in calibration_set.plans:  # everything checked before the first model pass
        check_options(bases[plan.label_set], reader=reader, budget=budget, max_loss=max_loss)
        if not all(part.index or bases[plan.label_set].index or bases[plan.label_set].web for part in plan.parts):
            raise InputError("calibrate needs an evidence source (--index or --web) to measure reading")
    store = SampleStore(cache_dir() / "samples")
    for plan in calibration_set.plans:
        base = bases[plan.label_set]
        samples = []
        by_part: dict[str, list] = {}
        escalated = escalation_claims([c for part in plan.parts for c in part.claims]) if escalation else set()
        for part in plan.parts:
            settings = base.model_copy(update={"index": part.index}) if part.index else base
            pipeline = build_pipeline(settings, load_once)
            sha = pipeline.model.info.sha256
            by_part[part.name] = collect(
                pipeline.stages, part.claims, settings_key=samples_key(settings, sha), store=store,
                chunks=reader.startswith("chunks"), escalate=escalated.__contains__,
                on_claim=(lambda part=part: on_claim(part)) if on_claim else None)
            samples += by_part[part.name]
        section, report = fit_label_set(samples, plan.label_set, base, reader=reader, budget=budget,
                                        max_loss=max_loss, escalation=escalation)
        if transfer:
            report["transfer"] = [asdict(row) | {"shares_within": row.shares_within} for row in leave_one_out(
                by_part, plan.label_set, report["reader"], budget_fraction=budget, max_loss=max_loss,
                content_free=content_free_answers(pipeline.stages))]
        sections[plan.label_set], reports[plan.label_set] = section, report
        meta.update({f"fitted_on_{plan.label_set.value}": calibration_set.describe_plan(plan),
                     f"claims_{plan.label_set.value}": report["claims"],
                     f"reader_{plan.label_set.value}": report["reader"]})
    sha = model.info.sha256
    target = out or user_profile_path(sha)
    meta.update({"model_sha256": sha, "model_name": model.info.name,
                 "fitted_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")})
    if command:
        meta["command"] = command
    kept_sections, kept_meta = read_existing(target, sha)  # a label set not refitted now is kept
    kept_meta = {k: v for k, v in kept_meta.items() if not any(k.endswith("_" + ls.value) for ls in sections)}
    write_profile(target, {**kept_sections, **sections}, {**kept_meta, **meta})
    return target, reports


def fit_label_set(samples, label_set: LabelSet, settings: Settings, *, reader: str, budget: float,
                  max_loss: float, escalation: bool = False) -> tuple[dict, dict]:
    """One label set's section from its pooled samples, with the selection settings the claims
    were read with (a check applies them with the section)."""
    usable = [s for s in samples if (s.chunks if reader.startswith("chunks") else s.joint)]
    reader_cv = {}
    if reader == "auto":
        reader, reader_cv = choose_reader(usable, label_set)
    section, report = fit_section(usable, label_set, reader=reader, budget_fraction=budget, max_loss=max_loss)
    escalate: dict = {}
    if escalation:
        escalate, escalation_report = fit_escalation(usable, label_set, reader, budget_fraction=budget,
                                                     max_loss=max_loss)
        section.update(escalate)
        report.update(escalation_report)
    curve = None if reader.startswith("chunks") else held_out_risk_coverage(  # its folds fit joint readings
        samples, label_set, reader, budget_fraction=budget, max_loss=max_loss, escalate=escalate)
    if curve is not None:
        section["risk_coverage"] = report["risk_coverage"] = curve.model_dump(mode="json")
    else:
        report["risk_coverage_skipped"] = ("too few claims to fit each held-out fold" if not reader.startswith("chunks")
                                           else "the chunks reader")
    section.update(k=settings.k, sentences=settings.sentences, selection=settings.selection,
                   min_coverage=settings.min_coverage)
    if settings.selection == "meaning":
        section["meaning_weight"] = settings.meaning_weight
    report["without_evidence"] = len(samples) - len(usable)
    if reader_cv:
        report["reader_cv_macro_f1"] = reader_cv
    return section, report


# What --reader auto chooses among: the readers of the label words. The probe reads the hidden
# state better on some data but let injected text flip verdicts (docs/experiments.md), so it is
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
