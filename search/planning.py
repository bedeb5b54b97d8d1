"""From the words typed to what the engine looks for: spelling, places, concepts, stop words.

The steps run in this order because each needs the one before: a misspelt place ("Hitchen")
must be corrected before it can be recognised, a place must be taken out before its words are
mistaken for listing words, and the plain words of a request ("someone to help my dad") may
only be dropped after the vocabulary has claimed the phrases they belong to ("help at home").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from search.analysis import Token, stem, tokenize
from search.gazetteer import Gazetteer, PlaceMatch
from search.spelling import Lexicon
from search.vocabulary import Vocabulary, concept_token

# More words than this are not a search but a pasted paragraph; the rest are ignored.
MAX_QUERY_WORDS = 24
LITERAL_WEIGHT = 1.0
# A listing that uses the very word asked for ranks above one that only shares its meaning.
CONCEPT_WEIGHT = 0.8
# The words of a phrase the vocabulary knows ("attendance allowance") only add to the score of
# a listing that uses them: the phrase's concept decides what matches.
PHRASE_WORD_WEIGHT = 0.4
# Words naming a condition, not spoken as a carer: the services for the person living with it
# (vocabulary's person_first) rank above those for the people who look after them.
PERSON_FIRST_WEIGHT = 3.0


@dataclass(frozen=True)
class TermGroup:
    """One part of the request: a listing matches it through any of the alternatives.

    `boosters` never decide a match; a matching listing that has them scores higher.
    """

    words: str
    alternatives: tuple[tuple[str, float], ...]
    boosters: tuple[tuple[str, float], ...] = ()

    @property
    def tokens(self) -> tuple[str, ...]:
        return tuple(token for token, _ in self.alternatives)


@dataclass(frozen=True)
class QueryPlan:
    """What to look for: term groups (all required, or any when relaxed) and where."""

    groups: tuple[TermGroup, ...] = ()
    places: tuple[PlaceMatch, ...] = ()
    near: bool = False
    corrections: tuple[tuple[str, str], ...] = ()
    suggestion: str | None = None
    highlight_stems: frozenset[str] = frozenset()
    highlight_concepts: frozenset[str] = frozenset()


def plan_words(
    words: str,
    vocabulary: Vocabulary,
    gazetteer: Gazetteer,
    lexicon: Callable[[], Lexicon],
) -> QueryPlan:
    """The plan for the words typed. `lexicon` is called only if a word may be misspelt."""
    tokens = tokenize(words)[:MAX_QUERY_WORDS]
    tokens, corrections = _correct(tokens, vocabulary, gazetteer, lexicon)
    tokens, places, near = _take_places(tokens, vocabulary, gazetteer)
    tokens = [t for t in tokens if t.word not in vocabulary.index_stop_words]
    groups: list[TermGroup] = []
    stems = [t.stem for t in tokens]
    claimed: set[int] = set()
    for span in vocabulary.find(stems, in_query=True):
        claimed.update(range(span.start, span.end))
        concepts = sorted(span.concepts)
        part = " ".join(t.word for t in tokens[span.start : span.end])
        boosters: list[tuple[str, float]] = []
        if span.end - span.start == 1:
            alternatives = [(stems[span.start], LITERAL_WEIGHT)]
            alternatives += [(concept_token(c), CONCEPT_WEIGHT) for c in concepts]
        else:
            alternatives = [(concept_token(c), LITERAL_WEIGHT) for c in concepts]
            phrase = dict.fromkeys(stems[span.start : span.end])
            boosters = [(word, PHRASE_WORD_WEIGHT) for word in phrase]
        groups.append(TermGroup(part, tuple(alternatives), tuple(boosters)))
    for position, token in enumerate(tokens):
        if position in claimed or token.word in vocabulary.plain_stop_words:
            continue
        groups.append(TermGroup(token.word, ((token.stem, LITERAL_WEIGHT),)))
    groups = _person_first(groups, vocabulary)
    unique = list({(group.alternatives, group.boosters): group for group in groups}.values())
    return QueryPlan(
        groups=tuple(unique),
        places=tuple(places),
        near=near,
        corrections=tuple(corrections),
        suggestion=_suggestion(words, corrections) if corrections else None,
        highlight_stems=frozenset(
            token for g in unique for token, _ in g.alternatives if not token.startswith("@")
        ),
        highlight_concepts=frozenset(
            token[1:] for g in unique for token, _ in g.alternatives if token.startswith("@")
        ),
    )


def _person_first(groups: list[TermGroup], vocabulary: Vocabulary) -> list[TermGroup]:
    concepts = [token[1:] for g in groups for token, _ in g.alternatives if token.startswith("@")]
    boost = vocabulary.person_first_boost(concepts)
    if boost is None:
        return groups
    # On the first group that names a condition: a booster, so it never decides a match.
    rule = vocabulary.person_first
    for position, group in enumerate(groups):
        meant = {
            a
            for token, _ in group.alternatives
            if token.startswith("@")
            for a in vocabulary.ancestors(token[1:])
        }
        if rule is not None and rule.condition in meant:
            booster = (concept_token(boost), PERSON_FIRST_WEIGHT)
            changed = TermGroup(group.words, group.alternatives, (*group.boosters, booster))
            return [*groups[:position], changed, *groups[position + 1 :]]
    return groups


def _correct(
    tokens: list[Token],
    vocabulary: Vocabulary,
    gazetteer: Gazetteer,
    lexicon: Callable[[], Lexicon],
) -> tuple[list[Token], list[tuple[str, str]]]:
    stop = vocabulary.index_stop_words | vocabulary.plain_stop_words | vocabulary.nearness_words
    corrected: list[Token] = []
    corrections: list[tuple[str, str]] = []
    for token in tokens:
        if token.word in stop or not token.word.isalpha():
            corrected.append(token)
            continue
        better = lexicon().correct(token.word)
        if better is None or better == token.word:
            corrected.append(token)
            continue
        corrections.append((token.word, better))
        corrected.append(token._replace(word=better, stem=stem(better)))
    return corrected, corrections


def _take_places(
    tokens: list[Token], vocabulary: Vocabulary, gazetteer: Gazetteer
) -> tuple[list[Token], list[PlaceMatch], bool]:
    found = gazetteer.find([t.word for t in tokens])
    if not found:
        return tokens, [], False
    drop: set[int] = set()
    near = False
    for start, end, _ in found:
        drop.update(range(start, end))
        # Walk back over "to" and "the" in "close to the ..." to find a word asking for nearness.
        before = start - 1
        while before >= 0 and tokens[before].word in vocabulary.index_stop_words:
            before -= 1
        if before >= 0 and tokens[before].word in vocabulary.nearness_words:
            near = True
            drop.add(before)
    kept = [t for i, t in enumerate(tokens) if i not in drop]
    return kept, [match for _, _, match in found], near


def _suggestion(words: str, corrections: list[tuple[str, str]]) -> str:
    fixes = dict(corrections)
    parts: list[str] = []
    position = 0
    for token in tokenize(words):
        if token.word in fixes:
            parts.append(words[position : token.start])
            parts.append(fixes[token.word])
            position = token.end
    parts.append(words[position:])
    return "".join(parts)
