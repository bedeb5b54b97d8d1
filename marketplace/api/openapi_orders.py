"""The orders API's part of the OpenAPI document: its paths, schemas and error responses.
`openapi.document` adds them beside the integration API's (`add_to`)."""

from __future__ import annotations

from typing import Any

from marketplace.api.integration_openapi import IDEMPOTENCY_KEY, TAG

Json = dict[str, Any]

_PENCE = {"type": "integer", "description": "Pence."}
_ID = {"type": "string", "format": "uuid"}
_DATE = {"type": "string", "format": "date"}
_TIME = {"type": "string", "format": "date-time"}
_TEXT = {"type": "string"}
_WEEKDAY = {"type": "string", "enum": ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]}
_ORDER_STATUS = {
    "type": "string",
    "enum": [
        "awaiting_approval",
        "placed",
        "accepted",
        "declined",
        "in_progress",
        "completed",
        "cancelled",
    ],
}
_STREAM_KIND = {"type": "string", "enum": ["council", "nhs", "client_contribution", "own_funds"]}
_SECURITY = [{"bearerAuth": []}, {"browserSession": []}]


def _ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Json) -> Json:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(properties: Json, *, required: list[str] | None = None, **more: Any) -> Json:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
        **more,
    }


def _list(schema: Json) -> Json:
    return {"type": "array", "items": schema}


