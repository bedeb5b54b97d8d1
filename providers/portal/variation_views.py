"""Changes to a package from the provider's side (issue 18, VARIATIONS): propose other hours
or days, a new price (with the notice date shown), a pause or a restart; accept or decline
what the person asks for; withdraw one's own proposal. Routes on `provider_portal`, under the
order's page, each order loaded by `with_own_order` (another organisation's: 404)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.accounts.models import User
from marketplace.accounts.policy import can, variation_side
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
from marketplace.pages.variation_forms import (
    HEADINGS,
    DeclineVariationForm,
    propose_from,
    variation_form,
    variation_words,
)
from providers.portal import bp
from providers.portal.order_views import with_own_order

PROVIDER_KINDS = {
    "hours": VariationKind.SCHEDULE,
    "price": VariationKind.PRICE,
    "pause": VariationKind.PAUSE,
    "restart": VariationKind.RESUME,
}


@bp.context_processor
def _variation_words() -> dict[str, Any]:
    return variation_words(london_today())


def _user() -> User:
    return current_user._get_current_object()


def _own_variation(order: Order, variation_id: uuid.UUID) -> PackageVariation:
    variation = variations.variation_of(db.session, order, variation_id)
    if variation is None:
        abort(404)
    return variation


def _back(order: Order) -> Response:
    return redirect(url_for("provider_portal.order", order_id=order.id) + "#changes")


@bp.route("/orders/<uuid:order_id>/changes/new/<kind>", methods=["GET", "POST"])
@requires("use_provider_portal")
@with_own_order
def propose_variation(found: Order, kind: str) -> Response | tuple[str, int]:
    if kind not in PROVIDER_KINDS:
        abort(404)
    today = london_today()
    form = variation_form(found, today)
    form.reason.label.text = "Why is this change needed?"
    form.submit.label.text = "Send the proposal"
    if form.validate_on_submit():
        proposed = propose_from(
            form,
            found,
            by=_user(),
            party=VariationParty.PROVIDER,
            kind=PROVIDER_KINDS[kind],
            today=today,
        )
        if proposed is not None:
            flash(f"Your proposal is sent: {variation_terms.describe(proposed)}", "success")
            return _back(found)
    return render_template(
        "providers/variations/propose.html",
        order=found,
        form=form,
        kind=PROVIDER_KINDS[kind],
        heading=HEADINGS[PROVIDER_KINDS[kind]],
        earliest=variation_terms.earliest_start(found, today),
        earliest_price=max(
            variation_terms.earliest_start(found, today),
            variation_terms.earliest_price_change(found, today),
        ),
    ), 400 if form.errors or form.form_errors else 200


def _variation_page(
    order: Order, variation: PackageVariation, refusal: LedgerError | None = None
) -> tuple[str, int]:
    button = ButtonForm()
    if refusal is not None:
        show_refusal(button, refusal)
    return render_template(
        "providers/variations/variation.html",
        order=order,
        variation=variation,
        form=button,
        may_decide=can(current_user, "decide_variation", variation),
        may_withdraw=variation_side(current_user, order) == variation.proposed_by_party.value,
    ), 400 if refusal is not None else 200


@bp.route("/orders/<uuid:order_id>/changes/<uuid:variation_id>")
@requires("use_provider_portal")
@with_own_order
def variation_page(found: Order, variation_id: uuid.UUID) -> tuple[str, int]:
    return _variation_page(found, _own_variation(found, variation_id))


@bp.route("/orders/<uuid:order_id>/changes/<uuid:variation_id>/accept", methods=["POST"])
@requires("use_provider_portal")
@with_own_order
def accept_variation(found: Order, variation_id: uuid.UUID) -> Response | tuple[str, int]:
    variation = _own_variation(found, variation_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        variations.accept(db.session, variation, by=_user())
    except LedgerError as refusal:
        return _variation_page(found, variation, refusal)
    flash(
        "You accepted the change. The council will now decide on it."
        if variation.state is VariationState.AWAITING_COUNCIL
        else f"You accepted the change: {variation_terms.describe(variation)}",
        "success",
    )
    return _back(found)


@bp.route("/orders/<uuid:order_id>/changes/<uuid:variation_id>/decline", methods=["GET", "POST"])
@requires("use_provider_portal")
@with_own_order
def decline_variation(found: Order, variation_id: uuid.UUID) -> Response | tuple[str, int]:
    variation = _own_variation(found, variation_id)
    if not can(current_user, "decide_variation", variation):
        abort(404)
    form = DeclineVariationForm()
    if form.validate_on_submit():
        try:
            variations.decline(db.session, variation, by=_user(), reason=form.reason.data)
        except LedgerError as refusal:
            form.reason.errors = [refusal_message(refusal, "reason")]
        else:
            flash("You declined the change. The person has been told.", "success")
            return _back(found)
    return render_template(
        "providers/variations/decline.html", order=found, variation=variation, form=form
    ), 400 if form.errors else 200


@bp.route("/orders/<uuid:order_id>/changes/<uuid:variation_id>/withdraw", methods=["POST"])
@requires("use_provider_portal")
@with_own_order
def withdraw_variation(found: Order, variation_id: uuid.UUID) -> Response | tuple[str, int]:
    variation = _own_variation(found, variation_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        variations.withdraw(db.session, variation, by=_user())
    except LedgerError as refusal:
        return _variation_page(found, variation, refusal)
    flash("Your proposal is withdrawn.", "success")
    return _back(found)
