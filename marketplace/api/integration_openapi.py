"""The integration API's part of the OpenAPI document: its paths, schemas, the bearer token
security scheme and its error responses. `openapi.document` merges it with the ORUK feed's."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]
TAG = "integration"

_PENCE = {"type": "integer", "description": "Pence."}
_ID = {"type": "string", "format": "uuid"}
_DATE = {"type": "string", "format": "date"}
_TEXT_OR_NULL = {"type": ["string", "null"]}


def _ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Json) -> Json:
    return {"anyOf": [schema, {"type": "null"}]}


_FIGURES = {
    "allocated_pence": _PENCE,
    "committed_pence": _PENCE,
    "spent_pence": _PENCE,
    "available_pence": _PENCE,
    "returned_pence": {
        **_PENCE,
        "description": "Pence unspent at the close and given back to the funder (or the person).",
    },
    "carried_forward_pence": {
        **_PENCE,
        "description": "Pence unspent at the close and carried forward into the next budget.",
    },
    # ISF (issue 18)
    "isf_pence": {
        **_PENCE,
        "description": (
            "Pence moved into Individual Service Funds (held or spent by their providers), "
            "less what came back: allocated = committed + spent + available + returned + "
            "carried forward + this."
        ),
    },
}
_PERSON_FIELDS = {
    "full_name": {"type": "string", "minLength": 1, "maxLength": 200},
    "preferred_name": {"type": ["string", "null"], "maxLength": 100},
    "date_of_birth": {
        **_nullable(_DATE),
        "description": "In the past, and no more than 120 years ago.",
    },
    "postcode": {
        "type": ["string", "null"],
        "maxLength": 10,
        "description": 'A UK postcode, kept in capitals with one space ("sg11aa" is "SG1 1AA").',
        "examples": ["SG1 1AA"],
    },
    "email": {"type": ["string", "null"], "format": "email", "maxLength": 254},
    "phone": {
        "type": ["string", "null"],
        "maxLength": 30,
        "description": "7 to 15 digits, with spaces, brackets, dashes, dots and a leading + "
        "as people write them.",
        "examples": ["01632 960901"],
    },
    "case_reference": {
        "type": ["string", "null"],
        "maxLength": 50,
        "description": "The council's own reference for the person; unique when set.",
    },
    "address_line_1": {"type": ["string", "null"], "maxLength": 100},
    "address_line_2": {"type": ["string", "null"], "maxLength": 100},
    "town": {"type": ["string", "null"], "maxLength": 60},
    "county": {"type": ["string", "null"], "maxLength": 60},
    "communication_needs": {
        "type": ["string", "null"],
        "maxLength": 500,
        "description": 'In the person\'s words: "uses BSL", "large print".',
    },
    "preferred_contact": {
        "anyOf": [
            {"type": "string", "enum": ["phone", "text", "email", "letter"]},
            {"type": "null"},
        ]
    },
    "access_notes": {
        "type": ["string", "null"],
        "maxLength": 1000,
        "description": "How to get in. Stored encrypted; shown to the provider of an order "
        "only while it is accepted or in progress.",
    },
}
# Written, never read back: only the provider delivering an order sees the code.
_KEY_SAFE_CODE = {
    "key_safe_code": {
        "type": ["string", "null"],
        "maxLength": 20,
        "writeOnly": True,
        "description": "Stored encrypted and never sent back (see `has_key_safe_code`); "
        "shown to the provider of an order only while it is accepted or in progress.",
    }
}
_STREAM = {
    "id": _ID,
    "kind": {"type": "string", "enum": ["council", "nhs", "client_contribution", "own_funds"]},
    "amount_pence": _PENCE,
    "draw_order": {"type": "integer"},
    "pot_id": _nullable(_ID),
    "funder": _TEXT_OR_NULL,
}
_BUDGET = {
    "id": _ID,
    "person_id": _ID,
    "starts_on": _DATE,
    "ends_on": _DATE,
    "frequency": {"type": "string", "enum": ["annual", "monthly", "four_weekly"]},
    "status": {"type": "string"},
}


def _object(properties: Json, *, required: list[str] | None = None, **more: Any) -> Json:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        **more,
    }


SCHEMAS: Json = {
    "Person": _object(
        {
            "id": _ID,
            **_PERSON_FIELDS,
            "has_key_safe_code": {"type": "boolean"},
            "created_at": {"type": "string", "format": "date-time"},
        },
        additionalProperties=False,
    ),
    "NewPerson": _object(
        {**_PERSON_FIELDS, **_KEY_SAFE_CODE}, required=["full_name"], additionalProperties=False
    ),
    "PersonChanges": _object(
        {**_PERSON_FIELDS, **_KEY_SAFE_CODE},
        required=[],
        minProperties=1,
        additionalProperties=False,
    ),
    "FundingStream": _object(_STREAM, additionalProperties=False),
    "Budget": _object(
        {**_BUDGET, "streams": {"type": "array", "items": _ref("FundingStream")}},
        additionalProperties=False,
    ),
    "NewBudget": _object(
        {
            "starts_on": _DATE,
            "ends_on": {**_DATE, "description": "Within a year of the start."},
            "frequency": _BUDGET["frequency"],
            "streams": {
                "type": "array",
                "minItems": 1,
                "items": _object(
                    {
                        "kind": _STREAM["kind"],
                        "amount_pence": {"type": "integer", "minimum": 1, "maximum": 100_000_000},
                        "pot_id": {
                            **_ID,
                            "description": "The funder's pot (council and nhs streams only), "
                            "for the financial year the budget starts in.",
                        },
                        "draw_order": {"type": "integer", "minimum": 1, "maximum": 99},
                    },
                    required=["kind", "amount_pence"],
                    additionalProperties=False,
                ),
            },
        },
        additionalProperties=False,
    ),
    "Figures": _object(_FIGURES, additionalProperties=False),
    "BudgetFigures": _object(
        {
            **_BUDGET,
            "streams": {
                "type": "array",
                "items": _object({**_STREAM, **_FIGURES}, additionalProperties=False),
            },
            "total": _ref("Figures"),
        },
        additionalProperties=False,
    ),
    "StatementLine": _object(
        {
            "transfer_id": _ID,
            "at": {"type": "string", "format": "date-time"},
            "on": _DATE,
            "stream_id": _ID,
            "stream_kind": _STREAM["kind"],
            "what": {"type": "string"},
            "description": {"type": "string"},
            "reason": _TEXT_OR_NULL,
            "in_pence": _PENCE,
            "out_pence": _PENCE,
            "held_change_pence": _PENCE,
            "balance_pence": _PENCE,
            "held_pence": _PENCE,
            "available_pence": _PENCE,
            "purchase": _TEXT_OR_NULL,
        },
        additionalProperties=False,
    ),
    "Statement": _object(
        {
            "budget_id": _ID,
            "from": _nullable(_DATE),
            "to": _nullable(_DATE),
            "stream_id": _nullable(_ID),
            "opening_balance_pence": _PENCE,
            "opening_held_pence": _PENCE,
            "opening_available_pence": _PENCE,
            "in_pence": _PENCE,
            "out_pence": _PENCE,
            "closing_balance_pence": _PENCE,
            "closing_held_pence": _PENCE,
            "closing_available_pence": _PENCE,
            "lines": {"type": "array", "items": _ref("StatementLine")},
        },
        additionalProperties=False,
    ),
}

SECURITY_SCHEMES: Json = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token made by an admin (`mkt_…`), scoped to one role, and "
        "optionally acting for one user account of that role (its requests are then that "
        "user's).",
    },
    "browserSession": {
        "type": "apiKey",
        "in": "cookie",
        "name": "session",
        "description": "A signed-in user's session; state-changing requests also need the "
        "X-CSRFToken header.",
    },
}

_ERRORS = {
    "Unauthorized": "No token, an unknown or revoked one, or one whose user is deactivated "
    "(`unauthorized`).",
    "Forbidden": "The principal may not do this (`forbidden`).",
    "PersonNotFound": "No person (or budget) with this id (`not_found`).",
    "Conflict": "`conflict` (an overlapping budget, a taken case reference, an "
    "Idempotency-Key reused for another request) or `insufficient_funds` (a pot cannot "
    "cover the budget).",
    "ValidationError": "`validation_error`: `details.fields` names each field at fault (a "
    "body that is not a JSON object, or a malformed `Idempotency-Key`, is one too).",
    "BadBody": "`bad_request`: JSON nested more than 32 levels deep, or text in it with a NUL "
    "or a lone surrogate (`details.field` says where).",
    "TooLarge": "`payload_too_large`: the body is larger than the service accepts "
    "(`details.max_bytes`, 1 MB by default).",
}


def responses(error: Json) -> Json:
    """The integration API's error responses, given the shape of one."""
    described = {
        name: {"description": text, "content": {"application/json": {"schema": error}}}
        for name, text in _ERRORS.items()
    }
    described["Unauthorized"]["headers"] = {
        "WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer challenge."}
    }
    return described


