"""The consents API's part of the OpenAPI document (issue 17): its paths and schemas.
`openapi.document` adds them beside the integration API's (`add_to`)."""

from __future__ import annotations

from typing import Any

from marketplace.api.integration_openapi import IDEMPOTENCY_KEY, TAG
from marketplace.people.models import Authority, ConsentScope

Json = dict[str, Any]

_ID = {"type": "string", "format": "uuid"}
_TIME = {"type": "string", "format": "date-time"}
_SCOPE = {
    "type": "string",
    "enum": [scope.value for scope in ConsentScope],
    "description": "; ".join(f"`{scope.value}`: {scope.label}" for scope in ConsentScope),
}
_SECURITY: list[Json] = [{"bearerAuth": []}, {"browserSession": []}]
_PERSON_ID = {"name": "person_id", "in": "path", "required": True, "schema": _ID}
_CONSENT_ID = {"name": "consent_id", "in": "path", "required": True, "schema": _ID}


def _ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(name: str) -> Json:
    return {"$ref": f"#/components/responses/{name}"}


def _object(properties: Json, *, required: list[str] | None = None) -> Json:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


SCHEMAS: Json = {
    "Consent": _object(
        {
            "id": _ID,
            "person_id": _ID,
            "person_name": {"type": "string"},
            "grantee": _object(
                {
                    "kind": {"type": "string", "enum": ["brokerage", "account"]},
                    "id": _ID,
                    "name": {"type": "string"},
                }
            ),
            "scopes": {"type": "array", "items": _SCOPE},
            "authority": {
                "type": "string",
                "enum": [authority.value for authority in Authority],
                "description": "On what the consent rests: the person's own word, or a "
                "lasting power of attorney or deputyship (with `document_reference`).",
            },
            "given_by_name": {"type": "string"},
            "document_reference": {"type": ["string", "null"]},
            "starts_at": _TIME,
            "ends_at": {**_TIME, "description": "The first moment it no longer covers."},
            "revoked_at": {"anyOf": [_TIME, {"type": "null"}]},
            "revoked_by_name": {"type": ["string", "null"]},
            "state": {"type": "string", "enum": ["live", "not_started", "ended", "withdrawn"]},
        }
    ),
    "Consents": _object({"items": {"type": "array", "items": _ref("Consent")}}),
    "NewConsent": _object(
        {
            "brokerage_id": {**_ID, "description": "A brokerage approved by the council."},
            "scopes": {"type": "array", "minItems": 1, "items": _SCOPE},
            "ends_on": {
                "type": "string",
                "format": "date",
                "description": "The consent's last day (London); within three years.",
            },
        }
    ),
}


def _operation(
    operation_id: str,
    summary: str,
    description: str,
    status: str,
    schema: str,
    *,
    parameters: tuple[Json, ...] = (),
    body: str | None = None,
    changes: bool = False,
) -> Json:
    operation: Json = {
        "tags": [TAG],
        "summary": summary,
        "description": description,
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
            **({"404": _error("PersonNotFound")} if parameters else {}),
        },
    }
    if changes:
        operation["parameters"].append(IDEMPOTENCY_KEY)
        operation["responses"]["422"] = _error("ValidationError")
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(body)}},
        }
        operation["responses"].update({"400": _error("BadBody"), "413": _error("TooLarge")})
    return operation


_ACTING = (
    " A token made for a broker's account acts as that broker everywhere in this API: the "
    "people, budget, statement and order endpoints answer it only for people whose live "
    "consent to its brokerage covers what is asked (see budgets and orders: `see`; place or "
    "cancel an order: `order`), and an order it places records the broker and the consent."
)


def paths() -> Json:
    """The consents API's paths, relative to /api/v1."""
    return {
        "/consents": {
            "get": _operation(
                "listHeldConsents",
                "The live consents the caller holds",
                "A broker's: those given to their brokerage; anyone else's: those granted to "
                "their own account (a family member's)." + _ACTING,
                "200",
                "Consents",
            )
        },
        "/consents/{consent_id}": {
            "get": _operation(
                "getConsent",
                "One consent",
                "Its person, their attorney, council officers, and its holders.",
                "200",
                "Consent",
                parameters=(_CONSENT_ID,),
            )
        },
        "/consents/{consent_id}/revoke": {
            "post": _operation(
                "revokeConsent",
                "Withdraw a consent",
                "At once: its holder's very next request is refused. The person or their "
                "attorney only. Withdrawing one already withdrawn or ended changes nothing.",
                "200",
                "Consent",
                parameters=(_CONSENT_ID,),
                changes=True,
            )
        },
        "/people/{person_id}/consents": {
            "get": _operation(
                "listPersonConsents",
                "Every consent of a person's",
                "Live or not, newest first: the person, their attorney and council officers.",
                "200",
                "Consents",
                parameters=(_PERSON_ID,),
            ),
            "post": _operation(
                "giveConsent",
                "Give a brokerage consent",
                "The person (or their attorney, who may pass on no more than their own "
                "consent covers) gives an approved brokerage consent from now until the end "
                "of `ends_on`. Refused (422, fields named) for an overlapping consent to the "
                "same brokerage, an unknown scope, or an end more than three years ahead.",
                "201",
                "Consent",
                parameters=(_PERSON_ID,),
                body="NewConsent",
                changes=True,
            ),
        },
    }


def add_to(paths_so_far: Json, components: Json) -> None:
    """Add the consents API's paths and schemas to the document's."""
    paths_so_far.update(paths())
    components["schemas"].update(SCHEMAS)
