"""Reading the integration API's JSON requests: every mistake named by its field, all at once.

Raises `problems.invalid({field: message})` (422 `validation_error`). The limits are the
officers' page's (both from `budgets.rules`): the API and the page accept the same budgets.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email

from marketplace.api.problems import invalid
from marketplace.budgets.models import PaymentFrequency, StreamKind
from marketplace.budgets.rules import PERIOD_MAX, STREAM_MAX_PENCE
from marketplace.budgets.statement import StatementFilter
from marketplace.formatting import LONDON
from marketplace.people import details
from marketplace.people.models import ContactMethod
from marketplace.people.records import FIELDS, TEXT_LENGTHS

Json = dict[str, Any]
_OPTIONAL = tuple(field for field in FIELDS if field != "full_name")


def json_object(body: Any) -> Json:
    """The request's JSON object (a 422 if the body is not one)."""
    if not isinstance(body, dict):
        raise invalid({"body": "Send a JSON object with Content-Type: application/json"})
    return body


def person_fields(body: Any, *, partial: bool) -> Json:
    """The person's fields from a POST (full_name required) or a PATCH (any, at least one)."""
    body = json_object(body)
    errors: dict[str, str] = {}
    fields: Json = {}
    for name in sorted(set(body) - {"full_name", *_OPTIONAL}):
        errors[name] = "This field is unknown or cannot be changed"
    if "full_name" in body or not partial:
        name = _text(body.get("full_name"), "full_name", errors, required=True)
        if name is not None:
            fields["full_name"] = name
    for field in _OPTIONAL:
        if field not in body:
            continue
        value = body[field]
        if value is None:
            fields[field] = None
        elif field == "date_of_birth":
            fields[field] = _date_of_birth(value, errors)
        elif field == "postcode":
            fields[field] = _postcode(value, errors)
        elif field == "email":
            fields[field] = _email(value, errors)
        elif field == "phone":
            fields[field] = _phone(value, errors)
        elif field == "preferred_contact":
            chosen = _choice(value, field, ContactMethod, errors)
            fields[field] = ContactMethod(chosen) if chosen else None
        else:
            fields[field] = _text(value, field, errors)
    if partial and not body:
        errors["body"] = "Send at least one field to change"
    if errors:
        raise invalid(errors)
    return fields


@dataclass(frozen=True)
class StreamRequest:
    kind: StreamKind
    amount_pence: int
    pot_id: uuid.UUID | None
    draw_order: int | None


@dataclass(frozen=True)
class BudgetRequest:
    starts_on: date
    ends_on: date
    frequency: PaymentFrequency
    streams: list[StreamRequest]


def budget_request(body: Any) -> BudgetRequest:
    """A budget asked for, checked as the officers' budget form checks it."""
    body = json_object(body)
    errors: dict[str, str] = {}
    for name in sorted(set(body) - {"starts_on", "ends_on", "frequency", "streams"}):
        errors[name] = "This field is unknown"
    starts_on = _date(body.get("starts_on"), "starts_on", errors, required=True)
    ends_on = _date(body.get("ends_on"), "ends_on", errors, required=True)
    if starts_on and ends_on:
        if ends_on < starts_on:
            errors["ends_on"] = "The end date must be the same as or after the start"
        elif ends_on - starts_on >= PERIOD_MAX:
            errors["ends_on"] = "A budget's period can be a year at most"
    frequency = _choice(body.get("frequency"), "frequency", PaymentFrequency, errors)
    streams = _streams(body.get("streams"), errors)
    if errors or not (starts_on and ends_on and frequency and streams):
        raise invalid(errors)
    return BudgetRequest(starts_on, ends_on, PaymentFrequency(frequency), streams)


