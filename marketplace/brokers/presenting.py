"""How the workspace words a client's entry on the caseload: one summary list's rows, the same
on the caseload and on the client's page. A figure the brokerage's consent does not cover is
said so: never a made-up figure."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from marketplace.formatting import london_time, pounds
from marketplace.people.caseload import CaseloadEntry, ConsentState
from marketplace.people.consents import last_day
from marketplace.people.models import ConsentScope

NOT_COVERED = "Not covered by their consent"
NO_LIVE_CONSENT = "Not shown without their consent"


def consent_html(entry: CaseloadEntry) -> Markup:
    """The consent's state as a tag, and the date that matters for it."""
    state, consent = entry.state, entry.consent
    tag = Markup('<strong class="govuk-tag {}">{}</strong>').format(state.tag_class, state.label)
    if consent is None:
        return tag
    if state.is_live:
        when = f"until {london_time(last_day(consent), with_time=False)}"
    elif state is ConsentState.NOT_STARTED:
        when = f"from {london_time(consent.starts_at, with_time=False)}"
    elif state is ConsentState.WITHDRAWN:
        when = f"on {london_time(consent.revoked_at, with_time=False)}"
    else:
        when = f"on {london_time(last_day(consent), with_time=False)}"
    return tag + Markup(" ") + escape(when)


def _unavailable(entry: CaseloadEntry, scope: ConsentScope) -> str:
    if not entry.state.is_live or entry.consent is None or entry.consent.covers(scope):
        return NO_LIVE_CONSENT
    return NOT_COVERED


def money_text(entry: CaseloadEntry) -> str:
    position = entry.position
    if position is None:
        return _unavailable(entry, ConsentScope.SEE)
    if not position.has_budget:
        return "No budget or account yet"
    if position.own_funds:
        return f"{pounds(position.available_pence)} of their own money"
    return f"{pounds(position.available_pence)} left to spend now"


def open_orders_text(entry: CaseloadEntry) -> str:
    if entry.position is None:
        return _unavailable(entry, ConsentScope.SEE)
    count = entry.position.open_orders
    return "None" if count == 0 else str(count)


def shortlist_text(entry: CaseloadEntry) -> str:
    if entry.shortlist_awaiting is None:
        return _unavailable(entry, ConsentScope.SHORTLIST)
    return "Yes: waiting for them to approve" if entry.shortlist_awaiting else "No"


def questions_text(entry: CaseloadEntry) -> str:
    if entry.unanswered_questions is None:
        return _unavailable(entry, ConsentScope.MESSAGE)
    count = entry.unanswered_questions
    return "None" if count == 0 else f"{count} waiting for the provider"


def entry_rows(entry: CaseloadEntry) -> list[dict[str, Any]]:
    """The rows of the entry's summary list: the consent, then what it lets the broker see."""
    return [
        {"key": {"text": "Consent"}, "value": {"html": consent_html(entry)}},
        {"key": {"text": "Money"}, "value": {"text": money_text(entry)}},
        {"key": {"text": "Open orders"}, "value": {"text": open_orders_text(entry)}},
        {"key": {"text": "Shortlist sent to them"}, "value": {"text": shortlist_text(entry)}},
        {"key": {"text": "Unanswered questions"}, "value": {"text": questions_text(entry)}},
    ]
