"""The care vocabulary: synonyms and concepts read from data, applied to listings and queries.

`search/data/vocabulary.toml` says what each concept is and which words mean it. A listing whose
text contains one of those words carries a concept token (``@personal-care``) in the same field,
together with the tokens of every broader concept; a query word that names a concept also looks
for its token. The same data and the same analysis serve both sides, which is what lets
"someone to help my dad get dressed" find a listing that only says "personal care".

A word that means different things to different people ("carer": someone paid to help, or a
relative who looks after someone) is a concept's *query term*: typed alone it looks for every
concept it may mean, but a listing that uses it is not marked with any of them, so a listing's
"our carers" never makes it a service for unpaid carers.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from search.analysis import Token, tokenize

# Concept tokens start with a character no analysed word can contain, so they never collide.
CONCEPT_PREFIX = "@"
READ_CACHE_SIZE = 4096


@dataclass(frozen=True)
class Concept:
    """One idea people search for, the words that mean it, and the broader ideas it belongs to."""

    id: str
    terms: tuple[str, ...]
    broader: tuple[str, ...] = ()
    # Ambiguous words: in a query they also look for this concept; in a listing they mark nothing.
    query_terms: tuple[str, ...] = ()


@dataclass(frozen=True)
class PersonFirst:
    """Words naming a `condition` (or a narrower concept) and none of `unless` also score the
    listings carrying `boost`: services for the person living with it before carers' ones."""

    condition: str
    unless: tuple[str, ...]
    boost: str


@dataclass(frozen=True)
class ConceptSpan:
    """Where a vocabulary term sits in a list of tokens: tokens[start:end] mean `concepts`."""

    start: int
    end: int
    concepts: frozenset[str]