SCHEMAS: Json = {
    "StreamShare": _object(
        {"stream_id": _ID, "kind": _STREAM_KIND, "pence": {"type": "integer", "minimum": 1}},
        description="Pence held (or paid) on one funding stream of the person's budget.",
    ),
    "OrderCycle": _object(
        {
            "id": _ID,
            "number": {"type": "integer", "minimum": 1},
            "starts_on": _DATE,
            "ends_on": _DATE,
            "units": {"type": "integer"},
            "amount_pence": _PENCE,
            "state": {"type": "string", "enum": ["held", "invoiced", "settled", "released"]},
            "split": _list(_ref("StreamShare")),
        },
        description="One invoicing period of the order and the money held for it.",
    ),
    "OrderEvent": _object(
        {
            "kind": {"type": "string", "examples": ["placed", "accept", "delivery_recorded"]},
            "from_status": _nullable(_ORDER_STATUS),
            "to_status": _nullable(_ORDER_STATUS),
            "actor_role": {
                "type": ["string", "null"],
                "description": "The role of who did it; null when the system did.",
            },
            "through_api_token": {
                "type": "boolean",
                "description": "Whether they did it through an API token acting for them.",
            },
            "reason": _TEXT,
            "details": {"type": "object"},
            "happened_at": _TIME,
        },
        description="One step of the order's timeline.",
    ),
    "OrderDelivery": _object(
        {
            "id": _ID,
            "order_id": _ID,
            "cycle_id": _ID,
            "delivered_on": _DATE,
            "units": {"type": "integer", "minimum": 0},
            "note": _TEXT,
            "status": {"type": "string", "enum": ["recorded", "confirmed", "queried"]},
            "query_reason": {"type": ["string", "null"]},
            "invoice_id": _nullable(_ID),
            "recorded_at": _TIME,
        },
        description="What the provider delivered on a day.",
    ),
    "OrderInvoice": _object(
        {
            "id": _ID,
            "reference": {"type": "string", "examples": ["INV-7K3M9Q2P"]},
            "order_id": _ID,
            "cycle_id": _ID,
            "amount_pence": _PENCE,
            "status": {"type": "string", "enum": ["raised", "settled"]},
            "raised_at": _TIME,
            "settled_at": _nullable(_TIME),
        }
    ),
    "Order": _object(
        {
            "id": _ID,
            "reference": {"type": "string", "examples": ["ORD-7K3M9Q2P"]},
            "status": _ORDER_STATUS,
            "person_id": _ID,
            "budget_id": _ID,
            "placed_at": _TIME,
            "service": _object(
                {
                    "id": _ID,
                    "name": _TEXT,
                    "organisation_id": _ID,
                    "organisation_name": _TEXT,
                    "unit_price_pence": _PENCE,
                    "price_unit": _TEXT,
                    "category_codes": _list(_TEXT),
                },
                description="What was bought, as described and priced when it was ordered.",
            ),
            "schedule": _object(
                {
                    "kind": {"type": "string", "enum": ["one_off", "recurring"]},
                    "starts_on": _DATE,
                    "ends_on": {
                        **_nullable(_DATE),
                        "description": "None for a package (until further notice).",
                    },
                    "units_per_occasion": {"type": "integer", "minimum": 1},
                    "weeks": {"type": ["integer", "null"]},
                    "until_further_notice": {
                        "type": "boolean",
                        "description": (
                            "An open-ended package: each invoicing period's money is held "
                            "shortly before it starts, from the budget for that time."
                        ),
                    },
                    "days": _list(_WEEKDAY),
                    "units_per_week": {"type": "integer"},
                    "description": _TEXT,
                }
            ),
            "total_units": {"type": "integer"},
            "total_pence": _PENCE,
            "invoice_cycle": {"type": "string", "enum": ["weekly", "four_weekly"]},
            "notice_days": {"type": "integer", "minimum": 0},
            "cancelled_from": _nullable(_DATE),
            "paid_by_stream": _list(_ref("StreamShare")),
            "cycles": _list(_ref("OrderCycle")),
            "events": _list(_ref("OrderEvent")),
            "deliveries": _list(_ref("OrderDelivery")),
            "invoices": _list(_ref("OrderInvoice")),
            "links": _object(
                {
                    "self": _TEXT,
                    "cancel": _TEXT,
                    "approve": _TEXT,
                    "refuse": _TEXT,
                    "accept": _TEXT,
                    "decline": _TEXT,
                    "deliveries": _TEXT,
                },
                required=["self"],
                description="The order, and the moves its state allows now.",
            ),
        }
    ),
    "NewOrder": _object(
        {
            "service_id": _ID,
            "person_id": _ID,
            "schedule": _object(
                {
                    "kind": {"type": "string", "enum": ["one_off", "recurring"]},
                    "starts_on": {**_DATE, "description": "Today or later, in the budget."},
                    "units_per_occasion": {"type": "integer", "minimum": 1, "maximum": 16},
                    "weeks": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 52,
                        "description": "Recurring only; leave it out until further notice.",
                    },
                    "until_further_notice": {
                        "type": "boolean",
                        "default": False,
                        "description": (
                            "Recurring only: true for an ongoing package with no end (no "
                            "`weeks`). Its first invoicing period is held now, the rest as "
                            "the person's budgets release the money."
                        ),
                    },
                    "days": {
                        **_list(_WEEKDAY),
                        "minItems": 1,
                        "uniqueItems": True,
                        "description": "Recurring only.",
                    },
                },
                required=["kind", "starts_on", "units_per_occasion"],
            ),
            "split": {
                "type": "object",
                "description": "Optional: pence per funding stream id, adding up to the total. "
                "By default the streams pay in the budget's draw order, by their rules.",
                "additionalProperties": {"type": "integer", "minimum": 0},
            },
        },
        required=["service_id", "person_id", "schedule"],
    ),
    "OrderReason": _object(
        {"reason": {"type": "string", "maxLength": 1000}},
        required=[],
        description="Why: optional to cancel or approve; required to decline, refuse or "
        "query a delivery.",
    ),
    "DeliveryCorrection": _object(
        {
            "units": {
                "type": "integer",
                "minimum": 0,
                "maximum": 16,
                "description": "What was really delivered (0 for a missed visit).",
            },
            "note": {"type": "string", "maxLength": 2000},
        },
        required=["units"],
    ),
    "NewDelivery": _object(
        {
            "delivered_on": {**_DATE, "description": "A day of the order, not in the future."},
            "units": {"type": "integer", "minimum": 0, "maximum": 16},
            "note": {"type": "string", "maxLength": 2000},
        },
        required=["delivered_on", "units"],
    ),
}

