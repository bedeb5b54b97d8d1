"""The orders API, on the integration API's blueprint: place an order from a person's budget,
read it with its timeline, deliveries and invoices, cancel it; the council approves or refuses
it and settles its invoices; its provider accepts, declines, records and corrects deliveries
and raises an invoice per cycle; the person confirms or queries each delivery.

Thin views, as `integration_views`: the same authentication (bearer token or browser session
with its CSRF token, `auth`), the same JSON errors (`problems`), the same `@idempotent`, and
the same rules functions as the citizens', providers' and council's pages (`orders.checkout`,
`orders.life`, `orders.deliveries`, `orders.invoicing`), so the pages and the API cannot
disagree.

Every order, delivery and timeline step records the user who did it, so changing an order
needs a principal that is a user: a signed-in session, or a token that acts for a user account
(`auth`). A token that acts for no one (and owns no organisation) may read orders its role may
see but not change them; see docs/api.md, "Orders".
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, jsonify, request, url_for

from marketplace.accounts.models import User
from marketplace.accounts.policy import RULES
from marketplace.api import auth, bp, order_json, order_requests
from marketplace.api.bodies import json_body
from marketplace.api.idempotency import HEADER, idempotent
from marketplace.api.problems import ApiProblem, invalid
from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.ledger import LedgerError
from marketplace.orders import checkout, deliveries, invoicing, life, queries
from marketplace.orders.models import Delivery, Invoice, Order, OrderCycle
from marketplace.people.service import person_by_id
from providers.openreferral.identifiers import parse_uuid

Json = dict[str, Any]

# The rules' refusal codes and the status each answers with.
STATUS = {
    "validation_error": 422,
    "outside_support_plan": 422,
    "not_approved": 422,
    "forbidden": 403,
    "conflict": 409,
    "insufficient_funds": 409,
    "service_unavailable": 409,
    "invalid_transition": 409,
}
# The checkout's field names that are inside the request's `schedule` object.
_SCHEDULE_FIELDS = {"kind", "starts_on", "units_per_occasion", "weeks", "days"}


def _refused(refusal: LedgerError, *, schedule_fields: bool = False) -> ApiProblem:
    """A rules refusal as the API's JSON error, its fields named as in the request."""
    details = dict(refusal.details)
    if schedule_fields and isinstance(details.get("fields"), dict):
        details["fields"] = {
            (f"schedule.{name}" if name in _SCHEDULE_FIELDS else name): message
            for name, message in details["fields"].items()
        }
    problem = ApiProblem(refusal.code, refusal.message, status=STATUS[refusal.code])
    problem.details = details  # set, not passed: a refusal's details may name a `status`
    return problem


def _carry_out(step: Callable[[], Any], *, schedule_fields: bool = False) -> Any:
    """Call a rules function, answering its refusal (one with a known code) as JSON."""
    try:
        return step()
    except LedgerError as refusal:
        if refusal.code not in STATUS:
            raise
        raise _refused(refusal, schedule_fields=schedule_fields) from refusal


