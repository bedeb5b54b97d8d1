"""Outcome-based orders (issue 18, OUTCOMES): care bought as an agreed weekly amount for named
outcomes of the person's support plan, with the safety parameters the council sets.

An outcome order is a recurring order with one occasion a week (the weekday it starts on), one
unit at the service's weekly price: its cycles hold exactly what the same order paid by the
unit would (so checkout, packages, variations and the ledger treat it as any other order), and
`Order.pricing` is OUTCOMES. Instead of deliveries, the provider records each week, per
outcome, whether it was achieved (with a note), and answers the safety questions; the person
confirms the week or queries a record. A cycle's invoice is, for each of its weeks, the weekly
amount less the share of each outcome not achieved (or not recorded) that week.

A week's share of an outcome is the weekly amount divided by the number of outcomes in whole
pence, the remainder (fewer pence than there are outcomes) to the first outcome, so the shares
add up to the weekly amount exactly (`outcome_shares`).

Safety parameters (medication times, the time by which the person is out of bed) are set by a
council officer on the order, at any time while it is open; the provider is told, and every
week's record asks them. Functions flush, never commit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import object_session

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.accounts.policy import can
from marketplace.notifications.models import NotificationKind
from marketplace.orders import checkout, events, life, package_terms
from marketplace.orders.errors import InvalidOrder, InvalidTransition, NotYours
from marketplace.orders.locks import lock_order
from marketplace.orders.models import (
    CycleState,
    Invoice,
    InvoiceStatus,
    Order,
    OrderCycle,
    OrderPricing,
    OrderStatus,
    OutcomeRecord,
    OutcomeStatus,
    ScheduleKind,
)
from marketplace.orders.schedule import WEEKDAYS, Schedule
from marketplace.people.models import Person, SupportPlan
from marketplace.people.plans import (
    DEFAULT_OUT_OF_PLAN_RULE,
    OutOfPlanRule,
    approved_plan,
    plan_item_covering,
)
from marketplace.types import Session, utcnow
from providers.models import PriceUnit, Service

NOTE_MAX_LENGTH = 2000
# A plan's outcome is one line of its outcomes text; more than this many is a paragraph.
OUTCOMES_MAX = 10
KEY_MAX_LENGTH = 60
_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_BULLET = re.compile(r"^\s*(?:[-*•·]|\d+[.)])\s*")


@dataclass(frozen=True)
class PlanOutcome:
    """One outcome the person's support plan names, with a key stable for its words."""

    key: str
    text: str


@dataclass(frozen=True)
class SafetyQuestion:
    key: str
    text: str


@dataclass(frozen=True)
class OutcomeResult:
    """What the provider says of one outcome in one week."""

    achieved: bool
    note: str = ""


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[: KEY_MAX_LENGTH - 4].rstrip("-") or "outcome"


def plan_outcomes(plan: SupportPlan) -> list[PlanOutcome]:
    """The outcomes a support plan names: each non-empty line of its outcomes text (bullets
    and numbers taken off), in the plan's order, at most OUTCOMES_MAX."""
    found: list[PlanOutcome] = []
    keys: set[str] = set()
    for line in (plan.outcomes or "").splitlines():
        text = _BULLET.sub("", line).strip()
        if not text:
            continue
        key = base = _slug(text)
        n = 2
        while key in keys:
            key, n = f"{base}-{n}", n + 1
        keys.add(key)
        found.append(PlanOutcome(key, text))
        if len(found) == OUTCOMES_MAX:
            break
    return found


def offers_outcomes(service: Service) -> bool:
    """Whether a service can be bought for outcomes: one priced per week (an agreed weekly
    amount), not free."""
    return service.price_unit is PriceUnit.PER_WEEK and service.price_pence > 0


def outcome_choices(session: Session, person: Person, service: Service) -> list[PlanOutcome]:
    """The outcomes the person may buy this service for: their approved plan's, when the
    service can be bought for outcomes; none otherwise."""
    if not offers_outcomes(service):
        return []
    plan = approved_plan(session, person)
    return plan_outcomes(plan) if plan is not None else []


