"""HTTP for the web retrievers: one careful GET, shared by every web source.

- http and https only; at most ``max_redirects`` redirects, each checked again;
- no redirect into (and no fetched page on) a private, loopback or link-local address
  unless ``allow_private`` is set; the base URL a user configures is trusted;
- explicit connect and read timeouts, and a cap on the response size;
- bounded retries with exponential backoff on 429 (honouring Retry-After, capped),
  5xx, timeouts and connection errors (factcheck.http, shared with the model servers);
- an on-disk cache of successful responses, so re-runs do not touch the network.
Every failure becomes a ``WebError`` whose message says what happened.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

from factcheck.errors import WebError
from factcheck.files import write_atomic
from factcheck.http import (
    USER_AGENT,
    retry_for_status,
    retry_for_transport,
    with_retries,
)


@dataclass
class WebOptions:
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    retries: int = 3
    backoff: float = 0.5  # seconds, doubled each retry
    max_retry_after: float = 30.0
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    allow_private: bool = False
    cache_dir: Path | None = None


@dataclass
class Response:
    url: str
    status: int
    content_type: str
    text: str

    def json(self):
        try:
            return json.loads(self.text)
        except ValueError as exc:
            raise WebError(f"{self.url} did not return valid JSON ({exc})") from None


def _is_private_host(host: str) -> bool:
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror:
        return False  # unresolvable: the request itself will fail with a clear error
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if address.is_private or address.is_loopback or address.is_link_local or address.is_reserved:
            return True
    return False


def check_url(url: str, *, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise WebError(f"refusing {url!r}: only http and https URLs are fetched")
    if not parts.hostname:
        raise WebError(f"refusing {url!r}: no host")
    if not allow_private and _is_private_host(parts.hostname):
        raise WebError(f"refusing {url}: it points into a private or loopback network")


class Fetcher:
    """GETs with timeouts, caps, retries and a cache. One per process; closes its client."""

    def __init__(self, options: WebOptions | None = None, transport: httpx.BaseTransport | None = None) -> None:
        self.options = options or WebOptions()
        timeout = httpx.Timeout(self.options.read_timeout, connect=self.options.connect_timeout)
        self._client = httpx.Client(timeout=timeout, follow_redirects=False, transport=transport,
                                    headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"})
        self.requests = 0  # network requests made (cache hits excluded)

    def close(self) -> None:
        self._client.close()

    # -- cache -----------------------------------------------------------------------

    def _cache_path(self, url: str) -> Path | None:
        if self.options.cache_dir is None:
            return None
        key = hashlib.sha256(url.encode()).hexdigest()
        return self.options.cache_dir / key[:2] / f"{key}.json"

    def _cached(self, url: str) -> Response | None:
        path = self._cache_path(url)
        if path is None:
            return None
        try:
            return Response(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def _store(self, response: Response, url: str) -> None:
        path = self._cache_path(url)
        if path is None:
            return
        write_atomic(path, json.dumps(response.__dict__))

    # -- requests --------------------------------------------------------------------

    def get(self, url: str, params: dict | None = None, *, trusted: bool = False) -> Response:
        """GET ``url`` (with ``params``); ``trusted`` skips the private-address check for
        the first hop (a base URL the user configured) and for redirects that stay on its
        scheme, host and port (a kiwix-serve on loopback redirecting within itself), never
        for redirects elsewhere."""
        full = str(httpx.URL(url, params=params)) if params else url
        check_url(full, allow_private=self.options.allow_private or trusted)
        if (hit := self._cached(full)) is not None:
            return hit
        response = self._get_with_retries(full, _origin(full) if trusted else None)
        self._store(response, full)
        return response

    def _get_with_retries(self, url: str, trusted_origin: tuple | None = None) -> Response:
        return with_retries(lambda: self._follow(url, trusted_origin), retries=self.options.retries,
                            backoff=self.options.backoff, max_wait=self.options.max_retry_after,
                            give_up=lambda problem: WebError(f"{url}: {problem}"))

    def _follow(self, url: str, trusted_origin: tuple | None = None) -> Response:
        current = url
        for _ in range(self.options.max_redirects + 1):
            status, headers, body = self._one(current)
            if status in (301, 302, 303, 307, 308):
                location = headers.get("location")
                if not location:
                    raise WebError(f"{current}: redirect without a Location header")
                current = urljoin(current, location)
                check_url(current, allow_private=self.options.allow_private or _origin(current) == trusted_origin)
                continue
            if (again := retry_for_status(status, headers, current)) is not None:
                raise again
            if status >= 400:
                raise WebError(f"{current}: HTTP {status}")
            content_type = headers.get("content-type", "")
            return Response(url=current, status=status, content_type=content_type,
                            text=body.decode(_charset(content_type), errors="replace"))
        raise WebError(f"{url}: more than {self.options.max_redirects} redirects")

    def _one(self, url: str) -> tuple[int, httpx.Headers, bytes]:
        self.requests += 1
        try:
            with self._client.stream("GET", url) as response:
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > self.options.max_bytes:
                    raise WebError(f"{url}: response of {declared} bytes exceeds the {self.options.max_bytes}-byte cap")
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.options.max_bytes:
                        raise WebError(f"{url}: response exceeds the {self.options.max_bytes}-byte cap")
                    chunks.append(chunk)
                return response.status_code, response.headers, b"".join(chunks)
        except httpx.HTTPError as exc:
            raise retry_for_transport(exc) or WebError(f"{url}: {type(exc).__name__}: {exc}") from None


def _origin(url: str) -> tuple:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            try:
                "".encode(value.strip('"'))
                return value.strip('"')
            except LookupError:
                break
    return "utf-8"
