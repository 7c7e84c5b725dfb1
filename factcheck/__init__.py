"""factcheck: fact-check claims with a local quantized LLM, retrieving evidence only when
the model's certainty and consistency say it must (PCC, arXiv 2601.02574).

Importing this package loads no model and reads no file.
"""

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
from .schema import CheckRecord, Claim, Label, Passage, Route

__version__ = "0.1.0"

__all__ = [
    "CheckRecord", "Claim", "ConfigError", "FactcheckError", "IndexFormatError", "InputError",
    "Label", "ModelError", "ModelNotInstalled", "Passage", "RetrievalError", "Route", "WebError",
    "__version__",
]
