"""Write search queries: targeted (from the disagreement), by self-reflection, and the
next hop of a deep search. Model-written queries are generated under a JSON grammar, so
they always parse."""

from __future__ import annotations

import json
from collections import Counter

from ..cost import Meter
from ..reading.gateway import ModelGateway, format_evidence
from ..schema import Assessment, Passage
from ..text import content_words

# Words a rationale uses to argue truth, not to name what the search should find.
_VERDICT_WORDS = frozenset("claim true false not no yes because".split())
MAX_QUERY_TOKENS = 40


def _parse_query(text: str) -> str:
    try:
        value = json.loads(text).get("search_query", "")
    except (ValueError, AttributeError):
        # cut off by max_tokens inside the string: the grammar fixes the prefix
        value = text.split('"search_query": "', 1)[-1].split('"', 1)[0]
    return " ".join(str(value).split())


def targeted_query(claim: str, assessment: Assessment, extra_terms: int = 6) -> str:
    """The claim plus the words the two sides of the disagreement add.

    With rationales: the terms of the most contradictory pair that the claim lacks, so the
    search can settle exactly what they disagree on. With framings there is no text to draw
    on, so the claim itself is the query (the record names the disagreeing framings)."""
    if assessment.pair is None:
        return claim
    in_claim = {w.casefold() for w in content_words(claim)}
    counts = Counter(
        w for w in content_words(f"{assessment.pair.for_true} {assessment.pair.for_false}")
        if len(w) > 1 and w.casefold() not in in_claim and w.casefold() not in _VERDICT_WORDS)
    return " ".join([claim, *[w for w, _ in counts.most_common(extra_terms)]])


def reflect_query(gateway: ModelGateway, claim: str, meter: Meter) -> str:
    text = gateway.write("reflect_query", meter, claim=claim, max_tokens=MAX_QUERY_TOKENS,
                       grammar="search_query")
    return _parse_query(text) or claim


def next_query(gateway: ModelGateway, claim: str, evidence: list[Passage], tried: list[str], meter: Meter) -> str:
    text = gateway.write("next_query", meter, claim=claim, evidence=format_evidence(evidence[-6:]),
                       tried="; ".join(f'"{q}"' for q in tried) or "none",
                       max_tokens=MAX_QUERY_TOKENS, grammar="search_query")
    return _parse_query(text)