def outcome_schedule(starts_on: date, weeks: int | None) -> Schedule:
    """One occasion a week, on the weekday it starts, one unit (the weekly amount); `weeks`
    None: until further notice (a package)."""
    return Schedule(
        kind=ScheduleKind.RECURRING,
        starts_on=starts_on,
        units_per_occasion=1,
        weeks=weeks,
        days=(WEEKDAYS[starts_on.weekday()],),
    )


def place_outcome_order(
    session: Session,
    person: Person,
    service: Service,
    *,
    starts_on: date,
    weeks: int | None,
    outcome_keys: Sequence[str],
    by: User,
    today: date,
    placement_key: str,
    plan_rule: OutOfPlanRule | str = DEFAULT_OUT_OF_PLAN_RULE,
) -> Order:
    """Place an order paying the service's weekly price for the chosen outcomes of the
    person's approved support plan (checkout's `place_order`, so its money is held as any
    order's). The same `placement_key` again returns the order placed first.

    Raises InvalidOrder (the service cannot be bought for outcomes, no plan outcomes, none
    or an unknown one chosen: `details["fields"]["outcomes"]`), and what `place_order` raises.
    """
    if not offers_outcomes(service):
        raise InvalidOrder(
            "This service cannot be bought for outcomes",
            fields={"outcomes": "This service is not priced by the week"},
        )
    choices = {choice.key: choice for choice in outcome_choices(session, person, service)}
    if not choices:
        raise InvalidOrder(
            "The support plan names no outcomes",
            fields={"outcomes": "An approved support plan with outcomes is needed"},
        )
    chosen = list(dict.fromkeys(outcome_keys))
    if not chosen:
        raise InvalidOrder(
            "Choose at least one outcome", fields={"outcomes": "Choose at least one outcome"}
        )
    unknown = [key for key in chosen if key not in choices]
    if unknown:
        raise InvalidOrder(
            "Choose outcomes from the support plan",
            fields={"outcomes": "Choose outcomes from the support plan"},
        )
    earlier = session.scalar(select(Order).where(Order.placement_key == placement_key))
    if earlier is not None:
        if earlier.pricing is not OrderPricing.OUTCOMES or earlier.person_id != person.id:
            raise ledger.IdempotencyConflict(
                "this key was used for a different order", idempotency_key=placement_key
            )
        return earlier
    item = plan_item_covering(session, person, checkout.category_codes_of(session, service))
    order = checkout.place_order(
        session,
        person,
        service,
        outcome_schedule(starts_on, weeks),
        by=by,
        today=today,
        placement_key=placement_key,
        plan_rule=plan_rule,
    )
    order.pricing = OrderPricing.OUTCOMES
    # In the plan's order, whatever order they were chosen in.
    order.outcomes = [
        {
            "key": key,
            "text": choices[key].text,
            "plan_item_id": str(item.id) if item is not None else None,
        }
        for key in choices
        if key in chosen
    ]
    session.flush()
    events.record(
        session,
        order,
        "outcomes_agreed",
        by=by,
        outcomes=[outcome["text"] for outcome in order.outcomes],
        weekly_pence=order.unit_price_pence,
    )
    return order


def is_outcome_order(order: Order) -> bool:
    return order.pricing is OrderPricing.OUTCOMES


def outcome_keys(order: Order) -> list[str]:
    return [outcome["key"] for outcome in order.outcomes]


def outcome_shares(weekly_pence: int, keys: Sequence[str]) -> dict[str, int]:
    """Each outcome's share of a week's amount: equal whole pence, the remainder to the first,
    adding up to the weekly amount exactly."""
    if not keys:
        return {}
    each, remainder = divmod(weekly_pence, len(keys))
    return {key: each + (remainder if index == 0 else 0) for index, key in enumerate(keys)}


# --- Safety ------------------------------------------------------------------------------


