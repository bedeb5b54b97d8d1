"""Our OpenAPI 3.1 document, built from Open Referral UK 3.0's own.

The paths, parameters and response schemas are ORUK's (`spec/openapi.json`, unchanged on disk),
so the document cannot drift from the standard. On top we add what is ours: the server, the
error responses, the CORS header, the `/openapi.json` path itself, and the few repairs the
published file needs to be valid OpenAPI (it declares 3.0.0 but uses 3.1's JSON Schema
dialect, puts a `name` on operations, and swaps two taxonomy term operation ids).
"""

from __future__ import annotations

import copy
import functools
import json
from importlib import resources
from typing import Any

from marketplace.api import integration_openapi, openapi_consents, openapi_orders, params

Json = dict[str, Any]

_OPERATION_FIELDS = {
    "tags",
    "summary",
    "description",
    "operationId",
    "parameters",
    "responses",
    "deprecated",
}
_PARAMETER_FIELDS = {"name", "in", "description", "required", "schema", "deprecated", "example"}
# The published file has these two ids the wrong way round.
_OPERATION_IDS = {
    ("/taxonomy_terms", "get"): "getPaginatedListOfTaxonomyTerms",
    ("/taxonomy_terms/{id}", "get"): "getTaxonomyTermById",
}
# What the feed's readers (`params`) accept, which ORUK's document leaves open (any integer,
# any string): the document says it, so a client (and Schemathesis) knows a value before
# sending it. An empty value means the parameter's default, as if it were absent.
_EMPTY = {"type": "string", "maxLength": 0}
_UUID_OR_EMPTY = {"anyOf": [{"type": "string", "format": "uuid"}, _EMPTY]}
_PARAMETER_SCHEMAS = {
    "search": {"type": "string", "maxLength": params.MAX_SEARCH_LENGTH},
    "page": {"type": "integer", "minimum": 1, "maximum": 10**9 - 1},
    "per_page": {
        "type": "integer",
        "minimum": 1,
        "maximum": params.MINIMAL_PER_PAGE,
        "description": f"Up to {params.MAX_PER_PAGE} items a page ({params.DEFAULT_PER_PAGE} by "
        f"default), or up to {params.MINIMAL_PER_PAGE} (and that by default) with `minimal`: "
        "more is given as the most a page holds.",
    },
    "format": {"type": "string", "enum": ["json", "ndjson", ""]},
    "taxonomy_term_id": _UUID_OR_EMPTY,
    "taxonomy_id": _UUID_OR_EMPTY,
    "organization_id": _UUID_OR_EMPTY,
    "parent_id": _UUID_OR_EMPTY,
    "modified_after": {
        "anyOf": [
            {"type": "string", "format": "date-time"},
            {"type": "string", "format": "date"},
            _EMPTY,
        ],
        "description": "ISO 8601; a date alone means its midnight, a time without an offset UTC.",
    },
    "postcode": {
        "anyOf": [
            {"type": "string", "pattern": params.POSTCODE_PATTERN},
            {"type": "string", "pattern": params.OUTWARD_CODE_PATTERN},
            _EMPTY,
        ],
        "description": "A full UK postcode or its outward code (SG1), in any case.",
    },
    "proximity": {
        "anyOf": [{"type": "string", "pattern": params.PROXIMITY_PATTERN}, _EMPTY],
        "description": f"Metres from the postcode's centroid, 1 to {params.MAX_PROXIMITY_METRES} "
        "with up to 6 decimals; ignored without a postcode.",
    },
}
_HEADER = {"$ref": "#/components/headers/AccessControlAllowOrigin"}
_FORMAT = {"$ref": "#/components/parameters/format"}
_NDJSON = {
    "schema": {
        "type": "string",
        "description": "With `format=ndjson`: every result (no paging), one JSON object a line, "
        "each as an item of the paged answer's `contents`.",
    }
}
_ERROR = {
    "type": "object",
    "description": "An error: `error` is a stable code for programs, `message` is for people.",
    "properties": {
        "error": {"type": "string", "examples": ["invalid_parameter", "not_found"]},
        "message": {"type": "string"},
        "details": {
            "type": "object",
            "description": "More about the error, such as the `parameter` that was wrong.",
        },
    },
    "required": ["error", "message"],
}


@functools.cache
def oruk_document() -> Json:
    """The ORUK 3.0 OpenAPI document as published (read once)."""
    text = resources.files("marketplace.api").joinpath("spec", "openapi.json").read_text("utf-8")
    return json.loads(text)


