import pytest

from factcheck.metrics import accuracy, auroc, f1_per_class, macro_f1

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
