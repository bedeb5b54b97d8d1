"""The self-assessment's pages (issue 20, JOURNEY): the start page, one question per page,
check your answers, save and come back later, and the faults the issue names: answers changed
after "check your answers", a half-finished assessment resumed on another device, two people
editing one assessment, an assessment another browser does not hold, and bad input on every
kind of question."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from marketplace.extensions import db
from marketplace.referrals import questions as q
from marketplace.referrals.models import AssessmentStatus, SelfAssessment
from marketplace.types import utcnow
from tests.conftest import links_in_outbox
from tests.referrals.factories import COMPLETE_ANSWERS, answers, make_ras_version

BASE = "/self-assessment"


@pytest.fixture
def version(app: Flask) -> None:
    make_ras_version(db.session)
    db.session.commit()


def _revision(html: str) -> str:
    found = re.search(r'name="revision"[^>]*value="([0-9]+)"', html) or re.search(
        r'value="([0-9]+)"[^>]*name="revision"', html
    )
    assert found, "the page carries the revision it was drawn from"
    return found.group(1)


def _form_data(question: q.Question, value: Any, revision: str) -> MultiDict[str, Any]:
    data: MultiDict[str, Any] = MultiDict({"revision": revision})
    if question.kind == "contact":
        data.add("email", value.get("email", ""))
        data.add("phone", value.get("phone", ""))
    elif question.kind == "checkboxes":
        for one in value:
            data.add("answer", one)
    else:
        data.add("answer", value)
    return data


def _start(client: FlaskClient) -> uuid.UUID:
    response = client.post(f"{BASE}/start")
    assert response.status_code == 302
    found = re.search(r"/self-assessment/([0-9a-f-]{36})/question/who$", response.location)
    assert found, response.location
    return uuid.UUID(found.group(1))


def _answer(client: FlaskClient, assessment_id: uuid.UUID, key: str, value: Any, **args: str):  # type: ignore[no-untyped-def]
    url = f"{BASE}/{assessment_id}/question/{key}"
    query = "?" + "&".join(f"{k}={v}" for k, v in args.items()) if args else ""
    page = client.get(url + query)
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post(
        url + query, data=_form_data(q.BY_KEY[key], value, _revision(page.get_data(as_text=True)))
    )


def _answer_all(client: FlaskClient, assessment_id: uuid.UUID, given: dict[str, Any]) -> None:
    """Answer page after page, following where each answer leads, to check your answers."""
    url = f"{BASE}/{assessment_id}/question/who"
    while "/question/" in url:
        key = url.rsplit("/", 1)[1]
        response = _answer(client, assessment_id, key, given[key])
        assert response.status_code == 302, response.get_data(as_text=True)
        url = response.location
    assert url.endswith(f"/{assessment_id}/check")


def _assessment(assessment_id: uuid.UUID) -> SelfAssessment:
    db.session.expire_all()
    found = db.session.get(SelfAssessment, assessment_id)
    assert found is not None
    return found


def test_the_start_page_says_what_it_is_and_offers_to_continue(
    client: FlaskClient, version: None
) -> None:
    page = client.get(BASE).get_data(as_text=True)
    assert "Get help with care and support" in page
    assert "about 15 minutes" in page
    assert "family member, friend, carer or support broker" in page
    assert "save your answers and come back later" in page
    assert "Continue your self-assessment" not in page
    assessment_id = _start(client)
    _answer(client, assessment_id, "who", "person")
    page = client.get(BASE).get_data(as_text=True)
    assert "Continue your self-assessment" in page
    assert f"/{assessment_id}/question/full_name" in page


def test_the_home_page_links_to_the_self_assessment(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert f'href="{BASE}"' in page
    assert "Get help with care and support" in page


def test_someone_answering_for_a_relative_is_asked_about_them(
    client: FlaskClient, version: None
) -> None:
    assessment_id = _start(client)
    first = client.get(f"{BASE}/{assessment_id}/question/who").get_data(as_text=True)
    assert "Who is filling in this form?" in first
    assert f'href="{BASE}"' in first  # the back link, to the start page
    assert "Save and come back later" in first
    response = _answer(client, assessment_id, "who", "family")
    assert response.location.endswith("/question/who_name")
    _answer(client, assessment_id, "who_name", "Sam Jones, daughter")
    page = client.get(f"{BASE}/{assessment_id}/question/hygiene").get_data(as_text=True)
    assert "How much help do they need with" in page
    assessment = _assessment(assessment_id)
    assert assessment.completed_by is not None
    assert assessment.completed_by.value == "family"
    assert assessment.completed_by_name == "Sam Jones, daughter"


@pytest.mark.parametrize(
    ("key", "data", "message"),
    [
        ("who", {}, "Select who is filling in this form"),
        ("who", {"answer": "the_cat"}, "Select who is filling in this form"),
        ("full_name", {"answer": "  "}, "Enter the person&#39;s full name"),
        ("postcode", {"answer": "12345"}, "Enter a real postcode, like SG1 1AA"),
        ("contact", {"email": "", "phone": ""}, "Enter an email address or a phone number"),
        ("contact", {"email": "nope", "phone": ""}, "Enter an email address in the correct"),
        ("contact", {"email": "", "phone": "ring me"}, "Enter a phone number"),
        ("nutrition", {}, "Select how much help is needed with managing and maintaining"),
        ("conditions", {"answer": "werewolf"}, "Choose only from the options given"),
        ("in_your_words", {"answer": "z" * 1201}, "must be 1200 characters or fewer"),
    ],
)
def test_bad_input_on_every_kind_of_question_shows_the_error_summary_and_changes_nothing(
    client: FlaskClient, version: None, key: str, data: dict[str, str], message: str
) -> None:
    assessment_id = _start(client)
    _answer_all(client, assessment_id, COMPLETE_ANSWERS)
    before = _assessment(assessment_id)
    saved, revision = dict(before.answers), before.revision
    response = client.post(
        f"{BASE}/{assessment_id}/question/{key}", data={"revision": str(revision), **data}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "govuk-error-summary" in page
    assert "There is a problem" in page
    assert message in page
    assert "<title>Error: " in page
    after = _assessment(assessment_id)
    assert (after.answers, after.revision) == (saved, revision)


def test_a_change_from_check_your_answers_returns_there(client: FlaskClient, version: None) -> None:
    assessment_id = _start(client)
    _answer_all(client, assessment_id, answers(carer_support="none", carer_coping=None))
    check = client.get(f"{BASE}/{assessment_id}/check").get_data(as_text=True)
    assert "Check your answers before sending your self-assessment" in check
    assert "Day-to-day needs" in check
    assert "Urgency and money" in check
    assert f"/{assessment_id}/question/hygiene?change=1" in check

    back = client.get(f"{BASE}/{assessment_id}/question/hygiene?change=1").get_data(as_text=True)
    assert f'href="{BASE}/{assessment_id}/check"' in back
    response = _answer(client, assessment_id, "hygiene", "unable", change="1")
    assert response.location.endswith(f"/{assessment_id}/check")
    assert _assessment(assessment_id).answers["hygiene"] == "unable"

    # A change that makes a new question asked asks it first, then returns.
    response = _answer(client, assessment_id, "carer_support", "daily", change="1")
    assert response.location.endswith(f"/{assessment_id}/question/carer_coping?change=1")
    assert client.get(f"{BASE}/{assessment_id}/check").location.endswith("/question/carer_coping")
    response = _answer(client, assessment_id, "carer_coping", "no", change="1")
    assert response.location.endswith(f"/{assessment_id}/check")


def test_a_send_after_someone_else_changed_an_answer_is_refused(
    app: Flask, client: FlaskClient, version: None
) -> None:
    assessment_id = _start(client)
    _answer_all(client, assessment_id, COMPLETE_ANSWERS)
    check = client.get(f"{BASE}/{assessment_id}/check").get_data(as_text=True)
    checked = _revision(check)
    assert _assessment(assessment_id).checked_revision == int(checked)

    # Someone else, with the link, changes an answer after the check page was drawn.
    other = app.test_client()
    with other.session_transaction() as browser:
        browser["front_door_assessments"] = [str(assessment_id)]
    _answer(other, assessment_id, "urgency", "urgent")

    refused = client.post(f"{BASE}/{assessment_id}/check", data={"revision": checked})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "govuk-error-summary" in page
    assert "Someone changed an answer since you checked them" in page
    assert "Now: I am not safe" in page  # the page drawn again shows the change
    assessment = _assessment(assessment_id)
    assert assessment.status is AssessmentStatus.IN_PROGRESS
    assert assessment.referral is None
    assert _revision(page) == str(assessment.revision)


def test_a_half_finished_assessment_is_resumed_on_another_device(
    app: Flask, client: FlaskClient, version: None
) -> None:
    assessment_id = _start(client)
    _answer(client, assessment_id, "who", "person")
    _answer(client, assessment_id, "full_name", "Alex Example")
    # "Save and come back later" with nothing chosen on the page goes straight to the email.
    page = client.get(f"{BASE}/{assessment_id}/question/postcode").get_data(as_text=True)
    response = client.post(
        f"{BASE}/{assessment_id}/question/postcode",
        data={"revision": _revision(page), "answer": "", "save_later": "y"},
    )
    assert response.location.endswith(f"/{assessment_id}/save")
    refused = client.post(f"{BASE}/{assessment_id}/save", data={"email": "not an address"})
    assert refused.status_code == 400
    assert "Enter an email address in the correct format" in refused.get_data(as_text=True)
    response = client.post(f"{BASE}/{assessment_id}/save", data={"email": "alex@example.org"})
    assert response.location.endswith(f"/{assessment_id}/saved")
    saved = client.get(response.location).get_data(as_text=True)
    assert "alex@example.org" in saved
    assert "The link works until" in saved

    phone = app.test_client()
    assert phone.get(f"{BASE}/{assessment_id}/question/postcode").status_code == 404
    link = links_in_outbox(app, "alex@example.org")[-1]
    landing = phone.get(link)
    assert landing.location.endswith(f"/{assessment_id}/question/postcode")
    assert phone.get(landing.location).status_code == 200
    assert _answer(phone, assessment_id, "postcode", "SG1 1AA").status_code == 302
    assert _assessment(assessment_id).answers["postcode"] == "SG1 1AA"


def test_an_expired_or_replaced_link_says_so_plainly(
    app: Flask, client: FlaskClient, version: None
) -> None:
    assessment_id = _start(client)
    client.post(f"{BASE}/{assessment_id}/save", data={"email": "alex@example.org"})
    first = links_in_outbox(app, "alex@example.org")[-1]
    client.post(f"{BASE}/{assessment_id}/save", data={"email": "alex@example.org"})
    replaced = app.test_client().get(first)
    assert replaced.status_code == 404
    assert "This link does not work" in replaced.get_data(as_text=True)
    assert "Start a new self-assessment" in replaced.get_data(as_text=True)

    assessment = _assessment(assessment_id)
    assessment.resume_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    expired = app.test_client().get(links_in_outbox(app, "alex@example.org")[-1])
    assert expired.status_code == 410
    page = expired.get_data(as_text=True)
    assert "This link has expired" in page
    assert "Start a new self-assessment" in page


def test_two_people_editing_one_assessment(app: Flask, client: FlaskClient, version: None) -> None:
    assessment_id = _start(client)
    _answer_all(client, assessment_id, COMPLETE_ANSWERS)
    other = app.test_client()
    with other.session_transaction() as browser:
        browser["front_door_assessments"] = [str(assessment_id)]
    url = f"{BASE}/{assessment_id}/question/community"
    revision = _revision(client.get(url).get_data(as_text=True))
    assert _revision(other.get(url).get_data(as_text=True)) == revision

    assert client.post(url, data={"revision": revision, "answer": "unable"}).status_code == 302
    second = other.post(url, data={"revision": revision, "answer": "none"})
    page = second.get_data(as_text=True)
    assert second.status_code == 409
    assert "Someone else changed these answers since this page was shown" in page
    assert "I cannot do this, even with help" in page  # what is saved now, shown
    assert _assessment(assessment_id).answers["community"] == "unable"
    # The second person has now seen the saved answer: their next save is taken.
    assert other.post(url, data={"revision": _revision(page), "answer": "none"}).status_code == 302
    assert _assessment(assessment_id).answers["community"] == "none"


def test_an_assessment_another_browser_does_not_hold_is_not_found(
    app: Flask, client: FlaskClient, version: None
) -> None:
    assessment_id = _start(client)
    _answer_all(client, assessment_id, COMPLETE_ANSWERS)
    stranger = app.test_client()
    for path in ("question/who", "check", "save", "saved", "result"):
        assert stranger.get(f"{BASE}/{assessment_id}/{path}").status_code == 404, path
    assert stranger.post(f"{BASE}/{assessment_id}/check", data={"revision": "0"}).status_code == 404
    assert _assessment(assessment_id).status is AssessmentStatus.IN_PROGRESS


def test_sending_shows_the_result_page(app: Flask, client: FlaskClient, version: None) -> None:
    assessment_id = _start(client)
    _answer_all(client, assessment_id, answers(who="family", who_name="Sam Jones, daughter"))
    check = client.get(f"{BASE}/{assessment_id}/check").get_data(as_text=True)
    assert "the person knows you are asking the council for help for them" in check
    response = client.post(f"{BASE}/{assessment_id}/check", data={"revision": _revision(check)})
    assert response.location.endswith(f"/{assessment_id}/result")
    assessment = _assessment(assessment_id)
    assert assessment.status is AssessmentStatus.SUBMITTED
    assert assessment.referral is not None
    page = client.get(response.location).get_data(as_text=True)
    assert "Self-assessment sent" in page
    assert assessment.referral.reference in page
    assert "What happens next" in page
    assert f"/self-assessment/{assessment_id}/status" in page
    # Sent: its question pages lead to the result, and nothing more can change.
    assert client.get(f"{BASE}/{assessment_id}/question/hygiene").location.endswith("/result")
