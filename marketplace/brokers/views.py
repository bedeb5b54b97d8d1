"""Brokers' workspace: the caseload (each client's money, open orders, shortlists and questions
waiting, consents about to end), adding a client with the consent they gave on paper, and
asking someone for consent online."""

from __future__ import annotations

from functools import partial

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.accounts.models import User
from marketplace.brokers import bp
from marketplace.brokers.forms import AddClientForm, AskForConsentForm
from marketplace.brokers.presenting import entry_rows
from marketplace.extensions import db, limiter
from marketplace.formatting import london_today
from marketplace.forms import show_refusal
from marketplace.orders.positions import money_position
from marketplace.people import caseload, consents
from marketplace.people.caseload import CaseloadRefused
from marketplace.people.consents import ConsentRefused
from marketplace.people.models import Authority
from marketplace.types import utcnow
from providers.models import Organisation

# A refusal's field (the rules' parameter names) and the form field it is shown beside.
_FIELDS = {
    "full_name": "full_name",
    "scopes": "scopes",
    "starts_at": "ends_on",
    "ends_at": "ends_on",
    "document_reference": "document_reference",
    "given_by_name": "given_by_name",
    "authority": "authority",
}


def _broker() -> User:
    user: User = current_user._get_current_object()
    return user


def _brokerage(broker: User) -> Organisation:
    """The broker's brokerage (every broker has one: a CHECK constraint says so)."""
    if broker.organisation is None:
        abort(403)
    return broker.organisation


def position_reader() -> caseload.PositionOf:
    """How the caseload reads a client's money: as their own home page does, today."""
    return partial(money_position, db.session, today=london_today())


@bp.route("/")
@requires("use_broker_pages")
def dashboard() -> str:
    brokerage = _brokerage(_broker())
    entries = caseload.clients_of(db.session, brokerage.id, position_of=position_reader())
    return render_template(
        "brokers/dashboard.html",
        # Consents to a brokerage count only while the council approves it (Consent.held_by).
        approved=brokerage.is_public,
        entries=entries,
        expiring=[e for e in entries if e.state is caseload.ConsentState.EXPIRING],
        rows_of=entry_rows,
        last_day=consents.last_day,
    )


@bp.route("/clients/new", methods=["GET", "POST"])
@requires("manage_caseload")
def add_client() -> Response | tuple[str, int]:
    broker = _broker()
    form = AddClientForm()
    if form.validate_on_submit():
        ends_on = form.ends_on.data
        if ends_on is None:  # the form's validate() requires it
            abort(400)
        try:
            client = caseload.add_client(
                db.session,
                brokerage=_brokerage(broker),
                by=broker,
                full_name=form.full_name.data,
                date_of_birth=form.date_of_birth.data,
                postcode=form.postcode.data,
                email=form.email.data,
                scopes=list(form.scopes.data or []),
                authority=Authority(form.authority.data),
                given_by_name=form.given_by_name.data,
                document_reference=(form.document_reference.data or "").strip() or None,
                starts_at=utcnow(),
                ends_at=consents.end_of_day(ends_on),
            )
        except (CaseloadRefused, ConsentRefused) as refused:
            _show(form, refused)
        else:
            flash(f"{client.person.full_name} is now your client", "success")
            return redirect(url_for("brokers.client_page", person_id=client.person_id))
    status = 400 if form.errors else 200
    return render_template("brokers/add_client.html", form=form), status


def _show(form: AddClientForm, refused: CaseloadRefused | ConsentRefused) -> None:
    shown = False
    for problem in refused.problems:
        name = _FIELDS.get(problem)
        if name is not None:
            show_refusal(getattr(form, name), refused)
            shown = True
    if not shown:
        show_refusal(form, refused)


@bp.route("/clients/ask-for-consent", methods=["GET", "POST"])
# It emails an address the broker types, as a sign-up does: held to the sign-up's rate.
@limiter.limit(lambda: current_app.config["SIGN_UP_RATE_LIMIT"], methods=["POST"])
@requires("manage_caseload")
def ask_for_consent() -> Response | tuple[str, int]:
    broker = _broker()
    brokerage = _brokerage(broker)
    form = AskForConsentForm()
    if form.validate_on_submit():
        email = form.email.data.strip()
        caseload.ask_for_consent(
            brokerage=brokerage,
            by=broker,
            email=email,
            consent_link=url_for("citizens.give_consent", brokerage=brokerage.id, _external=True),
        )
        # The same words whoever the address belongs to: a broker never learns who has an
        # account.
        flash(
            f"We have emailed {email} a link to give your brokerage consent. They will appear "
            "in your clients once they have given it.",
            "success",
        )
        return redirect(url_for("brokers.dashboard"))
    status = 400 if form.errors else 200
    return render_template("brokers/ask_for_consent.html", form=form), status
