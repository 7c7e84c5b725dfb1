"""Cross-validation for every fit: one k-fold split, and what fitting needs installed."""

from __future__ import annotations

import numpy as np

from ..errors import InputError

FOLDS = 5


def folds(n: int, seed: int) -> list[np.ndarray]:
    """``n`` indices shuffled by ``seed`` and cut into ``FOLDS`` folds of near-equal size.
    (numpy's permutation, not scikit-learn's KFold: the shipped profile was fitted on these
    folds, and a refit must reproduce it number for number.)"""
    return np.array_split(np.random.default_rng(seed).permutation(n), FOLDS)


def require_sklearn() -> None:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise InputError("fitting needs scikit-learn: pip install 'factcheck-pcc[eval]'") from None
