"""Suggestions as you type (issue 21, item 8): completions of care words, kinds of help and
places, ranked by the listings that carry them, from the library alone (no app)."""

from __future__ import annotations

import pytest

from search import CategoryTree, Gazetteer, SearchEngine, Vocabulary
from search.engine import BaseEngine
from search.suggest import (
    MAX_TEXT_LENGTH,
    Suggester,
    SuggestionIndex,
    listing_counts,
)


@pytest.fixture(scope="module")
def index(gazetteer: Gazetteer, categories: CategoryTree) -> SuggestionIndex:
    return SuggestionIndex.build(Vocabulary.load(), categories, gazetteer)


@pytest.fixture(scope="module")
def uncounted(index: SuggestionIndex) -> Suggester:
    return index.with_counts(None)


def texts(suggester: Suggester, typed: str, limit: int = 6) -> list[str]:
    return [s.text for s in suggester.suggest(typed, limit)]


def test_a_prefix_completes_a_care_word_and_a_kind_of_help(uncounted: Suggester) -> None:
    found = uncounted.suggest("demen")
    assert {(s.term, s.kind) for s in found} >= {
        ("Dementia cafés", "category"),
        ("dementia", "care"),
    }
    assert all(s.text.lower().startswith("demen") for s in found)


def test_the_words_typed_before_the_fragment_are_kept(uncounted: Suggester) -> None:
    assert texts(uncounted, "someone to help with wash")[0] == "someone to help with washing"


def test_a_place_completes_after_the_kind_of_help(uncounted: Suggester) -> None:
    found = uncounted.suggest("day centre near Hitch")
    assert [(s.text, s.kind) for s in found] == [("day centre near Hitchin", "place")]


def test_a_place_of_two_words_is_completed_from_both(uncounted: Suggester) -> None:
    assert texts(uncounted, "st alb")[0] == "St Albans"


def test_a_trailing_space_asks_for_the_next_word(uncounted: Suggester) -> None:
    found = texts(uncounted, "day ", limit=10)
    assert "Day centres" in found
    assert "day care" in found
    assert "day" not in found  # nothing that ends where the person already is


def test_a_kind_of_help_after_other_words_reads_in_lower_case(uncounted: Suggester) -> None:
    assert "my mum needs a sitting services" in texts(uncounted, "my mum needs a sitting serv")


def test_a_misspelt_fragment_is_tried_one_letter_away(uncounted: Suggester) -> None:
    assert "dementia" in texts(uncounted, "demensia")
    assert "Stevenage" in texts(uncounted, "Stevanage")


def test_a_care_word_named_like_a_kind_of_help_is_one_suggestion(
    index: SuggestionIndex,
) -> None:
    """Counted from two sources (term statistics and the catalogue), "personal care" the
    care word and "Personal care" the kind of help swapped places as the counts moved."""
    both = [e for e in index.entries if e.key == "personal care"]
    assert [(e.term, e.kind) for e in both] == [("Personal care", "category")]
    assert set(both[0].count_keys) == {"category:personal-care", "@personal-care"}
    counts = dict.fromkeys(index.count_keys(), 0)
    counts["@personal-care"] = 5  # only the care word is counted: still one suggestion
    assert texts(index.with_counts(counts), "personal c") == ["Personal care"]


def test_one_spelling_of_a_concept_is_enough(uncounted: Suggester) -> None:
    found = [t.lower() for t in texts(uncounted, "stair", limit=10)]
    assert not ("stairlift" in found and "stair lift" in found)


@pytest.mark.parametrize(
    "typed", ["", "   ", "d", "zzqxv", "!!!", "🧓🏽", "x" * (MAX_TEXT_LENGTH + 1), "qwertyuiop"]
)
def test_junk_gets_no_suggestions(uncounted: Suggester, typed: str) -> None:
    assert uncounted.suggest(typed) == []


@pytest.mark.parametrize("limit", [1, 3, 10])
def test_limit_is_kept_and_texts_never_repeat(uncounted: Suggester, limit: int) -> None:
    found = texts(uncounted, "res", limit)
    assert len(found) == limit
    assert len({t.casefold() for t in found}) == limit


def test_no_limit_no_suggestions(uncounted: Suggester) -> None:
    assert uncounted.suggest("dementia", 0) == []


def test_counts_rank_and_leave_out_what_no_listing_carries(index: SuggestionIndex) -> None:
    counts = {key: 0 for key in index.count_keys()}
    counts["@respite-and-short-breaks"] = 3
    counts["category:respite-and-short-breaks"] = 1
    found = index.with_counts(counts).suggest("respite", 10)
    # Only what listings carry, the better carried first; places stay even when empty.
    assert [s.kind for s in found][:1] == ["care"]
    assert {s.kind for s in found} <= {"care", "category"}
    assert found[-1].text == "Respite and short breaks"
    assert index.with_counts(counts).suggest("Hitch")[0].text == "Hitchin"


def test_counts_read_from_a_generation(corpus_engine: SearchEngine, index: SuggestionIndex) -> None:
    assert isinstance(corpus_engine, BaseEngine)
    view = corpus_engine.current_view()
    counts = listing_counts(view, index.count_keys())
    assert counts["@personal-care"] > 0
    assert counts["category:help-at-home"] > 0
    assert all(value <= corpus_engine.count() for value in counts.values())
    suggester = index.with_counts(counts)
    # Personal care is in the corpus; a care word no listing carries is not suggested.
    assert "Personal care" in texts(suggester, "personal c")
    empty = [key for key, value in counts.items() if key.startswith("@") and value == 0]
    for entry in index.entries:
        if entry.kind == "care" and set(entry.count_keys) <= set(empty):
            assert entry.term not in texts(suggester, entry.term, 10)
            break


def test_counts_from_term_statistics_agree_with_the_bitsets(
    corpus_engine: SearchEngine, index: SuggestionIndex
) -> None:
    """Whoosh counts care words from its term statistics (reading every concept's postings
    took a second per generation at 100,000 listings): never more than the listings that hold
    the token, and none exactly when no listing does."""
    assert isinstance(corpus_engine, BaseEngine)
    view = corpus_engine.current_view()
    counts = listing_counts(view, index.count_keys())
    concepts = [key for key in index.count_keys() if key.startswith("@")]
    for key in concepts:
        exact = view.token_bits(key).bit_count()
        assert counts[key] <= exact, key
        assert (counts[key] > 0) == (exact > 0), key
    assert any(counts[key] > 0 for key in concepts)
