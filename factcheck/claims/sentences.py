"""What a sentence of a document is, by rules: a statement to check or not (and why not), and
whether it states a plain fact that is checked as written, or needs the model to split it
into claims and resolve what its pronouns stand for.

Rules, not the model, decide whether a sentence is checked: greedy generations differ
between CPUs, and a report must not check a sentence on one machine and skip it on another.
The rules lean to checking: a sentence they cannot place is a statement.
"""

from __future__ import annotations

import re

from ..schema import UncheckedReason

OPINION: UncheckedReason = "opinion"
QUESTION: UncheckedReason = "question"
INSTRUCTION: UncheckedReason = "instruction"
FRAGMENT: UncheckedReason = "fragment"
NOT_FACTUAL: UncheckedReason = "no factual statement"

_WORD = re.compile(r"[A-Za-z0-9À-ÿ]+(?:['’.-][A-Za-z0-9À-ÿ]+)*")
_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”")
_OPENER = re.compile(r"^(?:(?:now|then|so|first|next|finally|also|however|moreover|furthermore|indeed|meanwhile|"
                     r"in fact|in addition|still|thus|therefore),\s+)+", re.IGNORECASE)

# A sentence that tells the reader to do something: it opens with one of these (after "Now,").
_IMPERATIVE = frozenset("""add apply ask avoid be bring call check choose click consider contact copy create delete
disable do don't download enable ensure enter find follow give go install keep let let's look make note open
please press put read remember remove replace restart run save see select send start stop take tell try
turn type update upgrade use visit wait watch write""".split())
# whose obligations are advice to a reader, not an opinion about the world
_ADDRESSEES = re.compile(r"^(?:you|users?|readers?|visitors?|drivers?|passengers?|customers?|students?|"
                         r"developers?|everyone|anyone|people)\b", re.IGNORECASE)
_OBLIGATION = re.compile(r"\b(?:should|must|ought to|had better|need to)\b", re.IGNORECASE)
_FIRST_PERSON = re.compile(r"\b(?:I|me|my|mine|we|We|us|our|Our|ours)\b")
_OPINION_CUE = re.compile(
    r"\b(?:I|we|We) (?:think|believe|feel|find|guess|suppose|love|hate|like|prefer|recommend|doubt)\b"
    r"|\b(?i:in my (?:view|opinion)|honestly|personally|frankly|hopefully|sadly|luckily|unfortunately)\b")
# Words of praise or blame: an opinion, unless the sentence also names or counts something
# ("had one of his greatest seasons, batting .432"), whose facts the model then splits out.
_EVALUATIVE = re.compile(
    r"\b(?:best|worst|greatest|favou?rite|interesting|amazing|wonderful|terrible|awful|boring|beautiful|"
    r"stunning|delicious|awesome|overrated|underrated|brilliant|fantastic|lovely|ugly|disappointing|"
    r"must-see|worth it|worth a visit)\b(?!-)")

# Sentences about the text itself, and courtesies
_ABOUT_THE_TEXT = re.compile(
    r"^(?:this|the present|the aim of this|the purpose of this|in this) (?:study|paper|article|post|report|review|"
    r"section|chapter|work|document|note|guide|page|essay|thesis)\b.*?\b(?:aims?|aimed|was designed|is designed|"
    r"describes?|discuss(?:es)?|examines?|explores?|investigates?|presents?|reviews?|outlines?|covers?|"
    r"summari[sz]es?|focus(?:es)?|was|is|we)\b"
    r"|^(?:thanks?|thank you|hello|hi|welcome|cheers|good luck)\b", re.IGNORECASE)

# Words that make a clause a statement (the rules hold no dictionary: these, and -ed and -s
# endings, stand for "has a verb"; a sentence with none is a fragment).
_VERBS = frozenset("""is are was were be been being am has have had do does did will would can could may might
shall should must became become becomes began begins begun born bought brought built came comes come died dies
fell found gave gives given got grew grows grown held holds kept knew know known led lay left lies lost made
makes meant met paid put ran rose runs said says sat saw seen sent set shows shown sold spoke stands stood
took taken told thought won wrote written""".split())
_CLAUSE_JOIN = re.compile(r";|,\s+(?:and|but|while|whereas|which|who|whose|where|when|although|though|so)\b"
                          r"|\band (?:is|was|are|were|has|had|have|will|can)\b|\bbut\b")
