"""The learned heads a reader may use: the probe (on the hidden state) and the answer map
(on the label words' log-probabilities), with their out-of-fold outputs and strengths."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InputError
from ..reading.readers import LinearHead, aggregate_chunks, answer_features, map_answers
from ..runs.metrics import macro_f1
from ..schema import Label
from .cv import folds, require_sklearn
from .samples import Sample

PROBE_STRENGTHS = (0.003, 0.01, 0.03, 0.1)  # inverse L2 strengths tried (sklearn's C)
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
    require_sklearn()
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
    result: list[dict[Label, float] | None] = [None] * len(samples)
    for fold in folds(len(samples), seed):
        held = set(fold.tolist())
        fitted = fit_head([s for i, s in enumerate(samples) if i not in held], strength, head)
        for i in fold:
            result[i] = apply_head(fitted, samples[i], head)
    return result  # type: ignore[return-value]


def read_answers(answers: dict[str, float], reader: str, head: LinearHead | None = None) -> dict[Label, float]:
    """A joint pass's stored answers as ``reader`` reads them (the label words, or the answer
    map over them): what an escalation's second reading gives."""
    probs = {Label(k): v for k, v in answers.items()}
    if reader == "joint+scaled" and head is not None:
        return map_answers(head, probs)
    if reader in ("joint+logits", "joint+scaled"):
        return probs
    raise ValueError(f"an escalation is read by the label words, not by {reader}")


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
