"""A client's page in the broker's workspace (/broker/clients/<person_id>): where their consent
stands, their money at a glance, the brokerage's notes about them (the client reads them too),
and inviting a client with no account to claim their record.

The person is loaded by `load_person_from_url` (the blueprint's `__init__`): only a broker of a
brokerage holding a live consent of theirs finds them (404 otherwise)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from marketplace.accounts import record_claims
from marketplace.accounts.access import requires
from marketplace.brokers import bp
from marketplace.brokers.forms import InviteToClaimForm, NoteForm
from marketplace.brokers.presenting import entry_rows
from marketplace.brokers.views import _broker, _brokerage, position_reader
from marketplace.extensions import db, limiter
from marketplace.forms import show_refusal
from marketplace.pages.acting_for import acting_for
from marketplace.people import caseload, consents
from marketplace.people.caseload import CaseloadRefused
from marketplace.people.models import ConsentScope


def _client_page(note_form: NoteForm | None = None) -> tuple[str, int]:
    broker = _broker()
    brokerage_id = _brokerage(broker).id
    person = acting_for()
    note_form = note_form or NoteForm()
    entry = caseload.client_entry(db.session, brokerage_id, person, position_of=position_reader())
    return render_template(
        "brokers/client.html",
        person=person,
        entry=entry,
        notes=caseload.notes_of(db.session, person, brokerage_id=brokerage_id),
        form=note_form,
        may_invite=person.user is None
        and caseload.record_made_by(db.session, brokerage_id, person),
        rows_of=entry_rows,
        last_day=consents.last_day,
        scope_label=lambda scope: ConsentScope(scope).label,
    ), 400 if note_form.errors else 200


@bp.route("/clients/<uuid:person_id>")
@requires("use_broker_pages")
def client_page() -> tuple[str, int]:
    return _client_page()


@bp.route("/clients/<uuid:person_id>/notes", methods=["POST"])
@requires("use_broker_pages")
def add_note() -> Response | tuple[str, int]:
    broker = _broker()
    brokerage_id = _brokerage(broker).id
    person = acting_for()
    form = NoteForm()
    if form.validate_on_submit():
        try:
            caseload.write_note(db.session, person=person, by=broker, text=form.text.data)
        except CaseloadRefused as refused:
            show_refusal(form.text, refused)
        else:
            caseload.keep_on_caseload(
                db.session, brokerage_id=brokerage_id, person=person, by=broker
            )
            flash("Note added", "success")
            return redirect(url_for("brokers.client_page", person_id=person.id) + "#notes")
    return _client_page(form)


@bp.route("/clients/<uuid:person_id>/invite", methods=["GET", "POST"])
# It emails an address the broker types, as a sign-up does: held to the sign-up's rate.
@limiter.limit(lambda: current_app.config["SIGN_UP_RATE_LIMIT"], methods=["POST"])
@requires("use_broker_pages")
def invite_to_claim() -> Response | tuple[str, int]:
    broker = _broker()
    brokerage_id = _brokerage(broker).id
    person = acting_for()
    form = InviteToClaimForm()
    if person.user is not None:
        flash(f"{person.full_name} already has an account", "success")
        return redirect(url_for("brokers.client_page", person_id=person.id))
    if not caseload.record_made_by(db.session, brokerage_id, person):
        abort(404)
    if not form.is_submitted() and person.email:
        form.email.data = person.email
    if form.validate_on_submit():
        email = form.email.data.strip()
        record_claims.invite_to_claim(
            person=person,
            email=email,
            by=broker,
            claim_link=lambda token: url_for("accounts.claim_record", token=token, _external=True),
            sign_in_link=url_for("accounts.sign_in", _external=True),
            reset_link=url_for("accounts.forgotten_password", _external=True),
        )
        # The same words whether or not the address has an account.
        flash(
            f"We have emailed {email} an invitation to see {person.full_name}'s record. The "
            "link works for 7 days.",
            "success",
        )
        return redirect(url_for("brokers.client_page", person_id=person.id))
    status = 400 if form.errors else 200
    return render_template("brokers/invite.html", form=form, person=person), status
