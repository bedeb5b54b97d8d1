"""The council's own brokerage: an officer adds its service-finding team as a brokerage,
approved at once, and invites its first broker (who becomes its owner)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.council import bp
from marketplace.council.brokerage_forms import AddBrokerageForm
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
