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


# Markup that would make text read as prompt structure rather than as what it says: chat
# template tokens (ChatML and Llama 3 <|...|>, Llama 2 and Mistral [INST] <<SYS>> <s>, Gemma
# <start_of_turn>) and the <claim>/<evidence> tags these prompts quote with. In-process the
# tokenizer reads such text as plain characters, but the model still reads it as a turn, and a
# server given strings parses it as special tokens. Claims and evidence never need it.
_MARKUP = re.compile(
    r"<\|[^<>|]{1,40}\|>|</?\s*(?:evidence|claim)\s*>|</?s>|<</?SYS>>"
    r"|\[/?(?:INST|SYSTEM_PROMPT|AVAILABLE_TOOLS)\]|<(?:start|end)_of_turn>"
    r"|<\|?(?:im_start|im_end|endoftext|eot_id|begin_of_text)\|?>", re.IGNORECASE)
_LOOKALIKES = str.maketrans({"<": "\u2039", ">": "\u203a", "[": "\u2045", "]": "\u2046"})


def defuse(text: str) -> str:
    """``text`` with any prompt markup's brackets swapped for look-alikes (‹ › ⁅ ⁆), so it
    reaches every model as plain characters; records keep the text as found. Idempotent."""
    return _MARKUP.sub(lambda m: m.group(0).translate(_LOOKALIKES), text)


def render(name: str, **values: str) -> str:
    """Fill template ``name``. Values are untrusted text (claims, evidence): inserted
    verbatim, never re-formatted, after ``defuse``; the template's own text is trusted."""
    wanted = placeholders(name)
    missing = wanted - values.keys()
    unused = values.keys() - wanted
    if missing or unused:
        raise KeyError(
            f"prompt {name!r}: missing placeholders {sorted(missing)}, unused values {sorted(unused)}"
        )
    return _PLACEHOLDER.sub(lambda m: defuse(values[m.group(1)]), load(name))


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
