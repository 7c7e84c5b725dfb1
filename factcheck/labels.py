"""Label sets and the mapping from vocabulary tokens to verdict labels.

The model answers with a word; its first token already carries the verdict. A token
belongs to a label when its text (trimmed, case-folded) is a non-empty prefix of one of
that label's answer words, so "SUP", " Supported" and "S" all count for SUPPORTED.
Tokens that would start two labels count for neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np

from .schema import Label, LabelDistribution


class LabelSet(str, Enum):
    THREE = "three"  # SUPPORTED / REFUTED / NOT_ENOUGH_INFO
    BINARY = "binary"  # the paper's True / False setting


# The words the prompt asks the model to answer with (see prompts/options_*.txt).
# Measured on the default model: asked for "SUPPORTED/REFUTED/NOT_ENOUGH_INFO" it put most
# mass on "NOT" (as in "not true") even for well-known facts; "TRUE/FALSE/UNKNOWN" keeps
# the verdict words plain and leaves UNKNOWN for real doubt.
ANSWER_WORDS: dict[LabelSet, dict[Label, tuple[str, ...]]] = {
    LabelSet.THREE: {
        Label.SUPPORTED: ("TRUE",),
        Label.REFUTED: ("FALSE",),
        Label.NOT_ENOUGH_INFO: ("UNKNOWN",),
    },
    LabelSet.BINARY: {
        Label.SUPPORTED: ("True",),
        Label.REFUTED: ("False",),
    },
}


@dataclass(frozen=True)
class LabelTokens:
    """Token ids that start each label, plus a reverse index for the top-2 check."""

    label_set: LabelSet
    ids: dict[Label, np.ndarray]
    owner: dict[int, Label]

    @property
    def labels(self) -> list[Label]:
        return list(self.ids)


def map_label_tokens(pieces: Sequence[str], label_set: LabelSet) -> LabelTokens:
    """Find, for each label, every vocabulary token that can start its answer word."""
    return map_answer_tokens(pieces, ANSWER_WORDS[label_set], label_set)


def map_answer_tokens(pieces: Sequence[str], answer_words: dict[Label, tuple[str, ...]],
                      label_set: LabelSet = LabelSet.BINARY) -> LabelTokens:
    """Map tokens to the answers in ``answer_words`` (e.g. YES/NO questions, whose
    answers are given as SUPPORTED for yes and REFUTED for no)."""
    words = {label: [w.casefold() for w in ws] for label, ws in answer_words.items()}
    owner: dict[int, Label] = {}
    ambiguous: set[int] = set()
    for token_id, piece in enumerate(pieces):
        text = piece.strip().casefold()
        if not text:
            continue
        for label, label_words in words.items():
            if any(w.startswith(text) for w in label_words):
                if token_id in owner and owner[token_id] != label:
                    ambiguous.add(token_id)
                owner[token_id] = label
    for token_id in ambiguous:
        del owner[token_id]
    ids = {
        label: np.array(sorted(t for t, lab in owner.items() if lab == label), dtype=np.int64)
        for label in words
    }
    empty = [label.value for label, arr in ids.items() if arr.size == 0]
    if empty:
        raise ValueError(f"no vocabulary token starts the answer word of {empty}")
    return LabelTokens(label_set=label_set, ids=ids, owner=owner)


# A yes/no question read like a binary verdict: "yes" is SUPPORTED, "no" is REFUTED.
YES_NO_WORDS: dict[Label, tuple[str, ...]] = {Label.SUPPORTED: ("YES",), Label.REFUTED: ("NO",)}


def distribution_from_probs(probs: np.ndarray, tokens: LabelTokens) -> LabelDistribution:
    """Sum next-token probabilities per label and renormalise over the label set."""
    mass = {label: float(probs[ids].sum()) for label, ids in tokens.ids.items()}
    inside = sum(mass.values())
    if inside <= 0.0:
        uniform = 1.0 / len(mass)
        normalised = {label: uniform for label in mass}
    else:
        normalised = {label: m / inside for label, m in mass.items()}
    top_two = np.argpartition(probs, -2)[-2:]
    owners = [tokens.owner.get(int(t)) for t in top_two]
    return LabelDistribution(
        probs=normalised,
        outside_mass=max(0.0, 1.0 - inside),
        top_tokens_same_label=owners[0] is not None and owners[0] == owners[1],
    )
