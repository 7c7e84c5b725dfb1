"""Evidence sources for factcheck: one interface, ``search(query, k) -> list[Passage]``."""

from .base import Retriever

__all__ = ["Retriever"]
