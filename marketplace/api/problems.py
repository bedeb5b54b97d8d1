"""The integration API's refusals as JSON: `{"error": code, "message": …, "details": {…}}`.

Stable codes: `unauthorized` (401), `forbidden` (403), `not_found` (404), `conflict` (409),
`insufficient_funds` (409), `validation_error` (422). The rules' own refusals (the ledger's,
the budgets', the people's) carry a `code`, `message` and `details` already, and become the
same JSON through `from_refusal`.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

STATUS = {
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "insufficient_funds": 409,
    "validation_error": 422,
}


class ApiProblem(Exception):
    """Raised by an integration view to answer with a JSON error."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS[code]
        self.headers = headers or {}
        self.details = details


def invalid(fields: dict[str, str], message: str = "The request has mistakes") -> ApiProblem:
    """A 422 naming each field at fault (dotted paths: `streams.0.amount_pence`)."""
    return ApiProblem("validation_error", message, fields=fields)


def from_refusal(refusal: Any) -> ApiProblem:
    """A rules refusal (anything with `code`, `message` and `details`) as an API problem."""
    code = refusal.code if refusal.code in STATUS else "validation_error"
    return ApiProblem(code, refusal.message, **refusal.details)


def response_for(problem: ApiProblem) -> Response:
    response = jsonify(error=problem.code, message=problem.message, details=problem.details)
    response.status_code = problem.status
    response.headers.update(problem.headers)
    return response
