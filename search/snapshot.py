"""What an engine provides for one generation of its index, and the data cached beside it.

An engine (Whoosh, tantivy) only answers a few questions about a generation (a `Snapshot`):
the catalogue rows of its documents, which documents hold a token, the best-scoring documents
for some term groups, the stored documents at some ordinals, and the words it knows. A `View`
keeps, for as long as that generation is current, the catalogue, the bitset of each token
asked about, and the lexicon.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from search.catalogue import Catalogue, bits_of, ordinals_of
from search.documents import ListingDocument
from search.facets import Selection
from search.planning import TermGroup
from search.spelling import Lexicon

# Token bitsets kept per generation; a query rarely has more than a dozen tokens, and most
# searches repeat a few hundred words.
TOKEN_CACHE_SIZE = 4096


# A generation carries the previous one's token bitsets over only when few listings are new:
# analysing each new listing's words again costs about a third of a millisecond.
CARRY_AT_MOST = 2000


@dataclass(frozen=True)
class Carried:
    """How a generation's documents relate to the previous generation's, when they do.

    `runs` are (previous base, base, size): documents that are the same, at new ordinals.
    `fresh` are (base, size): documents the previous generation did not have.
    """

    runs: list[tuple[int, int, int]]
    fresh: list[tuple[int, int]]


class Snapshot(ABC):
    """One generation of an index as an engine reads it; ordinals run from 0 to size - 1."""

    generation: str
    size: int

    @abstractmethod
    def is_current(self) -> bool:
        """False once the index has changed since this snapshot was taken."""

    @abstractmethod
    def catalogue(self) -> Catalogue:
        """Facet values and sort keys of every live document (from their catalogue rows)."""

    @abstractmethod
    def token_ordinals(self, token: str) -> Iterable[int]:
        """Ordinals of live documents holding `token` in any text field."""

    @abstractmethod
    def top(
        self,
        groups: Sequence[TermGroup],
        require_all: bool,
        candidates: int,
        matches: int,
        selection: Selection,
        limit: int,
    ) -> list[tuple[int, float]]:
        """The `limit` best (ordinal, score) for the groups among `candidates`.

        `matches` are the live documents that match the groups (every group, or any when not
        `require_all`), `candidates` those of them that pass the filters of `selection` (the
        same bits when no filter took any away). A score adds up each group's alternatives
        and boosters.
        """

    @abstractmethod
    def documents(self, ordinals: Sequence[int]) -> list[ListingDocument]:
        """The stored documents at these ordinals, in the same order."""

    @abstractmethod
    def words(self) -> dict[str, int]:
        """Every word of the listings (folded, unstemmed) with how many listings use it."""

    @abstractmethod
    def close(self) -> None:
        """Release the snapshot's open files."""

    def token_frequency(self, token: str) -> int | None:
        """How many listings hold `token` in the text field that has it most, from the index's
        own statistics (a deleted listing may still count until a merge drops it), or None
        where the engine has no such figure cheaply: then read `token_ordinals`."""
        return None

    def carried_from(self, previous: Snapshot) -> Carried | None:
        """How this generation's documents sit relative to `previous`'s, or None if unknown."""
        return None

    def common_tokens(self) -> list[str]:
        """Tokens whose bitsets are worth working out as the generation opens, most used first.

        None by default: an engine that reads a token's documents cheaply leaves them to first
        use. One whose cost grows with the documents that hold a token names its commonest.
        """
        return []


class View:
    """A snapshot with the data cached for its generation: catalogue, token bits, lexicon."""

    def __init__(self, folder: str, snapshot: Snapshot, catalogue: Catalogue) -> None:
        self.folder = folder
        self.snapshot = snapshot
        self.catalogue = catalogue
        self.generation = f"{folder}:{snapshot.generation}"
        self._tokens: dict[str, int] = {}
        self._lexicon: Lexicon | None = None

    def warm(self) -> None:
        """Work out now what the first searches of this generation would otherwise pay for:
        the catalogue's orders and the bitsets of the commonest tokens."""
        self.catalogue.prepare_orders()
        for token in self.snapshot.common_tokens():
            self.token_bits(token)

    def inherit(self, previous: View, tokens_of: Callable[[ListingDocument], set[str]]) -> bool:
        """Take over the previous generation's token bitsets, moved to this one's ordinals, with
        the new listings' tokens (`tokens_of` gives what a listing is indexed under) added.

        Returns False, taking nothing, when the engine cannot relate the two generations or
        too many listings are new.
        """
        carried = self.snapshot.carried_from(previous.snapshot)
        if carried is None or sum(size for _, size in carried.fresh) > CARRY_AT_MOST:
            return False
        live = self.catalogue.live
        fresh: list[tuple[int, set[str]]] = []
        for base, size in carried.fresh:
            ordinals = [base + o for o in ordinals_of(live >> base & ((1 << size) - 1))]
            documents = self.snapshot.documents(ordinals)
            fresh += [(o, tokens_of(d)) for o, d in zip(ordinals, documents, strict=True)]
        # A copy: the previous generation may still be answering (and caching) in a thread.
        for token, before in dict(previous._tokens).items():
            bits = 0
            for old_base, base, size in carried.runs:
                bits |= (before >> old_base & ((1 << size) - 1)) << base
            for ordinal, tokens in fresh:
                if token in tokens:
                    bits |= 1 << ordinal
            self._tokens[token] = bits & live
        return True

    def token_bits(self, token: str) -> int:
        bits = self._tokens.get(token)
        if bits is None:
            ordinals = self.snapshot.token_ordinals(token)
            bits = bits_of(ordinals, self.snapshot.size) & self.catalogue.live
            if len(self._tokens) >= TOKEN_CACHE_SIZE:
                self._tokens.clear()
            self._tokens[token] = bits
        return bits

    def match(self, groups: Sequence[TermGroup], require_all: bool) -> int:
        found: int | None = None
        for group in groups:
            group_bits = 0
            for token in group.tokens:
                group_bits |= self.token_bits(token)
            if found is None:
                found = group_bits
            else:
                found = found & group_bits if require_all else found | group_bits
        return found or 0

    def lexicon(self, extra_words: Callable[[], set[str]]) -> Lexicon:
        if self._lexicon is None:
            self._lexicon = Lexicon(self.snapshot.words(), extra_words())
        return self._lexicon
