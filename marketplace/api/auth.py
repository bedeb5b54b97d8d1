"""Who is calling the integration API, and whether they may.

A machine sends `Authorization: Bearer mkt_…`; the token resolves to a `TokenPrincipal`
with the token's role, which `can()` judges like a user of that role. A token that acts for a
user account makes its requests as that user: the principal is the `User` (so the policy and
the rules see them, and record them as who acted), while idempotency keys stay the token's;
deactivating the user stops the token at once (401), and so does a token its user has not
yet confirmed. Without that header a
person signed in with the browser is the principal (their session cookie); a state-changing
request from a session must then carry the CSRF token as the site's forms do, because the
API blueprint is otherwise exempt from CSRF checks. Anyone else gets 401.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request
from flask_login import current_user

from marketplace.accounts import api_tokens as tokens
from marketplace.accounts.models import User
from marketplace.accounts.policy import RULES, can
from marketplace.accounts.principals import TokenPrincipal, act_through_token
from marketplace.accounts.roles import Role
from marketplace.api.problems import ApiProblem
from marketplace.extensions import csrf, db
from marketplace.people.models import Person

Principal = User | TokenPrincipal
# Who reads or changes a person's things for them: the audit log records it.
_FOR_SOMEONE = frozenset({Role.BROKER, Role.CITIZEN, Role.COUNCIL_OFFICER})
F = TypeVar("F", bound=Callable[..., Any])
REALM = 'Bearer realm="marketplace-api"'
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _unauthorized(message: str, error: str | None = None) -> ApiProblem:
    challenge = REALM + (f', error="{error}"' if error else "")
    return ApiProblem("unauthorized", message, headers={"WWW-Authenticate": challenge})


def _authenticate() -> Principal:
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized(
                "Send the token as 'Authorization: Bearer <token>'", "invalid_request"
            )
        principal = tokens.principal_for(db.session, token.strip())
        if principal is None:
            raise _unauthorized("This token is unknown or has been revoked", "invalid_token")
        g.api_token = principal
        act_through_token(db.session, principal.token_id)
        if principal.user_id is None:
            return principal
        if not principal.confirmed:
            raise _unauthorized(
                "This token acts for a user who has not confirmed it yet: they confirm it on "
                "their account's API tokens page",
                "invalid_token",
            )
        user = tokens.acting_user(db.session, principal)
        if user is None:
            raise _unauthorized(
                "The user account this token acts for is deactivated", "invalid_token"
            )
        return user
    if current_user.is_authenticated and current_user.is_active:
        if request.method not in SAFE_METHODS and current_app.config["WTF_CSRF_ENABLED"]:
            csrf.protect()
        return current_user._get_current_object()
    raise _unauthorized("Send an API token: 'Authorization: Bearer <token>'")


def current_principal() -> Principal:
    """The principal of this request (authenticating it the first time); raises the 401."""
    if "api_principal" not in g:
        g.api_principal = _authenticate()
    return g.api_principal


def principal_identity() -> str:
    """A stable name for who sent this request: `token:<id>` for any token (one acting for a
    user too, so each token's idempotency keys are its own), else `user:<id>`."""
    principal = current_principal()
    token = g.get("api_token")
    if token is not None:
        return token.identity
    if isinstance(principal, TokenPrincipal):
        return principal.identity
    return f"user:{principal.id}"


def check(action: str, thing: Any = None) -> None:
    """Raise 403 `forbidden` unless the current principal may do `action` (to `thing`).

    Allowed to read or change something of a person's (the person, or their order) for them
    (a broker or attorney under their consent, or a council officer), the request is about
    that person for the audit log (`marketplace/pages/audit_hooks.py`)."""
    principal = current_principal()
    if not can(principal, action, thing):
        raise ApiProblem("forbidden", "You may not do this", action=action)
    person = thing if isinstance(thing, Person) else getattr(thing, "person", None)
    if (
        isinstance(principal, User)
        and isinstance(person, Person)
        and principal.role in _FOR_SOMEONE
        and principal.person_id != person.id
    ):
        g.acting_for = person


def required(action: str) -> Callable[[F], F]:
    """Guard an API view: 401 unless authenticated, 403 unless the principal may do `action`,
    an action granted to a whole role. (Actions about one thing, such as `view_person`, are
    checked in the view with `check(action, thing)` once it has found the thing.)"""
    if action not in RULES:  # fail at import, not at the first request
        raise KeyError(action)

    def decorator(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            check(action)
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorator
