"""From typed words to term groups: spelling, places, concepts and plain-request words."""

from __future__ import annotations

import pytest

from search import Gazetteer
from search.planning import QueryPlan, plan_words
from search.spelling import Lexicon, edit_distance
from search.vocabulary import Vocabulary

LEXICON = Lexicon(
    {"dementia": 12, "meals": 9, "wheels": 3, "washing": 7, "demented": 1, "cafe": 4},
    extra_words=["hitchin", "alzheimers"],
)


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return Vocabulary.load()


def plan(words: str, vocabulary: Vocabulary, gazetteer: Gazetteer) -> QueryPlan:
    return plan_words(words, vocabulary, gazetteer, lambda: LEXICON)


def test_a_plain_request_keeps_only_what_matters(
    vocabulary: Vocabulary, gazetteer: Gazetteer
) -> None:
    result = plan("Someone to help my dad get dressed", vocabulary, gazetteer)
    assert [g.words for g in result.groups] == ["dressed"]
    assert result.groups[0].alternatives == (("dress", 1.0), ("@personal-care", 0.8))
    assert result.highlight_stems == {"dress"}
    assert result.highlight_concepts == {"personal-care"}


def test_a_phrase_of_the_vocabulary_is_one_group(
    vocabulary: Vocabulary, gazetteer: Gazetteer
) -> None:
    [group] = plan("meals on wheels", vocabulary, gazetteer).groups
    assert group.alternatives == (("@hot-meal-delivery", 1.0),)
    assert group.boosters == (("meal", 0.4), ("wheel", 0.4))


def test_places_become_filters_and_near_asks_for_distance(
    vocabulary: Vocabulary, gazetteer: Gazetteer
) -> None:
    result = plan("day centre close to Hitchin", vocabulary, gazetteer)
    assert [g.words for g in result.groups] == ["day centre"]
    assert [p.codes for p in result.places] == [{"hitchin"}]
    assert result.near
    in_town = plan("home care in SG1", vocabulary, gazetteer)
    assert [p.label for p in in_town.places] == ["SG1"]
    assert not in_town.near


def test_misspellings_are_corrected_before_places_and_concepts(
    vocabulary: Vocabulary, gazetteer: Gazetteer
) -> None:
    result = plan("Demensia cafe near Hitchen", vocabulary, gazetteer)
    assert result.corrections == (("demensia", "dementia"), ("hitchen", "hitchin"))
    assert result.suggestion == "dementia cafe near hitchin"
    assert [p.label for p in result.places] == ["Hitchin"]
    assert result.groups[0].alternatives[0] == ("@dementia-cafes", 1.0)


def test_known_words_and_their_forms_are_left_alone(
    vocabulary: Vocabulary, gazetteer: Gazetteer
) -> None:
    result = plan("washed meals", vocabulary, gazetteer)
    assert result.corrections == ()
    assert result.suggestion is None


def test_words_nobody_uses_stay_as_they_are(vocabulary: Vocabulary, gazetteer: Gazetteer) -> None:
    result = plan("xylophone", vocabulary, gazetteer)
    assert [g.alternatives for g in result.groups] == [(("xylophon", 1.0),)]
    assert result.suggestion is None


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("dementia", "demensia", 1),
        ("meals", "meels", 1),
        ("alzheimers", "alzhiemers", 1),
        ("cafe", "caef", 1),
        ("walk", "talk", 1),
        ("ab", "ba", 1),
        ("care", "carer", 1),
        ("home", "house", 2),
        ("respite", "rsepite", 1),
    ],
)
def test_edit_distance_counts_a_swap_as_one(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b, 2) == distance


def test_edit_distance_stops_past_its_limit() -> None:
    assert edit_distance("dementia", "stairlift", 2) == 3


def test_the_lexicon_prefers_the_closest_then_the_most_used_word() -> None:
    assert LEXICON.correct("dementa") == "dementia"
    assert LEXICON.correct("wheals") == "wheels"
    assert LEXICON.correct("alzhiemers") == "alzheimers"
    assert LEXICON.correct("dementia") is None
    assert LEXICON.correct("wash") is None  # a form of "washing"
    assert LEXICON.correct("zzz") is None
    assert LEXICON.correct("qqqqqqqq") is None
