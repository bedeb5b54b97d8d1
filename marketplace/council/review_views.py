"""The council's moderation of reviews (issue 19, REVIEWS): every review waits here, oldest
first, until an officer publishes it or rejects it with a reason; the decision goes in the
work queues' log and the writer is told. Routes on `council`; the rules are
`providers/reviews.py`."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.council import bp
from marketplace.council.paging import Paged, page_number
from marketplace.extensions import db
from marketplace.forms import show_refusal
from marketplace.pages.review_forms import ModerationForm
from marketplace.types import utcnow
from providers import reviews
from providers.models import ServiceReview

REVIEWS_PER_PAGE = 50


@bp.route("/reviews")
@requires("moderate_reviews")
def reviews_queue() -> str:
    page = page_number()
    return render_template(
        "council/reviews/queue.html",
        waiting=reviews.reviews_to_moderate(
            db.session, limit=REVIEWS_PER_PAGE, offset=(page - 1) * REVIEWS_PER_PAGE
        ),
        paged=Paged(
            page=page, per_page=REVIEWS_PER_PAGE, total=reviews.count_to_moderate(db.session)
        ),
        page_url=lambda number: url_for("council.reviews_queue", page=number),
        now=utcnow(),
    )


def _review(review_id: uuid.UUID) -> ServiceReview:
    found = reviews.review_by_id(db.session, review_id)
    if found is None:
        abort(404)
    return found


@bp.route("/reviews/<uuid:review_id>", methods=["GET", "POST"])
@requires("moderate_reviews")
def moderate_review(review_id: uuid.UUID) -> Response | tuple[str, int]:
    review = _review(review_id)
    form = ModerationForm()
    if review.status.value == "pending" and form.validate_on_submit():
        publish = form.decision.data == "publish"
        by = current_user._get_current_object()
        try:
            if publish:
                reviews.publish_review(db.session, review, by=by)
            else:
                reviews.reject_review(db.session, review, by=by, reason=form.reason.data)
        except reviews.ReviewRefused as refusal:
            fields = refusal.details.get("fields") or {}
            show_refusal(form.reason if "reason" in fields else form, refusal)
        else:
            flash(
                f"The review of {review.service.name} is "
                + ("published: it shows with the service and in search" if publish else "rejected")
                + ". Its writer has been told.",
                "success",
            )
            return redirect(url_for("council.reviews_queue"))
    return render_template(
        "council/reviews/review.html",
        review=review,
        form=form,
        reason_max=reviews.REASON_MAX_LENGTH,
    ), 400 if form.errors or form.form_errors else 200
