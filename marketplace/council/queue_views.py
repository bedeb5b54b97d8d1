"""The council's work queues (issue 19, QUEUES): an overview of every queue with its count and
its oldest item's wait, each queue's items (paged, the longest waiting first) with a "Decided"
tab of its recorded decisions, CSV of both; and the decision pages of the two queues that had
none before: a listing reported by the public, and an overdue support plan review. Routes on
`council`; the rules are `marketplace/console/queues.py`, `providers/listing_reports.py` and
`marketplace/console/review_dates.py`."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from marketplace.accounts.access import requires
from marketplace.accounts.policy import can
from marketplace.console import queues, review_dates
from marketplace.council import bp
from marketplace.council.paging import Paged, page_number
from marketplace.council.queue_forms import ListingReportDecisionForm, PlanReviewForm
from marketplace.csv_export import csv_text
from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.forms import show_refusal
from marketplace.pages.downloads import csv_download
from marketplace.types import utcnow
from providers import listing_reports

PER_PAGE = 25


def visible_queues() -> list[queues.WorkQueue]:
    """The queues the signed-in officer may decide from, in the registry's order."""
    user = current_user._get_current_object()
    return [queue for queue in queues.QUEUES.values() if can(user, queue.permission)]


def _queue(name: str) -> queues.WorkQueue:
    queue = queues.queue_named(name)
    if queue is None:
        abort(404)
    if not can(current_user._get_current_object(), queue.permission):
        abort(403)
    return queue


def item_href(queue: queues.WorkQueue, item: queues.QueueItem) -> str | None:
    """Where the item is decided; None while that page is not in the app (a queue whose part
    has not landed yet lists its items without a link)."""
    if queue.decide_endpoint not in current_app.view_functions:
        return None
    if not queue.decide_arg:
        return url_for(queue.decide_endpoint)
    arguments: dict[str, Any] = {queue.decide_arg: item.link_id}
    return url_for(queue.decide_endpoint, **arguments)


def list_href(queue: queues.WorkQueue) -> str | None:
    endpoint = queue.list_endpoint
    return url_for(endpoint) if endpoint and endpoint in current_app.view_functions else None


@bp.context_processor
def _queue_words() -> dict[str, Any]:
    return {"waited_words": queues.waited_words}


@bp.route("/queues")
@requires("use_council_pages")
def queues_overview() -> str:
    return render_template(
        "council/queues/overview.html",
        summaries=queues.summaries(db.session, london_today(), visible_queues()),
        now=utcnow(),
    )


@bp.route("/queues/<name>")
@requires("use_council_pages")
def work_queue(name: str) -> str:
    queue = _queue(name)
    decided = request.args.get("tab") == "decided"
    today = london_today()
    total = (
        queues.decision_count(db.session, queue)
        if decided
        else queues.count(db.session, queue, today)
    )
    paged = Paged(page=page_number(), per_page=PER_PAGE, total=total)
    rows: list[Any] = []
    if not paged.past_end:
        rows = (
            queues.decisions(db.session, queue, page=paged.page, per_page=PER_PAGE)
            if decided
            else queues.items(db.session, queue, today, page=paged.page, per_page=PER_PAGE)
        )
    return render_template(
        "council/queues/queue.html",
        queue=queue,
        decided=decided,
        rows=rows,
        paged=paged,
        page_url=lambda number: url_for(
            "council.work_queue", name=queue.name, page=number, tab="decided" if decided else None
        ),
        item_href=lambda item: item_href(queue, item),
        list_href=list_href(queue),
        waited=queues.waited,
        now=utcnow(),
    )


