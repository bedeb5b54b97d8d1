"""The council's queue of changes to packages waiting for its agreement (issue 18,
VARIATIONS): a price rise, or more hours or days, on a package the council pays for, once
the person and the provider have both accepted it. An officer agrees (the change takes effect
and the money follows) or refuses with a reason. Routes on `council`."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.console import queue_decisions
from marketplace.council import bp
from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.forms import show_refusal
from marketplace.ledger import LedgerError
from marketplace.orders import variation_terms, variations
from marketplace.orders.models import PackageVariation
from marketplace.pages.variation_forms import (
    CouncilDecisionForm,
    terms_now,
    terms_text,
    variation_words,
)


@bp.context_processor
def _variation_words() -> dict[str, Any]:
    return variation_words(london_today())


@bp.route("/variations")
@requires("council_decide_variation")
def variations_queue() -> str:
    return render_template(
        "council/variations/queue.html",
        describe=variation_terms.describe,
        waiting=[
            (waiting, variation_terms.weekly_change(waiting.order, waiting))
            for waiting in variations.awaiting_council(db.session)
        ],
    )


def _variation(variation_id: uuid.UUID) -> PackageVariation:
    found = db.session.get(PackageVariation, variation_id)
    if found is None:
        abort(404)
    return found


@bp.route("/variations/<uuid:variation_id>", methods=["GET", "POST"])
@requires("council_decide_variation")
def variation(variation_id: uuid.UUID) -> Response | tuple[str, int]:
    found = _variation(variation_id)
    form = CouncilDecisionForm()
    if form.validate_on_submit():
        agree = form.decision.data == "agree"
        try:
            variations.council_decide(
                db.session,
                found,
                by=current_user._get_current_object(),
                agree=agree,
                reason=form.reason.data or "",
            )
        except LedgerError as refusal:
            fields = refusal.details.get("fields") or {}
            show_refusal(form.reason if "reason" in fields else form, refusal)
        else:
            queue_decisions.variation_decided(
                db.session,
                found,
                by=current_user._get_current_object(),
                agreed=agree,
                reason=form.reason.data or "",
            )
            flash(
                f"The change to order {found.order.reference} is "
                + ("agreed: it takes effect and the money follows" if agree else "refused")
                + ". Both parties have been told.",
                "success",
            )
            return redirect(url_for("council.variations_queue"))
    before, after = variation_terms.weekly_change(found.order, found)
    return render_template(
        "council/variations/variation.html",
        variation=found,
        order=found.order,
        change=variation_terms.describe(found),
        now=terms_text(terms_now(found.order, london_today()), found.order),
        before_pence=before,
        after_pence=after,
        form=form,
    ), 400 if form.errors or form.form_errors else 200
