"""The one exception tree of factcheck.

    FactcheckError                 base; ``exit_code`` tells the CLI what to return
    ├── InputError                 bad claims, files or options from the user (exit 2)
    │   ├── ConfigError            a config or profile file that does not validate
    │   └── IndexFormatError       a local index that is missing or corrupt
    ├── ModelError                 the model cannot be found, verified, loaded or reached (exit 3)
    │   ├── ModelNotInstalled      the default-model packages are missing
    │   ├── GrammarError           llama.cpp cannot parse a generation grammar (GBNF)
    │   ├── ServerUnavailable      no model server answers at --api-base
    │   └── ServerRequestFailed    one request to the server failed after its retries;
    │                              a batch records the claim as an error and goes on
    └── RetrievalError             an evidence source failed; the claim falls back to the others
        └── WebError               an HTTP source failed after its retries

Errors raised by llama.cpp, httpx and the file system are translated into these at the
boundary, with a message that names the fix. What is worth saying but not worth stopping
for goes to ``warn`` (stderr; each caller says a thing once).
"""

from __future__ import annotations

import logging

EXIT_OK = 0
EXIT_NOT_SUPPORTED = 1
EXIT_USAGE = 2
EXIT_RUNTIME = 3


class FactcheckError(Exception):
    exit_code = EXIT_RUNTIME


class InputError(FactcheckError):
    exit_code = EXIT_USAGE


class ConfigError(InputError):
    pass


class ModelError(FactcheckError):
    exit_code = EXIT_RUNTIME


class ModelNotInstalled(ModelError):
    pass


class GrammarError(ModelError):
    pass


class ServerUnavailable(ModelError):
    pass


class ServerRequestFailed(ModelError):
    pass


class RetrievalError(FactcheckError):
    exit_code = EXIT_RUNTIME


class SourcesUnavailable(RetrievalError):
    """Every evidence source failed for a claim: its verdict would rest on nothing it was
    meant to read, so it is an error (or, with ``if_sources_fail = "model"``, the model's own).
    ``failures`` holds each source's failure (``schema.SourceFailure``)."""

    def __init__(self, failures: list) -> None:
        super().__init__("every evidence source failed: " + "; ".join(str(f) for f in failures))
        self.failures = list(failures)


class IndexFormatError(InputError):
    pass


class WebError(RetrievalError):
    pass


def warn(message: str) -> None:
    """Log ``message`` as a warning (stderr through the CLI's handler). Callers that might
    repeat one keep their own record of having said it, so no state is shared."""
    logging.getLogger("factcheck").warning(message)
