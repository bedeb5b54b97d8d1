"""Changes to a package from the person's side (issue 18, VARIATIONS): ask for more or fewer
hours, other days, a pause or a restart; accept or decline what the provider proposes;
withdraw one's own request. Routes on `citizens`, under the order's own page; each write is
one call to `marketplace.orders.variations`, and a refusal is shown on the form (400)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from marketplace.accounts.access import requires
from marketplace.accounts.models import User
from marketplace.accounts.policy import can, variation_side
from marketplace.citizens import bp
from marketplace.citizens.order_views import own_order
from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.forms import ButtonForm, refusal_message, show_refusal
from marketplace.ledger import LedgerError
from marketplace.orders import variation_terms, variations
from marketplace.orders.models import (
    Order,
    PackageVariation,
    VariationKind,
    VariationParty,
    VariationState,
)
from marketplace.pages.on_behalf import refuse_outside_consent
from marketplace.pages.variation_forms import (
    HEADINGS,
    DeclineVariationForm,
    propose_from,
    variation_form,
    variation_words,
)

# What the person's side may ask for (a new price is the provider's to propose).
PERSON_KINDS = {
    "hours": VariationKind.SCHEDULE,
    "pause": VariationKind.PAUSE,
    "restart": VariationKind.RESUME,
}


@bp.context_processor
def _variation_words() -> dict[str, Any]:
    return variation_words(london_today())


def _user() -> User:
    return current_user._get_current_object()


def _as_person(order: Order) -> None:
    """The user speaks for the person in changes to this order, or is told why not."""
    if variation_side(current_user, order) != VariationParty.PERSON.value:
        if current_user.acting_for is not None:
            refuse_outside_consent(order.person, "propose_variation")
        abort(404)


def _own_variation(order: Order, variation_id: uuid.UUID) -> PackageVariation:
    variation = variations.variation_of(db.session, order, variation_id)
    if variation is None:
        abort(404)
    return variation


def _back(order: Order) -> BaseResponse:
    return redirect(url_for("citizens.order_page", order_id=order.id) + "#changes")


@bp.route("/orders/<uuid:order_id>/changes/new/<kind>", methods=["GET", "POST"])
@requires("use_citizen_pages")
def propose_variation(order_id: uuid.UUID, kind: str) -> BaseResponse | tuple[str, int]:
    order = own_order(order_id)
    if kind not in PERSON_KINDS:
        abort(404)
    _as_person(order)
    today = london_today()
    form = variation_form(order, today)
    if form.validate_on_submit():
        proposed = propose_from(
            form,
            order,
            by=_user(),
            party=VariationParty.PERSON,
            kind=PERSON_KINDS[kind],
            today=today,
        )
        if proposed is not None:
            flash(
                f"Your request is sent to {order.organisation.name}: "
                f"{variation_terms.describe(proposed)}. We will tell you when they answer.",
                "success",
            )
            return _back(order)
    return render_template(
        "citizens/variations/propose.html",
        order=order,
        form=form,
        kind=PERSON_KINDS[kind],
        heading=HEADINGS[PERSON_KINDS[kind]],
        earliest=variation_terms.earliest_start(order, today),
    ), 400 if form.errors or form.form_errors else 200


def _variation_page(
    order: Order, variation: PackageVariation, refusal: LedgerError | None = None
) -> tuple[str, int]:
    """The change, and what the user may do about it; a refusal in the error summary (400)."""
    button = ButtonForm()
    if refusal is not None:
        show_refusal(button, refusal)
    return render_template(
        "citizens/variations/variation.html",
        order=order,
        variation=variation,
        form=button,
        may_decide=can(current_user, "decide_variation", variation),
        may_withdraw=variation_side(current_user, order) == variation.proposed_by_party.value,
    ), 400 if refusal is not None else 200


@bp.route("/orders/<uuid:order_id>/changes/<uuid:variation_id>")
@requires("use_citizen_pages")
def variation_page(order_id: uuid.UUID, variation_id: uuid.UUID) -> tuple[str, int]:
    order = own_order(order_id)
    return _variation_page(order, _own_variation(order, variation_id))


@bp.route("/orders/<uuid:order_id>/changes/<uuid:variation_id>/accept", methods=["POST"])
@requires("use_citizen_pages")
def accept_variation(
    order_id: uuid.UUID, variation_id: uuid.UUID
) -> BaseResponse | tuple[str, int]:
    order = own_order(order_id)
    variation = _own_variation(order, variation_id)
    if not can(current_user, "decide_variation", variation):
        _as_person(order)
        abort(404)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        variations.accept(db.session, variation, by=_user())
    except LedgerError as refusal:
        return _variation_page(order, variation, refusal)
    flash(
        "You accepted the change. The council will now decide on it."
        if variation.state is VariationState.AWAITING_COUNCIL
        else f"You accepted the change: {variation_terms.describe(variation)}.",
        "success",
    )
    return _back(order)


@bp.route("/orders/<uuid:order_id>/changes/<uuid:variation_id>/decline", methods=["GET", "POST"])
@requires("use_citizen_pages")
def decline_variation(
    order_id: uuid.UUID, variation_id: uuid.UUID
) -> BaseResponse | tuple[str, int]:
    order = own_order(order_id)
    variation = _own_variation(order, variation_id)
    if not can(current_user, "decide_variation", variation):
        _as_person(order)
        abort(404)
    form = DeclineVariationForm()
    if form.validate_on_submit():
        try:
            variations.decline(
                db.session,
                variation,
                by=_user(),
                reason=form.reason.data,
            )
        except LedgerError as refusal:
            form.reason.errors = [refusal_message(refusal, "reason")]
        else:
            flash("You declined the change. The provider has been told.", "success")
            return _back(order)
    return render_template(
        "citizens/variations/decline.html", order=order, variation=variation, form=form
    ), 400 if form.errors else 200


@bp.route("/orders/<uuid:order_id>/changes/<uuid:variation_id>/withdraw", methods=["POST"])
@requires("use_citizen_pages")
def withdraw_variation(
    order_id: uuid.UUID, variation_id: uuid.UUID
) -> BaseResponse | tuple[str, int]:
    order = own_order(order_id)
    variation = _own_variation(order, variation_id)
    _as_person(order)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        variations.withdraw(db.session, variation, by=_user())
    except LedgerError as refusal:
        return _variation_page(order, variation, refusal)
    flash("Your request is withdrawn.", "success")
    return _back(order)
