"""A persistent result cache: SQLite in the cache dir, in WAL mode so readers never block
the writer and a killed process leaves a consistent database.

The key is a SHA-256 over the claim text, the model's SHA-256, every setting that changes a
verdict, and the identity of the evidence sources (index manifests, web URLs), so a
changed index or model never serves a stale verdict.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path

from .config import Settings, cache_dir
from .records import CheckRecord

# Settings that change what a check returns; threads, paths of the same model etc. do not.
_VERDICT_SETTINGS = ("labels", "ctx", "k", "consistency", "rationales_k", "alpha", "beta",
                     "route", "max_hops", "deep_token_budget", "web", "web_url")


def default_path() -> Path:
    return cache_dir() / "results.sqlite"


def sources_identity(settings: Settings) -> list[str]:
    """Index contents (by manifest) and web endpoints, so a rebuilt index gets new keys."""
    identity = []
    for folder in settings.index:
        manifest = folder.expanduser() / "manifest.json"
        try:
            identity.append(hashlib.sha256(manifest.read_bytes()).hexdigest())
        except OSError:
            identity.append(str(folder))
    return identity


def settings_key(settings: Settings, model_sha256: str) -> str:
    data = {name: getattr(settings, name) for name in _VERDICT_SETTINGS}
    data["model"] = model_sha256
    data["sources"] = sources_identity(settings)
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
            return CheckRecord.model_validate_json(row[0])
        except ValueError:
            return None  # written by an older schema: check again

    def put(self, key: str, record: CheckRecord) -> None:
        self._db.execute("INSERT OR REPLACE INTO results VALUES (?, ?, ?)",
                         (key, record.model_dump_json(), time.time()))

    def info(self) -> dict:
        entries = self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.exists())
        integrity = self._db.execute("PRAGMA integrity_check").fetchone()[0]
        return {"path": str(self.path), "entries": entries, "bytes": size, "integrity": integrity}

    def clear(self) -> int:
        removed = self._db.execute("DELETE FROM results").rowcount
        self._db.execute("VACUUM")
        return removed

    def close(self) -> None:
        self._db.close()


def cached_check(checker, claim, cache: ResultCache | None, key_prefix: str) -> CheckRecord:
    """Check ``claim`` through the cache: a hit is returned under the claim's own id;
    only successful records are stored."""
    key = ResultCache.key(claim.text.strip(), key_prefix)
    if cache is not None and (hit := cache.get(key)) is not None:
        return hit.model_copy(update={"id": claim.id, "from_cache": True})
    record = checker.check_or_error(claim)
    if cache is not None and record.error is None:
        cache.put(key, record)
    return record
