"""Suggestions as you type: care words, kinds of help and places that complete the search box.

A `SuggestionIndex` is built once from the vocabulary, the category tree and the gazetteer: every
term, category name and place name (with aliases), folded, in one sorted list of keys, so that
the entries a typed fragment begins are found by two binary searches. `listing_counts` reads how
many listings carry each of them from one index generation; `SuggestionIndex.with_counts` pairs
the two into a `Suggester`, which ranks the better-used words first and leaves out care words and
kinds of help that no listing carries (a place stays: a search there offers the nearest).

What the person typed before the fragment is kept, so "day centre near Hit" suggests
"day centre near Hitchin". A misspelt fragment of four letters or more ("demensia") is tried
again with one letter changed, left out, added or swapped when nothing begins with it.
"""

from __future__ import annotations

import bisect
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from search.analysis import tokenize
from search.categories import CategoryTree
from search.gazetteer import Gazetteer
from search.vocabulary import Vocabulary, concept_token

if TYPE_CHECKING:
    from search.snapshot import View

KINDS = ("care", "category", "place")
DEFAULT_LIMIT = 6
MAX_LIMIT = 10
# Longer text than this is not typing in a search box; the endpoint refuses it.
MAX_TEXT_LENGTH = 200
# A fragment shorter than this begins too many words to say anything.
MIN_FRAGMENT = 2
# Suggestions complete at most this many trailing words ("day cen", "help at ho").
MAX_FRAGMENT_WORDS = 4
# A misspelling is only guessed at from this many letters: "dem" is a prefix, not a mistake.
MIN_MISSPELT = 4
_LETTERS = string.ascii_lowercase
# Ties between kinds: a kind of help is a broader start than one care word, then places.
_KIND_ORDER = {"category": 0, "care": 1, "place": 2}


@dataclass(frozen=True)
class Suggestion:
    """One suggestion: `text` is the whole search box as it would read, `term` the completed
    word or phrase, `kind` one of KINDS."""

    text: str
    term: str
    kind: str


@dataclass(frozen=True)
class _Entry:
    term: str
    kind: str
    # What a listing count is looked up under ("@personal-care", "category:day-centres", ...).
    count_keys: tuple[str, ...]
    key: str


