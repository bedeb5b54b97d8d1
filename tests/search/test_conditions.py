"""Conditions and situations (issue 21, item 7): words naming a condition find the services
whose eligibility or description covers it, and put the services for the person living with
it before the services for the people who look after them, unless the words speak as a carer."""

from __future__ import annotations

from search import SearchEngine
from search.indexing import who_it_is_for

from .helpers import ask, ids, listing


def test_eligibility_is_searched_though_the_description_does_not_say_it(
    engine: SearchEngine,
) -> None:
    engine.index_documents(
        [
            listing(
                "wednesday-club",
                name="Wednesday club",
                description="Lunch, music and games every Wednesday, with a nurse on hand.",
                category_codes=("day-centres",),
                category_names=("Day centres",),
                conditions=("Parkinson's", "multiple sclerosis"),
            ),
            listing("home-care", name="Home care"),
        ]
    )
    assert ids(ask(engine, q="parkinsons")) == ["wednesday-club"]
    assert ids(ask(engine, q="my wife has MS, multiple sclerosis")) == ["wednesday-club"]


def test_a_condition_finds_the_persons_service_before_the_carers(engine: SearchEngine) -> None:
    engine.index_documents(
        [
            listing(
                "carers",
                name="Dementia carers' group",
                description="Share what helps with others who understand dementia.",
                category_codes=("carer-support",),
                category_names=("Carer support",),
                conditions=("dementia",),
                for_carers=True,
            ),
            listing(
                "club",
                name="Thursday dementia club",
                description="A morning of music and games at the church hall.",
                category_codes=("clubs",),
                category_names=("Clubs",),
                conditions=("dementia",),
            ),
        ]
    )
    for words in ("dementia", "I have dementia", "mum was diagnosed with dementia"):
        assert ids(ask(engine, q=words)) == ["club", "carers"], words
    # Spoken as a carer, the carers' group comes first.
    for words in ("dementia carers", "I look after my mum, she has dementia"):
        assert ids(ask(engine, q=words))[0] == "carers", words


def test_who_it_is_for_reads_the_eligibility() -> None:
    assert who_it_is_for(listing("a")) == ""
    assert who_it_is_for(listing("a", conditions=("stroke",))) == ("For people living with stroke.")
    assert who_it_is_for(listing("a", for_carers=True, conditions=("stroke",))) == (
        "For unpaid carers of people with stroke."
    )
