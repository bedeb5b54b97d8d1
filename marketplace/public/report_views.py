"""Reporting a problem with a listing (issue 19, QUEUES): anyone reading a public service page
may tell the council it is closed, wrong, or unsafe or worrying. Rate-limited per address, as
the other public forms are; the council decides it from its work queue
(`marketplace/council/queue_views.py`). Routes on `public`; the rules are
`providers/listing_reports.py`."""

from __future__ import annotations

import uuid

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.extensions import db, limiter
from marketplace.public import bp
from marketplace.public.report_forms import ReportListingForm
from providers import directory, listing_reports


@bp.route("/services/<uuid:service_id>/report", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LISTING_REPORT_RATE_LIMIT"], methods=["POST"])
def report_listing(service_id: uuid.UUID) -> Response | tuple[str, int]:
    listing = directory.public_service(service_id)
    if listing is None:
        abort(404)
    signed_in = current_user.is_authenticated
    form = ReportListingForm()
    if signed_in:
        del form.email
    if form.validate_on_submit():
        try:
            listing_reports.report_listing(
                db.session,
                listing,
                reason=form.reason.data,
                details=form.details.data or "",
                reporter=current_user._get_current_object() if signed_in else None,
                reporter_email="" if signed_in else (form.email.data or ""),
            )
        except listing_reports.ReportRefused as refused:
            for name, message in refused.fields.items():
                field = getattr(form, name, None)
                if field is not None:
                    field.errors = [*field.errors, message]
        else:
            told = signed_in or bool(not signed_in and form.email.data)
            return redirect(
                url_for("public.listing_reported", service_id=listing.id, told=int(told))
            )
    return render_template(
        "public/report_listing.html", service=listing, form=form, signed_in=signed_in
    ), 400 if form.errors else 200


@bp.route("/services/<uuid:service_id>/report/sent")
def listing_reported(service_id: uuid.UUID) -> tuple[str, int]:
    listing = directory.public_service(service_id)
    if listing is None:
        abort(404)
    return render_template(
        "public/report_listing_sent.html",
        service=listing,
        told=request.args.get("told") == "1",
    ), 200
