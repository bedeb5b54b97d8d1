"""The OpenAPI document: every API route in it and nothing else, built on ORUK's own."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from marketplace.api.openapi import oruk_document
from tests.api.schemas import SPEC

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def route_shapes(app: Flask) -> set[tuple[str, str]]:
    """(method, path) of every api route, its variables written as OpenAPI's {…}."""
    shapes = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?[^<>]+>", "{}", rule.rule.removeprefix("/api/v1"))
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            shapes.add((method.lower(), path))
    return shapes


def document_shapes(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method, re.sub(r"\{[^}]+\}", "{}", path))
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


def test_every_api_route_is_in_the_document_and_nothing_else(
    app: Flask, client: FlaskClient
) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    document = response.get_json()
    missing = route_shapes(app) - document_shapes(document)
    assert missing == set(), "describe these routes in marketplace/api/openapi.py"
    extra = document_shapes(document) - route_shapes(app)
    assert extra == set(), "these documented paths have no route"


def test_the_document_is_oruks_own_with_our_additions(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    published = oruk_document()
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [
        {"url": "http://marketplace.test/api/v1", "description": "This directory"}
    ]
    assert set(published["paths"]) < set(document["paths"])
    # ORUK's parameters, each with the schema of what this feed accepts (ORUK allows any
    # integer or string): same names, places and descriptions.
    ours = document["components"]["parameters"]
    assert set(ours) == set(published["components"]["parameters"])
    for name, parameter in published["components"]["parameters"].items():
        assert {k: v for k, v in ours[name].items() if k != "schema"} == {
            k: v for k, v in parameter.items() if k != "schema"
        }
    assert ours["page"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 999999999}
    for path, item in published["paths"].items():
        ours = document["paths"][path]["get"]
        content = ours["responses"]["200"]["content"]
        assert (
            content["application/json"]
            == (item["get"]["responses"]["200"]["content"]["application/json"])
        )
        assert "name" not in ours  # not an OpenAPI operation field
    assert document["paths"]["/taxonomy_terms"]["get"]["operationId"] == (
        "getPaginatedListOfTaxonomyTerms"
    )


def test_every_reference_in_the_document_resolves(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    text = json.dumps(document)
    for ref in set(re.findall(r'"\$ref": "([^"]+)"', text)):
        if ref.startswith("#/"):
            target: Any = document
            for part in ref[2:].split("/"):
                target = target[part]
        else:
            name = ref.removeprefix("https://openreferraluk.org/specifications/3.0/schema/")
            assert (SPEC / "schema" / name).is_file(), ref


def test_operation_ids_are_unique_and_every_operation_answers_success(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    operations = [
        op for item in document["paths"].values() for m, op in item.items() if m in METHODS
    ]
    ids = [operation["operationId"] for operation in operations]
    assert len(ids) == len(set(ids))
    assert all({"200", "201"} & set(operation["responses"]) for operation in operations)


def test_the_packaged_copy_of_the_oruk_document_is_the_specifications(app: Flask) -> None:
    assert oruk_document() == json.loads((SPEC / "openapi.json").read_text(encoding="utf-8"))
