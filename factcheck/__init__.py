"""factcheck: fact-check claims with a local quantized LLM, retrieving evidence only when
the model's certainty and consistency say it must (PCC, arXiv 2601.02574).

The entry point is ``Checker`` (``factcheck.api``), the one the command line uses:

    import factcheck

    with factcheck.Checker(index=["notes-index"]) as checker:
        record = checker.check("The Eiffel Tower is in Berlin.")

Importing this package loads no model and reads no file.
"""

from .api import Checker, check
from .config.settings import Settings
from .errors import (
    ConfigError,
    FactcheckError,
    IndexFormatError,
    InputError,
    ModelError,
    ModelNotInstalled,
    RetrievalError,
    WebError,
)
from .schema import (
    CheckRecord,
    Claim,
    ErrorRecord,
    Label,
    LabelSet,
    Passage,
    Route,
    UncheckedRecord,
    parse_record,
)
from .version import __version__

__all__ = [
    "CheckRecord", "Checker", "Claim", "ConfigError", "ErrorRecord", "FactcheckError", "IndexFormatError",
    "InputError", "Label", "LabelSet", "ModelError", "ModelNotInstalled", "Passage", "RetrievalError", "Route",
    "Settings", "UncheckedRecord", "WebError", "__version__", "check", "parse_record",
]
