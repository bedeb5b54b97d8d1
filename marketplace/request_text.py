"""Text a request brings must be text the database can keep: no NUL character.

PostgreSQL refuses NUL ("\\x00") in any text value, in a WHERE clause as much as in an INSERT,
so a NUL in a query parameter, a form field or a path became a 500 at the first query (and,
for a signed-in person, a failed transaction under the error page). No one types a NUL, so
rather than give every field a check, every request is looked at once, before its view: a
page answers the service's 400 page saying what was wrong, the API its JSON error. SQLite
would store the NUL; it is refused there too, so both databases behave alike.

JSON bodies are not read here: the API reads them after the caller is authenticated
(`marketplace.api.bodies`), and refuses a NUL there.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, Response, request
from werkzeug.exceptions import BadRequest

from marketplace.api.problems import ApiProblem, response_for

NUL = "\x00"
MESSAGE = (
    "The request contains a character that cannot be used (NUL, character 0). "
    "Remove it and try again."
)


class UnusableCharacter(BadRequest):
    """A 400 whose description is written for the person who sent the request."""

    description = MESSAGE
    # The 400 page shows the description only of errors that say this.
    for_people = True


def first_with_nul(pairs: Iterable[tuple[str, str]]) -> str | None:
    """The name of the first (name, value) pair with a NUL in either, or None."""
    for name, value in pairs:
        if NUL in name or NUL in value:
            return name.replace(NUL, "\\x00")
    return None


def init_app(app: Flask) -> None:
    @app.before_request
    def refuse_nul() -> Response | None:
        pairs: list[tuple[str, str]] = [("path", request.path)]
        pairs += request.args.items(multi=True)
        api = request.path.startswith("/api/")
        # A form body is read here only for the pages, whose CSRF check reads it anyway; the
        # API reads its body after authentication.
        if not api and request.method in {"POST", "PUT", "PATCH", "DELETE"}:
            pairs += request.form.items(multi=True)
        where = first_with_nul(pairs)
        if where is None:
            return None
        if api:
            return response_for(ApiProblem("bad_request", MESSAGE, status=400, field=where))
        raise UnusableCharacter()
