"""Chat templates around untrusted text: every backend renders its template once around
sentinels (private-use characters that no tokenizer treats as markup), then puts each
message's content where its sentinel stood as plain text. A claim that contains
``<|im_start|>`` or ``<start_of_turn>`` therefore never becomes a special token."""

from __future__ import annotations

import re

_SLOT = re.compile("\ue000(\\d+)\ue001")


def slot_messages(roles: list[str] | tuple[str, ...]) -> list[dict[str, str]]:
    """Role/content dicts whose content is the sentinel of message ``i``."""
    return [{"role": role, "content": f"\ue000{i}\ue001"} for i, role in enumerate(roles)]


def split_template(rendered: str) -> list[str | int]:
    """A template rendered around ``slot_messages``, as its own text (str pieces, which may
    hold special-token syntax) and, between them, the index of the message whose content
    goes there (int)."""
    return [int(part) if i % 2 else part for i, part in enumerate(_SLOT.split(rendered)) if i % 2 or part]