def _answer(body: Json, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _order_answer(found: Order, status: int = 200) -> Response:
    # Relationships loaded before the rules added to them are read again, fresh.
    db.session.expire(found, ["cycles", "events", "deliveries", "invoices"])
    return _answer(order_json.order(found), status)


def _body() -> Any:
    """The request's JSON, or None when it has no body (a malformed body is a 422)."""
    if not request.get_data(cache=True):
        return None
    body = json_body()
    if body is None:
        raise invalid({"body": "Send a JSON object with Content-Type: application/json"})
    return body


def _order(order_id: str) -> Order:
    found_id = parse_uuid(order_id)
    found = queries.order_by_id(db.session, found_id) if found_id else None
    if found is None:
        raise ApiProblem("not_found", f"There is no order with id {order_id!r}")
    return found


def _delivery(found: Order, delivery_id: str) -> Delivery:
    """One of the order's deliveries (404 for an unknown one or another order's)."""
    wanted = parse_uuid(delivery_id)
    delivery = queries.delivery_by_id(db.session, wanted) if wanted else None
    if delivery is None or delivery.order_id != found.id:
        raise ApiProblem("not_found", f"This order has no delivery with id {delivery_id!r}")
    return delivery


def _cycle(found: Order, number: int) -> OrderCycle:
    """One of the order's invoicing cycles, by its number (404 for one it does not have)."""
    cycle = next((each for each in found.cycles if each.number == number), None)
    if cycle is None:
        raise ApiProblem("not_found", f"This order has no cycle number {number}")
    return cycle


def order_view(action: str) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Load what an order's URL names and pass it to the view, which then only acts.

    Authenticates (401), finds the URL's `order_id` (404 in the API's JSON), and its
    `delivery_id` or cycle `number` when the URL has one (404 for one the order lacks), then
    checks the principal may do `action` on the order (403 or 404, as the policy says). The
    view is called with the order, and `delivery=` or `cycle=`, in place of the URL's values.
    Put it under `@idempotent`, so a replayed request is answered before anything is loaded.
    """
    if action not in RULES:  # fail at import, not at the first request
        raise KeyError(action)

    def decorator(view: Callable[..., Response]) -> Callable[..., Response]:
        @wraps(view)
        def loaded(order_id: str, **values: Any) -> Response:
            auth.current_principal()
            found = _order(order_id)
            named: dict[str, Any] = {}
            if "delivery_id" in values:
                named["delivery"] = _delivery(found, values.pop("delivery_id"))
            if "number" in values:
                named["cycle"] = _cycle(found, values.pop("number"))
            auth.check(action, found)
            return view(found, **named, **values)

        return loaded

    return decorator


def _acting_user() -> User:
    """The user making this change (the order records who did each step): a signed-in user,
    or the user an API token acts for."""
    principal = auth.current_principal()
    if isinstance(principal, User):
        return principal
    raise ApiProblem(
        "forbidden",
        "This API token acts for no user, and every step of an order records who took it: "
        "use a token made for a user account (flask api-token create --user) or sign in",
        reason="token_cannot_change_orders",
    )


def _placement_key() -> str:
    """The order's placement key: from the principal's Idempotency-Key when one is sent (a
    retry then finds the same order), else a fresh one (each request is a new order)."""
    key = request.headers.get(HEADER)
    if key is None:
        return f"api:{uuid.uuid4()}"
    scoped = f"{auth.principal_identity()}\n{key}".encode()
    return "api:" + hashlib.sha256(scoped).hexdigest()


@bp.post("/orders")
@idempotent
def create_order() -> Response:
    """Place an order for a person from their budget, as the checkout page does."""
    auth.current_principal()
    asked = order_requests.order_request(_body())
    person = person_by_id(db.session, asked.person_id)
    service = queries.service_by_id(db.session, asked.service_id)
    missing = {}
    if person is None:
        missing["person_id"] = "There is no person with this id"
    if service is None:
        missing["service_id"] = "There is no service with this id"
    if person is None or service is None:
        raise invalid(missing)
    auth.check("place_order_for", person)
    by = _acting_user()
    placed = _carry_out(
        lambda: checkout.place_order(
            db.session,
            person,
            service,
            asked.schedule,
            by=by,
            today=london_today(),
            placement_key=_placement_key(),
            split=asked.split,
            plan_rule=current_app.config["OUT_OF_PLAN_PURCHASES"],
            cycles_ahead=current_app.config["PACKAGE_CYCLES_AHEAD"],
        ),
        schedule_fields=True,
    )
    response = _order_answer(placed, 201)
    response.headers["Location"] = url_for("api.get_order", order_id=placed.id)
    return response


@bp.get("/orders/<order_id>")
@order_view("view_order")
def get_order(found: Order) -> Response:
    """An order with its timeline, deliveries and invoices: its person (or an officer) and its
    provider's staff."""
    return _order_answer(found)


@bp.post("/orders/<order_id>/cancel")
@idempotent
@order_view("cancel_order")
def cancel_order(found: Order) -> Response:
    """Cancel the order, or its remaining weeks after the provider's notice (`reason`
    optional)."""
    reason = order_requests.reason_of(_body())
    by = _acting_user()
    _carry_out(lambda: life.cancel(db.session, found, by=by, today=london_today(), reason=reason))
    return _order_answer(found)


@bp.post("/orders/<order_id>/accept")
@idempotent
@order_view("fulfil_order")
def accept_order(found: Order) -> Response:
    """The order's provider accepts it."""
    by = _acting_user()
    _carry_out(lambda: life.accept(db.session, found, by=by))
    return _order_answer(found)


@bp.post("/orders/<order_id>/decline")
@idempotent
@order_view("fulfil_order")
def decline_order(found: Order) -> Response:
    """The order's provider declines it, saying why (`reason` required); its money is
    released."""
    reason = order_requests.reason_of(_body())
    by = _acting_user()
    _carry_out(lambda: life.decline(db.session, found, by=by, reason=reason))
    return _order_answer(found)


