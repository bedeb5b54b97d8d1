"""The feed's `search` words mean what the person typing them means (issue 21, item 6):
a paid helper's job title is not a support group for unpaid carers, "carer" alone still finds
both, and the exact phrase wins."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from marketplace.extensions import db
from providers import search_index
from providers.models import Service

MakeService = Callable[..., Service]


@pytest.fixture(params=["whoosh", "tantivy"])
def engine_client(
    request: pytest.FixtureRequest, make_app: Callable[..., Flask]
) -> Iterator[FlaskClient]:
    app = make_app(SEARCH_ENGINE=request.param)
    with app.app_context():
        yield app.test_client()


@pytest.fixture
def directory(engine_client: FlaskClient, make_service: MakeService) -> list[Service]:
    made = [
        make_service(
            "Carers' support group",
            description="A monthly group for unpaid carers looking after a relative or friend: "
            "share tips with other carers, get advice and have a break.",
            categories=("carer-support",),
        ),
        make_service(
            "Carers of people with Parkinson's",
            description="Family carers of someone with Parkinson's meet to share what helps.",
            categories=("carer-support",),
        ),
        make_service(
            "Find a personal assistant",
            description="We help you employ your own PA with a direct payment.",
            categories=("personal-assistants",),
        ),
        make_service(
            "Home care visits",
            description="Our carers visit you at home to help with washing and dressing.",
            categories=("personal-care",),
        ),
        make_service(
            "Parkinson's exercise and support group",
            description="For people living with Parkinson's disease: gentle exercise, "
            "voice work and a chat with others who understand.",
            categories=("exercise",),
        ),
    ]
    search_index.sync()
    db.session.commit()
    return made


def _names(client: FlaskClient, words: str) -> list[str]:
    response = client.get("/api/v1/services", query_string={"search": words, "per_page": "50"})
    assert response.status_code == 200, response.get_json()
    return [item["name"] for item in response.get_json()["contents"]]


@pytest.mark.parametrize("words", ["care worker", "support worker", "paid carer"])
def test_a_paid_helpers_job_title_does_not_find_groups_for_unpaid_carers(
    engine_client: FlaskClient, directory: list[Service], words: str
) -> None:
    names = _names(engine_client, words)
    assert set(names) == {"Find a personal assistant", "Home care visits"}


def test_carer_alone_still_finds_paid_and_unpaid(
    engine_client: FlaskClient, directory: list[Service]
) -> None:
    names = _names(engine_client, "carer")
    assert {"Carers' support group", "Find a personal assistant", "Home care visits"} <= set(names)


def test_the_exact_phrase_wins(engine_client: FlaskClient, directory: list[Service]) -> None:
    assert _names(engine_client, "personal assistant") == ["Find a personal assistant"]
    assert _names(engine_client, "unpaid carers")[0] == "Carers' support group"


def test_who_is_speaking_decides_between_paid_help_and_support_for_carers(
    engine_client: FlaskClient, directory: list[Service]
) -> None:
    wanted = _names(engine_client, "someone to look after my mum")
    assert set(wanted) == {"Find a personal assistant", "Home care visits"}
    assert not any(name.startswith("Carers") for name in wanted)

    looking_after = _names(engine_client, "I look after my mum")
    assert looking_after[0] == "Carers' support group"


def test_a_condition_named_only_in_the_eligibility_is_found_for_the_person_first(
    engine_client: FlaskClient, make_service: MakeService
) -> None:
    # Issue 21, item 7: the words people use for their condition reach the services whose
    # eligibility covers it, before the services for the people who look after them.
    make_service(
        "Thursday club",
        description="Music, games and lunch at the church hall.",
        categories=("clubs",),
        eligibility={"min_age": 18, "conditions": ["Parkinson's"]},
    )
    make_service(
        "Carers' evening",
        description="An evening for people who look after someone with Parkinson's.",
        categories=("carer-support",),
        eligibility={"carers": True, "conditions": ["Parkinson's"]},
    )
    search_index.sync()
    db.session.commit()

    assert _names(engine_client, "I have Parkinsons") == ["Thursday club", "Carers' evening"]
    assert _names(engine_client, "parkinsons carers")[0] == "Carers' evening"
