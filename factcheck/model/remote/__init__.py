"""A model behind an inference server, over HTTP: the same interface as the in-process
model, so verdicts, records and guarantees stay the same.

Verdicts are read from the top-N next-token log-probabilities at the answer position (one
token, temperature 0); mass outside the returned alternatives is ``outside_mass``. Each
server API is one class (``SERVERS``, tried in order; the first that answers is used):

- ``llama_server.LlamaServer``: llama.cpp's llama-server, and ``factcheck serve``;
- ``ollama.Ollama``: Ollama, natively (/api/generate) or OpenAI-style (/v1/completions);
- ``openai_chat.LlamaCppPython``: llama-cpp-python's server;
- ``openai_chat.OpenAIChat``: vLLM and other OpenAI-compatible servers.

To add one: a ``ServerModel`` subclass (base.py) with ``answers`` (one cheap probe that
recognises it), ``served_name`` and ``open`` if it needs facts from the server, and the token and evaluation
methods; then list it in ``SERVERS`` before the servers it is a special case of.

Faults: a server that cannot be reached when factcheck starts is ``ServerUnavailable``
(exit 3, naming the URL); 429 and 5xx answers, timeouts, dropped connections and truncated
bodies are retried (factcheck.http); what still fails is ``ServerRequestFailed``, which a
batch records as an error for that claim before going on. A refused key (401/403) and a
server without log-probabilities are errors for the whole run.
"""

from __future__ import annotations

from ..base import Message
from .base import ServerModel, remote_identity, served_model_name
from .http import Http, split_api_base
from .llama_server import LlamaServer
from .ollama import Ollama
from .openai_chat import LlamaCppPython, OpenAIChat

SERVERS: tuple[type[ServerModel], ...] = (LlamaServer, Ollama, LlamaCppPython, OpenAIChat)

__all__ = ["SERVERS", "Http", "ServerModel", "connect", "remote_identity", "served_model_name", "split_api_base"]


def connect(api_base: str, *, api_key: str | None = None, model: str | None = None, n_ctx: int = 4096,
            timeout: float = 120.0, retries: int = 4, backoff: float = 0.5, max_backoff: float = 8.0) -> ServerModel:
    """The model served at ``api_base``: which API the server speaks, the model's name (its
    first listed, unless ``model`` names one), then one tiny pass, so a server without
    log-probabilities fails before a batch starts."""
    root, _ = split_api_base(api_base)
    http = Http(root, api_key, timeout=timeout, retries=retries, backoff=backoff, max_backoff=max_backoff)
    kind = next(server for server in SERVERS if server.answers(http))
    served = kind.open(http, model or kind.served_name(http), n_ctx, api_base.strip().rstrip("/"))
    served.next_token(served.render([Message("user", "Answer with one word: yes or no?")]))
    return served
