"""The council's own brokerage: an officer adds its service-finding team as a brokerage,
approved at once, and invites its first broker (who becomes its owner); and invites the first
broker of any brokerage left with no owner."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.council import bp
from marketplace.council.brokerage_forms import AddBrokerageForm, InviteBrokerForm
from marketplace.forms import show_refusal
from providers import organisations, staff
from providers.organisations import OrganisationDetails


@bp.route("/brokerages/new", methods=["GET", "POST"])
@requires("review_providers")
def add_brokerage() -> Response | tuple[str, int]:
    form = AddBrokerageForm()
    form.areas.choices = organisations.district_choices()
    if form.validate_on_submit():
        officer = current_user._get_current_object()
        try:
            brokerage = organisations.add_council_brokerage(
                OrganisationDetails(
                    name=form.name.data,
                    description=form.description.data,
                    email=form.email.data,
                    phone=form.phone.data,
                    website=None,
                    address=None,
                    postcode=None,
                    companies_house_number=None,
                    charity_number=None,
                    cqc_provider_id=None,
                    area_codes=list(form.areas.data or []),
                ),
                by=officer,
            )
            staff.invite(
                brokerage,
                form.broker_email.data,
                by=officer,
                link=lambda token: url_for("provider_portal.join", token=token, _external=True),
            )
        except organisations.NameTaken as taken:
            show_refusal(form.name, taken)
        except staff.StaffChangeRefused as refused:
            # The page answers 400, so the brokerage made above is rolled back with it.
            show_refusal(form.broker_email, refused)
        else:
            flash(
                f"{brokerage.name} has been added and approved. We have emailed an invitation "
                f"to {form.broker_email.data}: they will be its first broker",
                "success",
            )
            return redirect(url_for("council.provider", organisation_id=brokerage.id))
    return render_template("council/add_brokerage.html", form=form), 400 if form.errors else 200


@bp.route("/providers/<uuid:organisation_id>/invite-broker", methods=["GET", "POST"])
@requires("review_providers")
def invite_first_broker(organisation_id: uuid.UUID) -> Response | tuple[str, int]:
    brokerage = organisations.organisation(organisation_id)
    # Only a brokerage with no owner: otherwise its owners invite their own colleagues.
    if brokerage is None or not staff.needs_first_broker(brokerage):
        abort(404)
    form = InviteBrokerForm()
    if form.validate_on_submit():
        try:
            staff.invite(
                brokerage,
                form.email.data,
                by=current_user._get_current_object(),
                link=lambda token: url_for("provider_portal.join", token=token, _external=True),
            )
        except staff.StaffChangeRefused as refused:
            show_refusal(form.email, refused)
        else:
            flash(
                f"Invitation sent to {form.email.data}: they will be {brokerage.name}'s first "
                "broker",
                "success",
            )
            return redirect(url_for("council.provider", organisation_id=brokerage.id))
    return render_template(
        "council/invite_broker.html",
        form=form,
        brokerage=brokerage,
        invitations=staff.open_invitations(brokerage),
    ), 400 if form.errors else 200
