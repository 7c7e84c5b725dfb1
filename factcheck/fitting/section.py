"""A whole profile section for one label set, fitted from measured samples: the reader's head,
the label bias, the confidence maps and the router, each fitted on out-of-fold outputs of the
step before it (so no step is fitted on a head's own training claims). Fitting needs
scikit-learn (``pip install 'factcheck-pcc[eval]'``); applying a profile does not."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import InputError
from ..reading.calibration import RiskCoverage
from ..runs.metrics import bootstrap, macro_f1, risk_coverage
from ..schema import Label, LabelSet, label_names
from .bias import decide, held_out_bias
from .cv import folds
from .heads import (
    ANSWER_MAP_STRENGTHS,
    PROBE_STRENGTHS,
    choose_strength,
    fit_head,
    fit_probe,
    raw_probs,
)
from .maps import choose_calibration
from .replay import apply_section, closed_distribution
from .router import MAX_LOSS, RoutePoint, always_read_tokens, fit_router, reading_tokens
from .samples import Sample

READERS = ("joint+probe", "joint+scaled", "joint+logits", "chunks+logits")
MIN_FIT_CLAIMS = 20  # claims with evidence a section is fitted on, at the least


def sample_label_set(sample: Sample) -> LabelSet:
    """The label set a sample was measured with (its closed-book pass's labels)."""
    return LabelSet.BINARY if len(sample.closed) == 2 else LabelSet.THREE


def fit_reading(samples: Sequence[Sample], label_set: LabelSet, reader: str,
                 probe_samples: Sequence[Sample] | None) -> tuple[dict, dict, list[dict[Label, float]], dict]:
    """The reading part of a section: the reader's head and the label bias. Returns the
    section so far, its report, the head's (out-of-fold) outputs on ``samples`` and the bias."""
    if len(samples) < MIN_FIT_CLAIMS:
        raise InputError(f"calibration needs at least {MIN_FIT_CLAIMS} checked claims with evidence, got {len(samples)}")
    names = label_names(label_set)
    gold = [s.gold for s in samples]
    if not set(gold) <= set(names):
        raise InputError(f"gold labels {sorted(set(gold) - set(names))} do not belong to the {label_set.value} label set")
    section: dict = {"reader": reader.split("+")[0], "consistency": "none"}
    report: dict = {"claims": len(samples), "reader": reader}
    if reader == "joint+probe":
        pool = [s for s in (probe_samples or samples) if s.hidden is not None]  # claims read with evidence
        strength, scores, pool_outputs = choose_strength(pool, PROBE_STRENGTHS, "probe")
        probe = fit_probe(pool, strength)
        section["probe"] = probe.model_dump(mode="json")
        report.update(probe_claims=len(pool), probe_strength=strength, probe_cv_macro_f1=scores)
        # out-of-fold outputs for claims the probe trained on; the probe as is for the others
        oof = dict(zip((id(s) for s in pool), pool_outputs))
        raw = [oof[id(s)] if id(s) in oof else probe(s.hidden) for s in samples]
    elif reader == "joint+scaled":
        # a map of this label set's answers; the label bias and everything after it are
        # fitted on its out-of-fold outputs
        strength, scores, raw = choose_strength(samples, ANSWER_MAP_STRENGTHS, "answer map")
        section["answer_map"] = fit_head(samples, strength, "answer map").model_dump(mode="json")
        report.update(answer_map_strength=strength, answer_map_cv_macro_f1=scores)
    else:
        raw = [raw_probs(s, reader) for s in samples]
    bias, bias_cv = held_out_bias(raw, gold, label_set)
    section["label_bias"] = {k.value: v for k, v in bias.items()}
    report.update(label_bias_cv_macro_f1=bias_cv)
    return section, report, raw, bias


def fit_section(samples: Sequence[Sample], label_set: LabelSet, *, reader: str = "joint+probe",
                budget_fraction: float = 0.5, probe_samples: Sequence[Sample] | None = None,
                router_threshold: str = "in_sample", max_loss: float = MAX_LOSS) -> tuple[dict, dict]:
    """Fit one label set's profile section on ``samples`` (measured with that label set):
    the reader's probe (on ``probe_samples``, default ``samples``), the label bias, the
    confidence maps per basis and the router (its threshold chosen ``router_threshold``:
    in_sample or out_of_fold). Returns (section, report of the fit)."""
    section, report, raw, bias = fit_reading(samples, label_set, reader, probe_samples)
    names = label_names(label_set)
    gold = [s.gold for s in samples]
    evidence = decide(raw, label_set, bias)
    ev_conf = [d.probs[d.top] for d in evidence]
    ev_ok = [d.top.value == g for d, g in zip(evidence, gold)]
    ev_map, ev_cv = choose_calibration(ev_conf, ev_ok)
    closed = [closed_distribution(s) for s in samples]
    model_map, model_cv = choose_calibration([d.probs[d.top] for d in closed],
                                              [d.top.value == g for d, g in zip(closed, gold)])
    section["calibration"] = {"evidence": ev_map.model_dump(mode="json"), "model": model_map.model_dump(mode="json")}
    read_cost = [s.closed_tokens + reading_tokens(s, reader, after_closed=True) for s in samples]
    router, points = fit_router(samples, [d.top.value for d in closed], [d.top.value for d in evidence], names,
                                read_cost, budget_fraction, threshold_from=router_threshold, max_loss=max_loss,
                                reader=reader)
    section["router"] = router.model_dump(mode="json")
    chosen = next(p for p in points if p.threshold == router.threshold)
    always_tokens = always_read_tokens(samples, reader)
    within_budget = [p for p in points if p.tokens_per_claim <= budget_fraction * always_tokens]
    if router.reads_always:  # a check then skips the closed-book pass wherever it reads
        chosen = RoutePoint(0.0, chosen.macro_f1, always_tokens, 1.0)
    report.update(label_bias=section["label_bias"], calibration_cv=ev_cv | {"model_" + k: v for k, v in model_cv.items()},
                  evidence_macro_f1=round(macro_f1(gold, [d.top.value for d in evidence], names), 4),
                  router_macro_f1=round(chosen.macro_f1, 4), router_read_rate=round(chosen.read_rate, 3),
                  router_tokens=round(chosen.tokens_per_claim, 1), router_reads_always=router.reads_always,
                  router_best_within_budget=round(max((p.macro_f1 for p in within_budget), default=0.0), 4),
                  max_loss=max_loss,
                  always_read_tokens=round(always_tokens, 1), budget_fraction=budget_fraction)
    report.update(intervals(samples, gold, names, [d.top.value for d in closed], [d.top.value for d in evidence],
                            router, reader))
    return section, report


def intervals(samples: Sequence[Sample], gold: list[str], names: list[str], direct: list[str], evidence: list[str],
              router, reader: str) -> dict:
    """Bootstrap 95% intervals over the fit claims: macro-F1 without evidence, reading the evidence
    (the head's out-of-fold outputs), and as routed, with what routing changes against always
    reading (paired: the same resampled claims) and the tokens it saves. The router's own
    threshold is chosen on these claims, so its figures flatter it a little."""
    read = [router.reads_always or router.probability(s.signals) >= router.threshold for s in samples]
    routed = [e if r else d for r, d, e in zip(read, direct, evidence)]
    always = sum(reading_tokens(s, reader, after_closed=False) for s in samples)
    spent = sum(s.closed_tokens + reading_tokens(s, reader, after_closed=True) if r else s.closed_tokens
                for s, r in zip(samples, read))

    def score(g, p):
        return macro_f1(g, p, names)

    def ci(*columns, metric=score):
        low, high = bootstrap(metric, *columns) or (float("nan"), float("nan"))
        return [round(low, 4), round(high, 4)]

    return {"direct_macro_f1": round(score(gold, direct), 4), "direct_macro_f1_ci": ci(gold, direct),
            "evidence_macro_f1_ci": ci(gold, evidence),
            "routed_macro_f1": round(score(gold, routed), 4), "routed_macro_f1_ci": ci(gold, routed),
            "routing_gain": round(score(gold, routed) - score(gold, evidence), 4),
            "routing_gain_ci": ci(gold, routed, evidence, metric=lambda g, r, e: score(g, r) - score(g, e)),
            "routing_token_share": round(always and (always if router.reads_always else spent) / always, 3)}


def cross_validated_macro_f1(samples: Sequence[Sample], label_set: LabelSet, reader: str,
                             probe_samples: Sequence[Sample] | None = None, seed: int = 0) -> float:
    """Macro-F1 of the reading (head, then label bias) on claims it was not fitted on:
    k-fold over ``samples``, each fold's reading fitted on the others (the probe's pool less
    the fold). The fair way to choose a reader, since a head fitted in-sample flatters
    itself in proportion to its size. Calibration and router do not change a verdict read
    from evidence, so they are not fitted here."""
    def fit(held: set[int]) -> dict:
        train = [s for s in samples if id(s) not in held]
        pool = [s for s in probe_samples if id(s) not in held] if probe_samples is not None else None
        return fit_reading(train, label_set, reader, pool)[0]

    outcomes = held_out_outcomes(samples, label_set, fit, "retrieve", seed)
    return macro_f1([o.gold for o in outcomes], [o.verdict for o in outcomes], label_names(label_set))


def held_out_outcomes(samples: Sequence[Sample], label_set: LabelSet, fit, route: str, seed: int = 0):
    """Every sample's outcome under a section fitted without its fold: k-fold, ``fit(held)``
    fitting on the samples outside ``held`` (their ids), replayed on the fold by ``route``. None
    when ``fit`` gives no section for some fold."""
    outcomes = []
    for fold in folds(len(samples), seed):
        section = fit({id(samples[i]) for i in fold})
        if section is None:
            return None
        outcomes += apply_section([samples[i] for i in fold], section, label_set, route)
    return outcomes


def held_out_risk_coverage(samples: Sequence[Sample], label_set: LabelSet, reader: str, *, budget_fraction: float,
                           max_loss: float, escalate: dict | None = None, seed: int = 0) -> RiskCoverage | None:
    """The risk-coverage curve of the section ``fit_section`` would fit, measured on claims it
    was not fitted on: k-fold over every sample (with evidence or not), each fold's section
    fitted on the others' claims with evidence and replayed, as a check routes, on the fold.
    ``--target-accuracy`` reads its threshold from this curve; ``escalate`` is the escalation
    the section keeps (escalated where measured). None when a fold's fit would have fewer
    claims with evidence than a section needs (20)."""
    def fit(held: set[int]) -> dict | None:
        train = [s for s in samples if id(s) not in held and s.joint]
        if len(train) < MIN_FIT_CLAIMS:
            return None
        section = fit_section(train, label_set, reader=reader, budget_fraction=budget_fraction, max_loss=max_loss)[0]
        return {**section, **(escalate or {})}

    outcomes = held_out_outcomes(samples, label_set, fit, "auto", seed)
    if outcomes is None:
        return None
    return risk_coverage([o.confidence for o in outcomes], [o.verdict == o.gold for o in outcomes])
