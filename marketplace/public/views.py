"""Pages anyone can read without signing in: the start page, the directory, and our policies."""

from __future__ import annotations

import uuid

from flask import abort, render_template, request

from marketplace.cqc import checks
from marketplace.extensions import db
from marketplace.public import bp
from marketplace.public.shortlist_views import state_for
from marketplace.types import utcnow
from providers import directory, reviews
from providers.directory_summary import directory_summary


@bp.route("/")
def home() -> str:
    summary = directory_summary()
    return render_template(
        "public/home.html",
        categories=summary.categories,
        service_count=summary.service_count,
        districts=summary.districts,
    )


def _reviews_page() -> int:
    """`?reviews_page=`, from 1; anything else (or deeper than any list) is the first page."""
    text = request.args.get("reviews_page", "1").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 6):
        return 1
    return max(int(text), 1)


@bp.route("/services/<uuid:service_id>")
def service(service_id: uuid.UUID) -> str:
    listing = directory.public_service(service_id)
    if listing is None:
        abort(404)
    # REVIEWS (issue 19): its rating from published reviews, and a page of them (newest
    # first), read only when it has any.
    rating = reviews.ratings_for(db.session, [listing.id]).get(listing.id)
    reviews_page = _reviews_page()
    shown, more = (
        reviews.published_reviews(db.session, listing.id, page=reviews_page)
        if rating is not None
        else ([], False)
    )
    return render_template(
        "public/service.html",
        service=listing,
        rating=rating,
        reviews_shown=shown,
        reviews_page=reviews_page,
        more_reviews=more,
        cqc=checks.verified_location(listing),
        now=utcnow(),
        shortlist=state_for(listing.id),
    )


@bp.route("/providers/<uuid:organisation_id>")
def provider(organisation_id: uuid.UUID) -> str:
    organisation = directory.public_organisation(organisation_id)
    if organisation is None:
        abort(404)
    services = directory.public_services_of(organisation)
    return render_template(
        "public/provider.html",
        organisation=organisation,
        services=services,
        areas=directory.areas_served(organisation, services),
        cqc=checks.verified_locations(services),
        now=utcnow(),
    )


@bp.route("/accessibility")
def accessibility() -> str:
    return render_template("public/accessibility.html")


@bp.route("/privacy")
def privacy() -> str:
    return render_template("public/privacy.html")


@bp.route("/cookies")
def cookies() -> str:
    return render_template("public/cookies.html")


@bp.route("/feedback")
def feedback() -> str:
    return render_template("public/feedback.html")


@bp.route("/healthz")
def health() -> dict[str, str]:
    """For load balancers: the app answers and its database answers."""
    from marketplace.database import check_database

    check_database()
    return {"status": "ok"}
