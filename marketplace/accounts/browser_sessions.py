"""Signing a browser in and out: the session cookie, Flask-Login, and the server-side record.

The cookie carries Flask-Login's `_user_id` (the account's `login_id`) and the secret of a
`SignInSession` (`marketplace.accounts.sessions`); the user loader accepts the cookie only
while that record is open and within its idle and absolute limits. Every response to a
signed-in browser is sent with `Cache-Control: no-store`, so that the next person at a shared
computer cannot bring a page back from the cache with the Back button.
"""

from __future__ import annotations

from flask import Flask, current_app, flash, g, request, session
from flask_login import login_user, logout_user
from werkzeug.wrappers import Response

from marketplace.accounts import sessions
from marketplace.accounts.models import User
from marketplace.extensions import login_manager

# Where the cookie keeps the session record's secret.
RECORD_IN_COOKIE = "_sign_in"
# What a visitor kept before signing in that is theirs to keep, not a token of any kind: the
# services they shortlisted (ids; marketplace/public/shortlist_views.py moves them into the
# account when it is a citizen's).
KEPT_AT_SIGN_IN = ("shortlist",)


def limits() -> sessions.SessionLimits:
    """The app's idle and absolute limits (SESSION_IDLE_TIMEOUT, SESSION_ABSOLUTE_TIMEOUT)."""
    return sessions.SessionLimits(
        idle=current_app.config["SESSION_IDLE_TIMEOUT"],
        absolute=current_app.config["SESSION_ABSOLUTE_TIMEOUT"],
    )


def sign_in(user: User) -> None:
    """Sign this browser in as `user`, in a fresh session with a record of its own."""
    # A fresh session (and so a fresh CSRF token) at every sign-in: nothing set before it,
    # by anyone, carries over, but what the visitor chose (KEPT_AT_SIGN_IN).
    kept = {key: session[key] for key in KEPT_AT_SIGN_IN if key in session}
    session.clear()
    session.update(kept)
    g.pop("sign_in_session", None)
    session[RECORD_IN_COOKIE] = sessions.open_session(user)
    login_user(user)


def sign_out() -> None:
    """End this browser's session on the server (every copy of its cookie) and here."""
    sessions.end_session(session.get(RECORD_IN_COOKIE))
    logout_user()
    session.clear()


def _load_user(login_id: str) -> User | None:
    record, expired = sessions.session_for(login_id, session.get(RECORD_IN_COOKIE), limits())
    if record is None:
        if expired:
            session.clear()
            minutes = int(limits().idle.total_seconds() // 60)
            flash(
                "You have been signed out to keep your account safe, because the service was "
                f"not used for {minutes} minutes or you signed in a long time ago. Sign in again "
                "to carry on.",
                "info",
            )
        return None
    g.sign_in_session = record
    return record.user


def _after_request(response: Response) -> Response:
    if request.endpoint == "static" or "_user_id" not in session:
        return response
    if "no-store" not in response.headers.get("Cache-Control", ""):
        response.headers["Cache-Control"] = "no-store"
    record = g.get("sign_in_session")
    # This hook runs before the request's commit (it was registered after it); a response
    # that is rolled back does not count as use, so is not written.
    if record is not None and response.status_code < 400:
        sessions.note_use(record)
    return response


def init_app(app: Flask) -> None:
    login_manager.user_loader(_load_user)
    app.after_request(_after_request)
