"""Profiles: what ``factcheck calibrate`` fits for one model, one table per label set.

    [meta]     model_sha256 (a profile applies to that model only), prompts_sha256 (the verdict
               prompts it was fitted with), how and on what it was fitted
    [three]    settings for SUPPORTED / REFUTED / NOT_ENOUGH_INFO runs
    [binary]   settings for SUPPORTED / REFUTED runs

A label set's table holds plain numbers and names (reader, probe weights, label bias,
confidence maps, router), so applying a profile needs nothing beyond factcheck. Reading and
validating a profile lives in ``config.read_profile``; this module writes one.
"""

from __future__ import annotations

from pathlib import Path

from .labels import LabelSet


def write_profile(path: Path, sections: dict[LabelSet, dict], meta: dict) -> None:
    """Write ``sections`` (label set -> settings) and ``meta`` (must hold model_sha256, or
    it is taken as the default model's) atomically to ``path``. The digest of the prompts the
    fitted numbers were read with goes into ``meta`` too (``config.read_profile`` checks it)."""
    import tomli_w

    from . import prompts
    from .model_files import DEFAULT_MODEL_SHA256

    meta = {"model_sha256": DEFAULT_MODEL_SHA256, "prompts_sha256": prompts.digest(reading_only=True), **meta}
    document = {"meta": meta, **{ls.value: _plain(section) for ls, section in sections.items()}}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("# factcheck profile, written by factcheck calibrate\n" + tomli_w.dumps(document),
                   encoding="utf-8")
    tmp.replace(path)


def _plain(value):
    """TOML has no null: drop None values, recursively."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
