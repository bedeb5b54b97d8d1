"""The person's status page (REFERRALS, issue 20): the reference, the status in plain words, the
timeline of the steps shown to the person (never an officer's internal note), what happens
next; and who may see it: the browser that sent it or the account it belongs to, never another
browser, another citizen or a provider (404). A signed-in citizen's home lists their referrals."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, url_for
from flask.testing import FlaskClient

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.front_door.access import SESSION_KEY
from marketplace.referrals.models import Referral, ReferralEvent, ReferralStatus
from tests.conftest import sign_in
from tests.referrals.factories import NOW, make_assessment, make_ras_version, make_referral


def _referral(user: User | None = None) -> Referral:
    made = make_referral(db.session, make_ras_version(db.session, config={}), user=user)
    db.session.add(
        ReferralEvent(
            referral_id=made.id,
            kind="note",
            note="Internal: check the safeguarding log",
            shown_to_person=False,
            at=NOW,
        )
    )
    db.session.commit()
    return made


def _hold(client: FlaskClient, referral: Referral) -> None:
    with client.session_transaction() as held:
        held[SESSION_KEY] = [str(referral.assessment_id)]


def test_the_browser_that_sent_it_sees_its_status_and_timeline(
    app: Flask, client: FlaskClient
) -> None:
    referral = _referral()
    _hold(client, referral)
    answer = client.get(f"/self-assessment/{referral.assessment_id}/status")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert referral.reference in page
    assert "Received" in page
    assert "An officer will contact you" in page  # what happens next
    assert "Sent by" in page  # the received event, shown to the person
    assert "safeguarding" not in page  # an officer's note is not


def test_the_status_follows_the_referral(app: Flask, client: FlaskClient) -> None:
    referral = _referral()
    referral.status = ReferralStatus.RESOLVED
    referral.resolution_note = "Grab rails fitted by the equipment service"
    db.session.commit()
    _hold(client, referral)
    page = client.get(f"/self-assessment/{referral.assessment_id}/status").get_data(as_text=True)
    assert "Grab rails fitted by the equipment service" in page
    assert "fill in a new self-assessment" in page


def test_another_browser_citizen_or_provider_is_told_not_found(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    referral = _referral()
    url = f"/self-assessment/{referral.assessment_id}/status"
    assert client.get(url).status_code == 404  # a browser that does not hold it
    sign_in(client, make_user(Role.CITIZEN))
    assert client.get(url).status_code == 404
    provider = app.test_client()
    sign_in(provider, make_user(Role.PROVIDER_STAFF))
    assert provider.get(url).status_code == 404


def test_the_account_that_sent_it_sees_it_and_lists_it_on_its_home(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    citizen = make_user(Role.CITIZEN)
    referral = _referral(user=citizen)
    sign_in(client, citizen)
    assert client.get(f"/self-assessment/{referral.assessment_id}/status").status_code == 200
    home = client.get(_home_url(app)).get_data(as_text=True)
    assert referral.reference in home
    assert f"/self-assessment/{referral.assessment_id}/status" in home
    assert "Received" in home


def _home_url(app: Flask) -> str:
    with app.test_request_context():
        return url_for("citizens.dashboard")


def test_an_assessment_not_yet_sent_has_no_status_page(app: Flask, client: FlaskClient) -> None:
    assessment = make_assessment(db.session, make_ras_version(db.session, config={}))
    db.session.commit()
    with client.session_transaction() as held:
        held[SESSION_KEY] = [str(assessment.id)]
    assert client.get(f"/self-assessment/{assessment.id}/status").status_code == 404
