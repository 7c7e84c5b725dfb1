"""The ``factcheck`` command line: one module per command group, each command parsing its
options, calling one library function and rendering the result (records on stdout, progress
and messages on stderr). ``app.py`` holds what they share."""

from . import check, batch, index, fitting, report, admin  # noqa: F401,E402,I001 - each registers its commands, in help order
from .app import app, global_flags_first, main
from .check import exit_code_for, read_claims

__all__ = ["app", "exit_code_for", "global_flags_first", "main", "read_claims"]
