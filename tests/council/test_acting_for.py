"""The council's person pages load their person from the URL once, before the view
(marketplace/pages/acting_for.py): a missing person is a 404 for officers only; anyone else
gets what the page's @requires answers, whether or not the person exists."""

from __future__ import annotations

import uuid

import pytest
from flask.testing import FlaskClient

from marketplace.accounts.models import User
from tests.conftest import sign_in

PAGES = [
    "/council/people/{id}",
    "/council/people/{id}/details",
    "/council/people/{id}/details/change",
    "/council/people/{id}/plan",
    "/council/people/{id}/budgets/new",
    # A budget id fixed, not random: parallel workers must collect the same test names.
    "/council/people/{id}/budgets/5e1f6c3a-0000-4000-8000-000000000000/statement",
]


@pytest.mark.parametrize("page", PAGES)
def test_an_officer_reads_the_person_the_url_names(
    officer_client: FlaskClient, citizen: User, page: str
) -> None:
    response = officer_client.get(page.format(id=citizen.person_id))
    # The statement's budget id is made up: the person is found, the budget is not.
    assert response.status_code == (404 if "statement" in page else 200)
    if response.status_code == 200:
        assert citizen.person.full_name in response.get_data(as_text=True)


@pytest.mark.parametrize("page", PAGES)
def test_an_officer_asking_for_no_one_is_answered_404(
    officer_client: FlaskClient, page: str
) -> None:
    assert officer_client.get(page.format(id=uuid.uuid4())).status_code == 404


@pytest.mark.parametrize("page", PAGES)
def test_a_citizen_gets_403_whether_or_not_the_person_exists(
    client: FlaskClient, citizen: User, page: str
) -> None:
    sign_in(client, citizen)
    for person_id in (citizen.person_id, uuid.uuid4()):
        assert client.get(page.format(id=person_id)).status_code == 403


@pytest.mark.parametrize("page", PAGES)
def test_anyone_signed_out_is_sent_to_sign_in_whether_or_not_the_person_exists(
    client: FlaskClient, citizen: User, page: str
) -> None:
    for person_id in (citizen.person_id, uuid.uuid4()):
        response = client.get(page.format(id=person_id))
        assert response.status_code == 302
        assert "/sign-in" in response.location
