"""Error pages in the service's own style, and JSON errors for the API."""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge

from marketplace.extensions import db
from marketplace.formatting import wait_in_words
from marketplace.security import rate_limit_wait

# The 500 page when even the template cannot be rendered.
PLAIN_500 = (
    '<!DOCTYPE html><html lang="en"><head><title>Sorry, there is a problem with the '
    "service</title></head><body><h1>Sorry, there is a problem with the service</h1>"
    "<p>Try again later. Nothing you were doing has been saved half way.</p></body></html>"
)

PAGES = {
    400: "errors/400.html",
    403: "errors/403.html",
    404: "errors/404.html",
    405: "errors/400.html",
    429: "errors/429.html",
    500: "errors/500.html",
}

CODES = {
    400: "bad_request",
    401: "unauthorised",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    429: "rate_limited",
    500: "server_error",
}


# Paths outside /api/ that a page's script reads: their errors are JSON too (by path, not
# endpoint, since a 405 or 404 has no endpoint).
JSON_PATHS = frozenset({"/search/suggestions"})
# Machines read these: Stripe's webhook.
JSON_PREFIXES = ("/api/", "/webhooks/")


def _wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES) or request.path in JSON_PATHS


def _with_headers_of(error: HTTPException, response: Response) -> Response:
    """`response` with the headers the error's own response must carry: a 405's `Allow` (RFC
    9110 requires it) and a 429's `Retry-After`."""
    for header in ("Retry-After", "Allow"):
        original = error.get_response().headers.get(header)
        if original:
            response.headers[header] = original
    return response


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(RequestEntityTooLarge, too_large)
    app.register_error_handler(InternalServerError, server_error)


def csrf_error(error: CSRFError) -> ResponseReturnValue:
    if _wants_json():
        return jsonify(error="csrf_failed", message=error.description), 400
    return render_template("errors/csrf.html"), 400


def http_error(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    if _wants_json():
        response = jsonify(error=CODES.get(status, "http_error"), message=error.description)
        response.status_code = status
        return _with_headers_of(error, response)
    template = PAGES.get(status)
    if template is None:
        return error
    context: dict[str, object] = {"error": error}
    if status == 429:
        # The page says how long the broken limit really lasts (a sign-in limit may hold
        # for an hour), from the same window the Retry-After header is computed from.
        wait = rate_limit_wait()
        context["wait"] = wait_in_words(wait) if wait is not None else None
    response = current_app.make_response((render_template(template, **context), status))
    return _with_headers_of(error, response)


def too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    # Raised before the body is read (MAX_CONTENT_LENGTH), or while a form is parsed
    # (MAX_FORM_MEMORY_SIZE, MAX_FORM_PARTS).
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if _wants_json():
        return jsonify(
            error="payload_too_large",
            message=f"The request is larger than this service accepts ({limit} bytes)",
            details={"max_bytes": limit},
        ), 413
    return render_template("errors/413.html"), 413


def server_error(error: InternalServerError) -> ResponseReturnValue:
    # The request's transaction may have failed (PostgreSQL refused a statement): the
    # page's navigation reads the signed-in user and their unread count, which would then
    # raise PendingRollbackError. So the session is rolled back before anything renders.
    _roll_back_quietly()
    if _wants_json():
        return jsonify(error="server_error", message="Sorry, something went wrong."), 500
    try:
        return render_template("errors/500.html"), 500
    except Exception:
        # The error page must never fail in turn (the database may be gone altogether):
        # a page that needs nothing but this text.
        current_app.logger.exception("The error page could not be rendered")
        return PLAIN_500, 500


def _roll_back_quietly() -> None:
    try:
        db.session.rollback()
    except SQLAlchemyError:
        current_app.logger.exception("Rolling back after an error failed")
