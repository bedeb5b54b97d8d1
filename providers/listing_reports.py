"""Reports of a listing by the public (issue 19): anyone reading a service page may report
that it is closed, its details are wrong, or something about it is unsafe or worrying. The
report waits in the council's work queue; an officer upholds it (the provider is told to
correct the listing, and the officer may also take it off the public pages by unpublishing
it, the listing's own rule for hiding it) or dismisses it, with a reason either way. The
reporter is told: in their inbox if they were signed in, else by email if they left one.

Rules only: these functions take a session, flush, and never commit.
"""

from __future__ import annotations

import re

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.console.queue_log import record_decision
from marketplace.mail import queue_email
from marketplace.notifications.models import NotificationKind
from marketplace.notifications.service import (
    council_officers,
    notify,
    recipients_for_organisation,
)
from marketplace.types import Session, utcnow
from providers import listings
from providers.models import ListingReport, ListingReportStatus, Service, ServiceStatus

# The reasons a reporter chooses from, in the words the form shows.
REASONS: dict[str, str] = {
    "closed": "The service has closed or no longer runs",
    "wrong_details": "The details are wrong (price, contact details, areas, times)",
    "unsafe": "Something about it is unsafe or worrying",
    "other": "Something else",
}
REASON_NAMES: dict[str, str] = {
    "closed": "Closed",
    "wrong_details": "Wrong details",
    "unsafe": "Unsafe or worrying",
    "other": "Other",
}
DETAILS_MAX_LENGTH = 1200
DECISION_REASON_MAX_LENGTH = 1200
QUEUE = "listing_reports"
# An address with an @, something before and after it, and a dot after: enough to catch a slip
# (the email is only ever written to, never trusted for anything).
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ReportRefused(ValueError):
    """A report or decision the rules refuse; `fields` names the form fields at fault."""

    def __init__(self, message: str, *, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or {}


class ReportAlreadyDecided(ReportRefused):
    """Another officer decided the report first: nothing changes."""


# The officer's decisions, as recorded in the work queues' log.
UPHOLD = "upheld"
UPHOLD_AND_HIDE = "upheld_and_hidden"
DISMISS = "dismissed"
DECISIONS = (UPHOLD, UPHOLD_AND_HIDE, DISMISS)


def report_listing(
    session: Session,
    service: Service,
    *,
    reason: str,
    details: str,
    reporter: User | None,
    reporter_email: str = "",
) -> ListingReport:
    """Record a report of `service` and tell the council's officers (in their inbox).

    Raises ReportRefused (every problem at once, by field) for a reason not offered, missing
    or overlong details, or an email address that cannot be one."""
    details = (details or "").strip()
    reporter_email = (reporter_email or "").strip() if reporter is None else ""
    problems: dict[str, str] = {}
    if reason not in REASONS:
        problems["reason"] = "Select what is wrong with this listing"
    if not details:
        problems["details"] = "Enter what is wrong, so the council can check it"
    elif len(details) > DETAILS_MAX_LENGTH:
        problems["details"] = f"Details must be {DETAILS_MAX_LENGTH} characters or fewer"
    if reporter_email and (len(reporter_email) > 320 or not _EMAIL.match(reporter_email)):
        problems["email"] = "Enter an email address in the correct format, like name@example.com"
    if problems:
        raise ReportRefused("There is a problem with the report", fields=problems)
    report = ListingReport(
        service_id=service.id,
        reported_by_id=reporter.id if reporter else None,
        reporter_email=reporter_email,
        reason=reason,
        details=details,
        reported_at=utcnow(),
    )
    session.add(report)
    session.flush()
    notify(
        session,
        council_officers(session),
        NotificationKind.LISTING_REPORTED,
        title=f"A listing was reported: {service.name} ({REASON_NAMES[reason].lower()})",
        link="/council/queues/listing_reports",
        email=False,
    )
    return report


def decide_report(
    session: Session, report: ListingReport, *, by: User, decision: str, reason: str
) -> ListingReport:
    """Uphold (optionally hiding the listing: unpublished, off every public page) or dismiss
    an open report, with the officer's reason; tell the provider when upheld and the reporter
    either way; record the decision in the work queues' log.

    Raises ReportRefused for a decision not offered or no reason, ReportAlreadyDecided when
    another officer decided it first (the report's row is locked, so two at once decide it
    once)."""
    reason = (reason or "").strip()
    problems: dict[str, str] = {}
    if decision not in DECISIONS:
        problems["decision"] = "Select whether to uphold or dismiss the report"
    if not reason:
        problems["reason"] = (
            "Enter what the provider must correct"
            if decision in (UPHOLD, UPHOLD_AND_HIDE)
            else "Enter why the report is dismissed: the reporter will be told"
        )
    elif len(reason) > DECISION_REASON_MAX_LENGTH:
        problems["reason"] = f"Reason must be {DECISION_REASON_MAX_LENGTH} characters or fewer"
    if problems:
        raise ReportRefused("There is a problem with the decision", fields=problems)
    ledger.begin_immediate(session)
    session.refresh(report, with_for_update=True)
    if report.status is not ListingReportStatus.OPEN:
        raise ReportAlreadyDecided(
            f"This report was already {report.status.value} by another officer: nothing was changed"
        )
    now = utcnow()
    service = report.service
    upheld = decision != DISMISS
    report.status = ListingReportStatus.UPHELD if upheld else ListingReportStatus.DISMISSED
    report.decided_by_id = by.id
    report.decided_at = now
    report.decision_reason = reason
    told = []
    if upheld:
        hidden = decision == UPHOLD_AND_HIDE and service.status is ServiceStatus.PUBLISHED
        if hidden:
            listings.move(service, ServiceStatus.DRAFT)
        staff = notify(
            session,
            recipients_for_organisation(session, service.organisation_id),
            NotificationKind.LISTING_REPORT_DECIDED,
            title=f"Correct your listing: {service.name}",
            link=f"/provider/services/{service.id}",
            body=(
                f"Someone reported a problem with {service.name} "
                f"({REASON_NAMES[report.reason].lower()}). The council checked it and asks you "
                f"to correct the listing.\n\nWhat to correct: {reason}"
                + (
                    "\n\nThe council has unpublished it until it is corrected: publish it again "
                    "once it is right."
                    if hidden
                    else ""
                )
            ),
        )
        told.append(f"provider ({len(staff)})")
    told.append(_tell_reporter(session, report, service, upheld=upheld, reason=reason))
    record_decision(
        session,
        queue=QUEUE,
        subject_id=report.id,
        subject_label=service.name,
        decision=decision,
        reason=reason,
        waiting_since=report.reported_at,
        decided_by_id=by.id,
        told=", ".join(each for each in told if each),
        at=now,
    )
    session.flush()
    return report


def _tell_reporter(
    session: Session, report: ListingReport, service: Service, *, upheld: bool, reason: str
) -> str:
    """Tell whoever reported it: in their inbox, or by email if they left an address."""
    title = f"Your report about {service.name}" + (
        ": the council has asked the provider to correct it"
        if upheld
        else ": the council found nothing to change"
    )
    body = f"Thank you for telling us. What the council decided: {reason}"
    if report.reported_by is not None:
        sent = notify(
            session,
            [report.reported_by],
            NotificationKind.LISTING_REPORT_DECIDED,
            title=title,
            body=body,
            link=f"/services/{service.id}",
        )
        return "reporter (inbox)" if sent else ""
    if report.reporter_email:
        queue_email(report.reporter_email, title, body)
        return "reporter (email)"
    return ""


def report_by_id(session: Session, report_id: object) -> ListingReport | None:
    return session.get(ListingReport, report_id)
