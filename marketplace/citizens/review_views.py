"""Rating a service after its order completed (issue 19, REVIEWS): the person, or whoever acts
for them under a consent covering their orders, rates it 1 to 5 with a short review, once an
order. Routes on `citizens`; the rules are `providers/reviews.py`."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.citizens import bp
from marketplace.citizens.order_views import own_order
from marketplace.extensions import db
from marketplace.forms import show_refusal
from marketplace.pages.on_behalf import refuse_outside_consent
from marketplace.pages.review_forms import ReviewForm
from providers import reviews


@bp.route("/orders/<uuid:order_id>/review", methods=["GET", "POST"])
@requires("use_citizen_pages")
def review_order(order_id: uuid.UUID) -> Response | tuple[str, int]:
    order = own_order(order_id)
    user = current_user._get_current_object()
    if not reviews.may_review(user, order):
        if current_user.acting_for is not None and order.status.value == "completed":
            refuse_outside_consent(order.person, "review_order")
        abort(404)
    existing = reviews.review_of_order(db.session, order.id)
    form = ReviewForm()
    if existing is None and form.validate_on_submit():
        try:
            reviews.write_review(
                db.session, order, by=user, rating=int(form.rating.data), text=form.text.data
            )
        except reviews.ReviewRefused as refusal:
            fields = refusal.details.get("fields") or {}
            show_refusal(form.text if "text" in fields else form, refusal)
        else:
            flash(
                "Thank you. The council checks every review before it is shown: you will be "
                "told when it has.",
                "success",
            )
            return redirect(url_for("citizens.order_page", order_id=order.id))
    return render_template(
        "citizens/orders/review.html",
        order=order,
        review=existing or reviews.review_of_order(db.session, order.id),
        form=form,
        text_max=reviews.TEXT_MAX_LENGTH,
    ), 400 if form.errors or form.form_errors else 200
