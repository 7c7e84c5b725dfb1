"""Small, tested metric functions: accuracy, per-class and macro F1, AUROC, ECE, Brier,
and bootstrap intervals for any of them."""

from __future__ import annotations

from collections.abc import Sequence

from ..reading.calibration import CoveragePoint, RiskCoverage


def accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    return sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold) if gold else 0.0


def f1_per_class(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> dict[str, float]:
    scores = {}
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        scores[label] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return scores


def macro_f1(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> float:
    per_class = f1_per_class(gold, predicted, labels)
    return sum(per_class.values()) / len(per_class) if per_class else 0.0


def auroc(scores: Sequence[float], positives: Sequence[bool]) -> float | None:
    """Probability that a random positive outscores a random negative (ties count half).
    None when one class is absent."""
    ranked = sorted(zip(scores, positives))
    n_pos = sum(positives)
    n_neg = len(positives) - n_pos
    if not n_pos or not n_neg:
        return None
    # rank-sum with average ranks for ties (Mann-Whitney U)
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        average_rank = (i + 1 + j) / 2
        rank_sum += average_rank * sum(1 for _, pos in ranked[i:j] if pos)
        i = j
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def brier(confidences: Sequence[float], correct: Sequence[bool]) -> float:
    """Mean squared error of the confidence as a forecast of being correct."""
    return sum((c - float(y)) ** 2 for c, y in zip(confidences, correct, strict=True)) / len(correct)


def reliability_bins(confidences: Sequence[float], correct: Sequence[bool], bins: int = 15) -> list[dict]:
    """Equal-width bins over [0, 1]: count, mean confidence and accuracy of each non-empty bin."""
    grouped: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for c, y in zip(confidences, correct, strict=True):
        grouped[min(int(c * bins), bins - 1)].append((c, y))
    return [{"low": i / bins, "high": (i + 1) / bins, "count": len(g),
             "confidence": sum(c for c, _ in g) / len(g), "accuracy": sum(y for _, y in g) / len(g)}
            for i, g in enumerate(grouped) if g]


def ece(confidences: Sequence[float], correct: Sequence[bool], bins: int = 15) -> float:
    """Expected calibration error over ``bins`` equal-width bins."""
    n = len(correct)
    return sum(b["count"] / n * abs(b["accuracy"] - b["confidence"])
               for b in reliability_bins(confidences, correct, bins))


def confusion(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> dict[str, dict[str, int]]:
    """confusion[gold][predicted] = count."""
    table = {g: {p: 0 for p in labels} for g in labels}
    for g, p in zip(gold, predicted, strict=True):
        if g in table and p in table[g]:
            table[g][p] += 1
    return table


def bootstrap(metric, *columns: Sequence, rounds: int = 1000, seed: int = 0) -> tuple[float, float] | None:
    """95% percentile interval of ``metric(*columns)`` over claims resampled with
    replacement (fixed seed, so a report is reproducible); None when it never applies."""
    import random

    n = len(columns[0]) if columns else 0
    if n == 0:
        return None
    rng = random.Random(seed)
    values = []
    for _ in range(rounds):
        idx = [rng.randrange(n) for _ in range(n)]
        value = metric(*[[c[i] for i in idx] for c in columns])
        if value is not None:
            values.append(value)
    if not values:
        return None
    values.sort()
    return (values[int(0.025 * (len(values) - 1))], values[int(0.975 * (len(values) - 1))])


# The confidences a risk-coverage curve is read at.
COVERAGE_THRESHOLDS = (0.0, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


def risk_coverage(confidences: Sequence[float], correct: Sequence[bool]) -> RiskCoverage:
    """The risk-coverage curve of verdicts (``RiskCoverage``): at each threshold, the share
    of claims whose confidence reaches it, and the accuracy of those, with a bootstrap 95%
    interval (claims resampled). ``factcheck calibrate`` (held-out folds) and ``factcheck eval``
    (its records) both make theirs here."""
    n = len(correct)
    points = []
    for threshold in COVERAGE_THRESHOLDS:
        kept = [ok for c, ok in zip(confidences, correct, strict=True) if c >= threshold]
        if not kept:
            continue
        low, high = bootstrap(lambda ok: sum(ok) / len(ok), kept) or (float("nan"), float("nan"))
        points.append(CoveragePoint(threshold=threshold, coverage=round(len(kept) / n, 4),
                                    accuracy=round(sum(kept) / len(kept), 4), low=round(low, 4),
                                    high=round(high, 4), claims=len(kept)))
    return RiskCoverage(points=points, measured_on=n)