@bp.post("/orders/<order_id>/deliveries")
@idempotent
@order_view("fulfil_order")
def record_order_delivery(found: Order) -> Response:
    """The order's provider records what was delivered on a day (0 units for a missed visit)."""
    asked = order_requests.delivery_request(_body())
    by = _acting_user()
    recorded = _carry_out(
        lambda: deliveries.record_delivery(
            db.session,
            found,
            by=by,
            delivered_on=asked.delivered_on,
            units=asked.units,
            note=asked.note,
            today=london_today(),
        )
    )
    response = _answer(order_json.delivery(recorded), 201)
    response.headers["Location"] = url_for("api.get_order", order_id=found.id)
    return response


@bp.post("/orders/<order_id>/approve")
@idempotent
@order_view("approve_order")
def approve_order(found: Order) -> Response:
    """A council officer approves an order outside the person's support plan (`reason`
    optional); it then goes to the provider."""
    reason = order_requests.reason_of(_body())
    by = _acting_user()
    _carry_out(lambda: life.approve(db.session, found, by=by, reason=reason))
    return _order_answer(found)


@bp.post("/orders/<order_id>/refuse")
@idempotent
@order_view("approve_order")
def refuse_order(found: Order) -> Response:
    """A council officer refuses an order awaiting approval, saying why (`reason` required);
    its money is released."""
    reason = order_requests.reason_of(_body())
    by = _acting_user()
    _carry_out(lambda: life.refuse(db.session, found, by=by, reason=reason))
    return _order_answer(found)


def _delivery_answer(delivery: Delivery) -> Response:
    return _answer(order_json.delivery(delivery))


@bp.post("/orders/<order_id>/deliveries/<delivery_id>/confirm")
@idempotent
@order_view("confirm_delivery")
def confirm_order_delivery(found: Order, delivery: Delivery) -> Response:
    """The person (or an officer for them) confirms a delivery happened as recorded."""
    by = _acting_user()
    _carry_out(lambda: deliveries.confirm_delivery(db.session, delivery, by=by))
    return _delivery_answer(delivery)


@bp.post("/orders/<order_id>/deliveries/<delivery_id>/query")
@idempotent
@order_view("confirm_delivery")
def query_order_delivery(found: Order, delivery: Delivery) -> Response:
    """The person (or an officer for them) says what is wrong with a delivery (`reason`
    required); its invoice is held until the provider corrects it."""
    reason = order_requests.reason_of(_body())
    by = _acting_user()
    _carry_out(lambda: deliveries.query_delivery(db.session, delivery, by=by, reason=reason))
    return _delivery_answer(delivery)


@bp.post("/orders/<order_id>/deliveries/<delivery_id>/correct")
@idempotent
@order_view("fulfil_order")
def correct_order_delivery(found: Order, delivery: Delivery) -> Response:
    """The order's provider corrects what was delivered (`units`, optional `note`); the person
    confirms it again."""
    units, note = order_requests.correction_request(_body())
    by = _acting_user()
    _carry_out(
        lambda: deliveries.correct_delivery(db.session, delivery, by=by, units=units, note=note)
    )
    return _delivery_answer(delivery)


@bp.post("/orders/<order_id>/cycles/<int:number>/invoice")
@idempotent
@order_view("fulfil_order")
def raise_order_invoice(found: Order, cycle: OrderCycle) -> Response:
    """The order's provider invoices one cycle for what its deliveries say (settled at once if
    every line is confirmed or nothing was delivered)."""
    by = _acting_user()
    raised = _carry_out(
        lambda: invoicing.raise_invoice(db.session, found, cycle, by=by, today=london_today())
    )
    response = _answer(order_json.invoice(raised), 201)
    response.headers["Location"] = url_for("api.get_order", order_id=found.id)
    return response


@bp.post("/invoices/<invoice_id>/settle")
@auth.required("settle_invoice")
@idempotent
def settle_order_invoice(invoice_id: str) -> Response:
    """A council officer pays an invoice from the cycle's commitment (refused while a delivery
    on it is queried)."""
    found = _invoice(invoice_id)
    by = _acting_user()
    _carry_out(lambda: invoicing.settle_invoice(db.session, found, by=by))
    return _answer(order_json.invoice(found))


def _invoice(invoice_id: str) -> Invoice:
    wanted = parse_uuid(invoice_id)
    found = queries.invoice_by_id(db.session, wanted) if wanted else None
    if found is None:
        raise ApiProblem("not_found", f"There is no invoice with id {invoice_id!r}")
    return found