def safety_questions(order: Order) -> list[SafetyQuestion]:
    """What each week's record asks of the provider, from the order's safety parameters."""
    safety = order.safety or {}
    questions = [
        SafetyQuestion(f"medication:{time}", f"Medication given at {time} every day?")
        for time in safety.get("medication_times", [])
    ]
    if safety.get("not_in_bed_after"):
        questions.append(
            SafetyQuestion(
                "out_of_bed", f"Up and out of bed by {safety['not_in_bed_after']} every day?"
            )
        )
    return questions


def _check_time(value: str, field: str) -> str:
    value = (value or "").strip()
    if len(value) == 4 and value[1] == ":":
        value = "0" + value
    if not _TIME.match(value):
        raise InvalidOrder(
            "Enter a time like 08:00",
            fields={field: "Enter a time in 24-hour clock, like 08:00 or 19:30"},
        )
    return value


def set_safety(
    session: Session,
    order: Order,
    *,
    by: User,
    medication_times: Sequence[str],
    not_in_bed_after: str | None,
) -> None:
    """A council officer sets the order's safety parameters (replacing any set before): the
    times medication is due, and the time by which the person must be out of bed (None: no
    such time). The provider is told. Raises NotYours, InvalidTransition, InvalidOrder."""
    lock_order(session, order)
    if not can(by, "set_outcome_safety", order):
        raise NotYours("Only a council officer can set safety parameters")
    if not is_outcome_order(order):
        raise InvalidTransition("Only an order paid for outcomes has safety parameters")
    if not order.status.is_open:
        raise InvalidTransition(
            f"An order that is {order.status.label.lower()} cannot be changed",
            status=order.status.value,
        )
    times = sorted({_check_time(time, "medication_times") for time in medication_times if time})
    if len(times) > 6:
        raise InvalidOrder(
            "Too many medication times",
            fields={"medication_times": "Enter no more than 6 medication times"},
        )
    safety: dict[str, Any] = {"medication_times": times}
    if not_in_bed_after:
        safety["not_in_bed_after"] = _check_time(not_in_bed_after, "not_in_bed_after")
    order.safety = safety
    session.flush()
    events.record(session, order, "safety_set", by=by, **safety)
    if order.reached_provider:
        events.tell_provider(
            session,
            order,
            NotificationKind.ORDER_PLACED,
            f"Order {order.reference}: the council set its safety checks",
        )


# --- Weeks and records ---------------------------------------------------------------------


def weeks_in(order: Order, cycle: OrderCycle) -> list[package_terms.Occasion]:
    """The cycle's weeks (each the occasion on its first day, at the weekly amount in force),
    none from the day the order was cut short or while a package is paused."""
    return package_terms.occasions(order, cycle.starts_on, cycle.ends_on)


def records_of(
    session: Session, order: Order, *, cycle: OrderCycle | None = None
) -> list[OutcomeRecord]:
    query = select(OutcomeRecord).where(OutcomeRecord.order_id == order.id)
    if cycle is not None:
        query = query.where(OutcomeRecord.cycle_id == cycle.id)
    return list(session.scalars(query.order_by(OutcomeRecord.week_starting)))


def amount_due(order: Order, cycle: OrderCycle, records: Sequence[OutcomeRecord]) -> int:
    """What a cycle's outcomes earn: each week's amount less the share of each outcome not
    recorded as achieved that week."""
    keys = outcome_keys(order)
    achieved = {(r.week_starting, r.outcome_key) for r in records if r.achieved}
    total = 0
    for week in weeks_in(order, cycle):
        shares = outcome_shares(week.pence, keys)
        total += sum(pence for key, pence in shares.items() if (week.day, key) in achieved)
    return total


def cycle_of_week(order: Order, week_starting: date) -> OrderCycle | None:
    for cycle in order.cycles:
        if cycle.starts_on <= week_starting <= cycle.ends_on:
            return cycle
    return None


