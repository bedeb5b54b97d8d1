"""The suite's shared app (tests/conftest.py): whatever a test leaves in it is put back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select, text

from marketplace.accounts.models import User
from marketplace.extensions import db, limiter
from marketplace.mail import outbox_messages, queue_email
from marketplace.people import audit
from marketplace.people.models import Person
from providers import search_index
from providers.directory_summary import directory_summary
from providers.models import Organisation, Service
from tests.conftest import SharedApp

# Where providers.directory_summary.kept keeps its values in the app.
KEPT = "kept_per_directory_change"


def test_a_tests_rows_files_caches_and_settings_are_gone_after_it(
    app: Flask,
    shared_app: SharedApp,
    make_user: Callable[..., User],
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
) -> None:
    make_listing(make_organisation())
    make_user()
    queue_email("someone@example.org", "Hello", "A message.")
    db.session.commit()
    search_index.sync(app)
    directory_summary()
    assert KEPT in app.extensions
    app.config["OUT_OF_PLAN_PURCHASES"] = "refuse"
    app.config["SOMETHING_A_TEST_ADDED"] = True
    (Path(app.instance_path) / "left-behind.txt").write_text("left behind")
    assert outbox_messages(app.config["MAIL_OUTBOX_PATH"])
    assert search_index.search_engine(app).count() == 1

    shared_app.reset()

    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    assert list(Path(app.instance_path).iterdir()) == []
    assert outbox_messages(app.config["MAIL_OUTBOX_PATH"]) == []
    assert app.extensions["search"] == {"engine": None}
    assert KEPT not in app.extensions
    assert app.config["OUT_OF_PLAN_PURCHASES"] == "approval"
    assert "SOMETHING_A_TEST_ADDED" not in app.config
    assert search_index.search_engine(app).count() == 0


def test_every_table_is_emptied_and_the_audit_logs_triggers_are_kept(
    app: Flask, shared_app: SharedApp, make_user: Callable[..., User]
) -> None:
    """`empty_database` deletes only from the tables it finds rows in (one query): every
    table, the append-only audit log included, is empty after it, and the log's triggers,
    dropped around its DELETE, are there again."""
    officer = make_user()
    person = Person(full_name="Margaret Okafor")
    db.session.add(person)
    db.session.flush()
    audit.record(db.session, actor_id=officer.id, person_id=person.id, action="viewed", what="p")
    db.session.commit()
    triggers = "SELECT sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    before = db.session.execute(text(triggers)).all() if sqlite else None

    shared_app.reset()

    with app.app_context():
        for table in db.metadata.sorted_tables:
            assert db.session.scalar(select(func.count()).select_from(table)) == 0, table.name
        if sqlite:
            assert before
            assert db.session.execute(text(triggers)).all() == before


def test_another_apps_settings_do_not_stay_with_the_shared_app(
    app: Flask, shared_app: SharedApp, make_app: Callable[..., Flask]
) -> None:
    # Building another app sets the process-wide extension objects for it.
    make_app(FORCE_HTTPS=True, RATELIMIT_ENABLED=True)
    assert limiter.enabled

    shared_app.take_back()

    assert not limiter.enabled
    assert app.test_client().get("/").status_code == 200
