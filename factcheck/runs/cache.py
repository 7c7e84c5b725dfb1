"""A persistent result cache: SQLite in the cache dir, in WAL mode so readers never block
the writer and a killed process leaves a consistent database.

The key is a SHA-256 over the claim text, the model's SHA-256, every resolved setting
(the profile's choices included), the bytes of the profile applied, the contents of the
prompt files, the package version and the identity of the evidence sources (index
manifests, web URLs), so a refitted profile, an edited prompt, an upgrade, a changed index
or model never serves a stale record.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path

from .. import prompts, version
from ..config.paths import cache_dir
from ..config.settings import Settings
from ..model.loader import model_identity
from ..profiles.profile import FITTED_SETTINGS, Profile
from ..schema import CheckRecord

# Settings that cannot change what a check returns. Everything else is keyed, so a setting
# added later is keyed by default rather than forgotten (the model is keyed by its SHA-256,
# indexes by their manifests, the profile by the values it contributes and its bytes).
# (if_sources_fail: a record made while a source failed is never cached.)
_NOT_KEYED = {"model", "threads", "gpu_layers", "index", "zim", "profile", "web_timeout", "api_key", "api_timeout",
              "if_sources_fail", "adapt"}  # adaptation acts on records after the cache


def default_path() -> Path:
    return cache_dir() / "results.sqlite"


def sources_identity(settings: Settings) -> list[str]:
    """Index contents (by manifest), so a rebuilt index gets new keys, and ZIM archives by
    their UUID. Web endpoints are keyed
    as settings (``web``, ``web_url``), not here."""
    identity = []
    for folder in settings.index:
        manifest = folder.expanduser() / "manifest.json"
        try:
            identity.append(hashlib.sha256(manifest.read_bytes()).hexdigest())
        except OSError:
            identity.append(str(folder))
    for archive in settings.zim:  # a ZIM by its UUID, not its path: a moved file keeps its records
        identity.append(f"zim:{zim_uuid(archive.expanduser()) or archive}")
    return identity


def zim_uuid(path) -> str | None:
    """A ZIM archive's UUID, read from its header (bytes 8-24) without opening it."""
    import uuid

    try:
        with open(path, "rb") as fh:
            header = fh.read(24)
    except OSError:
        return None
    return str(uuid.UUID(bytes=header[8:24])) if len(header) == 24 and header[:4] == b"ZIM\x04" else None


def settings_key(settings: Settings, model_sha256: str, profile: Profile | None = None,
                 unkeyed: frozenset[str] = frozenset()) -> str:
    """The key prefix of records checked with ``settings`` on the model and with ``profile``'s
    fitted objects (keyed by the file's bytes); ``unkeyed`` settings left out."""

    data = settings.model_dump(mode="json", exclude=_NOT_KEYED | unkeyed)
    data["model"] = model_sha256
    data["sources"] = sources_identity(settings)
    data["profile_file"] = profile.digest if profile is not None else None
    data["prompts"] = prompts.digest()
    data["version"] = version.__version__
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


class ResultCache:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, record TEXT NOT NULL,"
                         " created REAL NOT NULL)")

    @staticmethod
    def key(claim_text: str, settings_key: str) -> str:
        return hashlib.sha256(f"{settings_key}\n{claim_text}".encode()).hexdigest()

    def get(self, key: str) -> CheckRecord | None:
        row = self._db.execute("SELECT record FROM results WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            return CheckRecord.model_validate_json(row[0])  # only complete records are stored
        except ValueError:
            return None  # written by an older schema: check again

    def put(self, key: str, record: CheckRecord) -> None:
        self._db.execute("INSERT OR REPLACE INTO results VALUES (?, ?, ?)",
                         (key, record.model_dump_json(), time.time()))

    def info(self) -> dict:
        entries = self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.exists())
        integrity = self._db.execute("PRAGMA integrity_check").fetchone()[0]
        # the rest of the cache folder: the assembled default model (1.1 GB), calibration
        # samples and indexes, web responses, ZIM searches; `cache clear` removes results only
        others = {name: _folder_bytes(self.path.parent / name)
                  for name in ("models", "samples", "calibration-indexes", "web", "zim")}
        zim = self.path.parent / "zim"
        return {"path": str(self.path), "entries": entries, "bytes": size, "integrity": integrity,
                **{f"{name}_bytes": n for name, n in others.items()},
                "zim_searches": sum(1 for _ in zim.rglob("*.json")) if zim.is_dir() else 0}

    def clear(self) -> int:
        removed = self._db.execute("DELETE FROM results").rowcount
        self._db.execute("VACUUM")
        return removed

    def close(self) -> None:
        self._db.close()


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0


def run_key(settings: Settings, profile: Profile) -> str:
    """The key prefix of a run's records: the model, every keyed setting, the profile and the
    evidence sources (``settings_key``), known before the model loads (``pipeline.configure``
    has found the model's identity: a file's hash is remembered, a served model named)."""

    return settings_key(settings, model_identity(settings) or str(settings.model), profile)


def settings_id(key: str) -> str:
    """A short digest of a run's key, stamped on batch records (a batch resumes only its own)."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def run_cache(key: str, no_cache: bool) -> tuple[ResultCache | None, str]:
    """The result cache and a run's key prefix, or (None, "") with --no-cache; a run answered
    whole from the cache loads no model."""
    return (None, "") if no_cache else (ResultCache(), key)


def cached_check(checker, claim, cache: ResultCache | None, key_prefix: str) -> CheckRecord:
    """Check ``claim`` through the cache: a hit is returned under the claim's own id;
    only complete records are stored (not errors, nor records a failing source left short)."""
    key = ResultCache.key(claim.text.strip(), key_prefix)
    if cache is not None and (hit := cache.get(key)) is not None:
        return hit.model_copy(update={"id": claim.id, "from_cache": True})
    record = checker.check_or_error(claim)
    if cache is not None and cacheable(record):
        cache.put(key, record)
    return record


def cacheable(record: CheckRecord) -> bool:
    """A source outage is not a verdict: a record made while a source failed is checked again."""
    return isinstance(record, CheckRecord) and not record.source_errors




def samples_key(settings: Settings, model_sha256: str) -> str:
    """The key of measured calibration samples: everything that changes what the model is
    shown and how it is asked, but nothing that calibrate itself fits."""
    defaults = Settings()
    # calibrate forces the route too, so samples do not depend on it
    plain = settings.model_copy(update={name: getattr(defaults, name) for name in (*FITTED_SETTINGS, "route")}
                                | {"profile": None})
    # an escalation is measured on top of a sample (the same key), and fitted by calibrate
    return settings_key(plain, model_sha256, unkeyed=frozenset({"escalate_below", "escalate_keep"}))