@dataclass
class Vocabulary:
    """Concepts and stop words, with the stemmed phrases that find them."""

    concepts: dict[str, Concept]
    index_stop_words: frozenset[str]
    plain_stop_words: frozenset[str] = frozenset()
    nearness_words: frozenset[str] = frozenset()
    person_first: PersonFirst | None = None
    _phrases: dict[tuple[str, ...], frozenset[str]] = field(init=False, repr=False)
    _lengths: dict[str, tuple[int, ...]] = field(init=False, repr=False)
    _query_phrases: dict[tuple[str, ...], frozenset[str]] = field(init=False, repr=False)
    _query_lengths: dict[str, tuple[int, ...]] = field(init=False, repr=False)
    _ancestors: dict[str, frozenset[str]] = field(init=False, repr=False)
    _read: dict[str, tuple[list[Token], list[ConceptSpan]]] = field(
        init=False, repr=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        self._ancestors = {cid: self._walk_up(cid, ()) for cid in self.concepts}
        phrases: dict[tuple[str, ...], set[str]] = {}
        ambiguous: dict[tuple[str, ...], set[str]] = {}
        for concept in self.concepts.values():
            for term in concept.terms:
                phrases.setdefault(self._term_stems(concept, term), set()).add(concept.id)
            for term in concept.query_terms:
                ambiguous.setdefault(self._term_stems(concept, term), set()).add(concept.id)
        clash = sorted(" ".join(stems) for stems in ambiguous.keys() & phrases.keys())
        if clash:
            raise ValueError(f"query terms that are also listing terms: {', '.join(clash)}")
        self._phrases = {stems: frozenset(ids) for stems, ids in phrases.items()}
        self._lengths = _lengths(self._phrases)
        self._query_phrases = {
            **self._phrases,
            **{stems: frozenset(ids) for stems, ids in ambiguous.items()},
        }
        self._query_lengths = _lengths(self._query_phrases)
        if self.person_first is not None:
            rule = self.person_first
            for cid in (rule.condition, rule.boost, *rule.unless):
                if cid not in self.concepts:
                    raise ValueError(f"person_first names an unknown concept {cid!r}")

    def _term_stems(self, concept: Concept, term: str) -> tuple[str, ...]:
        stems = tuple(token.stem for token in self.analyse(term))
        if not stems:
            raise ValueError(f"term {term!r} of {concept.id!r} is only stop words")
        return stems

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Vocabulary:
        """Build from the TOML shape: ``stop_words.{index,plain,nearness}``, ``concept`` and
        optionally ``person_first.{condition,unless,boost}``.

        Raises ValueError for a duplicate concept, an unknown or circular broader concept, a
        term made only of stop words, or a query term that is also a listing term.
        """
        stop = data.get("stop_words", {})
        concepts: dict[str, Concept] = {}
        for entry in data.get("concept", []):
            concept = Concept(
                id=str(entry["id"]),
                terms=tuple(str(term) for term in entry.get("terms", [])),
                broader=tuple(str(b) for b in entry.get("broader", [])),
                query_terms=tuple(str(term) for term in entry.get("query_terms", [])),
            )
            if concept.id in concepts:
                raise ValueError(f"concept {concept.id!r} is defined twice")
            concepts[concept.id] = concept
        rule = data.get("person_first")
        return cls(
            concepts=concepts,
            index_stop_words=frozenset(stop.get("index", [])),
            plain_stop_words=frozenset(stop.get("plain", [])),
            nearness_words=frozenset(stop.get("nearness", [])),
            person_first=PersonFirst(
                condition=str(rule["condition"]),
                unless=tuple(str(c) for c in rule.get("unless", [])),
                boost=str(rule["boost"]),
            )
            if rule
            else None,
        )

    @classmethod
    def load(cls, path: Path | None = None) -> Vocabulary:
        """The vocabulary in `path`, or the one shipped in search/data/vocabulary.toml."""
        if path is None:
            raw = resources.files("search").joinpath("data/vocabulary.toml").read_bytes()
        else:
            raw = path.read_bytes()
        return cls.from_mapping(tomllib.loads(raw.decode("utf-8")))

    def _walk_up(self, concept_id: str, trail: tuple[str, ...]) -> frozenset[str]:
        if concept_id in trail:
            raise ValueError(f"concepts loop: {' -> '.join((*trail, concept_id))}")
        concept = self.concepts.get(concept_id)
        if concept is None:
            raise ValueError(f"unknown broader concept {concept_id!r} (from {trail[-1]!r})")
        found = {concept_id}
        for broader in concept.broader:
            found |= self._walk_up(broader, (*trail, concept_id))
        return frozenset(found)

    def analyse(self, text: str) -> list[Token]:
        """The tokens of `text` without the index stop words (the same for listings and queries)."""
        return tokenize(text, self.index_stop_words)

    def read(self, text: str) -> tuple[list[Token], list[ConceptSpan]]:
        """The tokens of `text` and the vocabulary's terms among them (kept for reuse).

        Snippets read the same descriptions search after search; the results of the most
        recent few thousand are kept. Callers must not change the lists.
        """
        found = self._read.get(text)
        if found is None:
            tokens = self.analyse(text)
            found = (tokens, self.find([t.stem for t in tokens]))
            if len(self._read) >= READ_CACHE_SIZE:
                self._read.clear()
            self._read[text] = found
        return found

    def ancestors(self, concept_id: str) -> frozenset[str]:
        """The concept and every broader concept above it."""
        return self._ancestors.get(concept_id, frozenset({concept_id}))

    def person_first_boost(self, concepts: Iterable[str]) -> str | None:
        """The concept whose listings a query meaning `concepts` should also score higher: the
        rule's `boost` when they name a condition and none of its `unless`, else None."""
        rule = self.person_first
        if rule is None:
            return None
        meant = {a for cid in concepts for a in self.ancestors(cid)}
        if rule.condition in meant and not meant & set(rule.unless):
            return rule.boost
        return None

    def find(self, stems: Sequence[str], *, in_query: bool = False) -> list[ConceptSpan]:
        """The vocabulary terms in `stems`, longest first, never overlapping.

        `in_query` also finds the query terms (ambiguous words that look for every concept
        they may mean); a listing's text is read without them.
        """
        phrases, lengths = (
            (self._query_phrases, self._query_lengths)
            if in_query
            else (self._phrases, self._lengths)
        )
        spans: list[ConceptSpan] = []
        position = 0
        while position < len(stems):
            for length in lengths.get(stems[position], ()):
                if position + length > len(stems):
                    continue
                concepts = phrases.get(tuple(stems[position : position + length]))
                if concepts is not None:
                    spans.append(ConceptSpan(position, position + length, concepts))
                    position += length
                    break
            else:
                position += 1
        return spans

    def index_tokens(self, text: str, extra_concepts: Iterable[str] = ()) -> list[str]:
        """What a listing field is indexed as: its stems, then the tokens of its concepts.

        Each concept a term names is added once, with all its broader concepts;
        `extra_concepts` (a listing's category codes that are also concept ids) likewise.
        """
        stems = [token.stem for token in self.analyse(text)]
        concepts: dict[str, None] = {}
        for span in self.find(stems):
            for cid in span.concepts:
                concepts.update(dict.fromkeys(self.ancestors(cid)))
        for cid in extra_concepts:
            if cid in self.concepts:
                concepts.update(dict.fromkeys(self.ancestors(cid)))
        # Each concept once per field: a listing that names an idea in three words is no more
        # about it than one that names it once, and repeats would outweigh the literal word.
        return stems + [concept_token(cid) for cid in concepts]

    def words(self) -> set[str]:
        """Every word used in a term: known good spellings for "did you mean"."""
        return {
            token.word
            for concept in self.concepts.values()
            for term in (*concept.terms, *concept.query_terms)
            for token in self.analyse(term)
        }


def _lengths(phrases: Mapping[tuple[str, ...], object]) -> dict[str, tuple[int, ...]]:
    # The lengths of the phrases starting with each stem, longest first.
    lengths: dict[str, set[int]] = {}
    for stems in phrases:
        lengths.setdefault(stems[0], set()).add(len(stems))
    return {first: tuple(sorted(n, reverse=True)) for first, n in lengths.items()}


def concept_token(concept_id: str) -> str:
    """The index token that stands for a concept."""
    return CONCEPT_PREFIX + concept_id