def record_week(
    session: Session,
    order: Order,
    *,
    by: User,
    week_starting: date,
    results: Mapping[str, OutcomeResult],
    safety_checks: Mapping[str, bool],
    today: date,
) -> list[OutcomeRecord]:
    """The provider records a week: for every outcome, achieved or not (a note saying why
    when not), and an answer to every safety question. Recording a week again corrects it
    (the person confirms it again), unless the person confirmed it or its invoice is paid.

    Raises NotYours, InvalidTransition, InvalidOrder (`details["fields"]` keyed "week",
    "outcome:<key>", "note:<key>", "safety:<key>")."""
    lock_order(session, order)
    if not can(by, "fulfil_order", order):
        raise NotYours("Only the provider of this order can record its outcomes")
    cycle = _recordable_week(order, week_starting, today)
    clean, answers = _check_answers(order, results, safety_checks)
    existing = {
        r.outcome_key: r
        for r in records_of(session, order, cycle=cycle)
        if r.week_starting == week_starting
    }
    invoice = _invoice_of(session, cycle)
    _check_changeable(cycle, invoice, existing, week_starting)
    records = []
    for key, result in clean.items():
        record = existing.get(key)
        if record is None:
            record = OutcomeRecord(
                order_id=order.id,
                cycle_id=cycle.id,
                week_starting=week_starting,
                outcome_key=key,
                recorded_by_id=by.id,
                invoice_id=invoice.id if invoice is not None else None,
            )
            session.add(record)
        record.achieved = result.achieved
        record.note = result.note
        record.status = OutcomeStatus.RECORDED
        record.query_reason = None
        record.recorded_by_id = by.id
        records.append(record)
    session.flush()
    if invoice is not None:
        invoice.amount_pence = amount_due(order, cycle, records_of(session, order, cycle=cycle))
    if order.status is OrderStatus.ACCEPTED:
        life.start(session, order, by=by)
    events.record(
        session,
        order,
        "outcomes_corrected" if existing else "outcomes_recorded",
        by=by,
        week_starting=week_starting.isoformat(),
        achieved=[key for key, result in clean.items() if result.achieved],
        not_achieved=[key for key, result in clean.items() if not result.achieved],
        safety=answers,
    )
    events.tell_person(
        session,
        order,
        NotificationKind.OUTCOMES_TO_CONFIRM,
        f"Order {order.reference}: the week of {week_starting:%-d %B} to confirm",
    )
    missed = [q.text for q in safety_questions(order) if answers.get(q.key) is False]
    if missed:
        # A safety check the council set was not met: the council hears of it at once.
        events.tell_council(
            session,
            order,
            NotificationKind.SAFETY_CHECK_MISSED,
            f"Order {order.reference}: a safety check was not met in the week of "
            f"{week_starting:%-d %B} ({'; '.join(missed)})",
        )
    return records


def _recordable_week(order: Order, week_starting: date, today: date) -> OrderCycle:
    """The cycle of a week the provider may record now: an outcome order's, delivering, begun."""
    if not is_outcome_order(order):
        raise InvalidTransition("This order is paid by the unit: record deliveries instead")
    if order.status not in (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS):
        raise InvalidTransition(
            f"Outcomes cannot be recorded on an order that is {order.status.label.lower()}",
            status=order.status.value,
        )
    if week_starting > today:
        raise InvalidOrder(
            "That week has not started", fields={"week": "Choose a week that has started"}
        )
    cycle = cycle_of_week(order, week_starting)
    if cycle is None or week_starting not in {w.day for w in weeks_in(order, cycle)}:
        raise InvalidOrder(
            "That is not a week of the order", fields={"week": "Choose a week of the order"}
        )
    return cycle