@bp.route("/queues/<name>/waiting.csv")
@requires("use_council_pages")
def work_queue_csv(name: str) -> Response:
    queue = _queue(name)
    now = utcnow()
    rows = [
        (
            item.label,
            item.detail,
            item.waiting_since,
            int((now - item.waiting_since).total_seconds() // 3600),
            item.subject_id,
        )
        for item in queues.all_items(db.session, queue, london_today())
    ]
    text = csv_text(
        [queue.title, queue.detail_heading, "Waiting since", "Hours waited", "Id"], rows
    )
    return csv_download(text, f"{queue.name}-waiting-{london_today():%Y-%m-%d}.csv")


@bp.route("/queues/<name>/decided.csv")
@requires("use_council_pages")
def work_queue_decided_csv(name: str) -> Response:
    queue = _queue(name)
    rows = [
        (
            decision.subject_label,
            decision.decision.replace("_", " "),
            decision.reason,
            decision.decided_by.full_name,
            decision.decided_at,
            decision.waiting_since,
            int(queues.waited(decision) // 3600),
            decision.told,
            decision.subject_id,
        )
        for decision in queues.decisions(db.session, queue, per_page=10_000)
    ]
    text = csv_text(
        [
            "Item",
            "Decision",
            "Why",
            "Decided by",
            "Decided at",
            "Waiting since",
            "Hours waited",
            "Told",
            "Id",
        ],
        rows,
    )
    return csv_download(text, f"{queue.name}-decided-{london_today():%Y-%m-%d}.csv")


@bp.route("/listing-reports/<uuid:report_id>", methods=["GET", "POST"])
@requires("decide_listing_reports")
def listing_report(report_id: uuid.UUID) -> Response | tuple[str, int]:
    report = listing_reports.report_by_id(db.session, report_id)
    if report is None:
        abort(404)
    form = ListingReportDecisionForm()
    status = 200
    if request.method == "POST" and report.status.value != "open":
        form.form_errors.append(
            f"This report was already {report.status.value} by another officer: nothing was changed"
        )
        status = 409
    elif form.validate_on_submit():
        try:
            listing_reports.decide_report(
                db.session,
                report,
                by=current_user._get_current_object(),
                decision=form.decision.data,
                reason=form.reason.data or "",
            )
        except listing_reports.ReportAlreadyDecided as refused:
            show_refusal(form, refused)
            status = 409
        except listing_reports.ReportRefused as refused:
            for name, message in refused.fields.items():
                getattr(form, name).errors = [*getattr(form, name).errors, message]
            status = 400
        else:
            flash(
                f"The report about {report.service.name} is {report.status.value}: "
                "the provider and the person who reported it have been told",
                "success",
            )
            return redirect(url_for("council.work_queue", name="listing_reports"))
    if form.errors and status == 200:
        status = 400
    return render_template(
        "council/queues/listing_report.html",
        report=report,
        form=form,
        reason_names=listing_reports.REASON_NAMES,
        now=utcnow(),
    ), status


@bp.route("/plan-reviews/<uuid:plan_id>", methods=["GET", "POST"])
@requires("approve_support_plan")
def plan_review_due(plan_id: uuid.UUID) -> Response | tuple[str, int]:
    plan = review_dates.plan_by_id(db.session, plan_id)
    if plan is None:
        abort(404)
    today = london_today()
    form = PlanReviewForm()
    status = 200
    if request.method == "GET" and plan.review_due_on:
        form.seen_due_on.data = plan.review_due_on.isoformat()
    if form.validate_on_submit():
        try:
            review_dates.record_review(
                db.session,
                plan,
                by=current_user._get_current_object(),
                decision=form.decision.data,
                note=form.note.data or "",
                today=today,
                review_months=current_app.config["PLAN_REVIEW_MONTHS"],
                booked_for=form.booked_for.data,
                seen_due_on=review_dates.parse_day(form.seen_due_on.data),
            )
        except review_dates.ReviewAlreadyRecorded as refused:
            show_refusal(form, refused)
            status = 409
        except review_dates.ReviewRefused as refused:
            for name, message in refused.fields.items():
                getattr(form, name).errors = [*getattr(form, name).errors, message]
            status = 400
        else:
            flash(
                f"{plan.person.full_name}'s review is recorded: the next is due "
                f"{plan.review_due_on:%d %B %Y}",
                "success",
            )
            return redirect(url_for("council.work_queue", name="reviews_due"))
    if form.errors and status == 200:
        status = 400
    return render_template(
        "council/queues/plan_review.html",
        plan=plan,
        form=form,
        overdue=review_dates.is_overdue(plan, today),
        now=utcnow(),
    ), status