_SECURITY = [{"bearerAuth": []}, {"browserSession": []}]
_PERSON_ID = {"name": "person_id", "in": "path", "required": True, "schema": _ID}
_BUDGET_ID = {
    "name": "budget_id",
    "in": "query",
    "description": "A budget of the person; by default the one their page shows first "
    "(the open one whose period includes today).",
    "schema": _ID,
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "description": "Any unique string of 1 to 255 visible ASCII characters (a UUID); "
    "anything else is refused (422, `validation_error`). A retry with "
    "the same key and request answers the first response again, with "
    "`Idempotent-Replayed: true`, and changes nothing. Without it, each request is new. A key "
    "is kept for 24 hours: used again after that, it starts a new request.",
    "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"},
}


def _error(name: str) -> Json:
    return {"$ref": f"#/components/responses/{name}"}


def _operation(
    operation_id: str,
    summary: str,
    status: str,
    schema: str,
    *,
    errors: tuple[str, ...],
    body: str | None = None,
    parameters: tuple[Json, ...] = (),
) -> Json:
    operation: Json = {
        "tags": [TAG],
        "summary": summary,
        "operationId": operation_id,
        "security": _SECURITY,
        "parameters": list(parameters),
        "responses": {
            status: {
                "description": summary,
                "content": {"application/json": {"schema": _ref(schema)}},
            },
            "401": _error("Unauthorized"),
            "403": _error("Forbidden"),
            **{code: _error(name) for code, name in errors},
        },
    }
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(body)}},
        }
        operation["parameters"].append(IDEMPOTENCY_KEY)
        operation["responses"].update(BODY_ERRORS)
    return operation


