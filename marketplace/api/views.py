"""The Open Referral UK 3.0 feed at /api/v1: read the parameters, ask `queries`, answer in ORUK.

Every response under /api/v1 (errors and unknown paths included) carries
`Access-Control-Allow-Origin: *`, as ORUK requires, so any web page may read the feed. The feed
is read-only and public: no session, no CSRF token.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from itertools import chain
from typing import Any

from flask import Response, request, url_for
from werkzeug.exceptions import NotFound

from marketplace.api import PREFIX, bp, openapi, params, queries
from marketplace.api.params import BadParameter, Paging
from marketplace.api.queries import Found
from marketplace.cqc.checks import verified_locations
from providers.models import Service
from providers.openreferral import encoding, oruk
from providers.openreferral.identifiers import CARE_TAXONOMY_ID, parse_uuid

Json = dict[str, Any]


@bp.after_app_request
def allow_any_origin(response: Response) -> Response:
    """ORUK: every response of the feed, errors included, may be read by any web page."""
    if request.path == PREFIX or request.path.startswith(PREFIX + "/"):
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.errorhandler(BadParameter)
def bad_parameter(error: BadParameter) -> Response:
    """A malformed query parameter: 400, naming the parameter."""
    return _json(
        {
            "error": "invalid_parameter",
            "message": error.message,
            "details": {"parameter": error.parameter},
        },
        status=400,
    )


def _json(body: Any, status: int = 200) -> Response:
    return Response(encoding.dumps(body), status=status, mimetype="application/json")


def _found(row: Any, kind: str, item_id: str) -> Any:
    if row is None:
        raise NotFound(f"There is no {kind} with id {item_id!r}.")
    return row


def _id(item_id: str, kind: str) -> uuid.UUID:
    found = parse_uuid(item_id)
    if found is None:
        raise NotFound(f"There is no {kind} with id {item_id!r}: ids are UUIDs.")
    return found


def _list(
    fetch: Callable[[Paging | None], Found[Any]],
    serialise: Callable[[list[Any]], list[Json]],
    *,
    minimal: bool = False,
) -> Response:
    """A paged ORUK list, or with format=ndjson every result, one JSON object per line."""
    output = params.output_format(request.args)
    # Read (so checked) even when ndjson leaves them unused: a malformed page is a 400 either way.
    asked = params.paging(request.args, minimal=minimal)
    paging = None if output == "ndjson" else asked
    found = fetch(paging)
    contents = serialise(found.items)
    if paging is None:
        lines = "".join(encoding.dumps(item) + "\n" for item in contents)
        return Response(lines, mimetype="application/x-ndjson")
    return _json(
        oruk.paged(contents, total=found.total, page=paging.page, per_page=paging.per_page)
    )


def _each(serialise: Callable[[Any], Json]) -> Callable[[list[Any]], list[Json]]:
    return lambda items: [serialise(item) for item in items]


def _each_service(
    serialise: Callable[..., Json], service_of: Callable[[Any], Service] = lambda item: item
) -> Callable[[list[Any]], list[Json]]:
    """Serialise a list of services (or of things with one), their CQC locations looked up
    at once: one statement a page, not one a listing."""

    def each(items: list[Any]) -> list[Json]:
        verified = verified_locations(service_of(item) for item in items)
        return [serialise(item, verified=verified) for item in items]

    return each


@bp.get("/")
def api_details() -> Response:
    """Which standard the API follows, and where its OpenAPI document is."""
    return _json(oruk.api_details(url_for("api.openapi_document", _external=True)))


@bp.get("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3.1 document describing every endpoint."""
    return _json(openapi.document(url_for("api.api_details", _external=True).rstrip("/")))


