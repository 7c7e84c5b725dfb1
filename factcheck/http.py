"""HTTP as factcheck speaks it, for the model servers and the web sources alike: who it says
it is, and one retry policy (capped exponential backoff, Retry-After honoured up to the cap).

A request is an ``attempt`` that returns its result, raises ``Retry`` for what may pass
(429, 5xx, timeouts, dropped connections, truncated bodies), or raises the caller's own
error for what will not; ``with_retries`` runs it until it succeeds or the tries run out.
Which answers and which of httpx's exceptions may pass is decided here, once
(``retry_for_status``, ``retry_for_transport``), as httpx maps its transports' faults in one place.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import TypeVar

import httpx

from .version import __version__

USER_AGENT = f"factcheck-pcc/{__version__} (a local fact-checking command line)"
# Answers that say "not now": too many requests, or a server error another try may not meet
# (501 Not Implemented and 505 never pass, so they are not retried).
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})

T = TypeVar("T")


class Retry(Exception):
    """What failed this time and may not the next; ``after``: seconds the server asked for."""

    def __init__(self, problem: str, after: float | None = None) -> None:
        super().__init__(problem)
        self.after = after


def with_retries(attempt: Callable[[], T], *, retries: int, backoff: float, max_wait: float,
                 give_up: Callable[[str], Exception]) -> T:
    """``attempt()``, tried ``retries`` more times after a ``Retry``, waiting ``backoff``
    seconds doubled each time, or what the server asked, never more than ``max_wait``. When
    every try failed, raises ``give_up(message)``."""
    problem = "no attempt"
    for number in range(retries + 1):
        try:
            return attempt()
        except Retry as exc:
            problem = str(exc)
            if number < retries:
                time.sleep(min(max_wait, exc.after if exc.after is not None else backoff * 2 ** number))
    raise give_up(f"{problem}; gave up after {retries + 1} tries")


def retry_for_status(status: int, headers: httpx.Headers, what: str) -> Retry | None:
    """A Retry for an answer that may pass (``RETRY_STATUS``), with the wait it asked for;
    None for any other status."""
    if status not in RETRY_STATUS:
        return None
    return Retry(f"{what} answered HTTP {status}", retry_after(headers.get("retry-after")))


def retry_for_transport(exc: httpx.HTTPError, where: str = "", timeout: float | None = None) -> Retry | None:
    """A Retry for a transport fault another try may not meet (a timeout, a refused or
    dropped connection, a truncated answer); None for the rest (a bad URL, a protocol the
    client does not speak), which the caller turns into its own error. ``where`` (a URL)
    starts the message, and ``timeout`` (seconds) is said, when given."""
    prefix = f"{where}: " if where else ""
    if isinstance(exc, httpx.TimeoutException):
        bound = f"no answer within {timeout:g} s, " if timeout is not None else ""
        return Retry(f"{prefix}{bound}timed out ({type(exc).__name__})")
    if isinstance(exc, (httpx.NetworkError, httpx.RemoteProtocolError)):
        return Retry(f"{prefix}connection failed ({reason(exc)})")
    return None


def retry_after(value: str | None) -> float | None:
    """A Retry-After header in seconds, from either form it takes (seconds or an HTTP date)."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def reason(exc: Exception) -> str:
    """An exception's first line, or its type when it says nothing."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
