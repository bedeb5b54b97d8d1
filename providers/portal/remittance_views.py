"""PAYRUNS (issue 19): the organisation's remittance advice (routes on `provider_portal`): the
remittances of the council's payment runs whose files were sent, newest first, and each one's
lines (an invoice's share from one payer: funder, cost centre, period, amount) with its CSV.
Another organisation's remittance, or one not sent, answers 404."""

from __future__ import annotations

from flask import abort, render_template, request, url_for
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.extensions import db
from marketplace.finance import payment_files, payment_runs
from marketplace.finance.models import Remittance
from marketplace.pages.downloads import csv_download
from providers.portal import bp
from providers.portal.views import own_organisation

REMITTANCES_PER_PAGE = 25


def _page() -> int:
    """`?page=`, from 1; anything else is the first page (as the council's lists do)."""
    text = request.args.get("page", "1").strip()
    return max(int(text), 1) if text.isascii() and text.isdigit() and len(text) <= 6 else 1


@bp.route("/remittances")
@requires("use_provider_portal")
def remittances() -> str:
    organisation = own_organisation()
    page = _page()
    found, total = payment_runs.remittances_of_organisation(
        db.session, organisation.id, page=page, per_page=REMITTANCES_PER_PAGE
    )
    pages = max(-(-total // REMITTANCES_PER_PAGE), 1)
    return render_template(
        "providers/remittances/list.html",
        organisation=organisation,
        remittances=found,
        page=page,
        pages=pages,
        previous_url=url_for("provider_portal.remittances", page=page - 1) if page > 1 else None,
        next_url=url_for("provider_portal.remittances", page=page + 1) if page < pages else None,
    )


def _own_remittance(reference: str) -> Remittance:
    organisation = own_organisation()
    remittance = payment_runs.remittance_for_organisation(
        db.session, organisation.id, reference[:24]
    )
    if remittance is None:
        abort(404)
    return remittance


@bp.route("/remittances/<reference>")
@requires("use_provider_portal")
def remittance(reference: str) -> str:
    found = _own_remittance(reference)
    return render_template(
        "providers/remittances/remittance.html",
        remittance=found,
        run=found.run,
        rows=payment_files.provider_advice_rows(found),
    )


@bp.route("/remittances/<reference>.csv")
@requires("use_provider_portal")
def remittance_csv(reference: str) -> Response:
    found = _own_remittance(reference.removesuffix(".csv"))
    return csv_download(
        payment_files.provider_advice_file(found), f"remittance-{found.reference}.csv"
    )