_ERRORS = {
    "OrderNotFound": "No order with this id, or the order has no such delivery or cycle "
    "(`not_found`).",
    "InvoiceNotFound": "No invoice with this id (`not_found`).",
    "OrderConflict": "`insufficient_funds` (`details.shortfall_pence`, `requested_pence`, "
    "`available_pence`), `service_unavailable`, `invalid_transition` (the order's state does "
    "not allow it; `details.status`) or `conflict` (an Idempotency-Key reused for another "
    "request).",
    "OrderRefused": "`validation_error` (`details.fields` names each field at fault, such as "
    "`schedule.days`; a body that is not a JSON object, or a malformed `Idempotency-Key`, is "
    "one too), `outside_support_plan` (the person's support plan does not cover "
    "the service and the council refuses such purchases) or `not_approved` (a broker "
    "ordering under the person's consent chose a service the person has not approved on "
    "their shortlist).",
}
_ORDER_ID = {"name": "order_id", "in": "path", "required": True, "schema": _ID}
_DELIVERY_ID = {"name": "delivery_id", "in": "path", "required": True, "schema": _ID}
_CYCLE_NUMBER = {
    "name": "number",
    "in": "path",
    "required": True,
    "description": "The cycle's `number` (1 for the first invoicing period).",
    "schema": {"type": "integer", "minimum": 1},
}
_INVOICE_ID = {"name": "invoice_id", "in": "path", "required": True, "schema": _ID}


def _error(name: str) -> Json:
    return {"$ref": f"#/components/responses/{name}"}


def _operation(
    operation_id: str,
    summary: str,
    description: str,
    status: str,
    schema: str,
    *,
    body: str | None = None,
    body_required: bool = True,
    path_id: bool = True,
    more_path: tuple[Json, ...] = (),
    not_found: str = "OrderNotFound",
    changes: bool = True,
    errors: tuple[str, ...] = (),
) -> Json:
    operation: Json = {
        "tags": [TAG],
        "summary": summary,
        "description": description,
        "operationId": operation_id,
        "security": _SECURITY,
        "parameters": [*([_ORDER_ID] if path_id else []), *more_path],
        "responses": {
            status: {
                "description": summary,
                "content": {"application/json": {"schema": _ref(schema)}},
            },
            "401": _error("Unauthorized"),
            "403": _error("Forbidden"),
            **({"404": _error(not_found)} if path_id or more_path else {}),
            **{code: _error(name) for code, name in errors},
        },
    }
    if changes:
        operation["parameters"].append(IDEMPOTENCY_KEY)
        # A malformed Idempotency-Key is refused whatever the step.
        operation["responses"].setdefault("422", _error("OrderRefused"))
    if body is not None:
        operation["responses"].update({"400": _error("BadBody"), "413": _error("TooLarge")})
        operation["requestBody"] = {
            "required": body_required,
            "content": {"application/json": {"schema": _ref(body)}},
        }
    return operation


_CONFLICT = ("409", "OrderConflict")
_REFUSED = ("422", "OrderRefused")


