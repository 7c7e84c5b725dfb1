"""Calibration sets: the labeled claims a profile is fitted on, in parts, each with its own
evidence, grouped by label set. ``factcheck calibrate --set FILE`` reads one; a single
``factcheck calibrate CLAIMS --index DIR`` is a set of one part.

A set is a TOML file; paths are relative to the file:

    name = "shared data fit splits"

    [three]                     # settings the section is fitted (and then checks run) with
    k = 5
    sentences = 4
    selection = "words"

    [[three.part]]
    claims = "splits/scifact_fit.jsonl"      # labeled JSON Lines ({id, claim, label})
    corpus = ["corpus/scifact.jsonl"]        # indexed once into the cache folder; or
    # index = ["indexes/scifact"]            # index folders built with factcheck index build

    [binary]
    k = 20
    selection = "meaning"
    meaning_weight = 4.0

    [[binary.part]]
    claims = "splits/fm2_fit.jsonl"
    corpus = ["corpus/fm2.jsonl"]
    vectors = true                           # the corpus's index is also searched by meaning
    limit = 300                              # only the first N claims

Everything is read and checked before the model is loaded, so a bad set fails at once.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..config.paths import cache_dir
from ..errors import InputError
from ..evidence.select import Selection
from ..retrievers.local_index import build_index
from ..runs.evaluate import LabeledClaim, label_set_for, read_labeled
from ..schema import LabelSet

# The fit needs at least 20 claims with evidence (fitting/section.py); fewer claims in all cannot be fitted.
MIN_CLAIMS = 20


class PartSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    claims: Path
    corpus: list[Path] = Field(default_factory=list)
    index: list[Path] = Field(default_factory=list)
    vectors: bool = False
    limit: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_evidence_source(self):
        if bool(self.corpus) == bool(self.index):
            raise ValueError("give a part either corpus (files to index) or index (index folders)")
        return self


class LabelSetSpec(BaseModel):
    """Settings a label set's section is fitted with; they go into the profile."""

    model_config = ConfigDict(extra="forbid")

    k: int | None = Field(default=None, ge=1, le=50)
    sentences: int | None = Field(default=None, ge=1, le=20)
    selection: Selection | None = None
    meaning_weight: float | None = Field(default=None, ge=0.0, le=100.0)
    min_coverage: float | None = Field(default=None, ge=0.0, le=1.0)
    part: list[PartSpec] = Field(min_length=1)


class SetSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = ""
    three: LabelSetSpec | None = None
    binary: LabelSetSpec | None = None


@dataclass
class Part:
    """One file of labeled claims and the evidence its claims are checked against."""

    name: str
    claims: list[LabeledClaim]
    index: list[Path]  # index folders; empty until ``prepare`` builds the corpus's
    corpus: list[Path]
    vectors: bool = False


@dataclass
class LabelSetPlan:
    label_set: LabelSet
    settings: dict  # k, sentences, selection, meaning_weight, min_coverage given by the set
    parts: list[Part]

    @property
    def claims(self) -> int:
        return sum(len(p.claims) for p in self.parts)


@dataclass
class CalibrationSet:
    name: str
    plans: list[LabelSetPlan]

    def describe_plan(self, plan: LabelSetPlan) -> str:
        """What a label set's section was fitted on, for the profile's [meta] table."""
        return f"{self.name}: " + ", ".join(f"{p.name} ({len(p.claims)} claims)" for p in plan.parts)


def read_set(path: Path) -> CalibrationSet:
    """Read and check a calibration set file: every claims file parsed, every label set with
    enough claims of its own labels, every corpus file and index folder present."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read calibration set {path}: {getattr(exc, 'strerror', None) or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"calibration set {path} is not valid TOML: {exc}") from None
    try:
        spec = SetSpec.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise InputError(f"calibration set {path}: {where}: {first['msg']}") from None
    base = path.parent
    plans = []
    for label_set in LabelSet:
        given: LabelSetSpec | None = getattr(spec, label_set.value)
        if given is None:
            continue
        parts = [_part(base, p, label_set, path) for p in given.part]
        plans.append(LabelSetPlan(label_set, given.model_dump(exclude={"part"}, exclude_none=True), parts))
    if not plans:
        raise InputError(f"calibration set {path} has no [three] or [binary] table")
    result = CalibrationSet(spec.name or path.stem, plans)
    check_sizes(result)
    return result


def builtin_set_path() -> Path:
    """The calibration set that ships with factcheck (fitting/builtin/set.toml)."""
    from importlib import resources

    return Path(str(resources.files("factcheck").joinpath("fitting", "builtin", "set.toml")))


def single_part(claims_file: Path, claims: list[LabeledClaim], index: list[Path]) -> CalibrationSet:
    """``factcheck calibrate CLAIMS --index DIR``: one part, its label set from its labels
    (the settings come from the command line, so the set gives none)."""
    part = Part(claims_file.name, claims, list(index), [])
    result = CalibrationSet(claims_file.name, [LabelSetPlan(label_set_for(claims), {}, [part])])
    check_sizes(result)
    return result


def _part(base: Path, spec: PartSpec, label_set: LabelSet, set_path: Path) -> Part:
    resolve = lambda p: p if p.is_absolute() else (base / p)  # noqa: E731
    claims_file = resolve(spec.claims.expanduser())
    claims = read_labeled(claims_file, spec.limit)
    if label_set is LabelSet.BINARY and label_set_for(claims) is not LabelSet.BINARY:
        raise InputError(f"calibration set {set_path}: {claims_file} holds NOT_ENOUGH_INFO claims, "
                         f"which a [binary] part cannot have")
    corpus = [resolve(p.expanduser()) for p in spec.corpus]
    index = [resolve(p.expanduser()) for p in spec.index]
    for file in corpus:
        if not file.exists():
            raise InputError(f"calibration set {set_path}: corpus not found: {file}")
    for folder in index:
        if not (folder / "manifest.json").is_file():
            raise InputError(f"calibration set {set_path}: not an index folder (factcheck index build): {folder}")
    return Part(claims_file.name, claims, index, corpus, spec.vectors)


def check_sizes(calibration_set: CalibrationSet) -> None:
    """Too few claims fail now, before any model pass."""
    for plan in calibration_set.plans:
        if plan.claims < MIN_CLAIMS:
            raise InputError(f"calibrating {plan.label_set.value} labels needs at least {MIN_CLAIMS} labeled claims "
                             f"(the fit uses those the search finds evidence for), got {plan.claims}")


def corpus_index_folder(part: Part) -> Path:
    """Where a part's corpus is indexed: in the cache folder, named by the corpus files'
    contents, so a set's corpora are indexed once whatever runs use them."""
    digest = hashlib.sha256()
    for file in part.corpus:
        digest.update(hashlib.sha256(file.read_bytes()).digest())
    digest.update(b"vectors" if part.vectors else b"words")
    return cache_dir() / "calibration-indexes" / digest.hexdigest()[:24]


def prepare(calibration_set: CalibrationSet, on_build: Callable[[Part], None] | None = None) -> None:
    """Index every part's corpus (once; later runs find the folder)."""

    for plan in calibration_set.plans:
        for part in plan.parts:
            if part.index or not part.corpus:  # searched as given
                continue
            folder = corpus_index_folder(part)
            if not (folder / "manifest.json").is_file():
                if on_build:
                    on_build(part)
                build_index([str(p) for p in part.corpus], folder, vectors=part.vectors)
            part.index = [folder]
