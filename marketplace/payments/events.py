"""Stripe's webhook events, each kept once: a delivery seen before changes nothing.

Stripe delivers an event at least once (and our tests deliver some many times, out of order,
or two at once). The event's id is the table's key: `claim_event` stores it in the request's
transaction before anything is done about it, so of two deliveries at once one does the work
and the other finds it done; if the work fails the whole transaction (the claim too) is rolled
back and Stripe's next delivery tries again.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from marketplace import ledger
from marketplace.extensions import Model
from marketplace.payments import refunds, service
from marketplace.types import Session, UTCDateTime, string_enum, utcnow


class EventOutcome(enum.StrEnum):
    HANDLED = "handled"  # passed to the payment rules, which did what the event asks
    IGNORED = "ignored"  # a type we do not act on (Stripe sends what the endpoint subscribes)


class StripeEvent(Model):
    """One Stripe event received and verified: its id, type, and what we did about it."""

    __tablename__ = "stripe_events"

    # Stripe's own id (`evt_…`): Stripe keeps it the same across deliveries.
    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[EventOutcome | None] = mapped_column(
        string_enum(EventOutcome, "stripe_event_outcome")
    )
    # What the payment rules said (their result's name), for finance and for the log.
    result: Mapped[str | None] = mapped_column(String(40))


def claim_event(session: Session, *, event_id: str, event_type: str) -> StripeEvent | None:
    """Store the event's id in the caller's transaction and return its row, or None when the
    event was stored before (a replay: nothing more is to be done).

    On SQLite the write lock is taken first, so a concurrent delivery of the same event has
    either committed (found here) or not begun. On PostgreSQL the insert waits for a concurrent
    uncommitted one: if that commits, this insert fails inside a savepoint and the event is
    a replay; if it rolls back, this one goes on and does the work.
    """
    ledger.begin_immediate(session)
    if session.get(StripeEvent, event_id) is not None:
        return None
    event = StripeEvent(id=event_id, type=event_type)
    try:
        with ledger.savepoint(session):
            session.add(event)
            session.flush()
    except IntegrityError:
        if session.scalar(select(StripeEvent.id).where(StripeEvent.id == event_id)) is None:
            raise  # a different constraint failed: not ours to hide
        return None
    return event


def mark_handled(
    event: StripeEvent, *, outcome: EventOutcome, result: str | None, now: datetime
) -> None:
    """Note what was done about the event (flushed with the caller's transaction)."""
    event.outcome = outcome
    event.result = result
    event.handled_at = now


class MalformedEvent(ValueError):
    """A signed body that is not a Stripe event (not JSON, or without an id, type or object)."""


class PaymentNotRecordedYet(Exception):
    """The event names a payment of ours (its metadata) that we cannot find yet: our own
    transaction may not have committed. Nothing is kept; Stripe delivers the event again."""


@dataclass(frozen=True)
class ReceivedEvent:
    """A verified event: Stripe's id and type, and the object it is about (plain JSON)."""

    id: str
    type: str
    object: Mapping[str, Any]


@dataclass(frozen=True)
class EventReceipt:
    """What became of a delivery: `replay` when the event was kept before (nothing done)."""

    event_id: str
    replay: bool
    outcome: EventOutcome | None = None
    result: str | None = None


def parse_event(payload: str) -> ReceivedEvent:
    """The event in a (verified) webhook body. Raises MalformedEvent."""
    try:
        body = json.loads(payload)
    except ValueError as error:
        raise MalformedEvent("The body is not JSON") from error
    if not isinstance(body, dict):
        raise MalformedEvent("The body is not a JSON object")
    event_id, event_type, data = body.get("id"), body.get("type"), body.get("data")
    if not isinstance(event_id, str) or not event_id or len(event_id) > 255:
        raise MalformedEvent("The event has no id")
    if not isinstance(event_type, str) or not event_type or len(event_type) > 100:
        raise MalformedEvent("The event has no type")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise MalformedEvent("The event has no object")
    return ReceivedEvent(id=event_id, type=event_type, object=data["object"])


def _metadata(intent: Mapping[str, Any]) -> dict[str, str]:
    metadata = intent.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise MalformedEvent("The object's metadata is not an object")
    return {
        _text(key, "metadata key"): _text(value, "metadata value")
        for key, value in metadata.items()
    }


# Bounds on what a signed event may carry: Stripe's own ids, codes and amounts are far inside
# them; anything outside is a malformed event (a 400 that changes nothing), never a crash.
_MAX_TEXT = 5000
_MAX_PENCE = 10**12


def _text(value: Any, what: str) -> str:
    """A string field of the event's object, as Stripe sends it (no NUL, of sane length)."""
    if not isinstance(value, str) or "\x00" in value or len(value) > _MAX_TEXT:
        raise MalformedEvent(f"The object's {what} is not text")
    return value


def _pence(value: Any, what: str) -> int:
    """An amount of the event's object: a whole number of pence (Stripe's smallest unit)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_PENCE:
        raise MalformedEvent(f"The object's {what} is not an amount")
    return value


def _intent_succeeded(
    session: Session, intent: Mapping[str, Any], now: datetime
) -> service.PaymentOutcome:
    # What Stripe took (`amount_received`; localstripe gives only `amount`): the rules compare
    # it with what we asked for.
    received = intent.get("amount_received") or intent.get("amount")
    return service.payment_succeeded(
        session,
        intent_id=_text(intent.get("id"), "id"),
        amount_pence=_pence(received, "amount"),
        currency=_text(intent.get("currency"), "currency"),
        metadata=_metadata(intent),
        now=now,
    )


def _intent_failed(
    session: Session, intent: Mapping[str, Any], _now: datetime
) -> service.PaymentOutcome:
    error = intent.get("last_payment_error") or {}
    if not isinstance(error, dict):
        raise MalformedEvent("The object's last_payment_error is not an object")
    return service.payment_failed(
        session,
        intent_id=_text(intent.get("id"), "id"),
        reason=str(error.get("message") or error.get("code") or "The payment failed"),
        metadata=_metadata(intent),
    )


def _refund_event(
    session: Session, refund: Mapping[str, Any], now: datetime
) -> refunds.RefundOutcome:
    # refund.created / refund.updated: the refund itself, by its status.
    return refunds.take_refund_object(session, _checked_refund(refund), now=now)


def _checked_refund(refund: Any) -> Mapping[str, Any]:
    """A refund object whose fields the refund rules read are what Stripe sends."""
    if not isinstance(refund, dict):
        raise MalformedEvent("A refund is not an object")
    _text(refund.get("id"), "refund id")
    _pence(refund.get("amount"), "refund amount")
    for optional in ("status", "failure_reason", "payment_intent", "charge"):
        if refund.get(optional) is not None and not isinstance(refund.get(optional), dict):
            _text(refund.get(optional), optional)
    _metadata(refund)
    return refund


def _charge_refunded(
    session: Session, charge: Mapping[str, Any], now: datetime
) -> refunds.RefundOutcome:
    # Stripe lists the charge's refunds only when asked (older API versions always did):
    # each one listed is taken by its status; then the charge's total confirms the rest.
    listing = charge.get("refunds") or {}
    listed = listing.get("data") or [] if isinstance(listing, dict) else None
    if not isinstance(listed, list):
        raise MalformedEvent("The charge's refunds are not a list")
    outcomes = [
        refunds.take_refund_object(session, _checked_refund(refund), now=now) for refund in listed
    ]
    intent = charge.get("payment_intent")
    outcomes.append(
        refunds.charge_refunded(
            session,
            intent_id=_text(intent, "payment_intent") if intent else None,
            amount_refunded_pence=_pence(charge.get("amount_refunded") or 0, "amount_refunded"),
            now=now,
        )
    )
    confirmed = [o for o in outcomes if o.result is refunds.RefundOutcomeKind.CONFIRMED]
    return confirmed[0] if confirmed else outcomes[0]


# The events we act on, and the payment rule each goes to. Any other type is kept as ignored.
Handler = Callable[
    [Session, Mapping[str, Any], datetime], service.PaymentOutcome | refunds.RefundOutcome
]
HANDLERS: dict[str, Handler] = {
    "payment_intent.succeeded": _intent_succeeded,
    "payment_intent.payment_failed": _intent_failed,
    "refund.created": _refund_event,
    "refund.updated": _refund_event,
    "charge.refunded": _charge_refunded,
}


def receive_event(session: Session, event: ReceivedEvent, *, now: datetime) -> EventReceipt:
    """Keep the event once and pass it to the payment rules by its type (flushed, never
    committed: the caller commits once).

    A replay changes nothing. Raises PaymentNotRecordedYet when the event names a payment of
    ours (a `card_payment_id` in its metadata) that is not found: the caller must roll back
    and answer so that Stripe delivers again. Raises MalformedEvent when a field the rules
    read is missing or not what Stripe sends (text without NUL, whole pence): the caller
    rolls back and answers 400.
    """
    claimed = claim_event(session, event_id=event.id, event_type=event.type)
    if claimed is None:
        return EventReceipt(event_id=event.id, replay=True)
    handler = HANDLERS.get(event.type)
    if handler is None:
        mark_handled(claimed, outcome=EventOutcome.IGNORED, result=None, now=now)
        return EventReceipt(event_id=event.id, replay=False, outcome=EventOutcome.IGNORED)
    result = handler(session, event.object, now).result
    if result == service.Result.NOT_FOUND and "card_payment_id" in _metadata(event.object):
        raise PaymentNotRecordedYet(event.id)
    mark_handled(claimed, outcome=EventOutcome.HANDLED, result=str(result), now=now)
    session.flush()
    return EventReceipt(
        event_id=event.id, replay=False, outcome=EventOutcome.HANDLED, result=str(result)
    )