def paths() -> Json:
    """The orders API's paths, relative to /api/v1."""
    return {
        "/orders": {
            "post": _operation(
                "createOrder",
                "Place an order",
                "Commits the order's cost from the person's budget, per invoicing cycle, in "
                "one transaction with the order; nothing is created when it is refused. The "
                "person (a citizen's session) or a council officer's session.",
                "201",
                "Order",
                body="NewOrder",
                path_id=False,
                errors=(_CONFLICT, _REFUSED),
            )
        },
        "/orders/{order_id}": {
            "get": _operation(
                "getOrder",
                "An order",
                "With its timeline, deliveries and invoices: for the person, council "
                "officers and the provider's staff.",
                "200",
                "Order",
                changes=False,
            )
        },
        "/orders/{order_id}/cancel": {
            "post": _operation(
                "cancelOrder",
                "Cancel an order",
                "The whole order before it starts, or the remaining weeks of a recurring one "
                "after the provider's notice (`cancelled_from`); what will not be delivered is "
                "released to the budget.",
                "200",
                "Order",
                body="OrderReason",
                body_required=False,
                errors=(_CONFLICT, _REFUSED),
            )
        },
        "/orders/{order_id}/accept": {
            "post": _operation(
                "acceptOrder",
                "Accept an order",
                "The order's provider accepts it.",
                "200",
                "Order",
                errors=(_CONFLICT,),
            )
        },
        "/orders/{order_id}/decline": {
            "post": _operation(
                "declineOrder",
                "Decline an order",
                "The order's provider declines it with a reason; its money is released.",
                "200",
                "Order",
                body="OrderReason",
                errors=(_CONFLICT, _REFUSED),
            )
        },
        "/orders/{order_id}/deliveries": {
            "post": _operation(
                "recordOrderDelivery",
                "Record a delivery",
                "The order's provider records what was delivered on a day (0 units for a "
                "missed visit), never more in a cycle than was ordered.",
                "201",
                "OrderDelivery",
                body="NewDelivery",
                errors=(_CONFLICT, _REFUSED),
            )
        },
        "/orders/{order_id}/approve": {
            "post": _operation(
                "approveOrder",
                "Approve an order",
                "A council officer approves an order outside the person's support plan "
                "(`awaiting_approval`); it goes to the provider as `placed`. `reason` optional.",
                "200",
                "Order",
                body="OrderReason",
                body_required=False,
                errors=(_CONFLICT, _REFUSED),
            )
        },
        "/orders/{order_id}/refuse": {
            "post": _operation(
                "refuseOrder",
                "Refuse an order",
                "A council officer refuses an order awaiting approval, with a `reason`; it "
                "is cancelled and its money released.",
                "200",
                "Order",
                body="OrderReason",
                errors=(_CONFLICT, _REFUSED),
            )
        },
        "/orders/{order_id}/deliveries/{delivery_id}/confirm": {
            "post": _operation(
                "confirmOrderDelivery",
                "Confirm a delivery",
                "The person (or an officer for them) confirms a delivery happened as recorded.",
                "200",
                "OrderDelivery",
                more_path=(_DELIVERY_ID,),
                errors=(_CONFLICT,),
            )
        },
        "/orders/{order_id}/deliveries/{delivery_id}/query": {
            "post": _operation(
                "queryOrderDelivery",
                "Query a delivery",
                "The person (or an officer for them) says what is wrong with a delivery "
                "(`reason` required); its invoice is held until the provider corrects it.",
                "200",
                "OrderDelivery",
                body="OrderReason",
                more_path=(_DELIVERY_ID,),
                errors=(_CONFLICT, _REFUSED),
            )
        },
        "/orders/{order_id}/deliveries/{delivery_id}/correct": {
            "post": _operation(
                "correctOrderDelivery",
                "Correct a delivery",
                "The order's provider corrects the units delivered (never more than the "
                "cycle ordered); the person confirms it again, and an invoice it is on is "
                "recalculated.",
                "200",
                "OrderDelivery",
                body="DeliveryCorrection",
                more_path=(_DELIVERY_ID,),
                errors=(_CONFLICT, _REFUSED),
            )
        },
        "/orders/{order_id}/cycles/{number}/invoice": {
            "post": _operation(
                "raiseOrderInvoice",
                "Invoice a cycle",
                "The order's provider invoices one invoicing period for what its deliveries "
                "say, once the period is over or fully recorded. It is settled at once when "
                "every line is confirmed or nothing was delivered.",
                "201",
                "OrderInvoice",
                more_path=(_CYCLE_NUMBER,),
                errors=(_CONFLICT,),
            )
        },
        "/invoices/{invoice_id}/settle": {
            "post": _operation(
                "settleInvoice",
                "Settle an invoice",
                "A council officer pays an invoice from the cycle's commitment: what it bills "
                "is spent, the rest released. Refused (`invalid_transition`) while a delivery "
                "on it is queried, or once it is settled.",
                "200",
                "OrderInvoice",
                path_id=False,
                more_path=(_INVOICE_ID,),
                not_found="InvoiceNotFound",
                errors=(_CONFLICT,),
            )
        },
    }


def add_to(paths_so_far: Json, components: Json) -> None:
    """Add the orders API's paths, schemas and error responses to the document's."""
    paths_so_far.update(paths())
    components["schemas"].update(SCHEMAS)
    error = {"$ref": "#/components/schemas/Error"}
    components["responses"].update(
        {
            name: {"description": text, "content": {"application/json": {"schema": error}}}
            for name, text in _ERRORS.items()
        }
    )
