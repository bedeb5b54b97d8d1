"""Council officers' pages: the state of the market and what waits for them."""

from __future__ import annotations

from flask import Blueprint, render_template

from marketplace.accounts.policy import requires
from providers import directory
from providers.models import OrganisationStatus

bp = Blueprint("council", __name__, url_prefix="/council")


@bp.route("/")
@requires("use_council_pages")
def dashboard() -> str:
    return render_template(
        "council/dashboard.html",
        counts=directory.organisation_counts_by_status(),
        pending=directory.organisations_with_status(OrganisationStatus.PENDING),
        service_count=directory.public_service_count(),
        statuses=OrganisationStatus,
    )
