"""Consents through the integration API (issue 17): a broker's token lists the consents its
brokerage holds; a person (or their attorney) lists, gives and withdraws their consents.

Acting on someone's behalf needs nothing else here: a token acting for a broker's account is
judged by the policy exactly as the broker is, so the people, budget, statement and order
endpoints answer it only within the live consents its brokerage holds, scope by scope
(docs/brokers.md).
"""

from __future__ import annotations

import uuid
from datetime import date

from flask import Response, jsonify, url_for

from marketplace.accounts.models import User
from marketplace.accounts.policy import can
from marketplace.api import auth, bp, consent_json
from marketplace.api.bodies import json_body
from marketplace.api.idempotency import idempotent
from marketplace.api.integration_requests import json_object
from marketplace.api.problems import ApiProblem, invalid
from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.people import consents
from marketplace.people.consents import ConsentRefused
from marketplace.people.models import Consent, ConsentScope, Person
from marketplace.people.service import person_by_id
from marketplace.types import utcnow
from providers.openreferral.identifiers import parse_uuid

_GIVE_FIELDS = {"brokerage_id", "scopes", "ends_on"}


def _answer(body: object, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _user() -> User:
    principal = auth.current_principal()
    if isinstance(principal, User):
        return principal
    raise ApiProblem(
        "forbidden",
        "Consents belong to people: use a token made for a user account (a broker, the "
        "person, or their attorney) or sign in",
        reason="token_acts_for_no_one",
    )


def _person(person_id: str) -> Person:
    found_id = parse_uuid(person_id)
    found = person_by_id(db.session, found_id) if found_id else None
    if found is None:
        raise ApiProblem("not_found", f"There is no person with id {person_id!r}")
    return found


def _consent(consent_id: str) -> Consent:
    found_id = parse_uuid(consent_id)
    found = db.session.get(Consent, found_id) if found_id else None
    if found is None:
        raise ApiProblem("not_found", f"There is no consent with id {consent_id!r}")
    return found


@bp.get("/consents")
def held_consents() -> Response:
    """The live consents the caller holds: a broker's brokerage's, or those granted to the
    caller's own account (a family member's)."""
    user = _user()
    held = consents.held_by(db.session, user)
    return _answer({"items": [consent_json.consent(c) for c in held]})


@bp.get("/people/<person_id>/consents")
def person_consents(person_id: str) -> Response:
    """Every consent of the person's, live or not: the person, their attorney, officers."""
    auth.current_principal()
    found = _person(person_id)
    auth.check("view_consents", found)
    return _answer(
        {"items": [consent_json.consent(c) for c in consents.consents_of(db.session, found)]}
    )


@bp.post("/people/<person_id>/consents")
@idempotent
def give_consent(person_id: str) -> Response:
    """The person (or their attorney) gives an approved brokerage consent, from now until the
    end of `ends_on` (London), for `scopes`."""
    user = _user()
    found = _person(person_id)
    auth.check("manage_consents", found)
    giver = consents.giver(user, found)
    if giver is None:  # manage_consents holds: the person or an attorney, never here
        raise ApiProblem("forbidden", "You may not give consent for this person")
    brokerage_id, scopes, ends_on = _give_request(json_body())
    brokerage = consents.approved_brokerage(db.session, brokerage_id)
    if brokerage is None:
        raise invalid(
            {"brokerage_id": "There is no brokerage approved by the council with this id"}
        )
    try:
        given = consents.give(
            db.session,
            person=found,
            scopes=scopes,
            authority=giver.authority,
            given_by_name=giver.name,
            document_reference=giver.document_reference,
            starts_at=utcnow(),
            ends_at=consents.end_of_day(ends_on),
            recorded_by=user,
            brokerage=brokerage,
        )
    except ConsentRefused as refused:
        raise _refusal(refused) from refused
    response = _answer(consent_json.consent(given), 201)
    response.headers["Location"] = url_for("api.get_consent", consent_id=given.id)
    return response


@bp.get("/consents/<consent_id>")
def get_consent(consent_id: str) -> Response:
    """One consent: whoever may see the person's consents, or a holder of it."""
    user = _user()
    found = _consent(consent_id)
    if not (found.held_by(user) or can(user, "view_consents", found.person)):
        raise ApiProblem("not_found", f"There is no consent with id {consent_id!r}")
    return _answer(consent_json.consent(found))


@bp.post("/consents/<consent_id>/revoke")
@idempotent
def revoke_consent(consent_id: str) -> Response:
    """Withdraw a consent at once (the person or their attorney). Withdrawing one already
    withdrawn or ended changes nothing and answers it as it stands."""
    user = _user()
    found = _consent(consent_id)
    if not can(user, "view_consents", found.person) and not found.held_by(user):
        raise ApiProblem("not_found", f"There is no consent with id {consent_id!r}")
    auth.check("manage_consents", found.person)
    consents.revoke(db.session, found, by=user)
    return _answer(consent_json.consent(found))


def _give_request(body: object) -> tuple[uuid.UUID, list[str], date]:
    """The brokerage, scopes and last day asked for; every mistake named at once (422)."""
    asked = json_object(body)
    errors = {name: "This field is unknown" for name in sorted(set(asked) - _GIVE_FIELDS)}
    raw_id = asked.get("brokerage_id")
    brokerage_id = parse_uuid(raw_id) if isinstance(raw_id, str) else None
    if brokerage_id is None:
        errors["brokerage_id"] = "Give the id of a brokerage approved by the council"
    scopes = asked.get("scopes")
    known = {scope.value for scope in ConsentScope}
    if not isinstance(scopes, list) or not scopes or not all(isinstance(s, str) for s in scopes):
        errors["scopes"] = f"Give a list of one or more of: {', '.join(sorted(known))}"
    elif set(scopes) - known:
        errors["scopes"] = f"Unknown scopes: {', '.join(sorted(set(scopes) - known))}"
    ends_on = _day(asked.get("ends_on"))
    if ends_on is None:
        errors["ends_on"] = "Give the consent's last day as YYYY-MM-DD"
    elif ends_on < london_today():
        errors["ends_on"] = "The last day must be today or later"
    if errors or brokerage_id is None or ends_on is None or not isinstance(scopes, list):
        raise invalid(errors)
    return brokerage_id, sorted(set(scopes)), ends_on


def _day(value: object) -> date | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


_FIELDS = {"brokerage": "brokerage_id", "ends_at": "ends_on", "starts_at": "ends_on"}


def _refusal(refused: ConsentRefused) -> ApiProblem:
    """The rules' refusal, its fields named as the request named them."""
    fields = {_FIELDS.get(name, name): message for name, message in refused.problems.items()}
    return invalid(fields, refused.message)
