"""A backup of a working database restores into an empty one whole: same rows, ledger verified,
and the search index rebuilt from it. On SQLite and on PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import flask_migrate
from click.testing import Result
from flask import Flask
from sqlalchemy import create_engine, func, select, text

from marketplace import create_app
from marketplace.extensions import db
from marketplace.ledger.models import Transfer
from marketplace.orders.models import Order
from tests.conftest import DemoCounty, test_settings


def _app(url: str, instance: Path) -> Flask:
    return create_app(test_settings(url, instance))


def _flask(app: Flask, *args: str) -> Result:
    """Run a `flask` command as an operator would: in the app's context, engine closed after."""
    with app.app_context():
        try:
            return app.test_cli_runner().invoke(args=list(args))
        finally:
            db.session.remove()
            db.engine.dispose()


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                "transfers": connection.scalar(select(func.count()).select_from(Transfer)) or 0,
                "orders": connection.scalar(select(func.count()).select_from(Order)) or 0,
                "pence": connection.scalar(select(func.sum(Transfer.amount_pence))) or 0,
            }
    finally:
        engine.dispose()


def test_a_backup_restores_into_an_empty_database_and_the_ledger_verifies(
    make_empty_database: Callable[[], str], tmp_path: Path, demo_county: DemoCounty
) -> None:
    live_url = make_empty_database()
    live = _app(live_url, tmp_path / "live")
    with live.app_context():
        flask_migrate.upgrade()
        demo_county.restore()  # the demo county, as `flask seed-demo` commits it
        db.session.remove()
        db.engine.dispose()
    before = _counts(live_url)
    assert before["transfers"] > 0
    assert before["orders"] > 0

    made = _flask(live, "backup", "create", str(tmp_path / "b.backup"))
    assert made.exit_code == 0, made.output
    assert "Backed up" in made.output
    again = _flask(live, "backup", "create", str(tmp_path / "b.backup"))
    assert again.exit_code != 0
    assert "already exists" in again.output

    restored_url = make_empty_database()
    restored = _app(restored_url, tmp_path / "restored")
    result = _flask(restored, "backup", "restore", str(tmp_path / "b.backup"))
    assert result.exit_code == 0, result.output
    assert "Search index rebuilt with" in result.output
    assert "with 0 listings" not in result.output
    assert _counts(restored_url) == before

    verified = _flask(restored, "ledger", "verify")
    assert verified.exit_code == 0, verified.output
    assert "ledger verify: OK" in verified.output


def test_a_restore_refuses_a_database_that_holds_tables(
    make_empty_database: Callable[[], str], tmp_path: Path
) -> None:
    url = make_empty_database()
    app = _app(url, tmp_path / "one")
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    backup = _flask(app, "backup", "create", str(tmp_path / "b.backup"))
    assert backup.exit_code == 0, backup.output

    result = _flask(app, "backup", "restore", str(tmp_path / "b.backup"))
    assert result.exit_code != 0
    assert "restore only into an empty database" in result.output
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM alembic_version")) == 1
    finally:
        engine.dispose()


def test_a_sqlite_backup_holds_what_is_committed_in_the_wal_and_not_what_is_not(
    tmp_path: Path,
) -> None:
    """A file copy of a WAL database misses commits not yet checkpointed into the main file;
    the online backup is one consistent moment: every commit, no half-written transaction."""
    import sqlite3

    from marketplace.backup import create_backup

    source = tmp_path / "live.db"
    writer = sqlite3.connect(source, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE t (n INTEGER)")
    writer.execute("INSERT INTO t VALUES (1)")
    busy = sqlite3.connect(source, isolation_level=None)
    busy.execute("BEGIN IMMEDIATE")
    busy.execute("INSERT INTO t VALUES (2)")
    try:
        create_backup(f"sqlite:///{source}", tmp_path / "copy.db")
    finally:
        busy.execute("ROLLBACK")
        busy.close()
        writer.close()
    copy = sqlite3.connect(tmp_path / "copy.db")
    try:
        assert copy.execute("SELECT n FROM t").fetchall() == [(1,)]
    finally:
        copy.close()
