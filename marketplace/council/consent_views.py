"""A person's consents, for the council (routes on the `council` blueprint, under the person
pages' loader): every consent they or their attorney gave, and recording a lasting power of
attorney or a deputyship an officer has seen, granted to a family member's own account (issue
17). Withdrawing is the person's or their attorney's, on their own pages."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.accounts.models import User
from marketplace.accounts.policy import can
from marketplace.council import bp
from marketplace.council.consent_forms import RecordAttorneyForm
from marketplace.extensions import db
from marketplace.pages.acting_for import acting_for
from marketplace.pages.consents import consent_cards
from marketplace.people import consents
from marketplace.people.consents import ConsentRefused
from marketplace.people.models import Authority, Consent, Person

# Which field of the form each of the rules' problems is about.
_FIELDS = {
    "grantee": "email",
    "scopes": "scopes",
    "ends_at": "ends_on",
    "document_reference": "document_reference",
}


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


@bp.route("/people/<uuid:person_id>/consents")
@requires("find_people")
def person_consents() -> str:
    person = acting_for()
    if not can(current_user, "view_consents", person):
        abort(404)
    return render_template(
        "council/consents.html",
        person=person,
        cards=consent_cards(consents.consents_of(db.session, person)),
    )


@bp.route("/people/<uuid:person_id>/consents/attorney", methods=["GET", "POST"])
@requires("find_people")
def record_attorney() -> Response | tuple[str, int]:
    person = acting_for()
    if not can(current_user, "record_legal_authority", person):
        abort(404)
    form = RecordAttorneyForm()
    if form.validate_on_submit():
        grantee = consents.citizen_account(db.session, form.email.data or "")
        if grantee is None:
            form.email.errors = [
                "There is no account with this email address. Ask the family member to "
                "create an account on this service first, then record the authority"
            ]
        else:
            try:
                consent = _record(person, grantee, form)
            except ConsentRefused as refused:
                _show(form, refused)
            else:
                flash(
                    f"{consent.authority.label} recorded: {grantee.full_name} can now act for "
                    f"{person.full_name}",
                    "success",
                )
                return redirect(url_for("council.person_consents", person_id=person.id))
    return render_template("council/record_attorney.html", person=person, form=form), (
        400 if form.errors else 200
    )


def _record(person: Person, grantee: User, form: RecordAttorneyForm) -> Consent:
    assert form.starts_on.data is not None
    assert form.ends_on.data is not None
    return consents.give(
        db.session,
        person=person,
        scopes=form.scopes.data or [],
        authority=Authority(form.authority.data),
        given_by_name=grantee.full_name,
        document_reference=form.document_reference.data,
        starts_at=consents.start_of_day(form.starts_on.data),
        ends_at=consents.end_of_day(form.ends_on.data),
        recorded_by=_user(),
        grantee=grantee,
    )


def _show(form: RecordAttorneyForm, refused: ConsentRefused) -> None:
    """Each of the rules' problems beside its field (the rest above the form)."""
    for problem, message in refused.problems.items():
        field = _FIELDS.get(problem)
        if field is None:
            form.form_errors.append(message)
        else:
            form[field].errors = [*form[field].errors, message]
