"""The gateway to the model: every question a stage asks it goes through ``ModelGateway``.

It builds each prompt from prompts/ (every value defused), fits claims and evidence into the
context (a cut is reported as a warning), runs one forward pass or a short generation, and
reads the answer: label distributions from the next-token probabilities (the closed-book
pass, evidence passes, framings, yes/no questions), or text (rationales, queries, claims).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .. import prompts
from ..cost import Meter
from ..errors import warn
from ..model import LanguageModel, Message
from ..schema import EvidenceSentence, Label, LabelDistribution, Passage
from .labels import (
    ANSWER_WORDS,
    YES_NO_WORDS,
    LabelSet,
    LabelTokens,
    model_answer_tokens,
    read_distribution,
)
from .readers import Pass

# Tokens kept free at the end of the context (the answer, plus margin).
_ANSWER_RESERVE = 16
# An evidence sentence longer than this is cut (a "sentence" can be a run-on table row):
# prompt processing, not generation, dominates the cost of an evidence-grounded verdict.
MAX_SENTENCE_TOKENS = 96
# The answer lines each evidence template asks with. The joint template puts the evidence
# first and asks what the *evidence* shows ("TRUE if the evidence shows the claim is true"):
# measured against asking whether the claim is true before showing the evidence, it read
# SciFact fit claims at macro-F1 0.607 against 0.433 (docs/experiments.md, "How the evidence
# question is asked").
EVIDENCE_OPTIONS = {"verdict_sentences": "options_evidence", "verdict_chunk": "options_three"}


@dataclass
class Judgement:
    distribution: LabelDistribution
    warnings: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)  # ids of the passages in the prompt


def format_evidence(passages: list[Passage]) -> str:
    blocks = []
    for number, passage in enumerate(passages, start=1):
        title = f" ({prompts.defuse(passage.title)})" if passage.title else ""
        blocks.append(f"[{number}]{title} {prompts.defuse(passage.text)}")
    return "\n".join(blocks)


def format_sentences(sentences: list[EvidenceSentence]) -> str:
    """Numbered sentences under their document's title, each title once (titles of
    abstracts are long, and repeating one per sentence costs more than the sentence)."""
    lines, last_doc = [], None
    for number, s in enumerate(sentences, start=1):
        if s.doc_id != last_doc and s.title:
            lines.append(f"From \"{prompts.defuse(s.title)}\":")
        last_doc = s.doc_id
        lines.append(f"[{number}] {prompts.defuse(s.text)}")
    return "\n".join(lines)


class ModelGateway:
    """One model and one label set, asked through the project's prompts."""

    def __init__(self, model: LanguageModel, label_set: LabelSet) -> None:
        self.model = model
        self.label_set = label_set
        # behind a server the vocabulary is unknown and answers are read by text
        self.label_tokens: LabelTokens = model_answer_tokens(model, ANSWER_WORDS[label_set], label_set)
        # evidence is read with the three answers whatever the label set (see readers.py)
        self.three_tokens: LabelTokens = model_answer_tokens(model, ANSWER_WORDS[LabelSet.THREE], LabelSet.THREE)
        self._evidence_options = {t: prompts.load(o).strip() for t, o in EVIDENCE_OPTIONS.items()}
        self.yes_no_tokens: LabelTokens = model_answer_tokens(model, YES_NO_WORDS)
        self._system = prompts.load("system").strip()
        self._options = prompts.load(f"options_{label_set.value}").strip()
        self._options_reversed = prompts.load(f"options_{label_set.value}_reversed").strip()
        self._head_tokens: dict[str, int | None] = {}
        self._said_no_grammar: set[str] = set()  # grammars already warned about, once each

    def _messages(self, template: str, **values: str) -> list[Message]:
        user = prompts.render(template, options=self._options, **values)
        return [Message("system", self._system), Message("user", user)]

    def _fit(self, text: str, budget: int, what: str, warnings: list[str]) -> str:
        tokens = self.model.tokenize(text)
        if len(tokens) <= budget:
            return text
        warnings.append(f"{what} truncated from {len(tokens)} to {budget} tokens to fit the context")
        return self.model.detokenize(tokens[:max(budget, 0)])

    def _read(self, messages: list[Message], meter: Meter) -> LabelDistribution:
        step = self.model.next_token(self.model.render(messages))
        meter.model_call(step.evaluated, step.reused)
        return read_distribution(step, self.label_tokens)

    def _claim_budget(self, template: str, **values: str) -> int:
        overhead = self.model.render(self._messages(template, claim="", **values)).length
        return self.model.info.n_ctx - overhead - _ANSWER_RESERVE

    def closed_book(self, claim: str, meter: Meter) -> Judgement:
        """The label distribution from the model's own knowledge."""
        warnings: list[str] = []
        claim = self._fit(claim, self._claim_budget("verdict_closed"), "claim", warnings)
        return Judgement(self._read(self._messages("verdict_closed", claim=claim), meter), warnings)

    def evidence_pass(self, template: str, claim: str, sentences: list[EvidenceSentence], meter: Meter,
                      hidden: bool = False):
        """One forward pass over ``template`` filled with the claim and numbered evidence
        sentences, read with the three answers. Returns (Pass, the sentences shown, warnings);
        every cut or dropped sentence is reported."""

        warnings: list[str] = []
        fitted = [s.model_copy(update={"text": self._fit(s.text, MAX_SENTENCE_TOKENS, f"sentence {s.id}", warnings)})
                  for s in sentences]
        claim = self._fit(claim, self.model.info.n_ctx // 2, "claim", warnings)

        def messages(shown):
            user = prompts.render(template, options=self._evidence_options[template], claim=claim,
                                  evidence=format_sentences(shown))
            return [Message("system", self._system), Message("user", user)]

        prompt = self.model.render(messages(fitted))
        while len(fitted) > 1 and prompt.length + _ANSWER_RESERVE > self.model.info.n_ctx:
            warnings.append(f"sentence {fitted[-1].id} dropped to fit the context")
            fitted.pop()
            prompt = self.model.render(messages(fitted))
        step = self.model.next_token(prompt, hidden=hidden)
        meter.model_call(step.evaluated, step.reused)
        dist = read_distribution(step, self.three_tokens)
        return Pass(dict(dist.probs), dist.outside_mass, step.hidden), fitted, warnings

    def evidence_head_tokens(self, template: str = "verdict_sentences") -> int | None:
        """Tokens every ``template`` prompt starts with whatever its claim and evidence: what the
        KV cache keeps from one claim's evidence pass to the next. None where the backend does
        not say which tokens it sends (a server)."""
        if template not in self._head_tokens:
            firsts = []
            for filler in ("a", "b"):  # evidence as a check shows it: from a titled document
                user = prompts.render(template, options=self._evidence_options[template], claim=filler,
                                      evidence=f'From "{filler}":\n[1] {filler}')
                firsts.append(self.model.render([Message("system", self._system), Message("user", user)]).tokens)
            if None in firsts:
                self._head_tokens[template] = None
            else:
                self._head_tokens[template] = next(
                    (i for i, (x, y) in enumerate(zip(*firsts)) if x != y), min(map(len, firsts)))
        return self._head_tokens[template]

    # -- other questions the stages ask -------------------------------------------------

    def framing(self, name: str, claim: str, meter: Meter) -> LabelDistribution:
        """The label distribution under framing ``name`` (prompts/framing_<name>.txt).
        Framings put the claim first, so they share the KV cache after the first one."""
        options = self._options_reversed if name == "reversed" else self._options
        claim = self._fit(claim, self.model.info.n_ctx // 2, "claim", [])
        user = prompts.render(f"framing_{name}", claim=claim, options=options)
        return self._read([Message("system", self._system), Message("user", user)], meter)

    def yes_probability(self, template: str, meter: Meter, **values: str) -> float:
        """P(YES) for a yes/no question, renormalised over YES and NO, from one pass."""
        values = {k: self._fit(v, self.model.info.n_ctx // 4, k, []) for k, v in values.items()}
        prompt = self.model.render([Message("system", self._system),
                                    Message("user", prompts.render(template, **values))])
        step = self.model.next_token(prompt)
        meter.model_call(step.evaluated, step.reused)

        return read_distribution(step, self.yes_no_tokens).probs[Label.SUPPORTED]

    def write(self, template: str, meter: Meter, *, max_tokens: int, temperature: float = 0.0,
              grammar: str | None = None, seed: int | None = None, **values: str) -> str:
        """Generate a short text for prompt ``template`` (rationales, search queries)."""
        values = {k: self._fit(v, self.model.info.n_ctx // 3, k, []) for k, v in values.items()}
        prompt = self.model.render([Message("system", self._system),
                                    Message("user", prompts.render(template, **values))])
        if grammar is None or self.model.supports_grammar:
            out = self.model.complete(prompt, max_tokens=max_tokens, temperature=temperature,
                                      grammar=prompts.grammar(grammar) if grammar else None, seed=seed)
            meter.model_call(out.prompt_tokens, out.reused, out.generated)
            return out.text.strip()
        # The grammar's outputs are JSON: without it, validate and ask again (a little
        # warmer, so the retry can differ); the callers' parsers take what is left.
        if grammar not in self._said_no_grammar:
            self._said_no_grammar.add(grammar)
            warn(f"the model server takes no grammar: {grammar} output is validated and "
                 f"retried up to {_UNCONSTRAINED_TRIES} times")
        for attempt in range(_UNCONSTRAINED_TRIES):
            out = self.model.complete(prompt, max_tokens=max_tokens,
                                      temperature=temperature if attempt == 0 else max(temperature, 0.3),
                                      seed=None if seed is None else seed + attempt)
            meter.model_call(out.prompt_tokens, out.reused, out.generated)
            try:
                json.loads(out.text)
                break
            except ValueError:
                continue
        return out.text.strip()


_UNCONSTRAINED_TRIES = 3
