"""OUTCOMES (issue 18): a council officer sets an outcome-based order's safety parameters
(medication times, the time the person must be out of bed by), which the provider answers
every week. Routes on `council`; the rules are `marketplace.orders.outcomes`."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from werkzeug.wrappers import Response
from wtforms import StringField, SubmitField

from marketplace.accounts.access import requires
from marketplace.council import bp
from marketplace.extensions import db
from marketplace.forms import show_refusal
from marketplace.ledger import LedgerError
from marketplace.orders import outcomes, queries
from marketplace.orders.errors import InvalidOrder


class SafetyForm(FlaskForm):
    medication_times = StringField(
        "Medication times",
        widget=GovTextInput(),
        description="In 24-hour clock, separated by commas. For example, 08:00, 13:00, 20:00. "
        "Leave empty if there is no medication to give.",
    )
    not_in_bed_after = StringField(
        "Not left in bed after",
        widget=GovTextInput(),
        description="The time the person must be up by each day. For example, 10:00. Leave "
        "empty if there is none.",
    )
    submit = SubmitField("Save the safety checks", widget=GovSubmitInput())


@bp.route("/orders/<uuid:order_id>/safety", methods=["GET", "POST"])
@requires("set_outcome_safety")
def outcome_safety(order_id: uuid.UUID) -> Response | tuple[str, int]:
    order = queries.order_by_id(db.session, order_id)
    if order is None or not outcomes.is_outcome_order(order):
        abort(404)
    form = SafetyForm()
    if not form.is_submitted():
        form.medication_times.data = ", ".join(order.safety.get("medication_times", []))
        form.not_in_bed_after.data = order.safety.get("not_in_bed_after", "")
    if form.validate_on_submit():
        times = [t.strip() for t in (form.medication_times.data or "").split(",") if t.strip()]
        try:
            outcomes.set_safety(
                db.session,
                order,
                by=current_user,
                medication_times=times,
                not_in_bed_after=(form.not_in_bed_after.data or "").strip() or None,
            )
        except InvalidOrder as refused:
            for name in refused.details.get("fields") or {"medication_times": ""}:
                field = form._fields.get(name)
                show_refusal(field if field is not None else form, refused)
        except LedgerError as refused:
            show_refusal(form, refused)
        else:
            flash(f"The safety checks for order {order.reference} are saved", "success")
            return redirect(url_for("council.order", order_id=order.id))
    return render_template(
        "council/outcomes/safety.html", order=order, form=form
    ), 400 if form.errors else 200
