"""Council officers' pages for lead providers by area (issue 18, LEAD; routes on the `council`
blueprint): the leads in force and before, naming one, and how much of each area's care goes
through its lead."""

from __future__ import annotations

import uuid
from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.budgets.rules import financial_year_of
from marketplace.council import bp
from marketplace.council.lead_forms import LeadProviderForm
from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.forms import choices, show_refusal
from marketplace.orders.lead_report import lead_share_report
from providers import lead_providers as leads
from providers.models import Locality, Organisation

# A year's report can be read by quarter: the months each one starts and ends in.
QUARTERS = {1: (4, 6), 2: (7, 9), 3: (10, 12), 4: (1, 3)}


def _uuid(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(text))
    except ValueError:
        return None


@bp.route("/lead-providers")
@requires("manage_lead_providers")
def lead_providers() -> str:
    today = london_today()
    everything = leads.all_leads(db.session)
    current = [
        lead
        for lead in everything
        if lead.starts_on <= today and (lead.ends_on is None or lead.ends_on >= today)
    ]
    coming = [lead for lead in everything if lead.starts_on > today and lead.ends_on is None]
    earlier = [lead for lead in everything if lead not in current and lead not in coming]
    return render_template(
        "council/leads/list.html",
        current=current,
        coming=coming,
        earlier=earlier,
        names={term.code: term.name for term in leads.categories(db.session)},
    )


@bp.route("/lead-providers/new", methods=["GET", "POST"])
@requires("manage_lead_providers")
def name_lead_provider() -> Response | tuple[str, int]:
    form = LeadProviderForm()
    districts = leads.districts(db.session)
    terms = leads.categories(db.session)
    providers = leads.approved_providers(db.session)
    form.locality.choices = choices(
        [("", "Select an area")] + [(str(d.id), d.name) for d in districts]
    )
    form.category.choices = choices(
        [("", "Select a kind of care")]
        + [(t.code, t.name if t.parent is None else f"{t.parent.name}: {t.name}") for t in terms]
    )
    form.organisation.choices = choices(
        [("", "Select a provider")] + [(str(o.id), o.name) for o in providers]
    )
    if not form.is_submitted():
        form.locality.data = request.args.get("locality", "")
        form.category.data = request.args.get("category", "")
    if form.validate_on_submit():
        locality = db.session.get(Locality, _uuid(form.locality.data))
        organisation = db.session.get(Organisation, _uuid(form.organisation.data))
        starts_on = form.starts_on.data
        if locality is None:
            form.locality.errors = ["Select an area from the list"]
        elif starts_on is None:  # the form's validate says so already
            form.starts_on.errors = ["Enter the date it becomes the lead"]
        elif organisation is None:
            form.organisation.errors = ["Select a provider from the list"]
        else:
            try:
                named = leads.name_lead(
                    db.session,
                    locality=locality,
                    category_code=form.category.data,
                    organisation=organisation,
                    starts_on=starts_on,
                    reason=form.reason.data,
                    by=current_user._get_current_object(),
                    today=london_today(),
                )
            except leads.LeadRefused as refused:
                field = next(iter(refused.details.get("fields", {})), None)
                show_refusal(getattr(form, field) if field else form, refused)
            else:
                flash(_named_message(named), "success")
                return redirect(url_for("council.lead_providers"))
    return render_template("council/leads/name.html", form=form), 400 if form.errors else 200


def _named_message(named: leads.Named) -> str:
    lead = named.lead
    words = leads.category_words(db.session, lead.category_code)
    message = (
        f"{lead.organisation.name} is the lead provider for {words} in {lead.locality.name} "
        f"from {lead.starts_on.strftime('%-d %B %Y')}."
    )
    for earlier in named.replaced:
        if earlier.ends_on is not None and earlier.ends_on >= earlier.starts_on:
            message += (
                f" {earlier.organisation.name} stops being the lead after "
                f"{earlier.ends_on.strftime('%-d %B %Y')}."
            )
        else:
            message += f" {earlier.organisation.name} will not now become the lead."
    return message


def _period(year: int, quarter: int | None) -> tuple[date, date]:
    if quarter is None:
        return date(year, 4, 1), date(year + 1, 3, 31)
    first, last = QUARTERS[quarter]
    in_year = year if quarter < 4 else year + 1
    ends = date(in_year + 1, 1, 1) if last == 12 else date(in_year, last + 1, 1)
    return date(in_year, first, 1), date.fromordinal(ends.toordinal() - 1)


@bp.route("/lead-providers/report")
@requires("manage_lead_providers")
def lead_report() -> str:
    asked = request.args.get("year", "")
    year = int(asked) if asked.isdigit() and 2000 <= int(asked) <= 2100 else None
    year = year or financial_year_of(london_today())
    asked_quarter = request.args.get("quarter", "")
    quarter = int(asked_quarter) if asked_quarter in ("1", "2", "3", "4") else None
    since, until = _period(year, quarter)
    return render_template(
        "council/leads/report.html",
        year=year,
        quarter=quarter,
        since=since,
        until=until,
        rows=lead_share_report(db.session, since, until),
    )
