"""JSON over HTTP to a model server, with factcheck's retry policy (factcheck.http) and the
faults a server can have, each turned into factcheck's own error."""

from __future__ import annotations

import re
from typing import Any

import httpx

from ...errors import ModelError, ServerRequestFailed, ServerUnavailable
from ...http import (
    USER_AGENT,
    Retry,
    reason,
    retry_for_status,
    retry_for_transport,
    with_retries,
)


def split_api_base(api_base: str) -> tuple[str, str]:
    """(server root, OpenAI base) for a URL given either way: ``http://h:8080`` or
    ``http://h:8080/v1``, as OpenAI-compatible clients are usually configured."""
    base = api_base.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", base):
        raise ModelError(f"--api-base must be an http(s) URL like http://127.0.0.1:8080/v1, not {api_base!r}")
    root = base[:-3] if base.endswith("/v1") else base
    return root, root + "/v1"


class Http:
    """JSON requests to one server. Thread-safe (one httpx client)."""

    def __init__(self, root: str, api_key: str | None, *, timeout: float, retries: int = 4,
                 backoff: float = 0.5, max_backoff: float = 8.0) -> None:
        self.root = root
        headers = {"User-Agent": USER_AGENT, **({"Authorization": f"Bearer {api_key}"} if api_key else {})}
        self._client = httpx.Client(timeout=timeout, headers=headers)
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.reached = False  # once the server has answered, a refused connection is transient

    def close(self) -> None:
        self._client.close()

    def get(self, path: str, *, optional: bool = False) -> Any:
        return self.request("GET", path, optional=optional)

    def post(self, path: str, body: dict, *, optional: bool = False) -> Any:
        return self.request("POST", path, body, optional=optional)

    def request(self, method: str, path: str, body: dict | None = None, *, optional: bool = False) -> Any:
        """The decoded JSON answer. ``optional``: a 404/405/501 returns None (probing for an
        endpoint) instead of raising."""
        return with_retries(lambda: self._once(method, path, body, optional), retries=self.retries,
                            backoff=self.backoff, max_wait=self.max_backoff, give_up=ServerRequestFailed)

    def _once(self, method: str, path: str, body: dict | None, optional: bool) -> Any:
        url = self.root + path
        try:
            response = self._client.request(method, url, json=body)
        except httpx.HTTPError as exc:
            if isinstance(exc, httpx.ConnectError) and not self.reached:
                raise ServerUnavailable(f"no model server answers at {self.root} ({reason(exc)}): "
                                        f"start it, or check --api-base") from None
            raise retry_for_transport(exc, url, self.timeout) or ServerRequestFailed(f"{url}: {reason(exc)}") from None
        self.reached = True
        status = response.status_code
        if status in (401, 403):
            raise ModelError(f"the model server at {self.root} refused the API key (HTTP {status}): "
                             f"set --api-key, FACTCHECK_API_KEY or OPENAI_API_KEY")
        if optional and status in (404, 405, 501):
            return None
        if status >= 400 and "logprob" in detail(response).lower():
            # a server that cannot return them (llama-cpp-python started with
            # --logits_all false): retrying will not help
            raise no_logprobs(self.root, detail(response))
        if (again := retry_for_status(status, response.headers, f"{url} ({detail(response)[:120]})")) is not None:
            raise again
        if status >= 400:
            raise ServerRequestFailed(f"{url} answered HTTP {status}: {detail(response)}")
        try:
            return response.json()
        except ValueError:
            raise Retry(f"{url} sent a body that is not whole JSON") from None


def detail(response: httpx.Response) -> str:
    """What an error answer says, in one line."""
    try:
        data = response.json()
        error = data.get("error", data.get("detail", data)) if isinstance(data, dict) else data
        if isinstance(error, dict):
            error = error.get("message", error)
        text = str(error)
    except ValueError:
        text = response.text
    return " ".join(text.split())[:300]


def no_logprobs(root: str, said: str = "") -> ModelError:
    said = f" (it said: {said[:160]})" if said else ""
    return ModelError(f"the model server at {root} returned no log-probabilities{said}: factcheck reads "
                      f"verdicts from them, so the server must return logprobs (llama.cpp's llama-server, "
                      f"vLLM, Ollama from v0.12.11 and llama-cpp-python's server do; LM Studio's does not yet)")