# What any request with a JSON body may be answered besides its own errors.
BODY_ERRORS = {
    "400": _error("BadBody"),
    "413": _error("TooLarge"),
    "422": _error("ValidationError"),
}
_NOT_FOUND = ("404", "PersonNotFound")
_CONFLICT = ("409", "Conflict")
_INVALID = ("422", "ValidationError")


def paths() -> Json:
    """The integration API's paths, relative to /api/v1."""
    return {
        "/people": {
            "post": _operation(
                "createPerson",
                "Add a person",
                "201",
                "Person",
                body="NewPerson",
                errors=(_CONFLICT, _INVALID),
            )
        },
        "/people/{person_id}": {
            "get": _operation(
                "getPerson",
                "A person's record",
                "200",
                "Person",
                parameters=(_PERSON_ID,),
                errors=(_NOT_FOUND,),
            ),
            "patch": _operation(
                "updatePerson",
                "Change a person's record",
                "200",
                "Person",
                body="PersonChanges",
                parameters=(_PERSON_ID,),
                errors=(_NOT_FOUND, _CONFLICT, _INVALID),
            ),
        },
        "/people/{person_id}/budgets": {
            "post": _operation(
                "createBudget",
                "Give a person a personal budget",
                "201",
                "Budget",
                body="NewBudget",
                parameters=(_PERSON_ID,),
                errors=(_NOT_FOUND, _CONFLICT, _INVALID),
            )
        },
        "/people/{person_id}/budget": {
            "get": _operation(
                "getBudgetFigures",
                "A budget's figures per stream and in total",
                "200",
                "BudgetFigures",
                parameters=(_PERSON_ID, _BUDGET_ID),
                errors=(_NOT_FOUND,),
            )
        },
        "/people/{person_id}/statement": {
            "get": _operation(
                "getStatement",
                "A budget's statement",
                "200",
                "Statement",
                parameters=(
                    _PERSON_ID,
                    _BUDGET_ID,
                    {"name": "from", "in": "query", "schema": _DATE},
                    {"name": "to", "in": "query", "schema": _DATE},
                    {"name": "stream", "in": "query", "schema": _ID},
                ),
                errors=(_NOT_FOUND, _INVALID),
            )
        },
    }