@bp.get("/services")
def services() -> Response:
    """A page of public services."""
    filters = params.service_filters(request.args)
    detail = params.detail(request.args, allow_minimal=True)
    serialise = {
        "full": oruk.service_full,
        "minimal": oruk.service_minimal,
        "list": oruk.service_summary,
    }[detail]
    return _list(
        lambda paging: queries.services(filters, paging),
        _each(serialise) if detail == "minimal" else _each_service(serialise),
        minimal=detail == "minimal",
    )


@bp.get("/services/<service_id>")
def service(service_id: str) -> Response:
    """One public service, fully nested."""
    found = _found(queries.service(_id(service_id, "service")), "service", service_id)
    return _json(oruk.service_full(found))


@bp.get("/organizations")
def organizations() -> Response:
    """A page of approved organisations."""
    search = params.search(request.args)
    full_service = params.flag(request.args, "full_service")
    full = params.flag(request.args, "full") or full_service

    def serialise(found: list[Any]) -> list[Json]:
        if not full:
            return [oruk.organization_summary(organisation) for organisation in found]
        nested = queries.services_of([organisation.id for organisation in found])
        verified = verified_locations(chain.from_iterable(nested.values()))
        return [
            oruk.organization_full(
                organisation, nested[organisation.id], full=full_service, verified=verified
            )
            for organisation in found
        ]

    return _list(lambda paging: queries.organisations(search, paging), serialise)


@bp.get("/organizations/<organization_id>")
def organization(organization_id: str) -> Response:
    """One approved organisation, with its public services."""
    full_service = params.flag(request.args, "full_service")
    found = _found(
        queries.organisation(_id(organization_id, "organization")),
        "organization",
        organization_id,
    )
    nested = queries.services_of([found.id])[found.id]
    verified = verified_locations(nested)
    return _json(oruk.organization_full(found, nested, full=full_service, verified=verified))


@bp.get("/service_at_locations")
def service_at_locations() -> Response:
    """A page of public services at their venues, optionally near a postcode."""
    filters = params.service_filters(request.args)
    place = params.place(request.args)
    full = params.detail(request.args) == "full"
    serialise = oruk.service_at_location_full if full else oruk.service_at_location_summary
    return _list(
        lambda paging: queries.service_at_locations(filters, place, paging),
        _each_service(serialise, lambda link: link.service),
    )


@bp.get("/service_at_locations/<link_id>")
def service_at_location(link_id: str) -> Response:
    """One public service at one venue, fully nested."""
    kind = "service at location"
    found = _found(queries.service_at_location(_id(link_id, kind)), kind, link_id)
    return _json(oruk.service_at_location_full(found))


@bp.get("/taxonomies")
def taxonomies() -> Response:
    """The one taxonomy we publish, as a page."""
    matches = queries.taxonomy_matches(params.search(request.args))

    def fetch(paging: Paging | None) -> Found[Json]:
        ours = [oruk.taxonomy()] if matches else []
        shown = ours if paging is None else ours[paging.offset : paging.offset + paging.per_page]
        return Found(shown, len(ours))

    return _list(fetch, list)


@bp.get("/taxonomies/<taxonomy_id>")
def taxonomy(taxonomy_id: str) -> Response:
    """The care taxonomy with all its terms."""
    if _id(taxonomy_id, "taxonomy") != CARE_TAXONOMY_ID:
        raise NotFound(f"There is no taxonomy with id {taxonomy_id!r}.")
    return _json(oruk.taxonomy(queries.all_terms()))


@bp.get("/taxonomy_terms")
def taxonomy_terms() -> Response:
    """A page of care categories."""
    filters = params.term_filters(request.args)
    return _list(lambda paging: queries.taxonomy_terms(filters, paging), _each(oruk.taxonomy_term))


@bp.get("/taxonomy_terms/<term_id>")
def taxonomy_term(term_id: str) -> Response:
    """One care category."""
    found = _found(
        queries.term_by_public_id(_id(term_id, "taxonomy term")), "taxonomy term", term_id
    )
    return _json(oruk.taxonomy_term(found))
