import pytest

from factcheck.runs.metrics import accuracy, auroc, f1_per_class, macro_f1

GOLD = ["S", "S", "R", "R", "N", "N"]
PRED = ["S", "R", "R", "R", "S", "N"]


def test_accuracy_hand_computed():
    assert accuracy(GOLD, PRED) == pytest.approx(4 / 6)


def test_f1_hand_computed():
    # S: tp1 fp1 fn1 -> 0.5; R: tp2 fp1 fn0 -> 0.8; N: tp1 fp0 fn1 -> 2/3
    scores = f1_per_class(GOLD, PRED, ["S", "R", "N"])
    assert scores == pytest.approx({"S": 0.5, "R": 0.8, "N": 2 / 3})
    assert macro_f1(GOLD, PRED, ["S", "R", "N"]) == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)


def test_f1_of_a_class_never_predicted_nor_present_is_zero():
    assert f1_per_class(["S"], ["S"], ["S", "R"]) == {"S": 1.0, "R": 0.0}


def test_auroc_hand_computed_with_ties():
    # positives 0.9, 0.5; negatives 0.5, 0.1 -> pairs: (0.9>0.5)1 (0.9>0.1)1 (0.5=0.5).5 (0.5>0.1)1
    assert auroc([0.9, 0.5, 0.5, 0.1], [True, True, False, False]) == pytest.approx(3.5 / 4)
    assert auroc([0.1, 0.9], [True, False]) == 0.0
    assert auroc([0.3, 0.4], [True, True]) is None


from factcheck.reading.calibration import (  # noqa: E402
    FLOOR,
    Calibration,
    ConfidenceMap,
    fit_isotonic,
    fit_platt,
)
from factcheck.runs.metrics import brier, confusion, ece, reliability_bins  # noqa: E402


def test_brier_hand_computed():
    assert brier([0.9, 0.6], [True, False]) == pytest.approx((0.01 + 0.36) / 2)


def test_ece_hand_computed():
    # bin [0.8, 0.867): 0.8, 0.85 -> conf 0.825, acc 0.5; bin [0.267, 0.333): 0.3 -> acc 0
    conf, correct = [0.8, 0.85, 0.3], [True, False, False]
    bins = reliability_bins(conf, correct)
    assert [b["count"] for b in bins] == [1, 2]
    assert ece(conf, correct) == pytest.approx(1 / 3 * 0.3 + 2 / 3 * abs(0.5 - 0.825))


def test_ece_is_zero_when_perfectly_calibrated():
    assert ece([1.0, 1.0, 0.0], [True, True, False]) == pytest.approx(0.0)


def test_confusion_counts():
    assert confusion(["S", "S", "R"], ["S", "R", "R"], ["S", "R"]) == {"S": {"S": 1, "R": 1}, "R": {"S": 0, "R": 1}}


def test_isotonic_pools_violators_and_interpolates_within_the_floor():
    # 10 claims a step at the least: 40 claims, right more often as raw grows, with a dip
    raw = [i / 40 for i in range(40)]
    correct = [i % 4 == 0 for i in range(10)] + [i % 2 == 0 for i in range(10)] + \
              [i % 3 != 0 for i in range(10)] + [i != 0 for i in range(10)]
    cal = fit_isotonic(raw, correct)
    assert len(cal.x) == len(cal.y) >= 2 and all(b >= a for a, b in zip(cal.y, cal.y[1:]))
    assert cal.y[0] < 0.5 < 0.7 < cal.y[-1]
    # one right and one wrong pseudo-outcome per step: 0 of 10 right -> 1/12, 10 of 10 -> 11/12
    split = fit_isotonic([i / 20 for i in range(20)], [False] * 10 + [True] * 10)
    assert split.y == pytest.approx([1 / 12, 11 / 12], abs=1e-6)
    assert cal(0.0) == pytest.approx(FLOOR + (1 - 2 * FLOOR) * cal.y[0])
    assert cal(1.0) == pytest.approx(FLOOR + (1 - 2 * FLOOR) * cal.y[-1])
    middle = (cal.x[0] + cal.x[1]) / 2
    assert cal(middle) == pytest.approx(FLOOR + (1 - 2 * FLOOR) * (cal.y[0] + cal.y[1]) / 2)


def test_isotonic_top_step_is_never_certainty_from_a_few_claims():
    # the shipped closed-book map once sent raw 0.69 to 0.99: five right answers at the top
    raw = [0.3 + 0.01 * i for i in range(30)] + [0.69, 0.7, 0.8, 0.85, 0.9]
    correct = [i % 2 == 0 for i in range(30)] + [True] * 5
    cal = fit_isotonic(raw, correct)
    assert cal(0.9) < 0.8
    assert cal.y[-1] == pytest.approx(max(cal.y))


def test_platt_map_is_monotone_and_bounded_away_from_0_and_1():
    raw = [0.3 + 0.007 * i for i in range(100)]
    correct = [i % 3 != 0 if i > 50 else i % 3 == 0 for i in range(100)]
    cal = fit_platt(raw, correct)
    values = [cal(x / 1000) for x in range(0, 1001)]
    assert all(b >= a for a, b in zip(values, values[1:]))
    assert min(values) >= FLOOR and max(values) <= 1 - FLOOR
    assert cal(0.9) > cal(0.4)
    # all right: a constant below 1, not certainty
    constant = fit_platt([0.5, 0.6, 0.7], [True, True, True])
    assert constant(0.99) < 0.995


def test_calibration_validates_its_fields_and_picks_a_map_per_basis():
    with pytest.raises(ValueError):
        ConfidenceMap(method="isotonic", x=[0.5, 0.2], y=[0.1, 0.2])
    with pytest.raises(ValueError):
        ConfidenceMap(method="platt", a=-1.0)
    cal = Calibration(evidence=ConfidenceMap(a=0.0, b=2.0), model=ConfidenceMap(a=0.0, b=-2.0))
    assert cal(0.5, "evidence") > 0.8 and cal(0.5, "model") < 0.2
    assert Calibration(evidence=ConfidenceMap(a=0.0, b=2.0))(0.5, "model") > 0.8
