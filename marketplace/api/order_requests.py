"""Reading the orders API's JSON requests: the shape of each field is checked here, every
mistake named by its dotted field (`schedule.days`), all at once.

What the values may be (how many hours, how many weeks, which days, dates in the budget
period, a split the streams' rules allow) is the rules' business (`orders.schedule`,
`orders.checkout`, `orders.deliveries`), so the pages and the API refuse exactly the same
orders. Raises `problems.invalid({field: message})` (422 `validation_error`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from marketplace.api.integration_requests import json_object
from marketplace.api.problems import invalid
from marketplace.money import LARGEST_PENCE
from marketplace.orders.models import ScheduleKind
from marketplace.orders.schedule import Schedule

_ORDER_FIELDS = {"service_id", "person_id", "schedule", "split"}
# PACKAGES (issue 18): `until_further_notice` true, with no `weeks`, asks for a package.
_SCHEDULE_FIELDS = {
    "kind",
    "starts_on",
    "units_per_occasion",
    "weeks",
    "days",
    "until_further_notice",
}


@dataclass(frozen=True)
class OrderRequest:
    service_id: uuid.UUID
    person_id: uuid.UUID
    schedule: Schedule
    split: dict[uuid.UUID, int] | None


@dataclass(frozen=True)
class DeliveryRequest:
    delivered_on: date
    units: int
    note: str


def order_request(body: Any) -> OrderRequest:
    """A new order: the service, the person, the schedule and, optionally, the split."""
    body = json_object(body)
    errors: dict[str, str] = {}
    for name in sorted(set(body) - _ORDER_FIELDS):
        errors[name] = "This field is unknown"
    service_id = _uuid(body.get("service_id"), "service_id", errors)
    person_id = _uuid(body.get("person_id"), "person_id", errors)
    schedule = _schedule(body.get("schedule"), errors)
    split = _split(body.get("split"), errors)
    if errors or service_id is None or person_id is None or schedule is None:
        raise invalid(errors)
    return OrderRequest(service_id, person_id, schedule, split)


def reason_of(body: Any) -> str:
    """The `reason` of a cancellation (optional) or a refusal (required). No body is an empty
    reason: the rules say whether that will do."""
    body = {} if body is None else json_object(body)
    errors = {name: "This field is unknown" for name in sorted(set(body) - {"reason"})}
    reason = body.get("reason", "")
    if reason is None:
        reason = ""
    if not isinstance(reason, str):
        errors["reason"] = "Give the reason as a string"
    if errors:
        raise invalid(errors)
    return reason


def delivery_request(body: Any) -> DeliveryRequest:
    """A delivery: the day, how many units (0 for a missed visit) and a note."""
    body = json_object(body)
    errors = {
        name: "This field is unknown"
        for name in sorted(set(body) - {"delivered_on", "units", "note"})
    }
    delivered_on = _date(body.get("delivered_on"), "delivered_on", errors)
    units = body.get("units")
    if not _is_int(units):
        errors["units"] = "Give a whole number (0 for a missed visit)"
    note = body.get("note", "")
    if note is None:
        note = ""
    if not isinstance(note, str):
        errors["note"] = "Give the note as a string"
    if errors or delivered_on is None:
        raise invalid(errors)
    return DeliveryRequest(delivered_on, units, note)


def correction_request(body: Any) -> tuple[int, str]:
    """A provider's correction of a delivery: how many units were really delivered (0 for a
    missed visit) and, optionally, a note."""
    body = json_object(body)
    errors = {name: "This field is unknown" for name in sorted(set(body) - {"units", "note"})}
    units = body.get("units")
    if not _is_int(units):
        errors["units"] = "Give a whole number (0 for a missed visit)"
    note = body.get("note", "")
    if note is None:
        note = ""
    if not isinstance(note, str):
        errors["note"] = "Give the note as a string"
    if errors:
        raise invalid(errors)
    return units, note


def _schedule(value: Any, errors: dict[str, str]) -> Schedule | None:
    if not isinstance(value, dict):
        errors["schedule"] = (
            "Give a schedule object: kind, starts_on, units_per_occasion, and for a "
            "recurring one weeks and days"
        )
        return None
    for name in sorted(set(value) - _SCHEDULE_FIELDS):
        errors[f"schedule.{name}"] = "This field is unknown"
    kinds = [kind.value for kind in ScheduleKind]
    kind = value.get("kind")
    if kind not in kinds:
        errors["schedule.kind"] = f"Choose one of: {', '.join(kinds)}"
    starts_on = _date(value.get("starts_on"), "schedule.starts_on", errors)
    units = value.get("units_per_occasion")
    if not _is_int(units):
        errors["schedule.units_per_occasion"] = "Give a whole number, like 2"
    weeks = value.get("weeks")
    days = value.get("days")
    ongoing = value.get("until_further_notice", False)
    if not isinstance(ongoing, bool):
        errors["schedule.until_further_notice"] = "Give true or false"
    if kind == ScheduleKind.ONE_OFF.value:
        if weeks is not None:
            errors["schedule.weeks"] = "A one-off order has no weeks: leave it out"
        if days:
            errors["schedule.days"] = "A one-off order has no days: leave them out"
        if ongoing is True:
            errors["schedule.until_further_notice"] = "A one-off order happens once"
        weeks, days = None, []
    else:
        if ongoing is True:
            if weeks is not None:
                errors["schedule.weeks"] = (
                    "An order until further notice has no number of weeks: leave it out"
                )
        elif not _is_int(weeks):
            errors["schedule.weeks"] = (
                "Give how many weeks, as a whole number, or until_further_notice: true"
            )
        if not isinstance(days, list) or not all(isinstance(day, str) for day in days):
            errors["schedule.days"] = 'Give the days as a list of codes, like ["MO", "TH"]'
    if kind not in kinds or starts_on is None or any(f.startswith("schedule") for f in errors):
        return None
    return Schedule(ScheduleKind(kind), starts_on, units, weeks, tuple(days or ()))


def _split(value: Any, errors: dict[str, str]) -> dict[uuid.UUID, int] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not value:
        errors["split"] = "Give the split as an object of stream id to pence"
        return None
    split: dict[uuid.UUID, int] = {}
    for key, pence in value.items():
        stream_id = _uuid(key, f"split.{key}", errors)
        if not _is_int(pence) or not 0 <= pence <= LARGEST_PENCE:
            errors[f"split.{key}"] = f"Give whole pence, from 0 to {LARGEST_PENCE}"
        elif stream_id is not None:
            split[stream_id] = pence
    return split


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _uuid(value: Any, field: str, errors: dict[str, str]) -> uuid.UUID | None:
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    errors[field] = "Give a UUID"
    return None


def _date(value: Any, field: str, errors: dict[str, str]) -> date | None:
    try:
        found = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        found = None
    if found is None:
        errors[field] = "Give a real date as YYYY-MM-DD"
    return found
