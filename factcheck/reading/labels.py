"""Label sets and the mapping from vocabulary tokens to verdict labels.

The model answers with a word; its first token already carries the verdict. A token
belongs to a label when its text (trimmed, case-folded) is a non-empty prefix of one of
that label's answer words, so "SUP", " Supported" and "S" all count for SUPPORTED.
Tokens that would start two labels count for neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..config.paths import cache_dir
from ..files import write_atomic
from ..schema import Label, LabelDistribution, LabelSet

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
    """Token ids that start each label, plus a reverse index for the top-2 check. A model
    behind a server has no known vocabulary: its answers are mapped by text alone."""

    label_set: LabelSet
    words: dict[Label, tuple[str, ...]]  # case-folded answer words
    ids: dict[Label, np.ndarray]
    owner: dict[int, Label]

    @property
    def labels(self) -> list[Label]:
        return list(self.words)

    def label_of(self, piece: str) -> Label | None:
        """The label a token's text starts, or None (no label, or two)."""
        text = piece.strip().casefold()
        if not text:
            return None
        owners = {label for label, ws in self.words.items() if any(w.startswith(text) for w in ws)}
        return owners.pop() if len(owners) == 1 else None


def map_label_tokens(pieces: Sequence[str] | None, label_set: LabelSet) -> LabelTokens:
    """Find, for each label, every vocabulary token that can start its answer word."""
    return map_answer_tokens(pieces, ANSWER_WORDS[label_set], label_set)


def map_answer_tokens(pieces: Sequence[str] | None, answer_words: dict[Label, tuple[str, ...]],
                      label_set: LabelSet = LabelSet.BINARY) -> LabelTokens:
    """Map tokens to the answers in ``answer_words`` (e.g. YES/NO questions, whose
    answers are given as SUPPORTED for yes and REFUTED for no). ``pieces`` None: the
    vocabulary is unknown and answers are read by text (``distribution_from_top``)."""
    words = {label: tuple(w.casefold() for w in ws) for label, ws in answer_words.items()}
    mapping = LabelTokens(label_set=label_set, words=words, ids={}, owner={})
    if pieces is None:
        return mapping
    owner = {}
    for token_id, piece in enumerate(pieces):
        label = mapping.label_of(piece)
        if label is not None:
            owner[token_id] = label
    ids = {
        label: np.array(sorted(t for t, lab in owner.items() if lab == label), dtype=np.int64)
        for label in words
    }
    empty = [label.value for label, arr in ids.items() if arr.size == 0]
    if empty:
        raise ValueError(f"no vocabulary token starts the answer word of {empty}")
    return LabelTokens(label_set=label_set, words=words, ids=ids, owner=owner)


def model_answer_tokens(model, answer_words: dict[Label, tuple[str, ...]],
                        label_set: LabelSet = LabelSet.BINARY) -> LabelTokens:
    """``map_answer_tokens`` over ``model``'s vocabulary, kept on disk per model file and
    answer words: scanning 150,000 token texts three times is most of a warm start-up, and
    a run answered from the result cache needs nothing else. Only an in-process model's file
    (``model.info.path``, known by its SHA-256) has a vocabulary worth keeping."""
    import hashlib
    import json

    if getattr(model.info, "path", None) is None or model.info.server:
        return map_answer_tokens(model.vocab_pieces(), answer_words, label_set)
    words = {label.value: list(ws) for label, ws in answer_words.items()}
    key = hashlib.sha256(json.dumps([model.info.sha256, words], sort_keys=True).encode()).hexdigest()[:32]
    path = cache_dir() / "token-maps" / f"{key}.json"
    try:
        owner = {int(t): Label(v) for t, v in json.loads(path.read_text(encoding="utf-8")).items()}
    except (OSError, ValueError):
        mapping = map_answer_tokens(model.vocab_pieces(), answer_words, label_set)
        try:
            write_atomic(path, json.dumps({str(t): lab.value for t, lab in mapping.owner.items()}))
        except OSError:
            pass  # a read-only cache folder: the map is made again next time
        return mapping
    folded = {label: tuple(w.casefold() for w in ws) for label, ws in answer_words.items()}
    ids = {label: np.array(sorted(t for t, lab in owner.items() if lab == label), dtype=np.int64) for label in folded}
    return LabelTokens(label_set=label_set, words=folded, ids=ids, owner=owner)


# A yes/no question read like a binary verdict: "yes" is SUPPORTED, "no" is REFUTED.
YES_NO_WORDS: dict[Label, tuple[str, ...]] = {Label.SUPPORTED: ("YES",), Label.REFUTED: ("NO",)}


def read_distribution(step, tokens: LabelTokens) -> LabelDistribution:
    """The label distribution of a backend's NextToken: the whole vocabulary when the
    backend has it, else the top-N alternatives a server returned."""
    if step.probs is not None:
        return distribution_from_probs(step.probs, tokens)
    return distribution_from_top(step.top or {}, tokens)


def distribution_from_top(top: dict[str, float], tokens: LabelTokens) -> LabelDistribution:
    """Sum the probabilities of the alternatives (token text -> probability, most likely
    first) per label; mass outside them counts as ``outside_mass``."""
    mass = dict.fromkeys(tokens.labels, 0.0)
    for piece, p in top.items():
        label = tokens.label_of(piece)
        if label is not None:
            mass[label] += p
    inside = sum(mass.values())
    if inside <= 0.0:
        normalised = {label: 1.0 / len(mass) for label in mass}
    else:
        normalised = {label: m / inside for label, m in mass.items()}
    owners = [tokens.label_of(piece) for piece in list(top)[:2]]
    return LabelDistribution(
        probs=normalised,
        outside_mass=min(1.0, max(0.0, 1.0 - inside)),
        top_tokens_same_label=len(owners) == 2 and owners[0] is not None and owners[0] == owners[1],
    )


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
