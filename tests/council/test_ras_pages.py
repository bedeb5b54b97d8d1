"""The council's resource allocation system pages (RAS, issue 20): the versions, a version's
configuration, making the next version (prefilled, validated with an error summary, saved as
the next number, a stale form refused), the "try it" preview, who may see them, and the
indication's macros for the person and for officers."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.council.ras_forms import field_for_path
from marketplace.extensions import db
from marketplace.referrals import ras
from marketplace.referrals.models import RasVersion
from tests.conftest import sign_in
from tests.referrals.factories import COMPLETE_ANSWERS, answers, make_assessment, make_ras_version


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(RasVersion)) or 0


def form_from_page(client: FlaskClient) -> dict[str, Any]:
    """The boxes of the "make a new version" page as a browser would send them back: every
    text box's value, every ticked checkbox, the hidden fields."""
    page = client.get("/council/ras/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    data: dict[str, Any] = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if name is None:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if kind and kind.group(1) == "checkbox":
            if "checked" in tag:
                data.setdefault(name.group(1), []).append(value.group(1) if value else "")
        elif kind is None or kind.group(1) in ("text", "hidden"):
            data[name.group(1)] = value.group(1) if value else ""
    return data


def test_the_versions_page_lists_each_version_and_what_it_produced(
    officer_client: FlaskClient,
) -> None:
    first = make_ras_version(db.session)
    make_assessment(db.session, first, COMPLETE_ANSWERS)
    make_assessment(db.session, first, COMPLETE_ANSWERS)
    second = make_ras_version(db.session)
    db.session.commit()
    page = officer_client.get("/council/ras")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"Version {second.number}" in html
    assert f"Version {first.number}" in html
    # Newest first, marked current; the first version produced two self-assessments.
    assert html.index(f"Version {second.number}") < html.index(f"Version {first.number}")
    rows = re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", html, re.S)
    first_row = next(row for row in rows if f">Version {first.number}<" in row)
    assert "Current" not in first_row
    assert re.findall(r"numeric\">(\d+)<", first_row) == ["2", "0"]


def test_a_version_page_shows_its_whole_configuration(officer_client: FlaskClient) -> None:
    version = make_ras_version(db.session)
    db.session.commit()
    html = officer_client.get(f"/council/ras/{version.number}").get_data(as_text=True)
    assert "£10 a week" in html  # the price per point
    assert "Substantial" in html
    assert "30%" in html
    assert "Maintaining personal hygiene" in html
    assert "£800 a week" in html
    assert "the NHS (a personal health budget)" in html  # for a terminal illness
    assert officer_client.get("/council/ras/999").status_code == 404


def test_the_form_is_prefilled_from_the_current_version_and_saves_the_next(
    officer_client: FlaskClient, officer: User
) -> None:
    current = make_ras_version(db.session)
    db.session.commit()
    data = form_from_page(officer_client)
    assert data["price_per_point"] == "10.00"
    assert data["based_on"] == str(current.number)
    assert data["band2_name"] == "Substantial"
    data |= {"price_per_point": "12.50", "note": "Prices rise in April"}
    response = officer_client.post("/council/ras/new", data=data)
    assert response.status_code == 302
    saved = ras.current_version(db.session)
    assert saved is not None
    assert saved.number == current.number + 1
    assert saved.config["price_per_point_pence"] == 1250
    assert saved.made_by_id == officer.id
    assert saved.note == "Prices rise in April"
    # Everything else is as it was.
    assert {**saved.config, "price_per_point_pence": 1000} == current.config


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"band1_from": "12"}, "band1_from", "There is a gap between bands 1 and 2"),
        ({"band1_from": "8"}, "band1_from", "Bands 1 and 2 overlap"),
        ({"op_hygiene_lot": "1"}, "op_hygiene_lot", "must not fall as need rises"),
        ({"op_hygiene_lot": "-1"}, "op_hygiene_lot", "must be a whole number"),
        ({"price_per_point": "0"}, "price_per_point", "The price per point must be 1 or more"),
        ({"price_per_point": "-3"}, "price_per_point", "cannot be negative"),
        ({"band3_to": "60"}, "band3_to", "The last band must reach the most points"),
        ({"max_points": ""}, "max_points", "The most points must be a whole number"),
        ({"note": ""}, "note", "Enter why you are making this version"),
    ],
)
def test_a_bad_version_is_refused_beside_its_box_and_nothing_is_saved(
    officer_client: FlaskClient, changes: dict[str, str], field: str, message: str
) -> None:
    make_ras_version(db.session)
    db.session.commit()
    data = form_from_page(officer_client) | {"note": "A change"} | changes
    response = officer_client.post("/council/ras/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "govuk-error-summary" in html
    assert f'href="#{field}"' in html  # the summary links to the box
    assert message in html
    assert _count() == 1


def test_a_version_saved_since_the_form_was_drawn_refuses_the_older_form(
    officer_client: FlaskClient,
) -> None:
    make_ras_version(db.session)
    db.session.commit()
    data = form_from_page(officer_client) | {"note": "Mine"}
    make_ras_version(db.session)  # another officer's, saved meanwhile
    db.session.commit()
    response = officer_client.post("/council/ras/new", data=data)
    assert response.status_code == 400
    assert "Version 2 was saved after you started, so yours was not saved" in response.get_data(
        as_text=True
    )
    assert _count() == 2


def test_try_it_shows_example_ranges_without_saving(officer_client: FlaskClient) -> None:
    make_ras_version(db.session)
    db.session.commit()
    data = form_from_page(officer_client) | {"price_per_point": "20", "preview": "1", "note": ""}
    response = officer_client.post("/council/ras/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "What these boxes would give (not saved)" in html
    assert "Cannot manage any personal care" in html
    assert _count() == 1


def test_the_first_version_can_be_made_from_the_suggested_start(
    officer_client: FlaskClient,
) -> None:
    data = form_from_page(officer_client) | {"note": "Opening the front door"}
    assert data["based_on"] == "0"
    assert officer_client.post("/council/ras/new", data=data).status_code == 302
    current = ras.current_version(db.session)
    assert current is not None
    assert current.number == 1
    assert current.config == ras.default_config()


@pytest.mark.parametrize("role", [Role.CITIZEN, Role.PROVIDER_STAFF, Role.BROKER])
@pytest.mark.parametrize("path", ["/council/ras", "/council/ras/1", "/council/ras/new"])
def test_only_officers_may_see_or_change_the_system(
    client: FlaskClient, make_user: Callable[..., User], role: Role, path: str
) -> None:
    make_ras_version(db.session)
    db.session.commit()
    sign_in(client, make_user(role))
    assert client.get(path).status_code == 403
    assert client.post("/council/ras/new", data={"note": "x"}).status_code == 403
    assert _count() == 1


def test_signed_out_people_are_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/council/ras")
    assert response.status_code == 302
    assert "sign-in" in response.headers["Location"]


def test_field_paths_reach_their_boxes() -> None:
    assert field_for_path("bands.1.from_points") == "band1_from"
    assert field_for_path("outcome_points.hygiene.lot") == "op_hygiene_lot"
    assert field_for_path("contribution.income_weekly.200_400.1") == "income_200_400_high"
    assert field_for_path("price_per_point_pence") == "price_per_point"
    assert field_for_path("bands") == ""


# The indication's macros ---------------------------------------------------------------------

MACROS = (
    '{% from "front_door/_indication.html" import indication_panel, indication_workings %}'
    "{{ indication_panel(indication, someone_else) }}{{ indication_workings(indication) }}"
)


def _render(app: Flask, answers_given: dict[str, Any], someone_else: bool = False) -> str:
    version = make_ras_version(db.session)
    indication = ras.make_indication(
        db.session, make_assessment(db.session, version, answers_given)
    )
    with app.test_request_context():
        return render_template_string(MACROS, indication=indication, someone_else=someone_else)


def test_the_person_sees_a_plain_range_that_is_not_a_decision(app: Flask) -> None:
    html = _render(app, COMPLETE_ANSWERS)
    assert "between £250 and £325 a week" in html
    assert "This is not a decision" in html
    assert "probably be between £10 and £80 a week" in html
    assert "What happens next" in html
    # The officers' workings: the version and each answer's points.
    assert "Version 1, worked out" in html
    assert "Maintaining personal hygiene" in html
    assert "Substantial" in html


def test_a_self_funder_is_told_they_will_probably_pay_and_someone_else_reads_they(
    app: Flask,
) -> None:
    html = _render(
        app, answers(savings="over_upper", conditions=["end_of_life"]), someone_else=True
    )
    assert "they will probably pay for their own care" in html
    assert "the NHS may pay for some or all of their care" in html
