"""A person's details over HTTP: the person's own pages (/my/details), the council's copy for
them, the provider's order page in each state, and hostile input answered with form errors."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from marketplace.orders import checkout, life
from marketplace.orders.models import Order
from marketplace.people import details
from marketplace.people.models import ContactMethod
from tests.conftest import sign_in
from tests.orders.fixtures import TODAY, World

KEY_SAFE = "C4729X"
ACCESS = "Side gate, then the back door"
# The clock at a fixed day (signing in and the pages' "today" follow it).
pytestmark = pytest.mark.usefixtures("after_the_schedule")
FILLED = {
    "date_of_birth": ["14", "3", "1941"],
    "address_line_1": "12 Orchard Way",
    "address_line_2": "",
    "town": "Stevenage",
    "county": "Hertfordshire",
    "postcode": "sg1 4qt",
    "phone": "01632  960901",
    "email": "dot@example.org",
    "preferred_contact": "phone",
    "communication_needs": "Hard of hearing: please knock loudly",
    "key_safe_code": KEY_SAFE,
    "access_notes": ACCESS,
}


@pytest.fixture
def citizen_client(app: Flask, world: World) -> FlaskClient:
    client = app.test_client()
    sign_in(client, world.citizen)
    return client


def test_a_citizen_enters_their_details_and_checks_them(
    session: Session, world: World, citizen_client: FlaskClient
) -> None:
    empty = citizen_client.get("/my/details")
    assert empty.status_code == 200
    assert "No one has changed these details on this site yet" in empty.get_data(as_text=True)
    assert citizen_client.get("/my/details/change").status_code == 200

    saved = citizen_client.post("/my/details/change", data=FILLED)
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert saved.headers["Location"].endswith("/my/details")
    session.expire_all()
    person = world.person
    assert (person.postcode, person.phone) == ("SG1 4QT", "01632 960901")
    assert person.date_of_birth == date(1941, 3, 14)
    assert person.preferred_contact is ContactMethod.PHONE
    assert (person.key_safe_code, person.access_notes) == (KEY_SAFE, ACCESS)

    page = citizen_client.get("/my/details").get_data(as_text=True)
    for shown in (
        "12 Orchard Way<br>Stevenage<br>Hertfordshire<br>SG1 4QT",
        "14 March 1941",
        "Phone call",
        "Hard of hearing",
        ACCESS,
        "Given (never shown here)",
        "Your details are saved",
    ):
        assert shown in page
    assert KEY_SAFE not in page
    # The record of changes: who (the person themself) and which fields, never the values.
    assert '<td class="govuk-table__cell">You</td>' in page
    assert "Key safe code" in page
    assert "Postcode" in page
    # The form never shows the key safe code back, and leaving it empty keeps it.
    form = citizen_client.get("/my/details/change").get_data(as_text=True)
    assert KEY_SAFE not in form
    assert 'value="12 Orchard Way"' in form
    assert 'value="1941"' in form
    again = citizen_client.post("/my/details/change", data={**FILLED, "key_safe_code": ""})
    assert again.status_code == 302
    session.expire_all()
    assert person.key_safe_code == KEY_SAFE
    assert len(details.details_history(session, person)) == 1, "nothing changed the second time"
    removed = citizen_client.post(
        "/my/details/change", data={**FILLED, "key_safe_code": "", "remove_key_safe_code": "y"}
    )
    assert removed.status_code == 302
    session.expire_all()
    assert person.key_safe_code is None
    assert details.details_history(session, person)[0].fields == ["key_safe_code"]
    # The home page points to them.
    assert "Check or change your details" in citizen_client.get("/my/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("posted", "field", "message"),
    [
        ({"postcode": "SG1"}, "postcode", "Enter a full UK postcode"),
        ({"phone": "call me"}, "phone", "Enter a phone number"),
        ({"date_of_birth": ["31", "2", "1950"]}, "date_of_birth", "must be a real date"),
        ({"date_of_birth": ["1", "1", "2999"]}, "date_of_birth", "must be in the past"),
        ({"date_of_birth": ["1", "1", "1800"]}, "date_of_birth", "the same as or after"),
        (
            {"date_of_birth": ["2147483648", "2147483648", "2147483648"]},
            "date_of_birth",
            "must be a real date",
        ),
        ({"date_of_birth": ["1", "", "1950"]}, "date_of_birth", "must include a day, month"),
        ({"address_line_1": "x" * 100_000}, "address_line_1", "100 characters or fewer"),
        ({"communication_needs": "x" * 501}, "communication_needs", "500 characters or fewer"),
        ({"key_safe_code": "1" * 21}, "key_safe_code", "20 characters or fewer"),
        ({"access_notes": "x" * 100_000}, "access_notes", "1000 characters or fewer"),
        ({"email": "not an email"}, "email", "correct format"),
        ({"preferred_contact": "pigeon"}, "preferred_contact", "Not a valid choice"),
        ({"town": "", "postcode": ""}, "town", "Enter town or city"),
        ({"preferred_contact": "email", "email": ""}, "email", "or choose another way"),
        ({"remove_key_safe_code": "y"}, "key_safe_code", "not both"),
    ],
)
def test_what_cannot_be_kept_is_answered_on_the_form(
    session: Session,
    world: World,
    citizen_client: FlaskClient,
    posted: dict[str, object],
    field: str,
    message: str,
) -> None:
    response = citizen_client.post("/my/details/change", data={**FILLED, **posted})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "govuk-error-summary" in page
    assert message in page, page[page.find("govuk-error-summary") :][:2000]
    session.expire_all()
    assert world.person.address_line_1 is None, "nothing is saved"
    assert details.details_history(session, world.person) == []


def test_an_officer_keeps_a_persons_details_for_them(
    app: Flask, session: Session, world: World
) -> None:
    officer = app.test_client()
    sign_in(officer, world.officer)
    person_page = officer.get(f"/council/people/{world.person.id}").get_data(as_text=True)
    assert f"/council/people/{world.person.id}/details" in person_page

    saved = officer.post(f"/council/people/{world.person.id}/details/change", data=FILLED)
    assert saved.status_code == 302
    page = officer.get(f"/council/people/{world.person.id}/details").get_data(as_text=True)
    assert world.officer.full_name in page
    assert KEY_SAFE not in page
    session.expire_all()
    assert details.details_history(session, world.person)[0].changed_by_id == world.officer.id


def _placed(session: Session, world: World, key: str = "order-1") -> Order:
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(),
        by=world.citizen,
        today=TODAY,
        placement_key=key,
    )
    session.commit()
    return order


def test_the_provider_sees_the_address_and_gets_in_only_once_it_accepts(
    app: Flask, session: Session, world: World, citizen_client: FlaskClient
) -> None:
    assert citizen_client.post("/my/details/change", data=FILLED).status_code == 302
    order = _placed(session, world)
    staff = app.test_client()
    sign_in(staff, world.staff)
    other = app.test_client()
    sign_in(other, world.other_staff)

    placed = staff.get(f"/provider/orders/{order.id}").get_data(as_text=True)
    assert "12 Orchard Way<br>Stevenage<br>Hertfordshire<br>SG1 4QT" in placed
    assert "01632 960901" in placed
    assert "Hard of hearing" in placed
    assert "Not given: contact the council" not in placed
    assert KEY_SAFE not in placed
    assert ACCESS not in placed
    assert "Shown only while you are delivering this order" in placed
    assert "14 March 1941" not in placed
    assert "1941" not in placed
    assert other.get(f"/provider/orders/{order.id}").status_code == 404

    life.accept(session, order, by=world.staff)
    session.commit()
    accepted = staff.get(f"/provider/orders/{order.id}").get_data(as_text=True)
    assert KEY_SAFE in accepted
    assert ACCESS in accepted
    assert other.get(f"/provider/orders/{order.id}").status_code == 404

    life.cancel(session, order, by=world.citizen, today=TODAY)
    session.commit()
    cancelled = staff.get(f"/provider/orders/{order.id}").get_data(as_text=True)
    assert order.status.value == "cancelled"
    assert KEY_SAFE not in cancelled
    assert ACCESS not in cancelled


def test_a_declined_order_shows_no_way_in(
    app: Flask, session: Session, world: World, citizen_client: FlaskClient
) -> None:
    assert citizen_client.post("/my/details/change", data=FILLED).status_code == 302
    order = _placed(session, world)
    life.decline(session, order, by=world.staff, reason="No carers free")
    session.commit()
    staff = app.test_client()
    sign_in(staff, world.staff)
    page = staff.get(f"/provider/orders/{order.id}").get_data(as_text=True)
    assert "Delivering it" in page
    assert KEY_SAFE not in page
    assert ACCESS not in page
