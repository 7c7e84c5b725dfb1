"""Deep search: iterative multi-hop retrieval on top of any retrievers (the retrieve
stage of the deep route).

Each hop issues a query to every source, keeps the passages not seen before, and asks
``judge`` how far the evidence so far settles the claim. It stops when that reaches the
threshold, when ``max_hops`` or the token budget is spent, or when no new query comes.
The model stays outside: judging and query writing are callbacks, so this module only
knows retrievers and passages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..schema import Hop, Passage

Search = Callable[[str, set[str]], list[Passage]]  # (query, seen fingerprints) -> new passages
Judge = Callable[[list[Passage]], float]  # evidence so far -> sufficiency in [0, 1]
NextQuery = Callable[[list[Passage], list[str]], str]  # (evidence, queries tried) -> query
Spent = Callable[[], int]  # tokens used so far


@dataclass
class DeepResult:
    passages: list[Passage] = field(default_factory=list)
    hops: list[Hop] = field(default_factory=list)

    @property
    def queries(self) -> list[str]:
        return [hop.query for hop in self.hops]


def deep_search(first_query: str, search: Search, judge: Judge, next_query: NextQuery, *,
                threshold: float, max_hops: int = 3, token_budget: int | None = None,
                spent: Spent = lambda: 0) -> DeepResult:
    result = DeepResult()
    seen: set[str] = set()
    query = first_query
    for _ in range(max_hops):
        found = search(query, seen)
        result.passages += found
        sufficiency = judge(result.passages) if result.passages else 0.0
        done = sufficiency >= threshold
        result.hops.append(Hop(query=query, passages=[p.id for p in found], sufficiency=round(sufficiency, 6),
                               sufficient=done))
        if done or len(result.hops) == max_hops or (token_budget is not None and spent() >= token_budget):
            break
        query = next_query(result.passages, result.queries)
        if not query or query in result.queries:
            break
    return result


__all__ = ["DeepResult", "deep_search"]
