"""Signed-in sessions kept on the server, so that signing out ends every copy of a cookie.

The browser's session cookie is signed, not secret from its holder, and anyone who copies it
(from a shared computer, say) holds whatever it holds. So it holds only a random secret and
the account's `login_id`; the database keeps a `SignInSession` under the secret's hash, with
when it began and when it was last used. A request is signed in only while that record:

- has not been ended (signing out ends it, as does a password change or reset: every record
  of the account);
- was used within `SessionLimits.idle`, and
- began within `SessionLimits.absolute`;

and its account is active with the same `login_id`. Plain functions that flush and never
commit: the request commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import contains_eager

from marketplace.accounts.models import SignInSession, User
from marketplace.accounts.tokens import new_token, token_hash
from marketplace.extensions import db
from marketplace.types import utcnow

# A record's last use is written at most this often, so that reading pages does not write a
# row on every request; the idle limit is kept to within this much.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionLimits:
    """How long a signed-in session lasts without use (`idle`) and at most (`absolute`)."""

    idle: timedelta
    absolute: timedelta


def open_session(user: User, now: datetime | None = None) -> str:
    """Record a new signed-in session for `user`; returns the secret for its cookie."""
    now = now or utcnow()
    secret, hashed = new_token()
    db.session.add(SignInSession(user=user, token_hash=hashed, created_at=now, last_seen_at=now))
    db.session.flush()
    return secret


def _expired(record: SignInSession, limits: SessionLimits, now: datetime) -> bool:
    return now - record.last_seen_at >= limits.idle or now - record.created_at >= limits.absolute


def session_for(
    login_id: str, secret: str | None, limits: SessionLimits, now: datetime | None = None
) -> tuple[SignInSession | None, bool]:
    """The open session this cookie stands for, if it may still be used, and whether the
    cookie stood for one that has just expired (which is then ended, so the person can be
    told why they were signed out).

    The record must belong to the active user whose `login_id` the cookie also carries.
    """
    if not secret:
        return None, False
    now = now or utcnow()
    # The user comes with the record, and with the person or provider they are (every
    # signed-in page names one): one statement for what took three.
    signed_in = contains_eager(SignInSession.user)
    record = db.session.scalar(
        select(SignInSession)
        .join(User, User.id == SignInSession.user_id)
        .options(signed_in.joinedload(User.person), signed_in.joinedload(User.organisation))
        .where(
            SignInSession.token_hash == token_hash(secret),
            SignInSession.ended_at.is_(None),
            User.login_id == login_id,
            User.active,
        )
    )
    if record is None:
        return None, False
    if _expired(record, limits, now):
        record.ended_at = now
        db.session.flush()
        return None, True
    return record, False


def note_use(record: SignInSession, now: datetime | None = None) -> None:
    """Record that the session was just used (at most once every `TOUCH_EVERY`)."""
    now = now or utcnow()
    if now - record.last_seen_at >= TOUCH_EVERY:
        record.last_seen_at = now
        db.session.flush()


def end_session(secret: str | None, now: datetime | None = None) -> None:
    """End the session this cookie secret stands for (signing out); nothing if there is none."""
    if not secret:
        return
    db.session.execute(
        update(SignInSession)
        .where(SignInSession.token_hash == token_hash(secret), SignInSession.ended_at.is_(None))
        .values(ended_at=now or utcnow())
    )


def end_sessions_of(user: User, now: datetime | None = None) -> None:
    """End every open session of `user` (a password change or reset)."""
    db.session.execute(
        update(SignInSession)
        .where(SignInSession.user_id == user.id, SignInSession.ended_at.is_(None))
        .values(ended_at=now or utcnow())
    )


def prune(limits: SessionLimits, now: datetime | None = None) -> int:
    """Delete the records that can never be used again (ended, idle too long, or past the
    absolute limit); returns how many went."""
    now = now or utcnow()
    result = db.session.execute(
        delete(SignInSession).where(
            or_(
                SignInSession.ended_at.is_not(None),
                SignInSession.last_seen_at <= now - limits.idle,
                SignInSession.created_at <= now - limits.absolute,
            )
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
