"""A person's consents in words, as GOV.UK summary cards: the person's page (/my/consents) and
the council's (/council/people/<id>/consents) show the same facts the same way."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from markupsafe import Markup

from marketplace.formatting import london_time
from marketplace.people.consents import ConsentState, last_day, state_of
from marketplace.people.models import Consent, ConsentScope
from marketplace.types import utcnow


def _sentence_case(text: str) -> str:
    return text[:1].lower() + text[1:]


def consent_rows(consent: Consent, state: ConsentState | None = None) -> list[dict[str, Any]]:
    """The summary list's rows: where it stands (when `state` is given), who can act, what they
    can do, who gave it and on what authority (and its document), from and until when, and its
    withdrawal."""
    who = f"Any broker at {consent.brokerage.name}" if consent.brokerage else consent.grantee_name
    covers = Markup('<ul class="govuk-list govuk-list--bullet">{}</ul>').format(
        Markup("").join(
            Markup("<li>{}</li>").format(ConsentScope(scope).label) for scope in consent.scopes
        )
    )
    rows: list[dict[str, Any]] = []
    if state is not None:
        tag = Markup('<strong class="govuk-tag {}">{}</strong>').format(
            state.tag_class, state.label
        )
        rows.append({"key": {"text": "Status"}, "value": {"html": tag}})
    rows += [
        {"key": {"text": "Who can act"}, "value": {"text": who}},
        {"key": {"text": "What they can do"}, "value": {"html": covers}},
        {
            "key": {"text": "Given by"},
            "value": {
                "text": f"{consent.given_by_name}: {_sentence_case(consent.authority.label)}"
            },
        },
    ]
    if consent.document_reference:
        rows.append(
            {"key": {"text": "Document reference"}, "value": {"text": consent.document_reference}}
        )
    rows += [
        {"key": {"text": "From"}, "value": {"text": london_time(consent.starts_at, False)}},
        {
            "key": {"text": "Until"},
            "value": {"text": f"The end of {london_time(last_day(consent), False)}"},
        },
    ]
    if consent.revoked_at is not None:
        rows.append(
            {
                "key": {"text": "Withdrawn"},
                "value": {
                    "text": f"{london_time(consent.revoked_at)} by {consent.revoked_by_name}"
                },
            }
        )
    return rows


def consent_cards(
    consents: Iterable[Consent], withdraw_url: Callable[[Consent], str] | None = None
) -> list[dict[str, Any]]:
    """One summary card's parameters per consent: the grantee as its title, where it stands
    first among its rows, and a "Withdraw consent" action (to `withdraw_url(consent)`) on
    those still to be withdrawn, when the reader may."""
    now = utcnow()
    cards = []
    for consent in consents:
        state = state_of(consent, now)
        actions = []
        if withdraw_url is not None and state.may_withdraw:
            # The card's title follows in hidden text: "Withdraw consent (<grantee>)".
            actions.append({"href": withdraw_url(consent), "text": "Withdraw consent"})
        cards.append(
            {
                "card": {
                    "title": {"text": consent.grantee_name, "headingLevel": 2},
                    "actions": {"items": actions},
                    "attributes": {"id": f"consent-{consent.id}"},
                },
                "rows": consent_rows(consent, state),
            }
        )
    return cards
