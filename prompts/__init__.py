"""Prompt templates, one file each (``<name>.txt``, grammars ``<name>.gbnf``), and the
functions that load them and fill their placeholders.

A template names its placeholders as ``{name}``. Filling checks both ways: a placeholder
left without a value, or a value the template does not use, is a programming error and
raises, so a prompt can never go out with a silent blank.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@cache
def load(name: str) -> str:
    """Return the text of ``prompts/<name>.txt``."""
    return resources.files(__name__).joinpath(f"{name}.txt").read_text(encoding="utf-8")


def placeholders(name: str) -> set[str]:
    return set(_PLACEHOLDER.findall(load(name)))


def render(name: str, **values: str) -> str:
    """Fill template ``name``; values are inserted verbatim (never re-formatted)."""
    wanted = placeholders(name)
    missing = wanted - values.keys()
    unused = values.keys() - wanted
    if missing or unused:
        raise KeyError(
            f"prompt {name!r}: missing placeholders {sorted(missing)}, unused values {sorted(unused)}"
        )
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], load(name))


# The prompts whose label probabilities a fitted profile maps (the closed-book and evidence
# passes and their opposing framings); a profile records their digest when it is fitted.
READING_PROMPTS = ("system.txt", "contradiction.txt", "verdict_", "options_", "framing_")


@cache
def digest(reading_only: bool = False) -> str:
    """SHA-256 over every prompt and grammar file, so cached results follow prompt edits;
    with ``reading_only``, over the READING_PROMPTS alone."""
    import hashlib

    h = hashlib.sha256()
    folder = resources.files(__name__)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if reading_only and not entry.name.startswith(READING_PROMPTS):
            continue
        if entry.name.endswith((".txt", ".gbnf")):
            h.update(entry.name.encode() + b"\0" + entry.read_bytes() + b"\0")
    return h.hexdigest()


@cache
def grammar(name: str) -> str:
    """Return the GBNF grammar ``prompts/<name>.gbnf``."""
    return resources.files(__name__).joinpath(f"{name}.gbnf").read_text(encoding="utf-8")