_LEADING_PRONOUN = re.compile(r"^(?:(It|He|She|They)|(Its|His|Her|Their))\b\s*")
_LATER_PRONOUN = re.compile(r"\b(?:it|he|him|she|they|them)\b")
_NAME_WORD = re.compile(r"^(?:[A-Z0-9À-Þ\"“][^\s]*|of|the|and|in|de|la|le|von|van|for|on|at|&|[\"“”'])$")
MIN_WORDS = 3  # fewer is a fragment ("Highly recommended.")
# A longer sentence with no verb the rules know is a fragment only without "to <verb>" ("Crews
# expect to reopen one lane"): recall first, the rules know few verbs.
MAX_FRAGMENT_WORDS = 6
# A longer sentence that joins clauses the rules do not split (", which", ", who") goes to the
# model; a shorter one is checked as written: a model call costs seconds on a slow CPU, and the
# sentence says no more than itself.
MAX_PLAIN_WORDS = 30


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def _has_verb(text: str) -> bool:
    return any(w.lower() in _VERBS or (w.islower() and len(w) > 3 and (w.endswith("ed") or w.endswith("s")))
               for w in words(text))


def outside_quotes(sentence: str) -> str:
    """The sentence without what it quotes, when something is left ('"…," said Dana Ortiz,
    who…'): the writer's own words, where opinions and first persons count."""
    rest = _QUOTED.sub(" ", sentence)
    return rest if len(words(rest)) >= MIN_WORDS else sentence


def without_opener(sentence: str) -> str:
    """The sentence without a leading "However," or "Now,": no part of a fact."""
    rest = _OPENER.sub("", sentence)
    return rest[:1].upper() + rest[1:] if rest else sentence


def _names_or_counts(tokens: list[str]) -> bool:
    return any(t[:1].isdigit() for t in tokens) or any(t[:1].isupper() and t != "I" for t in tokens[1:])


def unchecked_reason(sentence: str) -> UncheckedReason | None:
    """Why ``sentence`` gives no claim to check, or None for a statement to check."""
    text = sentence.strip()
    if text.endswith("?"):
        return QUESTION
    if text.endswith("!"):
        return OPINION  # an exclamation: "What a view it offers!"
    own = outside_quotes(without_opener(text))
    tokens = words(own)
    if len(tokens) < MIN_WORDS or text.endswith(":"):
        return FRAGMENT
    first = tokens[0].lower().replace("’", "'")
    if first in _IMPERATIVE or own.lower().startswith(("let us ", "do not ", "make sure", "be sure")):
        return INSTRUCTION
    if not _has_verb(own) and (len(tokens) <= MAX_FRAGMENT_WORDS or not re.search(r"\bto [a-z]", own)):
        return FRAGMENT
    if _OBLIGATION.search(own):
        return INSTRUCTION if _ADDRESSEES.match(own) else OPINION
    if _OPINION_CUE.search(own) or (_EVALUATIVE.search(own) and not _names_or_counts(tokens)):
        return OPINION
    if _ABOUT_THE_TEXT.search(own):
        return NOT_FACTUAL
    if _FIRST_PERSON.search(own):
        return NOT_FACTUAL  # the writer's own doings: nothing a reader could look up
    return None


def subject(sentence: str) -> str | None:
    """The sentence's subject when it is a name ("Marie Curie", "The Great Barrier Reef"): the
    words before its first verb, parentheses out. None for any other subject ("The album")."""
    head = []
    for token in re.sub(r"\s*\([^)]*\)", "", without_opener(sentence)).split():
        bare = token.strip(",.;:")
        if bare.lower() in _VERBS or (bare.islower() and len(bare) > 3 and bare.endswith("ed")):
            break
        head.append(token)
    name = " ".join(head).strip(" ,")
    if not head or len(head) > 8 or "," in name or not all(_NAME_WORD.match(t) for t in head):
        return None
    if not any(t[:1].isupper() for t in head[1:]) and head[0] in ("The", "A", "An", "This", "These"):
        return None  # "The Company", "This Tower"? no: a common noun after an article
    return name


def resolved(sentence: str, referent: str | None) -> str | None:
    """``sentence`` with a leading "It" or "Her" made the name it stands for; the sentence
    itself when it opens with no pronoun; None when it opens with one and there is no name."""
    text = without_opener(sentence)
    match = _LEADING_PRONOUN.match(text)
    if not match:
        return text
    if referent is None:
        return None
    rest = text[match.end():]
    return f"{referent} {rest}" if match.group(1) else f"{referent}'s {rest}"


_AUX = frozenset("is are was were has have had".split())
_JOIN = re.compile(r";\s+|,?\s+(?:and|but)\s+")