def _error_response(description: str) -> Json:
    return {
        "description": description,
        "headers": {"Access-Control-Allow-Origin": _HEADER},
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _parameter(parameter: Json) -> Json:
    if "$ref" in parameter:
        return {key: value for key, value in parameter.items() if key in {"$ref", "description"}}
    repaired = {key: value for key, value in parameter.items() if key in _PARAMETER_FIELDS}
    if parameter["in"] == "path":
        repaired["schema"] = {"type": "string", "format": "uuid"}
    elif parameter["name"] in _PARAMETER_SCHEMAS:
        repaired["schema"] = _PARAMETER_SCHEMAS[parameter["name"]]
    return repaired


def _parameters(published: Json) -> Json:
    """ORUK's shared query parameters, each with the schema of what this feed accepts."""
    repaired = copy.deepcopy(published)
    for name, parameter in repaired.items():
        if name in _PARAMETER_SCHEMAS:
            parameter["schema"] = _PARAMETER_SCHEMAS[name]
    return repaired


def _operation(path: str, method: str, operation: Json) -> Json:
    repaired = {key: value for key, value in operation.items() if key in _OPERATION_FIELDS}
    repaired["operationId"] = _OPERATION_IDS.get((path, method), operation["operationId"])
    repaired["tags"] = [tag.lower() for tag in operation.get("tags", ["optional"])]
    if "parameters" in repaired:
        repaired["parameters"] = [_parameter(p) for p in repaired["parameters"]]
    responses = copy.deepcopy(repaired["responses"])
    for response in responses.values():
        response["headers"] = {"Access-Control-Allow-Origin": _HEADER}
    if _FORMAT in repaired.get("parameters", []):
        responses["200"]["content"]["application/x-ndjson"] = _NDJSON
    if "{id}" in path:
        responses["404"] = {"$ref": "#/components/responses/NotFound"}
    if repaired.get("parameters") or "{id}" in path:
        responses["400"] = {"$ref": "#/components/responses/BadRequest"}
    repaired["responses"] = responses
    return repaired


# Text in a request body may hold any character but NUL (PostgreSQL cannot store it; the API
# answers 400 `bad_request`, as `marketplace.api.bodies` says).
_NO_NUL = "^[^\\u0000]*$"


def _refuse_nul(schema: Any) -> None:
    """Give every free-text string in `schema` (a copy) the pattern that excludes NUL."""
    if not isinstance(schema, dict):
        return
    kinds = schema.get("type")
    text = kinds == "string" or (isinstance(kinds, list) and "string" in kinds)
    if text and not {"format", "enum", "const", "pattern"} & schema.keys():
        schema["pattern"] = _NO_NUL
    for value in schema.get("properties", {}).values():
        _refuse_nul(value)
    if isinstance(schema.get("additionalProperties"), dict):
        schema.setdefault("propertyNames", {"pattern": _NO_NUL})  # keys are text too
    for key in ("items", "additionalProperties"):
        _refuse_nul(schema.get(key))
    for key in ("anyOf", "oneOf", "allOf"):
        for value in schema.get(key, []):
            _refuse_nul(value)


def _request_bodies_refuse_nul(paths: Json, schemas: Json) -> None:
    for item in paths.values():
        for method, operation in item.items():
            if method == "parameters":
                continue
            content = operation.get("requestBody", {}).get("content", {})
            for media in content.values():
                name = media["schema"]["$ref"].rsplit("/", 1)[-1]
                schemas[name] = copy.deepcopy(schemas[name])
                _refuse_nul(schemas[name])


def _path_item(path: str, item: Json) -> Json:
    repaired: Json = {}
    for key, value in item.items():
        if key == "parameters":
            repaired[key] = [_parameter(p) for p in value]
        else:
            repaired[key] = _operation(path, key, value)
    return repaired


def _own_paths() -> Json:
    return {
        "/openapi.json": {
            "get": {
                "tags": ["documentation"],
                "summary": "This OpenAPI document",
                "description": "Describes every endpoint of this API.",
                "operationId": "getOpenApiDocument",
                "responses": {
                    "200": {
                        "description": "An OpenAPI 3.1 document.",
                        "headers": {"Access-Control-Allow-Origin": _HEADER},
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        }
    }


def document(server_url: str) -> Json:
    """The OpenAPI 3.1 document describing every endpoint under `server_url` (/api/v1)."""
    published = oruk_document()
    components = copy.deepcopy(published["components"])
    components["parameters"] = _parameters(published["components"]["parameters"])
    components["schemas"]["Error"] = _ERROR
    components["responses"] = {
        "BadRequest": _error_response("A query parameter is malformed or out of range."),
        "NotFound": _error_response("Nothing with this id is in the public directory."),
        **integration_openapi.responses({"$ref": "#/components/schemas/Error"}),
    }
    components["schemas"].update(integration_openapi.SCHEMAS)
    components["securitySchemes"] = integration_openapi.SECURITY_SCHEMES
    components["headers"] = {
        "AccessControlAllowOrigin": {
            "description": "Always `*`: any web page may read this API.",
            "schema": {"type": "string", "const": "*"},
        }
    }
    paths = {path: _path_item(path, item) for path, item in published["paths"].items()}
    paths.update(_own_paths())
    paths.update(integration_openapi.paths())
    openapi_orders.add_to(paths, components)
    openapi_consents.add_to(paths, components)
    _request_bodies_refuse_nul(paths, components["schemas"])
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Care marketplace directory: Open Referral UK 3.0",
            "version": published["info"]["version"],
            "summary": "The council's care and support directory as an Open Referral UK feed.",
            "description": (
                "Approved providers' published care and support services, their venues and "
                "the care categories, following the Open Referral UK 3.0 specification. "
                "Read-only, open to anyone, no key needed. See docs/api.md for our choices "
                "where the standard is silent. Beside it, the integration API (tag "
                "`integration`) lets the council's case-management system keep people and "
                "their personal budgets, and lets the council, providers and people place, "
                "follow and fulfil orders, confirm deliveries, and raise and settle invoices: "
                "it needs a bearer token (one acting for a user account to change orders) or "
                "a signed-in session."
            ),
            "license": {
                "name": "Open Government Licence v3.0",
                "url": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
            },
        },
        "jsonSchemaDialect": published["jsonSchemaDialect"],
        "servers": [{"url": server_url, "description": "This directory"}],
        "tags": [
            {"name": "required", "description": "Endpoints every ORUK feed must offer."},
            {"name": "optional", "description": "Endpoints ORUK lets a feed offer."},
            {"name": "documentation", "description": "About this API."},
            {
                "name": integration_openapi.TAG,
                "description": "People, personal budgets, orders, deliveries and invoices, "
                "for the council's and providers' systems.",
            },
        ],
        "paths": paths,
        "components": components,
    }
