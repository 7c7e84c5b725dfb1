"""The one interface every evidence source implements."""

from __future__ import annotations

from abc import ABC, abstractmethod

from factcheck.schema import Passage


class Retriever(ABC):
    """An evidence source. ``name`` appears as ``source`` in every passage it returns."""

    name: str = "retriever"

    @abstractmethod
    def search(self, query: str, k: int) -> list[Passage]:
        """Return at most ``k`` passages for ``query``, best first."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release files or connections; the default holds none."""