def _check_answers(
    order: Order, results: Mapping[str, OutcomeResult], safety_checks: Mapping[str, bool]
) -> tuple[dict[str, OutcomeResult], dict[str, bool]]:
    """Every outcome answered (a note when not achieved), every safety question answered."""
    problems: dict[str, str] = {}
    clean: dict[str, OutcomeResult] = {}
    for outcome in order.outcomes:
        key = outcome["key"]
        result = results.get(key)
        if result is None:
            problems[f"outcome:{key}"] = f"Say whether “{outcome['text']}” was achieved"
            continue
        note = (result.note or "").strip()
        if len(note) > NOTE_MAX_LENGTH:
            problems[f"note:{key}"] = f"Note must be {NOTE_MAX_LENGTH} characters or fewer"
        elif not result.achieved and not note:
            problems[f"note:{key}"] = "Say why it was not achieved"
        clean[key] = OutcomeResult(bool(result.achieved), note)
    answers: dict[str, bool] = {}
    for question in safety_questions(order):
        if question.key not in safety_checks:
            problems[f"safety:{question.key}"] = f"Answer “{question.text}”"
        else:
            answers[question.key] = bool(safety_checks[question.key])
    if problems:
        raise InvalidOrder("Some answers are missing", fields=problems)
    return clean, answers


def _check_changeable(
    cycle: OrderCycle,
    invoice: Invoice | None,
    existing: Mapping[str, OutcomeRecord],
    week_starting: date,
) -> None:
    if invoice is not None and invoice.status is InvoiceStatus.SETTLED:
        raise InvalidTransition("That week's invoice is paid: it cannot be changed")
    if cycle.state is not CycleState.HELD and not existing:
        raise InvalidTransition(
            "That period has already been invoiced", status=cycle.state.value, cycle=cycle.number
        )
    if any(r.status is OutcomeStatus.CONFIRMED for r in existing.values()):
        raise InvalidTransition(
            f"The week of {week_starting:%-d %B %Y} is confirmed: it cannot be changed"
        )


def safety_answers(order: Order, week_starting: date) -> dict[str, bool]:
    """The provider's latest answers to the safety questions for a week (from the timeline)."""
    found: dict[str, bool] = {}
    for event in order.events:
        if (
            event.kind in ("outcomes_recorded", "outcomes_corrected")
            and event.details.get("week_starting") == week_starting.isoformat()
        ):
            found = dict(event.details.get("safety") or {})
    return found


def _invoice_of(session: Session, cycle: OrderCycle) -> Invoice | None:
    return session.scalar(select(Invoice).where(Invoice.cycle_id == cycle.id))


def _check_confirmer(session: Session, order: Order, by: User) -> None:
    lock_order(session, order)
    if not can(by, "confirm_delivery", order):
        raise NotYours("You cannot confirm or query this order's outcomes")


def _paid(session: Session, record: OutcomeRecord) -> bool:
    if record.invoice_id is None:
        return False
    invoice = session.get(Invoice, record.invoice_id)
    return invoice is not None and invoice.status is InvoiceStatus.SETTLED


def confirm_week(session: Session, order: Order, week_starting: date, *, by: User) -> int:
    """The person (or someone for them) confirms what the provider recorded for a week: every
    record of it not yet confirmed. Returns how many were confirmed. Raises NotYours,
    InvalidTransition (nothing to confirm)."""
    _check_confirmer(session, order, by)
    waiting = [
        r
        for r in records_of(session, order)
        if r.week_starting == week_starting
        and r.status is not OutcomeStatus.CONFIRMED
        and not _paid(session, r)
    ]
    if not waiting:
        raise InvalidTransition("There is nothing to confirm for that week")
    for record in waiting:
        record.status = OutcomeStatus.CONFIRMED
        record.query_reason = None
        record.confirmed_by_id = by.id
        record.confirmed_at = utcnow()
    session.flush()
    events.record(
        session, order, "outcomes_confirmed", by=by, week_starting=week_starting.isoformat()
    )
    return len(waiting)


