"""The provider portal: an organisation's staff keep their listings and capacity current.

Every route finds things only inside the signed-in user's own organisation, so another
organisation's ids answer 404.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.accounts.policy import can
from marketplace.cqc import checks
from marketplace.forms import show_refusal
from marketplace.types import utcnow
from providers import listings, organisations
from providers.models import (
    CapacityStatus,
    CqcRating,
    InvoiceCycle,
    Organisation,
    PriceUnit,
    Service,
    ServiceStatus,
)
from providers.portal import bp
from providers.portal.forms import CapacityForm, EditOrganisationForm, ListingForm

MOVES = {
    "publish": ServiceStatus.PUBLISHED,
    "unpublish": ServiceStatus.DRAFT,
    "archive": ServiceStatus.ARCHIVED,
    "restore": ServiceStatus.DRAFT,
}


def own_organisation() -> Organisation:
    organisation = current_user.organisation
    if organisation is None or not can(current_user, "manage_organisation", organisation):
        abort(404)
    return organisation


def own_listing(service_id: uuid.UUID) -> Service:
    service = listings.listing_of(own_organisation(), service_id)
    if service is None or not can(current_user, "manage_listing", service):
        abort(404)
    return service


def _form_status(form: Any) -> int:
    return 400 if form.errors else 200


@bp.route("/")
@requires("use_provider_portal")
def dashboard() -> str:
    organisation = own_organisation()
    now = utcnow()
    current = [s for s in organisation.services if s.status is not ServiceStatus.ARCHIVED]
    return render_template(
        "providers/dashboard.html",
        organisation=organisation,
        services=current,
        archived=[s for s in organisation.services if s.status is ServiceStatus.ARCHIVED],
        stale=[s for s in current if s.is_stale(now)],
        now=now,
    )


@bp.route("/organisation", methods=["GET", "POST"])
@requires("use_provider_portal")
def edit_organisation() -> Response | tuple[str, int]:
    organisation = own_organisation()
    form = EditOrganisationForm(obj=organisation)
    form.areas.choices = organisations.district_choices()
    if request.method == "GET":
        form.areas.data = [area.code for area in organisation.areas]
        form.invoice_cycle.data = organisation.invoice_cycle.value
    if form.validate_on_submit():
        organisations.update_details(organisation, organisation_details(form))
        organisations.set_order_terms(
            organisation,
            invoice_cycle=InvoiceCycle(form.invoice_cycle.data),
            notice_days=form.notice_days.data,
        )
        flash("Your organisation's details have been saved", "success")
        return redirect(url_for("provider_portal.dashboard"))
    return render_template(
        "providers/organisation_form.html", form=form, organisation=organisation
    ), _form_status(form)


def organisation_details(form: Any) -> organisations.OrganisationDetails:
    return organisations.OrganisationDetails(
        name=form.name.data,
        description=form.description.data,
        email=form.email.data,
        phone=form.phone.data,
        website=form.website.data,
        address=form.address.data,
        postcode=form.postcode.data,
        companies_house_number=form.companies_house_number.data,
        charity_number=form.charity_number.data,
        cqc_provider_id=form.cqc_provider_id.data,
        area_codes=list(form.areas.data or []),
    )


def _listing_form(organisation: Organisation, service: Service | None = None) -> ListingForm:
    form = ListingForm(obj=service) if service else ListingForm()
    form.categories.choices = listings.category_choices()
    form.areas.choices = organisations.district_choices()
    form.venues.choices = [(str(v.id), f"{v.name}, {v.town}") for v in organisation.locations]
    if service is not None and request.method == "GET":
        form.categories.data = [term.code for term in service.taxonomy_terms]
        form.areas.data = [area.code for area in service.localities]
        form.venues.data = [str(link.location_id) for link in service.locations]
        form.price_unit.data = service.price_unit.value
        form.price.data = service.price_pence or None
        form.languages.data = ", ".join(service.languages)
        form.min_age.data = service.eligibility.get("min_age")
        form.max_age.data = service.eligibility.get("max_age")
        form.conditions.data = ", ".join(service.eligibility.get("conditions", []))
        form.accepts_personal_budgets.data = "yes" if service.accepts_personal_budgets else "no"
        form.cqc_rating.data = service.cqc_rating.value if service.cqc_rating else ""
        if service.opening_times:
            period = service.opening_times[0]
            form.open_days.data = period.get("days", [])
            form.opens_at.data, form.closes_at.data = period.get("opens"), period.get("closes")
    return form


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def listing_details(form: ListingForm) -> listings.ListingDetails:
    eligibility: dict[str, Any] = {}
    if form.min_age.data is not None:
        eligibility["min_age"] = form.min_age.data
    if form.max_age.data is not None:
        eligibility["max_age"] = form.max_age.data
    if _split(form.conditions.data):
        eligibility["conditions"] = _split(form.conditions.data)
    unit = PriceUnit(form.price_unit.data)
    opening = (
        [{"days": form.open_days.data, "opens": form.opens_at.data, "closes": form.closes_at.data}]
        if form.open_days.data
        else []
    )
    return listings.ListingDetails(
        name=form.name.data,
        description=form.description.data,
        category_codes=list(form.categories.data or []),
        price_pence=0 if unit is PriceUnit.FREE else int(form.price.data or 0),
        price_unit=unit,
        minimum_order=form.minimum_order.data,
        area_codes=list(form.areas.data or []),
        delivery_modes=list(form.delivery_modes.data or []),
        venue_ids=[uuid.UUID(v) for v in form.venues.data or []],
        opening_times=opening,
        languages=_split(form.languages.data),
        accessibility=list(form.accessibility.data or []),
        eligibility=eligibility,
        accepts_personal_budgets=form.accepts_personal_budgets.data == "yes",
        cqc_location_id=form.cqc_location_id.data,
        cqc_rating=CqcRating(form.cqc_rating.data) if form.cqc_rating.data else None,
        email=form.email.data,
        phone=form.phone.data,
    )


def _save_listing(
    form: ListingForm, organisation: Organisation, service: Service | None
) -> Response | tuple[str, int]:
    if form.validate_on_submit():
        if form.preview.data:
            return render_template(
                "providers/listing_preview.html",
                form=form,
                details=listing_details(form),
                organisation=organisation,
                service=service,
            ), 200
        try:
            if service is None:
                service = listings.create_listing(organisation, listing_details(form))
                flash(
                    f"{service.name} has been saved as a draft. Publish it when it is ready",
                    "success",
                )
            else:
                listings.update_listing(service, listing_details(form))
                flash(f"{service.name} has been saved", "success")
        except listings.ListingRefused as refused:
            show_refusal(form.name, refused)
        else:
            return redirect(url_for("provider_portal.dashboard"))
    return render_template(
        "providers/listing_form.html",
        form=form,
        service=service,
        organisation=organisation,
        cqc=checks.listing_standing(service) if service is not None else None,
    ), _form_status(form)


@bp.route("/services/new", methods=["GET", "POST"])
@requires("use_provider_portal")
def new_listing() -> Response | tuple[str, int]:
    organisation = own_organisation()
    return _save_listing(_listing_form(organisation), organisation, None)


@bp.route("/services/<uuid:service_id>", methods=["GET", "POST"])
@requires("use_provider_portal")
def edit_listing(service_id: uuid.UUID) -> Response | tuple[str, int]:
    service = own_listing(service_id)
    return _save_listing(
        _listing_form(service.organisation, service), service.organisation, service
    )


@bp.route("/services/<uuid:service_id>/status", methods=["POST"])
@requires("use_provider_portal")
def move_listing(service_id: uuid.UUID) -> Response:
    service = own_listing(service_id)
    move = request.form.get("move", "")
    if move not in MOVES:
        abort(400)
    try:
        listings.move(service, MOVES[move])
    except listings.ListingRefused as refused:
        flash(str(refused), "error")
    else:
        flash(f"{service.name} is now {service.status.value}", "success")
    return redirect(url_for("provider_portal.dashboard"))


@bp.route("/services/<uuid:service_id>/capacity", methods=["GET", "POST"])
@requires("use_provider_portal")
def capacity(service_id: uuid.UUID) -> Response | tuple[str, int]:
    service = own_listing(service_id)
    form = CapacityForm(obj=service)
    if request.method == "GET":
        form.capacity_status.data = service.capacity_status.value
    if form.validate_on_submit():
        listings.update_capacity(
            service,
            status=CapacityStatus(form.capacity_status.data),
            free=form.capacity_free.data,
            earliest_start=form.earliest_start.data,
            now=utcnow(),
        )
        flash(f"Capacity for {service.name} has been updated", "success")
        return redirect(url_for("provider_portal.dashboard"))
    return render_template(
        "providers/capacity_form.html", form=form, service=service
    ), _form_status(form)


@bp.route("/services/<uuid:service_id>/confirm", methods=["POST"])
@requires("use_provider_portal")
def confirm_capacity(service_id: uuid.UUID) -> Response:
    service = own_listing(service_id)
    listings.confirm_capacity(service, now=utcnow())
    flash(f"Thank you: {service.name}'s capacity is confirmed as still right", "success")
    return redirect(url_for("provider_portal.dashboard"))
