"""The mail sender: after commit only; SMTP when configured, else the development outbox."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from flask import Flask

from marketplace.extensions import db
from marketplace.mail import outbox_message, outbox_messages, queue_email


class Collector(Message):
    def __init__(self) -> None:
        super().__init__()
        self.received: list = []

    def handle_message(self, message) -> None:
        self.received.append(message)


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Collector]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, collector
    finally:
        controller.stop()


def test_mail_waits_for_commit(app: Flask) -> None:
    queue_email("a@example.org", "Hello", "Body")
    assert outbox_messages(app.config["MAIL_OUTBOX_PATH"]) == []
    db.session.commit()
    (message,) = outbox_messages(app.config["MAIL_OUTBOX_PATH"])
    assert (message.to, message.subject, message.body.strip()) == ("a@example.org", "Hello", "Body")
    assert outbox_message(app.config["MAIL_OUTBOX_PATH"], message.id) == message


def test_mail_is_dropped_when_the_transaction_rolls_back(app: Flask) -> None:
    queue_email("a@example.org", "Never sent", "Body")
    db.session.rollback()
    db.session.commit()
    assert outbox_messages(app.config["MAIL_OUTBOX_PATH"]) == []


def test_outbox_never_reads_outside_its_folder(app: Flask) -> None:
    folder = app.config["MAIL_OUTBOX_PATH"]
    assert outbox_message(folder, "../secret_key") is None
    assert outbox_message(folder, "missing") is None


def test_smtp_is_used_when_a_mail_server_is_configured(
    make_app: Callable[..., Flask], smtp_server: tuple[int, Collector]
) -> None:
    port, collector = smtp_server
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_TLS=False)
    with app.app_context():
        queue_email("b@example.org", "Over SMTP", "Body")
        db.session.commit()
        assert outbox_messages(app.config["MAIL_OUTBOX_PATH"]) == []
    (received,) = collector.received
    assert received["To"] == "b@example.org"
    assert received["Subject"] == "Over SMTP"


def test_mail_queued_in_a_savepoint_that_rolls_back_is_dropped(app: Flask) -> None:
    from marketplace import ledger

    def refused_step() -> None:
        with ledger.savepoint(db.session):
            queue_email("dropped@example.org", "Dropped", "Queued inside a refused step.")
            raise RuntimeError("the step is refused")

    queue_email("kept@example.org", "Kept", "Queued outside the savepoint.")
    with pytest.raises(RuntimeError):
        refused_step()
    with ledger.savepoint(db.session):
        queue_email("released@example.org", "Released", "Queued inside a step that worked.")
    db.session.commit()

    sent = sorted(m.to for m in outbox_messages(app.config["MAIL_OUTBOX_PATH"]))
    assert sent == ["kept@example.org", "released@example.org"]