def query_record(session: Session, record: OutcomeRecord, *, by: User, reason: str) -> None:
    """The person queries one record ("that did not happen"): it holds its invoice until the
    provider records the week again or the person confirms it after all."""
    order = record.order
    _check_confirmer(session, order, by)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidOrder("Say what is wrong", fields={"reason": "Enter what is wrong"})
    if len(reason) > NOTE_MAX_LENGTH:
        raise InvalidOrder(
            "The reason is too long",
            fields={"reason": f"Reason must be {NOTE_MAX_LENGTH} characters or fewer"},
        )
    if record.status is not OutcomeStatus.RECORDED or _paid(session, record):
        raise InvalidTransition("Only a record waiting to be confirmed can be queried")
    record.status = OutcomeStatus.QUERIED
    record.query_reason = reason
    session.flush()
    events.record(
        session,
        order,
        "outcome_queried",
        by=by,
        reason=reason,
        week_starting=record.week_starting.isoformat(),
        outcome=record.outcome_key,
    )
    events.tell_provider(
        session,
        order,
        NotificationKind.DELIVERY_QUERIED,
        f"Order {order.reference}: an outcome record was queried",
    )


# --- Invoicing (called by marketplace.orders.invoicing) -------------------------------------


def last_week_ended(order: Order, cycle: OrderCycle) -> date | None:
    """The last day of the cycle's last week (an invoice waits for the week to be over)."""
    weeks = weeks_in(order, cycle)
    return weeks[-1].day + timedelta(days=6) if weeks else None


def bill_cycle(session: Session, order: Order, cycle: OrderCycle) -> tuple[int, bool]:
    """What an outcome order's cycle invoices, and whether the person confirmed every record
    of it (then it is settled at once). Called when the invoice is raised."""
    records = records_of(session, order, cycle=cycle)
    return amount_due(order, cycle, records), all(
        r.status is OutcomeStatus.CONFIRMED for r in records
    )


def attach_to_invoice(session: Session, order: Order, cycle: OrderCycle, invoice: Invoice) -> None:
    for record in records_of(session, order, cycle=cycle):
        record.invoice_id = invoice.id
    session.flush()


def held_by_outcome_query(invoice: Invoice) -> bool:
    """Whether a queried outcome record holds the invoice."""
    session = object_session(invoice)
    if session is None:
        return False
    return (
        session.scalar(
            select(OutcomeRecord.id)
            .where(
                OutcomeRecord.invoice_id == invoice.id,
                OutcomeRecord.status == OutcomeStatus.QUERIED,
            )
            .limit(1)
        )
        is not None
    )


# --- What the pages show ---------------------------------------------------------------------


@dataclass(frozen=True)
class WeekRow:
    """One week of an outcome order as the pages show it: its amount, its records by outcome
    key, the safety answers, and whether the provider may record it now."""

    week_starting: date
    cycle: OrderCycle
    pence: int
    records: dict[str, OutcomeRecord]
    safety: dict[str, bool]
    recordable: bool

    @property
    def status(self) -> str:
        """ "to record", "to confirm", "queried" or "confirmed"."""
        statuses = {record.status for record in self.records.values()}
        if not statuses:
            return "to record"
        if OutcomeStatus.QUERIED in statuses:
            return "queried"
        if OutcomeStatus.RECORDED in statuses:
            return "to confirm"
        return "confirmed"


def week_rows(session: Session, order: Order, today: date) -> list[WeekRow]:
    """Every week of the order that has started (newest first), with what was recorded."""
    records = records_of(session, order)
    rows = []
    for cycle in order.cycles:
        for week in weeks_in(order, cycle):
            if week.day > today:
                continue
            found = {r.outcome_key: r for r in records if r.week_starting == week.day}
            invoiced = cycle.state is not CycleState.HELD
            rows.append(
                WeekRow(
                    week_starting=week.day,
                    cycle=cycle,
                    pence=week.pence,
                    records=found,
                    safety=safety_answers(order, week.day),
                    recordable=(
                        order.status in (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS)
                        and not any(r.status is OutcomeStatus.CONFIRMED for r in found.values())
                        and not (invoiced and not found)
                        and not any(_paid(session, r) for r in found.values())
                    ),
                )
            )
    return sorted(rows, key=lambda row: row.week_starting, reverse=True)


def outcome_text(order: Order, key: str) -> str:
    return next((o["text"] for o in order.outcomes if o["key"] == key), key)
