"""Writing the audit log for requests (the rules are `marketplace/people/audit.py`).

Every request made while acting for someone (`current_user.acting_for`, set by the
acting-for loader) is recorded, and every request for a page about a person that an audience
loads from its URL (`g.acting_for`, set by `load_person_from_url`: the council's person pages,
a broker's client pages), and every API request about a person by someone other than the
person (`g.acting_for`, set by `api.auth.check`; the entry names the token too): who, for
whom, what (the page in words), when, from where.

One commit per request (`marketplace/database.py`), and the entry follows it (docs/decisions.md,
"The audit log joins the request's transaction"):
- a request that succeeds (below 400) writes its entry into its own transaction, so the change
  and its entry are committed together or not at all. `after_request` functions run in the
  reverse of the order they were registered, and this one is registered after the database's,
  so it runs before the commit;
- a request that fails (400 and above, or an exception) had its work rolled back, but it was
  still made on someone's behalf: its entry is written after the rollback, in a transaction
  of its own, with the status it ended with (an entry saying "tried").
"""

from __future__ import annotations

import html
import logging
import re
import uuid
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request
from flask_login import current_user

from marketplace.accounts.models import User
from marketplace.accounts.policy import can, live_consent
from marketplace.extensions import db
from marketplace.people import audit
from marketplace.people.audit import AuditAction
from marketplace.people.models import Person

log = logging.getLogger(__name__)

READING = frozenset({"GET", "HEAD", "OPTIONS"})
TITLE = re.compile(r"<title>(.*?)</title>", re.DOTALL | re.IGNORECASE)
# The layout's title ends with the service's and the council's names after this.
TITLE_SEPARATOR = " \u2013 "  # an en dash
# Titles are read from pages up to this size (every page is well below it).
MAX_PAGE_READ = 2_000_000


@dataclass
class _Unsaved:
    """What one request will record about one person, kept on `g` until it is saved."""

    actor_id: uuid.UUID
    person_id: uuid.UUID
    consent_id: uuid.UUID | None
    action: AuditAction
    what: str
    path: str
    ip: str | None
    token_id: uuid.UUID | None = None
    status_code: int | None = None
    saved: bool = False


def init_app(app: Flask) -> None:
    """Register the hooks: call after `database.init_app`, so the entry is written before the
    request's commit."""
    app.after_request(_record_request)
    app.teardown_request(_record_failed_request)


def describe_page(what: str) -> None:
    """Name what this request does in words for the audit log, where the page's title would
    not say it (a download, a form that redirects)."""
    g.audit_what = what


def _people_in_hand() -> list[Person]:
    people: list[Person] = []
    for person in (g.get("acting_for"), getattr(current_user, "acting_for", None)):
        if isinstance(person, Person) and all(person.id != seen.id for seen in people):
            people.append(person)
    return people


def _actor() -> User | None:
    """Who made this request: the API's principal when it is a user (a token acting for one,
    or a signed-in session calling the API), else the signed-in user."""
    principal = g.get("api_principal")
    if isinstance(principal, User):
        return principal
    if current_user.is_authenticated:
        user: User = current_user._get_current_object()
        return user
    return None


def _record_request(response: Response) -> Response:
    if request.endpoint == "static":
        return response
    user = _actor()
    people = _people_in_hand() if user is not None else []
    if user is None or not people:
        return response
    token = g.get("api_token")
    what = _what(response)
    unsaved = [
        _Unsaved(
            actor_id=user.id,
            person_id=person.id,
            consent_id=_consent_id(user, person),
            token_id=token.token_id if token is not None else None,
            action=AuditAction.VIEWED if request.method in READING else AuditAction.CHANGED,
            what=what,
            path=request.full_path.rstrip("?"),
            ip=request.remote_addr,
            status_code=response.status_code,
        )
        for person in people
    ]
    g.audit_unsaved = unsaved
    if response.status_code < 400:
        for entry in unsaved:
            _save(entry)
    return response


def _record_failed_request(error: BaseException | None) -> None:
    """Write the entries of a request whose work was rolled back (or whose commit failed), in
    a transaction of their own."""
    unsaved: list[_Unsaved] = g.pop("audit_unsaved", [])
    if error is not None:
        for entry in unsaved:
            entry.saved = False
            entry.status_code = 500
    pending = [entry for entry in unsaved if not entry.saved]
    if not pending:
        return
    try:
        db.session.rollback()
        for entry in pending:
            _save(entry)
        db.session.commit()
    except Exception:  # the response has gone: say so in the log, never raise here
        db.session.rollback()
        log.exception("could not write the audit log of a failed request to %s", request.path)


def _save(entry: _Unsaved) -> None:
    audit.record(
        db.session,
        actor_id=entry.actor_id,
        person_id=entry.person_id,
        action=entry.action,
        what=entry.what,
        consent_id=entry.consent_id,
        token_id=entry.token_id,
        ip=entry.ip,
        path=entry.path,
        status_code=entry.status_code,
    )
    entry.saved = True


def _consent_id(user: User, person: Person) -> uuid.UUID | None:
    """The live consent the user acts under, if they act under one at all (asked of the
    policy first, which answers an officer without reading the person's consents)."""
    if not can(user, "act_for", person):
        return None
    consent = live_consent(user, person)
    return consent.id if consent is not None else None


def _what(response: Response) -> str:
    """The page in words: what the view said, else the page's own title (a page shown, not a
    redirect or an error page, whose title says nothing of what was asked), else its
    endpoint's name."""
    said = g.get("audit_what")
    if said:
        return str(said)
    if (
        200 <= response.status_code < 300
        and response.mimetype == "text/html"
        and not response.is_streamed
        and not response.direct_passthrough
        and (response.content_length or 0) <= MAX_PAGE_READ
    ):
        found = TITLE.search(response.get_data(as_text=True))
        if found:
            title = html.unescape(" ".join(found.group(1).split()))
            service = current_app.config.get("SERVICE_NAME")
            head = title.split(TITLE_SEPARATOR)[0].strip()
            if head and head != service:
                return head
    if request.endpoint:
        name = request.endpoint.rsplit(".", 1)[-1].replace("_", " ").strip()
        return name[:1].upper() + name[1:]
    return request.path