def _head(clause: str) -> tuple[str, str] | None:
    """(subject, its auxiliary) of a clause: the words before its first verb, and that verb
    when it is "is", "was", "has"… followed by a participle ("was recorded": a second
    participle shares it; "was a physicist … and discovered" does not). None when the clause
    opens with its verb."""
    tokens = clause.split()
    for at, token in enumerate(tokens):
        bare = token.strip(",.;:").lower()
        if bare in _VERBS or (bare.isalpha() and len(bare) > 3 and bare.endswith("ed")):
            if not at:
                return None
            following = tokens[at + 1].strip(",.;:") if at + 1 < len(tokens) else ""
            participle = following.islower() and len(following) > 3 and (following.endswith("ed") or following in _VERBS)
            return " ".join(tokens[:at]), bare if bare in _AUX and participle else ""
    return None


_DETERMINERS = frozenset("the a an it he she they".split())


def _finite(clause: str, opens_with_determiner: bool) -> bool:
    """Whether a clause has a verb of its own: "was", "took"; or, after "the" or "it", a past
    tense that is not a passive's participle ("the Beatles played", not "standards reworked by")."""
    tokens = [t.strip(",.;:") for t in clause.split()]
    if any(t.lower() in _VERBS for t in tokens):
        return True
    return opens_with_determiner and any(
        t.islower() and len(t) > 3 and t.endswith("ed") and (at + 1 == len(tokens) or tokens[at + 1] != "by")
        for at, t in enumerate(tokens))


def split_clauses(sentence: str) -> list[str]:
    """The sentence as its clauses, each a sentence of the sentence's own words: "The tower is
    made of wrought iron and is about 330 metres tall." gives "The tower is made of wrought
    iron." and "The tower is about 330 metres tall." It splits only where "and", "but" or ";"
    is followed by a verb ("is", "was", "released": the subject's second predicate, which gets
    the subject, and its "was" for a bare participle) or by a clause with its own subject and
    verb; anything else ("rhythm and blues", "sharks, and dolphins") stays whole."""
    text = sentence.strip().rstrip(".")
    first = _head(text)
    if first is None or not first[0]:
        return [sentence]
    subject_words, aux = first
    parts, cursor = [], 0
    for join in _JOIN.finditer(text, len(subject_words) + 1):  # past the subject ("Country and Western Music")
        after = text[join.end():].split()
        if not after:
            continue
        word = after[0].strip(",.;:")
        rest = text[join.end():]
        nxt = _JOIN.search(rest)
        clause = rest[: nxt.start()] if nxt else rest
        if word.lower() in _VERBS:  # "… and is about 330 metres tall"
            second = f"{subject_words} {rest}"
        elif word.islower() and word.isalpha() and len(word) > 3 and word.endswith("ed"):
            # "… and released in April" after "was recorded": was released; else an active verb
            second = f"{subject_words} {aux} {rest}" if aux else f"{subject_words} {rest}"
        elif (word[:1].isupper() or word.lower() in _DETERMINERS) and (head := _head(clause)) and head[0] \
                and _finite(clause, opens_with_determiner=word.lower() in _DETERMINERS):
            second = rest  # a clause of its own: "…, and the Scots took Mary to Dunkeld"
        else:
            continue
        if len(words(text[cursor:join.start()])) < MIN_WORDS or len(words(clause)) < MIN_WORDS - 1:
            continue
        parts.append(text[cursor:join.start()])
        parts.append(second)
        cursor = len(text)  # one split per sentence; the second part may split again
        break
    if not parts:
        return [sentence]
    first_part, second = parts
    leading = _LEADING_PRONOUN.match(second[:1].upper() + second[1:])
    if leading and leading.group(1):
        second = f"{subject_words} {second[leading.end():]}"
    return [_sentence(first_part)] + split_clauses(_sentence(second))


def _sentence(text: str) -> str:
    text = text.strip().rstrip(",;")
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def needs_model(sentence: str, split: bool = False) -> bool:
    """Whether the model is asked to split the sentence into claims: a long one that joins
    clauses the rules did not split (``split``: they did), one that refers back with a
    pronoun past its opening word, or one that mixes praise with facts."""
    own = outside_quotes(without_opener(sentence))
    after_opening = _LEADING_PRONOUN.sub("", own, count=1)
    return ((not split and bool(_CLAUSE_JOIN.search(own)) and len(words(own)) > MAX_PLAIN_WORDS)
            or bool(_LATER_PRONOUN.search(after_opening)) or bool(_EVALUATIVE.search(own)))


def is_statement(claim: str) -> bool:
    """Whether a claim the model wrote reads as a checkable statement: a sentence with a verb,
    not a question, an opinion or a wish."""
    return unchecked_reason(claim) is None and len(re.findall(r"\b[a-z][a-z'-]*\b", claim)) >= 2
