"""Fit a profile from measured samples: reader head, label bias, calibrator and router.

Everything here works on ``samples.Sample`` lists, so fitting and comparing alternatives
costs no model call. Out-of-fold predictions (k-fold over the fit claims) stand in for
unseen claims wherever a later step is fitted on an earlier step's output, so the label
bias, the calibrator and the router are never fitted on a probe's own training claims.
Fitting needs scikit-learn (``pip install 'factcheck-pcc[eval]'``); applying a profile does not.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..reading.calibration import FITTERS, Calibration, ConfidenceMap
from ..reading.labels import LabelSet, label_names
from ..reading.readers import (
    LinearHead,
    Reader,
    aggregate_chunks,
    answer_features,
    map_answers,
    restrict,
)
from ..routing.plan import conclude, reading_route, router_route
from ..routing.route import SIGNALS, Router, Thresholds
from ..routing.route import decide as route_decision
from ..runs.metrics import ece, macro_f1
from ..schema import Assessment, Label, LabelDistribution, Route
from .samples import Sample

PROBE_STRENGTHS = (0.003, 0.01, 0.03, 0.1)  # inverse L2 strengths tried (sklearn's C)
FOLDS = 5
# The most macro-F1 a fitted router may give up against always reading to keep its token
# budget (the routing issue's own tolerance); beyond it the router reads every claim.
MAX_LOSS = 0.02


def _sklearn():
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise InputError("fitting needs scikit-learn: pip install 'factcheck-pcc[eval]'") from None


# -- the learned heads: the probe (hidden state) and the answer map (label logits) ---------

ANSWER_MAP_STRENGTHS = (0.1, 1.0, 10.0)  # inverse L2 strengths tried for the answer map


def _xy(samples: Sequence[Sample], head: str) -> tuple[np.ndarray, np.ndarray]:
    if head == "probe":
        rows = [s for s in samples if s.hidden is not None]
        x = [s.hidden for s in rows]
    else:
        rows = [s for s in samples if s.joint]
        x = [answer_features({Label(k): v for k, v in s.joint.items()}) for s in rows]
    if not rows:
        raise InputError(f"no claim has the {head}'s input")
    return np.stack(x).astype(np.float64), np.array([s.gold for s in rows])


def fit_head(samples: Sequence[Sample], strength: float, head: str = "probe") -> LinearHead:
    """Multinomial logistic regression on standardised inputs (hidden states for the probe,
    the answers' log-probabilities for the answer map); the standardisation is folded into
    the weights so applying the head is one matrix product."""
    _sklearn()
    from sklearn.linear_model import LogisticRegression

    x, y = _xy(samples, head)
    if len(set(y)) < 2:
        raise InputError(f"the {head} needs claims of at least two labels")
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    model = LogisticRegression(C=strength, max_iter=2000).fit((x - mean) / scale, y)
    classes = [Label(c) for c in model.classes_]
    coef, intercept = model.coef_, model.intercept_
    if len(classes) == 2:  # sklearn's binary form: one row for classes_[1]
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    weights = coef / scale
    bias = intercept - weights @ mean
    return LinearHead(labels=classes, weights=[[round(float(v), 7) for v in row] for row in weights],
                      intercept=[round(float(v), 6) for v in bias])


def fit_probe(samples: Sequence[Sample], strength: float) -> LinearHead:
    return fit_head(samples, strength, "probe")


def apply_head(head: LinearHead, sample: Sample, kind: str) -> dict[Label, float]:
    if kind == "probe":
        return head(sample.hidden) if sample.hidden is not None else {}
    return map_answers(head, {Label(k): v for k, v in sample.joint.items()}) if sample.joint else {}


def out_of_fold(samples: Sequence[Sample], strength: float, seed: int = 0, head: str = "probe") -> list[dict[Label, float]]:
    """Each sample's head output from a head fitted without its fold."""
    order = np.random.default_rng(seed).permutation(len(samples))
    folds = np.array_split(order, FOLDS)
    result: list[dict[Label, float] | None] = [None] * len(samples)
    for fold in folds:
        held = set(fold.tolist())
        fitted = fit_head([s for i, s in enumerate(samples) if i not in held], strength, head)
        for i in fold:
            result[i] = apply_head(fitted, samples[i], head)
    return result  # type: ignore[return-value]


# -- reading, decisions and the label bias -------------------------------------------------

def raw_probs(sample: Sample, reader: str, head: LinearHead | None = None) -> dict[Label, float]:
    """The reader's three-way output for one sample (before the label bias)."""
    if reader == "joint+logits":
        return {Label(k): v for k, v in sample.joint.items()}
    if reader == "chunks+logits":
        return aggregate_chunks([{Label(k): v for k, v in c.items()} for c in sample.chunks]) if sample.chunks else {}
    if reader == "joint+probe":
        return apply_head(head, sample, "probe")
    if reader == "joint+scaled":
        return apply_head(head, sample, "answer map")
    raise ValueError(reader)


def decide(raw: Sequence[dict[Label, float]], label_set: LabelSet,
           bias: dict[Label, float] | None) -> list[LabelDistribution]:
    return [restrict(r, label_set, bias) for r in raw]


def fit_bias(raw: Sequence[dict[Label, float]], gold: Sequence[str], label_set: LabelSet) -> dict[Label, float]:
    """Log-space offsets per label for the best macro-F1 (a grid; SUPPORTED stays at 0).
    With three labels this is the fitted NOT_ENOUGH_INFO decision."""
    names = label_names(label_set)
    grid = np.round(np.arange(-3.0, 3.01, 0.25), 2)
    others = [Label(n) for n in names[1:]]
    best, best_score = {lab: 0.0 for lab in others}, -1.0
    for values in itertools.product(grid, repeat=len(others)):
        bias = dict(zip(others, (float(v) for v in values)))
        predicted = [d.top.value for d in decide(raw, label_set, bias)]
        score = macro_f1(gold, predicted, names) - 1e-4 * sum(abs(v) for v in values)  # prefer small offsets
        if score > best_score + 1e-9:
            best, best_score = bias, score
    return {Label.SUPPORTED: 0.0, **best}


# -- calibration ---------------------------------------------------------------------------

def fit_calibration(raw: Sequence[float], correct: Sequence[bool], method: str) -> ConfidenceMap:
    return FITTERS[method](raw, correct)


# -- routing -------------------------------------------------------------------------------

@dataclass
class RoutePoint:
    threshold: float
    macro_f1: float
    tokens_per_claim: float
    read_rate: float


def route_outcomes(read: Sequence[bool], direct: Sequence[str], evidence: Sequence[str], gold: Sequence[str],
                   direct_cost: Sequence[float], read_cost: Sequence[float], names: list[str]) -> RoutePoint:
    predicted = [e if r else d for r, d, e in zip(read, direct, evidence)]
    tokens = [rc if r else dc for r, dc, rc in zip(read, direct_cost, read_cost)]
    return RoutePoint(0.0, macro_f1(gold, predicted, names), sum(tokens) / len(tokens), sum(read) / len(read))


def _signal_matrix(samples: Sequence[Sample], features: Sequence[str]) -> np.ndarray:
    return np.array([[s.signals[f] for f in features] for s in samples], dtype=np.float64)


def reading_tokens(sample: Sample, reader: str, after_closed: bool) -> int:
    """What reading ``sample``'s evidence costs: right after its closed-book pass (a router's
    input), or right after another claim's reading, as when every claim is read and the
    evidence prompt's instruction head is still in the KV cache."""
    if reader.startswith("chunks"):
        return sample.chunk_tokens
    if not after_closed and sample.joint_tokens_warm is not None:
        return sample.joint_tokens_warm
    return sample.joint_tokens


def always_read_tokens(samples: Sequence[Sample], reader: str = "joint") -> float:
    """What always reading costs per claim, a budget's base: no closed-book pass, and each
    reading after the one before."""
    return sum(reading_tokens(s, reader, after_closed=False) for s in samples) / len(samples)


def fit_router(samples: Sequence[Sample], direct: Sequence[str], evidence: Sequence[str], names: list[str],
               read_cost: Sequence[float], budget_fraction: float, features: Sequence[str] = SIGNALS,
               threshold_from: str = "in_sample", max_loss: float = MAX_LOSS,
               reader: str = "joint") -> tuple[Router, list[RoutePoint]]:
    """A logistic model of "reading fixes the direct verdict" (claims where both routes
    agree in correctness carry no signal and are left out), then the threshold with the
    best macro-F1 whose tokens stay within ``budget_fraction`` of always reading; or
    threshold 0, reading every claim, when that best is more than ``max_loss`` macro-F1
    below always reading: a saving that costs more accuracy than that is not made silently."""
    _sklearn()
    from sklearn.linear_model import LogisticRegression

    gold = [s.gold for s in samples]
    x = _signal_matrix(samples, features)
    helps = [(e == g) and (d != g) for d, e, g in zip(direct, evidence, gold)]
    hurts = [(d == g) and (e != g) for d, e, g in zip(direct, evidence, gold)]

    def logistic(rows: list[int]) -> Router:
        informative = [i for i in rows if helps[i] or hurts[i]]
        mean, scale = x[rows].mean(axis=0), x[rows].std(axis=0) + 1e-6
        if len({helps[i] for i in informative}) < 2:  # reading always (or never) helps here
            weights = np.zeros(len(features))
            intercept = 5.0 if sum(helps[i] for i in rows) >= sum(hurts[i] for i in rows) else -5.0
        else:
            model = LogisticRegression(C=1.0).fit((x[informative] - mean) / scale, [helps[i] for i in informative])
            weights = model.coef_[0] / scale
            intercept = float(model.intercept_[0] - weights @ mean)
        return Router(features=list(features), weights=[round(float(w), 6) for w in weights],
                      intercept=round(intercept, 6), threshold=1.01)

    router = logistic(list(range(len(samples))))
    if threshold_from == "out_of_fold" and len(samples) >= 2 * FOLDS:
        # the threshold is chosen on probabilities from models that did not see the claim:
        # chosen in-sample it fits the fit claims' noise (measured: benchmarks/README.md)
        p = [0.0] * len(samples)
        order = np.random.default_rng(0).permutation(len(samples))
        for fold in np.array_split(order, FOLDS):
            held = set(fold.tolist())
            fold_router = logistic([i for i in range(len(samples)) if i not in held])
            for i in fold:
                p[i] = fold_router.probability(samples[i].signals)
    else:
        p = [router.probability(s.signals) for s in samples]
    direct_cost = [float(s.closed_tokens) for s in samples]
    always = always_read_tokens(samples, reader)
    points = []
    for threshold in sorted({0.0, 1.01, *(round(v, 4) for v in p)}):
        point = route_outcomes([q >= threshold for q in p], direct, evidence, gold, direct_cost, read_cost, names)
        point.threshold = threshold
        points.append(point)
    allowed = [pt for pt in points if pt.tokens_per_claim <= budget_fraction * always] or \
        [min(points, key=lambda pt: pt.tokens_per_claim)]
    best = max(allowed, key=lambda pt: (round(pt.macro_f1, 6), -pt.tokens_per_claim))
    always_point = next(pt for pt in points if pt.threshold == 0.0)
    if best.macro_f1 < always_point.macro_f1 - max_loss:
        best = always_point
    return router.model_copy(update={"threshold": best.threshold}), points


__all__ = ["MAX_LOSS", "READERS", "always_read_tokens", "apply_section", "cross_validated_macro_f1", "decide",
           "fit_bias", "fit_calibration", "fit_head", "fit_probe", "fit_router", "fit_section", "out_of_fold",
           "raw_probs", "reading_tokens"]


# -- a whole profile section, and applying it as the pipeline does ----------------------------

READERS = ("joint+probe", "joint+scaled", "joint+logits", "chunks+logits")


def sample_label_set(sample: Sample) -> LabelSet:
    """The label set a sample was measured with (its closed-book pass's labels)."""
    return LabelSet.BINARY if len(sample.closed) == 2 else LabelSet.THREE


def _choose_calibration(raw: Sequence[float], correct: Sequence[bool]) -> tuple[ConfidenceMap, dict]:
    """Platt or isotonic, whichever has the lower ECE on held-out folds."""
    n = len(raw)
    order = np.random.default_rng(1).permutation(n)
    scores = {}
    for method in FITTERS:
        held_conf, held_ok = [], []
        for fold in np.array_split(order, FOLDS):
            held = set(fold.tolist())
            train = [i for i in range(n) if i not in held]
            cmap = fit_calibration([raw[i] for i in train], [correct[i] for i in train], method)
            held_conf += [cmap(raw[i]) for i in fold]
            held_ok += [correct[i] for i in fold]
        scores[method] = ece(held_conf, held_ok)
    method = min(scores, key=scores.get)
    return fit_calibration(raw, correct, method), {f"cv_ece_{m}": round(v, 4) for m, v in scores.items()}


def choose_strength(pool: Sequence[Sample], strengths: Sequence[float], head: str) -> tuple[float, dict, list]:
    """The L2 strength whose head has the best cross-validated macro-F1 on ``pool``, the
    scores by strength, and the out-of-fold outputs at the chosen one."""
    gold = [s.gold for s in pool]
    names = sorted(set(gold))
    outputs, scores = {}, {}
    for c in strengths:
        outputs[c] = out_of_fold(pool, c, head=head)
        scores[c] = macro_f1(gold, [max(o, key=o.get).value for o in outputs[c]], names)
    best = max(scores, key=scores.get)
    return best, {str(k): round(v, 4) for k, v in scores.items()}, outputs[best]


def _fit_reading(samples: Sequence[Sample], label_set: LabelSet, reader: str,
                 probe_samples: Sequence[Sample] | None) -> tuple[dict, dict, list[dict[Label, float]], dict]:
    """The reading part of a section: the reader's head and the label bias. Returns the
    section so far, its report, the head's (out-of-fold) outputs on ``samples`` and the bias."""
    if len(samples) < 20:
        raise InputError(f"calibration needs at least 20 checked claims with evidence, got {len(samples)}")
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
    bias, bias_cv = _held_out_bias(raw, gold, label_set)
    section["label_bias"] = {k.value: v for k, v in bias.items()}
    report.update(label_bias_cv_macro_f1=bias_cv)
    return section, report, raw, bias


def _held_out_bias(raw: Sequence[dict[Label, float]], gold: Sequence[str],
                   label_set: LabelSet) -> tuple[dict[Label, float], dict[str, float]]:
    """The label bias, kept only where it raises macro-F1 on claims it was not fitted on
    (k-fold). A bias is fitted to the fit claims' macro-F1 on a grid, and on top of a head
    that already has an intercept it can fit only their noise: measured, the binary bias
    cost 0.04 cross-validated macro-F1 on the FM2 fit claims (benchmarks/README.md).
    Returns (bias, cross-validated macro-F1 with the fitted bias and with none)."""
    names = label_names(label_set)
    none = {Label(n): 0.0 for n in names}
    order = np.random.default_rng(0).permutation(len(raw))
    predicted: list[str] = [""] * len(raw)
    for fold in np.array_split(order, FOLDS):
        held = set(fold.tolist())
        train = [i for i in range(len(raw)) if i not in held]
        fold_bias = fit_bias([raw[i] for i in train], [gold[i] for i in train], label_set)
        for i in fold:
            predicted[i] = restrict(raw[i], label_set, fold_bias).top.value
    fitted_score = macro_f1(gold, predicted, names)
    none_score = macro_f1(gold, [restrict(r, label_set, none).top.value for r in raw], names)
    scores = {"fitted": round(fitted_score, 4), "none": round(none_score, 4)}
    return (fit_bias(raw, gold, label_set) if fitted_score > none_score else none), scores


def fit_section(samples: Sequence[Sample], label_set: LabelSet, *, reader: str = "joint+probe",
                budget_fraction: float = 0.5, probe_samples: Sequence[Sample] | None = None,
                router_threshold: str = "in_sample", max_loss: float = MAX_LOSS) -> tuple[dict, dict]:
    """Fit one label set's profile section on ``samples`` (measured with that label set):
    the reader's probe (on ``probe_samples``, default ``samples``), the label bias, the
    confidence maps per basis and the router (its threshold chosen ``router_threshold``:
    in_sample or out_of_fold). Returns (section, report of the fit)."""
    section, report, raw, bias = _fit_reading(samples, label_set, reader, probe_samples)
    names = label_names(label_set)
    gold = [s.gold for s in samples]
    evidence = decide(raw, label_set, bias)
    ev_conf = [d.probs[d.top] for d in evidence]
    ev_ok = [d.top.value == g for d, g in zip(evidence, gold)]
    ev_map, ev_cv = _choose_calibration(ev_conf, ev_ok)
    closed = [_closed_distribution(s) for s in samples]
    model_map, model_cv = _choose_calibration([d.probs[d.top] for d in closed],
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
    return section, report


def cross_validated_macro_f1(samples: Sequence[Sample], label_set: LabelSet, reader: str,
                             probe_samples: Sequence[Sample] | None = None, seed: int = 0) -> float:
    """Macro-F1 of the reading (head, then label bias) on claims it was not fitted on:
    k-fold over ``samples``, each fold's reading fitted on the others (the probe's pool less
    the fold). The fair way to choose a reader, since a head fitted in-sample flatters
    itself in proportion to its size. Calibration and router do not change a verdict read
    from evidence, so they are not fitted here."""
    order = np.random.default_rng(seed).permutation(len(samples))
    gold, predicted = [], []
    for fold in np.array_split(order, FOLDS):
        held = {id(samples[i]) for i in fold}
        train = [s for s in samples if id(s) not in held]
        pool = [s for s in probe_samples if id(s) not in held] if probe_samples is not None else None
        section, _, _, _ = _fit_reading(train, label_set, reader, pool)
        outcomes = apply_section([samples[i] for i in fold], section, label_set, "retrieve")
        gold += [o.gold for o in outcomes]
        predicted += [o.verdict for o in outcomes]
    return macro_f1(gold, predicted, label_names(label_set))


def _closed_distribution(sample: Sample) -> LabelDistribution:
    probs = {Label(k): v for k, v in sample.closed.items()}
    return LabelDistribution(probs=probs, outside_mass=0.0, top_tokens_same_label=False)


@dataclass
class Outcome:
    """What the pipeline would record for one sample under a profile section and a route."""

    gold: str
    verdict: str
    confidence: float
    confidence_raw: float
    read: bool
    tokens: float


def apply_section(samples: Sequence[Sample], section: dict, label_set: LabelSet, route: str = "auto") -> list[Outcome]:
    """The verdicts, confidences, routes and costs the pipeline gives ``samples`` under
    ``section`` (route: auto, retrieve or direct), without a model call."""
    probe, answer_map = (LinearHead.model_validate(section[k]) if section.get(k) else None for k in ("probe", "answer_map"))
    reader = Reader(section.get("reader", "joint"), head=probe, answer_map=answer_map).name
    head = probe or answer_map
    bias = {Label(k): v for k, v in (section.get("label_bias") or {}).items()}
    calibration = Calibration.model_validate(section["calibration"]) if section.get("calibration") else None
    router = Router.model_validate(section["router"]) if section.get("router") else None
    thresholds = Thresholds(alpha=section.get("alpha", 0.5), beta=section.get("beta", 0.9))
    # the word selector's floor; selection by meaning has its own, applied when the samples were measured
    floor = section.get("min_coverage", 0.0) if section.get("selection", "words") == "words" else 0.0
    forced = {"auto": None, "direct": Route.DIRECT, "retrieve": Route.RETRIEVE}[route]
    # the pipeline's own decisions (plan.py), made on the stored passes
    regardless = reading_route(forced, router, has_sources=True, measures_consistency=False)
    outcomes = []
    for s in samples:
        has_evidence = bool(s.joint) if reader.startswith("joint") else bool(s.chunks)
        # samples measured without the floor: a claim whose best sentence is below it gets no
        # evidence (exact); sentences below it beside better ones were still read (approximate)
        has_evidence = has_evidence and s.signals["best_coverage"] >= floor
        closed = _closed_distribution(s)
        if regardless is not None:
            decision = regardless
        elif forced is Route.DIRECT:
            decision = route_decision(Assessment(distribution=closed, certainty=s.tau), thresholds,
                                      have_sources=True, forced=Route.DIRECT)
        elif router is not None:
            decision = router_route(router, s.signals, found=s.signals["documents"] > 0)
        else:  # PCC's tau alone, as a check without a router
            decision = route_decision(Assessment(distribution=closed, certainty=s.tau), thresholds, have_sources=True)
        read = decision.route is not Route.DIRECT and has_evidence
        reading = restrict(raw_probs(s, reader, head), label_set, bias) if read else None
        verdict, dist, basis = conclude(label_set, reading, closed, evidence_needed=decision.route is not Route.DIRECT)
        # a route that reads regardless runs the closed-book pass only where there is nothing to
        # read; any other route runs it first
        cost = s.closed_tokens if (regardless is None or not read) else 0
        if read:
            cost += reading_tokens(s, reader, after_closed=regardless is None)
        raw = dist.probs.get(verdict, 0.0)
        conf = calibration(raw, basis) if calibration else raw
        outcomes.append(Outcome(s.gold, verdict.value, conf, raw, read, cost))
    return outcomes
