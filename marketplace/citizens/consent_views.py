"""Who may act for the person: every consent they (or their attorney) gave, live or not, at
/my/consents; withdrawing one (a confirm page, then at once); giving one to a brokerage approved
by the council at /my/consents/new, which a broker's emailed request opens with
?brokerage=<id> (issue 17).

The pages are about the person in hand: the signed-in citizen's own, or, for a family member
acting for someone under a lasting power of attorney or deputyship, that person. Seeing them is
`view_consents`, changing them `manage_consents` (the person or their attorney, never a
broker): a broker acting for a client is told in words that only the client or their attorney
may.
"""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.accounts.models import User
from marketplace.accounts.policy import can
from marketplace.citizens import bp
from marketplace.citizens.consent_forms import GiveConsentForm, scope_choices
from marketplace.extensions import db
from marketplace.forms import ButtonForm, choices
from marketplace.pages.consents import consent_cards, consent_rows
from marketplace.pages.on_behalf import person_in_hand
from marketplace.people import consents
from marketplace.people.consents import ConsentRefused
from marketplace.people.models import Consent, Person
from marketplace.types import utcnow

# Which field of the form each of the rules' problems is about.
_FIELDS = {"brokerage": "brokerage", "scopes": "scopes", "ends_at": "ends_on"}


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _person(action: str) -> Person:
    """The person in hand (the one the user acts for, else their own), if the user may
    `action` about their consents; a 403 page in words for someone acting for them who may
    not (a broker), a 404 for anyone else."""
    person = person_in_hand()
    if person is None:
        abort(404)
    if not can(current_user, action, person):
        if getattr(current_user, "acting_for", None) is not None:
            abort(
                Response(
                    render_template("citizens/consents/not_yours.html", person=person),
                    status=403,
                    mimetype="text/html",
                )
            )
        abort(404)
    return person


def _own(person: Person) -> bool:
    return current_user.person_id == person.id


@bp.route("/consents")
@requires("use_citizen_pages")
def consents_page() -> str:
    person = _person("view_consents")
    may_manage = can(current_user, "manage_consents", person)
    return render_template(
        "citizens/consents/list.html",
        person=person,
        own=_own(person),
        cards=consent_cards(
            consents.consents_of(db.session, person),
            withdraw_url=_withdraw_url if may_manage else None,
        ),
        may_manage=may_manage,
    )


def _withdraw_url(consent: Consent) -> str:
    return url_for("citizens.withdraw_consent", consent_id=consent.id)


def _consent(person: Person, consent_id: uuid.UUID) -> Consent:
    consent = consents.consent_of(db.session, person, consent_id)
    if consent is None:
        abort(404)
    return consent


@bp.route("/consents/<uuid:consent_id>/withdraw", methods=["GET", "POST"])
@requires("use_citizen_pages")
def withdraw_consent(consent_id: uuid.UUID) -> Response | str:
    person = _person("manage_consents")
    consent = _consent(person, consent_id)
    if not consents.state_of(consent).may_withdraw:
        flash(f"The consent for {consent.grantee_name} has already ended or been withdrawn")
        return redirect(url_for("citizens.consents_page"))
    form = ButtonForm()
    if form.validate_on_submit():
        consents.revoke(db.session, consent, by=_user())
        flash(
            f"Consent withdrawn: {consent.grantee_name} can no longer act for "
            f"{'you' if _own(person) else person.full_name}",
            "success",
        )
        return redirect(url_for("citizens.consents_page"))
    return render_template(
        "citizens/consents/withdraw.html",
        person=person,
        own=_own(person),
        consent=consent,
        rows=consent_rows(consent),
        form=form,
    )


def _brokerage_asked_for() -> str | None:
    """The brokerage a broker's emailed link names (?brokerage=<id>), if it is one."""
    raw = request.args.get("brokerage", "")
    try:
        brokerage_id = uuid.UUID(raw)
    except ValueError:
        return None
    brokerage = consents.approved_brokerage(db.session, brokerage_id)
    return str(brokerage.id) if brokerage is not None else None


@bp.route("/consents/new", methods=["GET", "POST"])
@requires("use_citizen_pages")
def give_consent() -> Response | str | tuple[str, int]:
    person = _person("manage_consents")
    giver = consents.giver(_user(), person)
    if giver is None:  # manage_consents holds, so the person or an attorney: never here
        abort(404)
    brokerages = consents.approved_brokerages(db.session)
    form = GiveConsentForm()
    form.brokerage.choices = choices((str(b.id), b.name) for b in brokerages)
    form.scopes.choices = scope_choices(giver.may_give)
    if request.method == "GET":
        form.brokerage.data = _brokerage_asked_for()
    if form.validate_on_submit():
        try:
            given = _give(person, giver, form)
        except ConsentRefused as refused:
            _show(form, refused)
        else:
            flash(
                f"Consent given: {given.grantee_name} can now act for "
                f"{'you' if _own(person) else person.full_name} as you chose",
                "success",
            )
            return redirect(url_for("citizens.consents_page"))
    return render_template(
        "citizens/consents/new.html",
        person=person,
        own=_own(person),
        form=form,
        giver=giver,
        brokerages=brokerages,
    ), 400 if form.errors else 200


def _give(person: Person, giver: consents.Giver, form: GiveConsentForm) -> Consent:
    assert form.ends_on.data is not None
    brokerage = consents.approved_brokerage(db.session, uuid.UUID(str(form.brokerage.data)))
    if brokerage is None:  # the choices were approved brokerages a moment ago
        raise ConsentRefused({"brokerage": "Choose a brokerage approved by the council"})
    return consents.give(
        db.session,
        person=person,
        scopes=form.scopes.data or [],
        authority=giver.authority,
        given_by_name=giver.name,
        document_reference=giver.document_reference,
        starts_at=utcnow(),
        ends_at=consents.end_of_day(form.ends_on.data),
        recorded_by=_user(),
        brokerage=brokerage,
    )


def _show(form: GiveConsentForm, refused: ConsentRefused) -> None:
    """Each of the rules' problems beside its field (the rest above the form)."""
    for problem, message in refused.problems.items():
        field = _FIELDS.get(problem)
        if field is None:
            form.form_errors.append(message)
        else:
            form[field].errors = [*form[field].errors, message]
