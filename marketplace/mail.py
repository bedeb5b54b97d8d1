"""The one mail sender. SMTP when MAIL_SERVER is set; otherwise an outbox folder of .eml files
in the instance folder, which an admin can read on a page, so email flows can be tried for real.

Mail is queued on the database session and sent only after the transaction commits: a request
that fails sends nothing, and a link in an email always points at something that was saved.
"""

from __future__ import annotations

import smtplib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from flask import current_app, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from marketplace.extensions import db

_PENDING = "pending_mail"


@dataclass(frozen=True)
class OutboxMessage:
    """An email kept in the development outbox."""

    id: str
    to: str
    subject: str
    sent_at: datetime
    body: str


def queue_email(to: str, subject: str, body: str) -> None:
    """Send an email once the current transaction commits (dropped if it rolls back). The
    subject is put on one line: subjects name people, services and organisations, whose names
    are whatever a form was sent, and a line break in a header is refused by `email` (a 500)
    or, sent on, would start a header of the sender's choosing."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = " ".join(subject.split())
    message["Date"] = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    message["Message-ID"] = f"<{uuid.uuid4()}@marketplace>"
    message.set_content(body)
    # Begin the transaction now if nothing has yet, so that its rollback drops this mail; and
    # remember the savepoint it was queued in, so that rolling back that savepoint drops it too.
    session = db.session()
    session.connection()
    within = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING, []).append((within, message))


def site_address(path: str | None = None) -> str:
    """The address an email links to: in a request, the one the user came by; in a scheduled
    job, SITE_URL. The rules that write emails pass a path and never read the request."""
    base = (request.host_url if has_request_context() else current_app.config["SITE_URL"]).rstrip(
        "/"
    )
    return f"{base}{path}" if path else base


def _deliver(message: EmailMessage) -> None:
    config = current_app.config
    if config["MAIL_SERVER"]:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
        return
    outbox = Path(config["MAIL_OUTBOX_PATH"])
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    (outbox / f"{stamp}-{uuid.uuid4().hex[:8]}.eml").write_bytes(bytes(message))


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    # Also called when a savepoint is released; the transaction may still roll back then.
    if session.in_nested_transaction():
        return
    for _within, message in session.info.pop(_PENDING, []):
        _deliver(message)


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)
        return
    # A savepoint rolled back: drop the mail queued inside it (or inside savepoints within it).
    session.info[_PENDING] = [
        (within, message)
        for within, message in session.info.get(_PENDING, [])
        if not _inside(within, previous_transaction)
    ]


def _inside(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


def outbox_messages(outbox_path: str) -> list[OutboxMessage]:
    """The development outbox, newest first."""
    folder = Path(outbox_path)
    if not folder.is_dir():
        return []
    return [_read(path) for path in sorted(folder.glob("*.eml"), reverse=True)]


def outbox_message(outbox_path: str, message_id: str) -> OutboxMessage | None:
    """One message of the outbox by its file stem, or None (never a path outside it)."""
    folder = Path(outbox_path)
    path = folder / f"{message_id}.eml"
    if "/" in message_id or ".." in message_id or not path.is_file():
        return None
    return _read(path)


def _read(path: Path) -> OutboxMessage:
    parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    body_part = parsed.get_body(preferencelist=("plain",))
    return OutboxMessage(
        id=path.stem,
        to=str(parsed["To"]),
        subject=str(parsed["Subject"]),
        sent_at=parsed["Date"].datetime,
        body=body_part.get_content() if body_part is not None else "",
    )
