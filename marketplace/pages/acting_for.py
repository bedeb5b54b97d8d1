"""The person a page acts for, loaded once per request from its URL (GOV.UK Notify's
`load_service_before_request` is the model).

An audience whose pages are about someone else (the council's person pages; a broker's
client pages next) calls `load_person_from_url` on its blueprint. For every URL of the
blueprint with a `person_id`, the id is taken out of the view's arguments and, before the view
runs, the person is found and checked: a person who does not exist, or whom the signed-in user
may not `action`, answers 404, so ids reveal nothing. The view reads the person with
`acting_for()` and only acts.

The loader runs before the view's own `@requires`, so it only loads for a user who passes the
blueprint's `gate` (the action every one of its person pages requires): anyone else gets
exactly what `@requires` answers them (sign in, or 403), never a 404 that would tell them
whether the person exists.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, g
from flask_login import current_user

from marketplace.accounts.policy import RULES, can
from marketplace.extensions import db
from marketplace.people.models import Person
from marketplace.people.service import person_by_id


def load_person_from_url(blueprint: Blueprint, *, gate: str, action: str) -> None:
    """Load the person of each of `blueprint`'s URLs that carry a `person_id` into `g`, for
    users who may `gate`; 404 for a missing person or one they may not `action`."""
    for name in (gate, action):
        if name not in RULES:  # fail at import, not at the first request
            raise KeyError(name)

    @blueprint.url_value_preprocessor
    def take_person_id(endpoint: str | None, values: dict[str, Any] | None) -> None:
        g.acting_for_id = values.pop("person_id", None) if values else None

    @blueprint.before_request
    def load_person() -> None:
        person_id: uuid.UUID | None = g.pop("acting_for_id", None)
        if person_id is None or not current_user.is_authenticated:
            return
        user = current_user._get_current_object()
        if not can(user, gate):
            return  # the view's @requires answers (403), as for any other of its pages
        person = person_by_id(db.session, person_id)
        if person is None or not can(user, action, person):
            abort(404)
        g.acting_for = person


def acting_for() -> Person:
    """The person this request's URL names, loaded and checked by `load_person_from_url`."""
    person: Person = g.acting_for
    return person
