"""Analysis and the care vocabulary: words, stems, concepts and the data file's sanity."""

from __future__ import annotations

import pytest

from search.analysis import fold, slug, stem, tokenize
from search.vocabulary import Vocabulary


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return Vocabulary.load()


def test_words_are_folded_and_possessives_dropped() -> None:
    words = [t.word for t in tokenize("Alzheimer\u2019s CAFÉ, carers' group & Men's Shed")]
    assert words == ["alzheimer", "cafe", "carers", "group", "men", "shed"]
    assert fold("Crème Brûlée") == "creme brulee"
    assert slug("British Sign Language") == "british-sign-language"


def test_tokens_keep_their_place_in_the_original_text() -> None:
    text = "Help with washing"
    [_, _, washing] = tokenize(text)
    assert text[washing.start : washing.end] == "washing"
    assert washing.stem == stem("washing") == "wash"


def test_stems_bring_word_forms_together() -> None:
    assert stem("dressed") == stem("dressing") == stem("dress")
    assert stem("meals") == stem("meal")
    assert stem("sg1") == "sg1"


def test_the_shipped_vocabulary_loads_with_its_concepts(vocabulary: Vocabulary) -> None:
    assert len(vocabulary.concepts) >= 40
    assert "personal-care" in vocabulary.concepts
    assert vocabulary.ancestors("stairlifts") == {"stairlifts", "equipment-and-adaptations"}


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("respite", "respite-and-short-breaks"),
        ("a short break", "respite-and-short-breaks"),
        ("sitting service", "respite-and-short-breaks"),
        ("care worker", "care-worker"),
        ("support worker", "care-worker"),
        ("personal assistant", "personal-assistants"),
        ("personal assistant", "care-worker"),
        ("PA", "personal-assistants"),
        ("unpaid carer", "carer-support"),
        ("family carers", "carer-support"),
        ("meals on wheels", "hot-meal-delivery"),
        ("hot meal delivery", "hot-meal-delivery"),
        ("dementia", "dementia"),
        ("memory loss", "dementia"),
        ("Alzheimer's", "dementia"),
        ("washing", "personal-care"),
        ("getting dressed", "personal-care"),
        ("bathing", "personal-care"),
        ("stairlift", "equipment-and-adaptations"),
        ("grab rail", "equipment-and-adaptations"),
        ("hoist", "equipment-and-adaptations"),
        ("lift to hospital", "transport"),
        ("care at home", "help-at-home"),
        ("care home", "care-home"),
    ],
)
def test_words_people_use_reach_the_concept(
    vocabulary: Vocabulary, text: str, concept: str
) -> None:
    spans = vocabulary.find([t.stem for t in vocabulary.analyse(text)])
    meant = {a for span in spans for cid in span.concepts for a in vocabulary.ancestors(cid)}
    assert concept in meant


def _meanings(vocabulary: Vocabulary, text: str, *, in_query: bool) -> list[set[str]]:
    spans = vocabulary.find([t.stem for t in vocabulary.analyse(text)], in_query=in_query)
    return [set(span.concepts) for span in spans]


def test_paid_care_workers_and_unpaid_carers_are_different_concepts(
    vocabulary: Vocabulary,
) -> None:
    # Issue 21, item 6: one ring made carer, care worker and personal assistant one word, so a
    # paid helper's job title found support groups for unpaid carers.
    assert _meanings(vocabulary, "care worker", in_query=True) == [{"care-worker"}]
    assert _meanings(vocabulary, "personal assistant", in_query=True) == [{"personal-assistants"}]
    assert _meanings(vocabulary, "unpaid carers", in_query=True) == [{"carer-support"}]
    assert "carer-support" not in vocabulary.ancestors("personal-assistants")
    assert "care-worker" in vocabulary.ancestors("personal-assistants")


def test_an_ambiguous_word_alone_keeps_every_meaning_in_a_query_only(
    vocabulary: Vocabulary,
) -> None:
    assert _meanings(vocabulary, "carers", in_query=True) == [{"care-worker", "carer-support"}]
    # A listing's "our carers" says nothing about which: it carries neither concept.
    tokens = vocabulary.index_tokens("Our carers visit you at home")
    assert "@carer-support" not in tokens
    assert "@care-worker" not in tokens
    assert "carer" in tokens
    # Who is speaking decides: someone wanted, or someone looked after.
    assert _meanings(vocabulary, "someone to look after my mum", in_query=True) == [{"care-worker"}]
    assert _meanings(vocabulary, "I look after my mum", in_query=True) == [{"carer-support"}]


def test_a_query_term_may_not_also_mark_listings() -> None:
    with pytest.raises(ValueError, match="also listing terms"):
        Vocabulary.from_mapping(
            {
                "concept": [
                    {"id": "a", "terms": ["carer"]},
                    {"id": "b", "terms": ["unpaid carer"], "query_terms": ["carer"]},
                ]
            }
        )


def test_the_longest_term_wins(vocabulary: Vocabulary) -> None:
    stems = [t.stem for t in vocabulary.analyse("a stair lift and a lift to hospital")]
    spans = vocabulary.find(stems)
    assert [sorted(s.concepts) for s in spans] == [
        ["equipment-and-adaptations", "stairlifts"],
        ["transport"],
    ]


def test_care_home_and_care_at_home_stay_apart(vocabulary: Vocabulary) -> None:
    home = vocabulary.index_tokens("care at home")
    residential = vocabulary.index_tokens("a care home")
    assert "@help-at-home" in home
    assert "@care-home" not in home
    assert "@care-home" in residential
    assert "@help-at-home" not in residential


def test_each_concept_is_indexed_once_per_field(vocabulary: Vocabulary) -> None:
    tokens = vocabulary.index_tokens("respite, a short break, a sitting service")
    assert tokens.count("@respite-and-short-breaks") == 1


def test_no_term_is_a_single_word_that_plain_requests_drop(vocabulary: Vocabulary) -> None:
    # Such a term would tag every listing that says "help" or "care" with a concept.
    for concept in vocabulary.concepts.values():
        for term in concept.terms:
            tokens = vocabulary.analyse(term)
            assert tokens, term
            assert not (len(tokens) == 1 and tokens[0].word in vocabulary.plain_stop_words), term


def test_broken_vocabularies_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown broader"):
        Vocabulary.from_mapping({"concept": [{"id": "a", "terms": ["x"], "broader": ["b"]}]})
    with pytest.raises(ValueError, match="loop"):
        Vocabulary.from_mapping(
            {
                "concept": [
                    {"id": "a", "terms": ["x"], "broader": ["b"]},
                    {"id": "b", "terms": ["y"], "broader": ["a"]},
                ]
            }
        )
    with pytest.raises(ValueError, match="only stop words"):
        Vocabulary.from_mapping(
            {"stop_words": {"index": ["the"]}, "concept": [{"id": "a", "terms": ["the"]}]}
        )
    with pytest.raises(ValueError, match="twice"):
        Vocabulary.from_mapping({"concept": [{"id": "a", "terms": ["x"]}] * 2})