@dataclass
class SuggestionIndex:
    """Every suggestible term, keyed by its folded words and by each of its inner words."""

    entries: list[_Entry]
    # (folded key, entry number, whether the key starts inside the term), sorted.
    _keys: list[str] = field(init=False, repr=False)
    _rows: list[tuple[int, bool]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        rows: list[tuple[str, int, bool]] = []
        for number, entry in enumerate(self.entries):
            words = entry.key.split(" ")
            for start in range(len(words)):
                rows.append((" ".join(words[start:]), number, start > 0))
        rows.sort()
        self._keys = [key for key, _, _ in rows]
        self._rows = [(number, inner) for _, number, inner in rows]

    @classmethod
    def build(
        cls, vocabulary: Vocabulary, categories: CategoryTree, gazetteer: Gazetteer
    ) -> SuggestionIndex:
        """The index of every concept term, category name and place name (with aliases).

        A concept's terms that share their stems with an earlier term of it ("wash" after
        "washing", "stair lift" after "stairlift") are left out: they would only repeat a
        suggestion.
        """
        entries: list[_Entry] = []
        # Where each (kind, key) went: a care word that is also a kind of help's name
        # ("personal care") is one entry, the kind of help, counted by both. Otherwise the
        # two would be ranked by counts from different sources, and which one the person saw
        # would change with them.
        at: dict[tuple[str, str], int] = {}

        def add(term: str, kind: str, count_keys: tuple[str, ...]) -> None:
            key = _fold(term)
            if not key or (kind, key) in at:
                return
            same = at.get(("category", key)) if kind == "care" else None
            if same is not None:
                found = entries[same]
                entries[same] = replace(found, count_keys=found.count_keys + count_keys)
                return
            at[(kind, key)] = len(entries)
            entries.append(_Entry(term, kind, count_keys, key))

        for code, name in categories.names.items():
            add(name, "category", (f"category:{code}",))
        for concept in vocabulary.concepts.values():
            # "stairlift" after "stair lift", "wash" after "washing": one is enough.
            stems_seen: set[tuple[str, ...] | str] = set()
            for term in concept.terms:
                stems = tuple(token.stem for token in vocabulary.analyse(term))
                if stems in stems_seen or "".join(stems) in stems_seen:
                    continue
                stems_seen.update((stems, "".join(stems)))
                add(term, "care", (concept_token(concept.id),))
        for place in gazetteer.places.values():
            keys = tuple(f"locality:{code}" for code in sorted(gazetteer.expand(place.code)))
            for name in (place.name, *place.aliases):
                add(name, "place", keys)
        return cls(entries)

    def count_keys(self) -> set[str]:
        """Every key `with_counts` looks listing counts up under."""
        return {key for entry in self.entries for key in entry.count_keys}

    def with_counts(self, counts: Mapping[str, int] | None = None) -> Suggester:
        """A suggester ranking by these listing counts (see `listing_counts`); without counts,
        every entry is suggested and ties fall to the shorter term."""
        return Suggester(self, dict(counts) if counts is not None else None)

    def _matches(self, fragment: str) -> Iterable[tuple[int, bool]]:
        position = bisect.bisect_left(self._keys, fragment)
        while position < len(self._keys) and self._keys[position].startswith(fragment):
            yield self._rows[position]
            position += 1


@dataclass
class Suggester:
    """Answers `suggest` from a `SuggestionIndex` and one generation's listing counts."""

    index: SuggestionIndex
    counts: dict[str, int] | None

    def weight(self, entry: _Entry) -> int:
        """How many listings carry the entry (for a place: serve it), or 0 when not counted."""
        if self.counts is None:
            return 0
        return max((self.counts.get(key, 0) for key in entry.count_keys), default=0)

    def _allowed(self, entry: _Entry) -> bool:
        # Care words and kinds of help that no listing carries would lead to an empty page;
        # a place does not (the page offers the nearest services beyond it).
        return self.counts is None or entry.kind == "place" or self.weight(entry) > 0

    def suggest(self, text: str, limit: int = DEFAULT_LIMIT) -> list[Suggestion]:
        """Up to `limit` completions of what was typed, best first, never two of the same text.

        The trailing words of `text` (up to MAX_FRAGMENT_WORDS; the longest run that begins a
        known term wins) are replaced by the completed term, the words before them kept as
        typed. Terms that begin with the fragment come before terms with an inner word that
        does ("lift" before "stair lift"), then those more listings carry. Text ending in a space
        is only completed by longer terms ("day " to "day centre"). No suggestions for text
        too short, too long or matching nothing.
        """
        if limit <= 0 or len(text) > MAX_TEXT_LENGTH:
            return []
        words = text.split()
        if not words:
            return []
        open_ended = text[-1].isspace()
        for size in range(min(len(words), MAX_FRAGMENT_WORDS), 0, -1):
            fragment = _fold(" ".join(words[-size:]))
            if len(fragment) < MIN_FRAGMENT:
                continue
            found = self._ranked(fragment + " " if open_ended else fragment)
            if found:
                return _distinct(" ".join(words[:-size]), found, limit)
        # Nothing begins with what was typed: perhaps its last word is misspelt.
        last = _fold(words[-1])
        if open_ended or len(last) < MIN_MISSPELT or " " in last:
            return []
        return _distinct(" ".join(words[:-1]), self._ranked_misspelt(last), limit)

    def _ranked(self, fragment: str) -> list[_Entry]:
        scored: dict[int, tuple[int, int, int, int, str]] = {}
        for number, inner in self.index._matches(fragment):
            entry = self.index.entries[number]
            if entry.key == fragment.rstrip() and fragment.endswith(" "):
                continue
            if not self._allowed(entry):
                continue
            score = (
                int(inner),
                -self.weight(entry),
                _KIND_ORDER[entry.kind],
                len(entry.key),
                entry.key,
            )
            if number not in scored or score < scored[number]:
                scored[number] = score
        return [self.index.entries[n] for n in sorted(scored, key=scored.__getitem__)]

    def _ranked_misspelt(self, fragment: str) -> list[_Entry]:
        found: dict[int, _Entry] = {}
        keys = self.index._keys
        for variant in _one_edit(fragment):
            # Most variants begin nothing: one binary search says so before any ranking.
            position = bisect.bisect_left(keys, variant)
            if position == len(keys) or not keys[position].startswith(variant):
                continue
            for entry in self._ranked(variant):
                found.setdefault(id(entry), entry)
        return sorted(
            found.values(),
            key=lambda e: (-self.weight(e), _KIND_ORDER[e.kind], len(e.key), e.key),
        )


def listing_counts(view: View, keys: Iterable[str]) -> dict[str, int]:
    """How many live listings of one index generation carry each key of a `SuggestionIndex`:
    ``category:code`` and ``locality:code`` facet values from the catalogue; ``@concept``
    tokens from the engine's term statistics where it keeps them (Whoosh: the field that has
    the token most, so a lower bound, and a listing deleted since the last merge may count),
    otherwise from the token's bitset (tantivy, which warms the commonest anyway)."""
    catalogue = view.catalogue
    counts: dict[str, int] = {}
    for key in keys:
        if key.startswith("@"):
            frequency = view.snapshot.token_frequency(key)
            counts[key] = frequency if frequency is not None else view.token_bits(key).bit_count()
        else:
            facet, _, value = key.partition(":")
            counts[key] = (catalogue.value_bits(facet, (value,)) & catalogue.live).bit_count()
    return counts


def _fold(text: str) -> str:
    return " ".join(token.word for token in tokenize(text))


def _distinct(kept: str, entries: Sequence[_Entry], limit: int) -> list[Suggestion]:
    found: list[Suggestion] = []
    texts: set[str] = set()
    for entry in entries:
        term = entry.term
        if kept and entry.kind == "category":
            # A category's name is written to start a line ("Sitting services"); after the
            # person's own words it reads better in lower case.
            term = term[:1].lower() + term[1:]
        text = f"{kept} {term}" if kept else term
        if text.casefold() in texts:
            continue
        texts.add(text.casefold())
        found.append(Suggestion(text=text, term=entry.term, kind=entry.kind))
        if len(found) == limit:
            break
    return found


def _one_edit(fragment: str) -> set[str]:
    """Every prefix one letter away from `fragment` (changed, dropped, added or swapped), the
    first letter kept: people rarely get the first letter of a word wrong."""
    head, tail = fragment[0], fragment[1:]
    variants: set[str] = set()
    for i in range(len(tail) + 1):
        before, after = tail[:i], tail[i:]
        if after:
            variants.add(head + before + after[1:])
            if len(after) > 1:
                variants.add(head + before + after[1] + after[0] + after[2:])
        for letter in _LETTERS:
            variants.add(head + before + letter + after)
            if after:
                variants.add(head + before + letter + after[1:])
    variants.discard(fragment)
    return {v for v in variants if len(v) >= MIN_FRAGMENT}
