"""The organisation's published reviews and its one reply to each (issue 19, REVIEWS): the
list, those not yet replied to first, and each review with a form to reply. Routes on
`provider_portal`. A review is found only among the organisation's own services' published
reviews: anyone else's, or one not yet published, answers 404."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.accounts.policy import can
from marketplace.extensions import db
from marketplace.forms import show_refusal
from marketplace.pages.review_forms import ReplyForm
from providers import reviews
from providers.models import ServiceReview
from providers.portal import bp
from providers.portal.views import own_organisation

REVIEWS_PER_PAGE = 50


def _page_number() -> int:
    """`?page=`, from 1; anything else (or deeper than any list) is the first page."""
    text = request.args.get("page", "1").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 6):
        return 1
    return max(int(text), 1)


@bp.route("/reviews")
@requires("use_provider_portal")
def reviews_list() -> str:
    organisation = own_organisation()
    page = _page_number()
    published, total = reviews.reviews_of_organisation(
        db.session,
        organisation.id,
        limit=REVIEWS_PER_PAGE,
        offset=(page - 1) * REVIEWS_PER_PAGE,
    )
    return render_template(
        "providers/reviews/list.html",
        organisation=organisation,
        published=published,
        total=total,
        page=page,
        pages=max(-(-total // REVIEWS_PER_PAGE), 1),
    )


def _own_review(review_id: uuid.UUID) -> ServiceReview:
    review = reviews.review_by_id(db.session, review_id)
    if (
        review is None
        or review.status.value != "published"
        or not can(current_user, "reply_to_review", review.service)
    ):
        abort(404)
    return review


@bp.route("/reviews/<uuid:review_id>", methods=["GET", "POST"])
@requires("use_provider_portal")
def review(review_id: uuid.UUID) -> Response | tuple[str, int]:
    found = _own_review(review_id)
    form = ReplyForm()
    if found.replied_at is None and form.validate_on_submit():
        try:
            reviews.reply_to_review(
                db.session, found, by=current_user._get_current_object(), text=form.reply.data
            )
        except reviews.ReviewRefused as refusal:
            fields = refusal.details.get("fields") or {}
            show_refusal(form.reply if "reply" in fields else form, refusal)
        else:
            flash("Your reply is published under the review.", "success")
            return redirect(url_for("provider_portal.reviews_list"))
    return render_template(
        "providers/reviews/review.html",
        review=found,
        form=form,
        reply_max=reviews.REPLY_MAX_LENGTH,
    ), 400 if form.errors or form.form_errors else 200
