"""`Idempotency-Key` for the API's state-changing requests: a retry never does it twice.

A client sends any unique key (a UUID, say) with a POST or PATCH. The first request with that
key is carried out, and its response (status and JSON body) is recorded in the SAME database
transaction as the change it made, so a crash leaves either both or neither. Then:

- the same key with the same request (method, path and body bytes) answers the recorded
  response again, with `Idempotent-Replayed: true`, and changes nothing;
- the same key with a different request answers 409 `conflict` and changes nothing;
- two identical requests at once: the record is inserted before the work, and the unique
  constraint on (principal, key) makes the second wait for the first (or fail to insert),
  roll back to its savepoint and replay what the first answered;
- a request that fails (4xx or 5xx) is rolled back with its record, so it can be retried;
- a key is kept for 24 hours (`KEPT_FOR`): used again after that, it is a new request.
  `flask api prune-idempotency-keys` deletes the records older than that, daily.

Keys belong to the principal (a token, or a signed-in user) that sent them: two clients can
never see each other's responses. Use it on a view after authentication:

    @bp.post("/people")
    @api_auth.required("manage_people")
    @idempotent
    def create_person(): ...
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Response, jsonify, make_response, request
from sqlalchemy import SmallInteger, String, Text, UniqueConstraint, Uuid, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from marketplace import ledger
from marketplace.api.auth import principal_identity
from marketplace.extensions import Model, db
from marketplace.types import Session, UTCDateTime, utcnow

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_LENGTH = 255
# Visible ASCII only: a key is an opaque token, often a UUID.
_KEY = re.compile(rf"^[\x21-\x7e]{{1,{KEY_LENGTH}}}$")

# As Stripe does: long enough for any client's retries, short enough not to keep every
# request ever made. Chosen where the issues were silent (docs/decisions.md).
KEPT_FOR = timedelta(hours=24)

F = TypeVar("F", bound=Callable[..., Any])


class IdempotencyRecord(Model):
    """One idempotency key a principal has used, what it was used for, and what it answered."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("principal", "key"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # Who sent the key: "token:<id>" or "user:<id>".
    principal: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    body_sha256: Mapped[str] = mapped_column(String(64))
    # Empty only inside the transaction that is still doing the work: it is filled in before
    # that transaction commits, and a failed request rolls the whole record back.
    response_status: Mapped[int | None] = mapped_column(SmallInteger)
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def same_request(self, method: str, path: str, body_sha256: str) -> bool:
        return (self.method, self.path, self.body_sha256) == (method, path, body_sha256)


def key_problem(key: str) -> str | None:
    """Why this is not a usable key, or None if it is."""
    if _KEY.match(key):
        return None
    return f"{HEADER} must be 1 to {KEY_LENGTH} visible ASCII characters, such as a UUID"


def find_record(session: Session, principal: str, key: str) -> IdempotencyRecord | None:
    return session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.principal == principal, IdempotencyRecord.key == key
        )
    )


def claim(
    session: Session, *, principal: str, key: str, method: str, path: str, body_sha256: str
) -> tuple[IdempotencyRecord, bool]:
    """The record for (principal, key), and True if this call made it (so the caller does the
    work), or False if it already existed (so the caller must replay or refuse).

    On SQLite the write lock is taken first, so a concurrent request with the same key has
    either committed its record (found here) or not begun. On PostgreSQL the insert waits for
    a concurrent uncommitted one; if that commits, the insert fails, the savepoint undoes it,
    and the committed record is returned.
    """
    ledger.begin_immediate(session)
    existing = find_record(session, principal, key)
    if existing is not None and existing.created_at >= utcnow() - KEPT_FOR:
        return existing, False
    if existing is not None:
        # Kept past its time: forgotten now, so this is a new request.
        with ledger.savepoint(session):
            session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == existing.id))
        session.expunge(existing)
    record = IdempotencyRecord(
        principal=principal, key=key, method=method, path=path, body_sha256=body_sha256
    )
    try:
        with ledger.savepoint(session):
            session.add(record)
            session.flush()
    except IntegrityError:
        existing = find_record(session, principal, key)
        if existing is None:  # a different constraint failed: not ours to hide
            raise
        return existing, False
    return record, True


def prune(session: Session, now: datetime | None = None) -> int:
    """Delete the records kept for longer than `KEPT_FOR`; how many went."""
    cutoff = (now or utcnow()) - KEPT_FOR
    result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _problem(status: int, code: str, message: str, **details: Any) -> Response:
    response = jsonify(error=code, message=message, details=details)
    response.status_code = status
    return response


def _replay(record: IdempotencyRecord, method: str, path: str, body_sha256: str) -> Response:
    if not record.same_request(method, path, body_sha256):
        return _problem(
            409,
            "conflict",
            f"This {HEADER} was already used for a different request: use a new key for a "
            "new request",
            reason="idempotency_key_reused",
            original={"method": record.method, "path": record.path},
        )
    if record.response_status is None:
        return _problem(
            409,
            "conflict",
            f"A request with this {HEADER} is still being carried out: try again shortly",
            reason="idempotency_key_in_use",
        )
    response = Response(
        record.response_body or "", status=record.response_status, mimetype="application/json"
    )
    response.headers[REPLAYED_HEADER] = "true"
    return response


def idempotent_with(principal_of: Callable[[], str]) -> Callable[[F], F]:
    """`idempotent`, with the function that names the current principal given."""

    def decorator(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            key = request.headers.get(HEADER)
            if key is None:
                return view(*args, **kwargs)
            # Authenticate before the body is read: an anonymous client must not make us read,
            # hold and hash whatever it sends (the body is also capped by MAX_CONTENT_LENGTH).
            principal = principal_of()
            problem = key_problem(key)
            if problem is not None:
                return _problem(422, "validation_error", problem, fields={HEADER: problem})
            session = db.session
            body_sha256 = hashlib.sha256(request.get_data(cache=True)).hexdigest()
            method, path = request.method, request.path
            record, mine = claim(
                session,
                principal=principal,
                key=key,
                method=method,
                path=path,
                body_sha256=body_sha256,
            )
            if not mine:
                return _replay(record, method, path, body_sha256)
            response = make_response(view(*args, **kwargs))
            if response.status_code < 400:
                # Written in the request's transaction: committed with the change, or not at all.
                record.response_status = response.status_code
                record.response_body = response.get_data(as_text=True)
                session.flush()
            return response

        return guarded  # type: ignore[return-value]

    return decorator


def idempotent(view: F) -> F:
    """Honour `Idempotency-Key` on a state-changing API view (see the module's docstring).
    Put it below the authentication decorator: keys are scoped by the principal."""
    return idempotent_with(principal_identity)(view)