def _streams(value: Any, errors: dict[str, str]) -> list[StreamRequest] | None:
    if not isinstance(value, list) or not value:
        errors["streams"] = "Give at least one funding stream"
        return None
    streams: list[StreamRequest] = []
    kinds: set[str] = set()
    orders: set[int] = set()
    for number, item in enumerate(value):
        at = f"streams.{number}"
        if not isinstance(item, dict):
            errors[at] = "Each stream is an object with kind and amount_pence"
            continue
        for name in sorted(set(item) - {"kind", "amount_pence", "pot_id", "draw_order"}):
            errors[f"{at}.{name}"] = "This field is unknown"
        kind = _choice(item.get("kind"), f"{at}.kind", StreamKind, errors)
        if kind is not None and kind in kinds:
            errors[f"{at}.kind"] = "Give each kind of stream once"
        amount = item.get("amount_pence")
        if not _is_int(amount) or not 0 < amount <= STREAM_MAX_PENCE:
            errors[f"{at}.amount_pence"] = (
                f"Give a whole number of pence from 1 to {STREAM_MAX_PENCE}"
            )
        pot_id = _uuid(item.get("pot_id"), f"{at}.pot_id", errors)
        if kind is not None:
            kinds.add(kind)
            funded = StreamKind(kind).funder_kind is not None
            if funded and pot_id is None and f"{at}.pot_id" not in errors:
                errors[f"{at}.pot_id"] = f"A {kind} stream needs the id of the pot it comes from"
            if not funded and item.get("pot_id") is not None:
                errors[f"{at}.pot_id"] = f"A {kind} stream is paid by the person, not from a pot"
        order = item.get("draw_order")
        if order is not None and (not _is_int(order) or not 1 <= order <= 99):
            errors[f"{at}.draw_order"] = "Give a draw order from 1 to 99"
            order = None
        elif order is not None and order in orders:
            errors[f"{at}.draw_order"] = "Give each stream its own draw order"
        if order is not None:
            orders.add(order)
        if kind is not None and _is_int(amount):
            streams.append(StreamRequest(StreamKind(kind), amount, pot_id, order))
    return streams


def statement_filter(args: Any, stream_ids: set[uuid.UUID]) -> StatementFilter:
    """The statement's `from`, `to` and `stream` query parameters."""
    errors: dict[str, str] = {}
    date_from = _date(args.get("from"), "from", errors)
    date_to = _date(args.get("to"), "to", errors)
    if date_from and date_to and date_to < date_from:
        errors["to"] = "'to' must be the same as or after 'from'"
    stream_id = _uuid(args.get("stream"), "stream", errors)
    if stream_id is not None and stream_id not in stream_ids:
        errors["stream"] = "This budget has no funding stream with this id"
    if errors:
        raise invalid(errors, "A query parameter is wrong")
    return StatementFilter(date_from=date_from, date_to=date_to, stream_id=stream_id)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: Any, field: str, errors: dict[str, str], *, required: bool = False) -> str | None:
    limit = TEXT_LENGTHS[field]
    if value is None and not required:
        return None
    if not isinstance(value, str):
        errors[field] = "Give a string" if value is not None else "Enter some text"
        return None
    if not value.strip():
        errors[field] = "Enter some text"
        return None
    if len(value.strip()) > limit:
        errors[field] = f"Use {limit} characters or fewer"
        return None
    return value.strip()


def _date(
    value: Any,
    field: str,
    errors: dict[str, str],
    *,
    required: bool = False,
) -> date | None:
    if value is None or value == "":
        if required:
            errors[field] = "Give a date as YYYY-MM-DD"
        return None
    try:
        found = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        found = None
    if found is None:
        errors[field] = "Give a real date as YYYY-MM-DD"
    return found


def _uuid(value: Any, field: str, errors: dict[str, str]) -> uuid.UUID | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    errors[field] = "Give a UUID"
    return None


def _choice(value: Any, field: str, choices: Any, errors: dict[str, str]) -> str | None:
    allowed = [member.value for member in choices]
    if value not in allowed:
        errors[field] = f"Choose one of: {', '.join(allowed)}"
        return None
    return str(value)


def _postcode(value: Any, errors: dict[str, str]) -> str | None:
    text = _text(value, "postcode", errors)
    if text is None:
        return None
    normalised = details.normalise_postcode(text)
    if normalised is None:
        errors["postcode"] = "Enter a UK postcode, like SG1 1AA"
    return normalised


def _phone(value: Any, errors: dict[str, str]) -> str | None:
    text = _text(value, "phone", errors)
    if text is None:
        return None
    normalised = details.normalise_phone(text)
    if normalised is None:
        errors["phone"] = "Enter a phone number of 7 to 15 digits, like 01632 960 001"
    return normalised


def _date_of_birth(value: Any, errors: dict[str, str]) -> date | None:
    born = _date(value, "date_of_birth", errors)
    problem = details.date_of_birth_problem(born, datetime.now(LONDON).date()) if born else None
    if problem:
        errors["date_of_birth"] = problem
        return None
    return born


def _email(value: Any, errors: dict[str, str]) -> str | None:
    text = _text(value, "email", errors)
    if text is None:
        return None
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        errors["email"] = "Enter an email address, like name@example.com"
        return None
