"""Council officers' pages: the state of the market and what waits for a decision, approving
providers, and the support plans to approve."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.budgets import isf
from marketplace.console import queue_decisions, queues
from marketplace.council import bp, decisions
from marketplace.council.forms import StatusDecisionForm
from marketplace.council.paging import Paged, page_number
from marketplace.council.queue_views import visible_queues
from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.forms import choices, show_refusal
from marketplace.types import utcnow
from providers import directory, organisations
from providers.directory_summary import directory_summary
from providers.models import OrganisationStatus

DECISION_LABELS = {
    OrganisationStatus.APPROVED: "Approve: show its published services to the public",
    OrganisationStatus.REJECTED: "Reject",
    OrganisationStatus.SUSPENDED: "Suspend: hide its services from the public at once",
}
# Organisations are one line each: fifty is a screenful or two, and a page of a few kilobytes.
PROVIDERS_PER_PAGE = 50


@bp.route("/")
@requires("use_council_pages")
def dashboard() -> str:
    return render_template(
        "council/dashboard.html",
        counts=directory.organisation_counts_by_status(),
        pending=directory.organisations_with_status(OrganisationStatus.PENDING),
        service_count=directory_summary().service_count,
        statuses=OrganisationStatus,
        waiting=decisions.decisions_waiting(db.session),
        # QUEUES (issue 19): the console's home starts with the work queues.
        summaries=queues.summaries(db.session, london_today(), visible_queues()),
        now=utcnow(),
    )


@bp.route("/plans")
@requires("find_people")
def plans_to_approve() -> str:
    return render_template(
        "council/plans_to_approve.html", drafts=decisions.drafts_to_approve(db.session)
    )


@bp.route("/providers")
@requires("review_providers")
def providers() -> str:
    wanted = request.args.get("status", "")
    status = OrganisationStatus(wanted) if wanted in set(OrganisationStatus) else None
    counts = directory.organisation_counts_by_status()
    # The tabs' counts are one grouped count; the list's total is read from them, not counted
    # again, and a page past the end reads no rows.
    paged = Paged(
        page=page_number(),
        per_page=PROVIDERS_PER_PAGE,
        total=counts[status] if status else sum(counts.values()),
    )
    return render_template(
        "council/providers.html",
        organisations=[]
        if paged.past_end
        else organisations.organisations_page(status, page=paged.page, per_page=paged.per_page),
        status=status,
        statuses=OrganisationStatus,
        counts=counts,
        paged=paged,
        # The status tab is kept across pages (None leaves it out).
        page_url=lambda number: url_for(
            "council.providers", page=number, status=status.value if status else None
        ),
    )


@bp.route("/providers/<uuid:organisation_id>", methods=["GET", "POST"])
@requires("review_providers")
def provider(organisation_id: uuid.UUID) -> Response | tuple[str, int]:
    organisation = organisations.organisation(organisation_id)
    if organisation is None:
        abort(404)
    form = StatusDecisionForm()
    allowed = sorted(organisations.ALLOWED_MOVES[organisation.status])
    form.decision.choices = choices((status.value, DECISION_LABELS[status]) for status in allowed)
    if form.validate_on_submit():
        # QUEUES (issue 19): two officers deciding at once decide once; the decision is logged.
        seen = organisation.status
        from_status = queue_decisions.lock_organisation(db.session, organisation)
        try:
            if from_status is not seen:
                raise organisations.StatusChangeRefused(
                    f"Another officer has just made {organisation.name} {from_status.value}: "
                    "nothing was changed"
                )
            organisations.change_status(
                organisation,
                OrganisationStatus(form.decision.data),
                by=current_user._get_current_object(),
                reason=form.reason.data or "",
            )
        except organisations.StatusChangeRefused as refused:
            show_refusal(form.reason, refused)
        else:
            if organisation.status is OrganisationStatus.SUSPENDED:
                # ISF: a suspended provider spends no more of anyone's Individual Service
                # Fund; what each holds goes back to the person's budget at once.
                isf.suspend_funds_of(
                    db.session,
                    organisation,
                    by=current_user._get_current_object(),
                    why=form.reason.data or "",
                )
            queue_decisions.organisation_decided(
                db.session,
                organisation,
                from_status=from_status,
                by=current_user._get_current_object(),
                reason=form.reason.data or "",
            )
            flash(f"{organisation.name} is now {organisation.status.value}", "success")
            return redirect(url_for("council.provider", organisation_id=organisation.id))
    return render_template(
        "council/provider.html", organisation=organisation, form=form
    ), 400 if form.errors else 200
