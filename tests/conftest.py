"""Fixtures: an app from the factory on a migrated database, emptied after every test.

The database is SQLite in a temporary folder, or the server named by TEST_DATABASE_URL
(`make test-postgres` starts a throw-away PostgreSQL and sets it).

`app` is one app built once per run (per xdist worker) and put back as built after every
test (see `SharedApp.reset`); `make_app(**settings)` builds a fresh one for a test that needs
other settings.
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Dialect, Engine, make_url
from werkzeug.test import TestResponse

from marketplace import create_app
from marketplace.accounts import service as accounts
from marketplace.accounts.models import User
from marketplace.accounts.passwords import configure_hashing
from marketplace.accounts.roles import Role
from marketplace.extensions import csrf, db, limiter, login_manager, talisman
from marketplace.formatting import LONDON
from marketplace.mail import outbox_messages
from providers import listings
from providers.models import (
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    PriceUnit,
    Service,
    ServiceStatus,
)
from providers.reference_data import ensure_localities, ensure_taxonomy
from tests.citizens.helpers import TODAY
from tests.midnight import before_midnight

# Fixtures shared across folders: budgets (funded pots, a person, make_budget), orders (a
# whole world of citizen, budget, plan, provider and listing) and citizens (a citizen with a
# budget, signed in or not).
pytest_plugins = [
    "tests.budgets.fixtures",
    "tests.orders.fixtures",
    "tests.citizens.fixtures",
]

PASSWORD = "correct horse battery staple"

# The tests that take longest (seconds to a minute each, where most take a tenth of a second),
# longest first: started first in a run on several workers (see below). A path that no longer
# matches anything only loses its place.
LONG_TESTS = (
    "tests/test_imports_alone.py",
    "tests/budgets/test_invariants.py",
    "tests/orders/test_invariants.py",
    "tests/test_two_machines.py",
    "tests/browser/",
    "tests/api/test_schemathesis.py",
    "tests/demo/",
    "tests/test_migrations.py",
    "tests/test_statements_per_page.py",
    "tests/test_backup.py",
)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist, start each worker on its share of the long tests, so that the run
    ends on short ones with both workers busy to the end.

    `--dist worksteal` gives each worker an equal contiguous part of the list, which it runs in
    order, and an idle worker takes the second half of what another has yet to run. In file
    order the browser tests all fell in the first half and the longest test (the imports
    check) near the end of the second, often run last while the other worker had nothing left.
    Now the long tests, longest first, are dealt in turn to the front of each worker's share
    and the short ones follow, in file order. A run in one process keeps file order.
    """
    if not hasattr(config, "workerinput"):
        return

    def rank(item: pytest.Item) -> int | None:
        return next((i for i, path in enumerate(LONG_TESTS) if item.nodeid.startswith(path)), None)

    ranked = [(rank(item), index, item) for index, item in enumerate(items)]
    long = [item for _rank, _index, item in sorted(r for r in ranked if r[0] is not None)]
    short = [item for item_rank, _index, item in ranked if item_rank is None]
    workers = int(config.workerinput["workercount"])  # type: ignore[attr-defined]
    ordered: list[pytest.Item] = []
    for worker in range(workers):
        # The share xdist gives this worker: an equal part of what is left.
        size = (len(items) - len(ordered)) // (workers - worker)
        dealt = long[worker::workers]
        ordered += dealt + short[: max(0, size - len(dealt))]
        del short[: max(0, size - len(dealt))]
    items[:] = ordered + short


def test_settings(database_url: str, instance: Path, **overrides: object) -> dict[str, object]:
    settings: dict[str, object] = {
        "ENVIRONMENT": "testing",
        "SECRET_KEY": "test-secret-key-that-is-long-enough-to-use",
        # A fixed Fernet key, so an app built as production (which needs one) starts too.
        "DATA_ENCRYPTION_KEYS": "dGVzdC1kYXRhLWVuY3J5cHRpb24ta2V5LTMyLWJ5dGU=",
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MAIL_SERVER": "",
        "MAIL_OUTBOX_PATH": str(instance / "mail-outbox"),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": "marketplace.test",
        # Stand-in Stripe keys (production refuses to start without them); no test reaches
        # Stripe: the payment tests point STRIPE_API_BASE at their localstripe.
        "STRIPE_SECRET_KEY": "sk_test_marketplace",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_marketplace",
        "STRIPE_WEBHOOK_SECRET": "whsec_test_marketplace",
        # Real argon2, at a cost that lets the suite make hundreds of accounts.
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_KIB": 8192,
        "ARGON2_PARALLELISM": 1,
    }
    settings.update(overrides)
    return settings


test_settings.__test__ = False  # a helper, not a test


class RequestClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    Without this, a request reuses the test's app context, and so its `g` (where Flask-Login
    caches the signed-in user) and its database session: one client's user would leak into
    another's request.
    """

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        with self.application.app_context():
            return super().open(*args, **kwargs)


def _worker_database(url: str, worker: str) -> str:
    """A PostgreSQL database of this xdist worker's own beside TEST_DATABASE_URL's, made anew:
    workers empty their database after every test, so they cannot share one."""
    server_url = make_url(url)
    name = f"{server_url.database}_{worker}"
    server = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        server.dispose()
    return server_url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> str:
    """A database migrated to the newest revision, once for the whole run (once per worker
    under pytest-xdist)."""
    url = os.environ.get("TEST_DATABASE_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('database') / 'test.db'}"
    )
    if worker_id != "master" and not url.startswith("sqlite"):
        url = _worker_database(url, worker_id)
    app = create_app(test_settings(url, tmp_path_factory.mktemp("migrate-instance")))
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    return url


@pytest.fixture
def make_empty_database(database_url: str, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Make databases of the same kind as the suite's with nothing in them (not even the
    schema), dropped after the test."""
    url = make_url(database_url)
    made: list[str] = []

    def build() -> str:
        name = f"empty_{uuid.uuid4().hex[:12]}"
        if url.get_backend_name() == "sqlite":
            return f"sqlite:///{tmp_path / f'{name}.db'}"
        made.append(name)
        server = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with server.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            server.dispose()
        return url.set(database=name).render_as_string(hide_password=False)

    yield build
    if made:
        server = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with server.connect() as connection:
                for name in made:
                    connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        finally:
            server.dispose()


def empty_database() -> None:
    """Delete every row of every table, children before parents, and commit.

    Runs after every test, so it is made cheap: one query finds the tables that have rows (a
    test fills a few of about ninety), and only those get a DELETE, sent as plain SQL.
    Before, each table got a DELETE built by SQLAlchemy: 15 ms of CPU a test (docs/testing.md).
    """
    connection = db.session.connection()
    names, queries = _emptying_plan(connection.dialect)
    filled: set[int] = set()
    for query in queries:
        filled.update(index for (index,) in connection.exec_driver_sql(query))
    for index in sorted(filled):
        name = names[index]
        if name in APPEND_ONLY_TABLES:
            _empty_append_only(name)
        else:
            connection.exec_driver_sql(
                f"DELETE FROM {connection.dialect.identifier_preparer.quote(name)}"
            )
    db.session.commit()


# SQLite allows 500 SELECTs in one compound query.
_TABLES_A_QUERY = 200
_PLANS: dict[tuple[str, tuple[str, ...]], tuple[list[str], list[str]]] = {}


def _emptying_plan(dialect: Dialect) -> tuple[list[str], list[str]]:
    """The tables, children first, and the queries that give the index of each that has rows."""
    key = (dialect.name, tuple(db.metadata.tables))
    if key not in _PLANS:
        names = [table.name for table in reversed(db.metadata.sorted_tables)]
        quote = dialect.identifier_preparer.quote
        probes = [
            f"SELECT {i} WHERE EXISTS (SELECT 1 FROM {quote(n)})" for i, n in enumerate(names)
        ]
        queries = [
            " UNION ALL ".join(probes[start : start + _TABLES_A_QUERY])
            for start in range(0, len(probes), _TABLES_A_QUERY)
        ]
        _PLANS[key] = (names, queries)
    return _PLANS[key]


# Tables whose triggers refuse DELETE (the audit log): emptied past their triggers.
APPEND_ONLY_TABLES = frozenset({"audit_entries"})


def _empty_append_only(name: str) -> None:
    """Empty a table whose triggers refuse DELETE, keeping the triggers: they are switched off
    (PostgreSQL) or dropped and made again from their own SQL (SQLite) around the DELETE, in
    the same transaction (both databases' DDL is transactional), so no other connection ever
    sees the table without them. Not TRUNCATE: its lock waits for any other connection that
    has read the table (a second app's session in the same test)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(f"ALTER TABLE {name} DISABLE TRIGGER USER"))
        db.session.execute(text(f"DELETE FROM {name}"))
        db.session.execute(text(f"ALTER TABLE {name} ENABLE TRIGGER USER"))
        return
    triggers = db.session.execute(
        text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :table"),
        {"table": name},
    ).all()
    for trigger, _sql in triggers:
        db.session.execute(text(f'DROP TRIGGER "{trigger}"'))
    db.session.execute(text(f"DELETE FROM {name}"))
    for _trigger, sql in triggers:
        db.session.execute(text(sql))


def _build_app(database_url: str, instance: Path, **overrides: object) -> Flask:
    built = create_app(test_settings(database_url, instance, **overrides))
    built.test_client_class = RequestClient
    return built


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Build fresh apps with extra settings; each is torn down and the database emptied after."""
    apps: list[Flask] = []

    def build(**overrides: object) -> Flask:
        built = _build_app(database_url, tmp_path / "instance", **overrides)
        apps.append(built)
        return built

    yield build
    for built in apps:
        with built.app_context():
            db.session.rollback()
            empty_database()
            db.engine.dispose()


# Extension objects are one per process, and `init_app` keeps some of an app's settings on
# them (Talisman's HTTPS and headers, the limiter's switch and storage): the app built last
# wins. A test that builds another app leaves them set for that one.
_PROCESS_EXTENSIONS = (csrf, limiter, login_manager, talisman)


def _copied(value: object) -> object:
    return copy.copy(value) if isinstance(value, dict | set | list) else value


class SharedApp:
    """The app of every test that needs no settings of its own, built once per run.

    Building an app costs about 50 ms (Werkzeug compiles every URL rule), and a run has about
    2,000 tests. Whatever a test can leave behind is put back by `reset`: the database rows,
    the instance folder (mail outbox, search index, backups), the search engine and every
    other cache the app keeps in `app.extensions`, `app.config`, and the settings the
    process-wide extension objects hold for it.
    """

    def __init__(self, database_url: str, instance: Path) -> None:
        self.instance = instance
        self.app = _build_app(database_url, instance)
        self._config = copy.deepcopy(dict(self.app.config))
        # Containers (the search state's dict) are copied: a test fills them in place.
        self._extensions = {key: _copied(value) for key, value in self.app.extensions.items()}
        self._process_extensions = [(ext, dict(vars(ext))) for ext in _PROCESS_EXTENSIONS]

    def take_back(self) -> None:
        """Make the process-wide state this app's again, after another app was built."""
        for extension, settings in self._process_extensions:
            vars(extension).clear()
            vars(extension).update(settings)
        config = self.app.config
        configure_hashing(
            time_cost=config["ARGON2_TIME_COST"],
            memory_kib=config["ARGON2_MEMORY_KIB"],
            parallelism=config["ARGON2_PARALLELISM"],
        )

    def reset(self) -> None:
        """Put the app back as it was built: after every test that used it."""
        with self.app.app_context():
            db.session.rollback()
            empty_database()
            db.session.remove()
        engine = self.app.extensions["search"].get("engine")
        if engine is not None:
            engine.close()
        self.app.extensions.clear()
        self.app.extensions.update({k: _copied(v) for k, v in self._extensions.items()})
        config = self.app.config
        for key in config.keys() - self._config.keys():
            del config[key]
        for key, value in self._config.items():
            if key not in config or config[key] != value:
                config[key] = copy.deepcopy(value)
        for child in self.instance.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()

    def close(self) -> None:
        with self.app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def shared_app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedApp]:
    shared = SharedApp(database_url, tmp_path_factory.mktemp("instance"))
    yield shared
    shared.close()


@pytest.fixture
def app(shared_app: SharedApp) -> Iterator[Flask]:
    """The shared app, in an app context of this test's own; put back as built after."""
    shared_app.take_back()
    try:
        with shared_app.app.app_context():
            yield shared_app.app
    finally:
        shared_app.reset()


@dataclass(frozen=True)
class SeededDemo:
    """What seeding the demo county reported, kept with its snapshot: the report's printed
    lines, its counts (created and already there, by kind) and sign-ins, and the moment the
    seed finished (a test of a demo seeded on a fixed day travels there to carry on)."""

    finished_at: datetime
    lines: tuple[str, ...]
    created: dict[str, int]
    created_count: int
    existing_count: int
    sign_ins: tuple[Any, ...]


@dataclass
class _Snapshot:
    seeded: SeededDemo
    sqlite: sqlite3.Connection | None = None  # the whole seeded database, in memory
    tables: list[tuple[str, str, bytes]] = field(default_factory=list)  # PostgreSQL: COPY data
    sequences: list[tuple[str, int | None, bool]] = field(default_factory=list)


class DemoCounty:
    """The demo county (`marketplace.demo.seed.run_all`, 8 to 12 s) seeded once per worker
    for each day it is seeded on, and copied into a test's database from then on.

    `restore(day)` must run in an app context whose database has the schema and no rows. The
    first time for a day it seeds there (travelling to `day` if given) and commits, as `flask
    seed-demo` does, and keeps a snapshot; later it loads the snapshot: SQLite's backup API
    copies the whole database file (the schema is the same migrations'), PostgreSQL gets every
    table's rows by COPY, parents first, and its sequences set as they were. The database then
    holds exactly what seeding left; the search index catches up from the search outbox rows
    as after a seed (sync on the first search, or `search_index.reindex`). A snapshot of
    today's county is made again when the date changes. For tests that read the demo or build
    on it; the tests of seeding itself (the command, a second run, each step) seed.
    """

    def __init__(self) -> None:
        self._snapshots: dict[tuple[object, ...], _Snapshot] = {}

    def restore(self, day: datetime | None = None) -> SeededDemo:
        from marketplace.types import utcnow

        now = utcnow()
        # Today's county by the date in UTC and in London: the seed dates rows by both.
        key: tuple[object, ...] = (
            ("day", day)
            if day is not None
            else ("today", now.date(), now.astimezone(LONDON).date())
        )
        db.session.remove()
        engine = db.engine
        with engine.connect() as connection:
            names, queries = _emptying_plan(connection.dialect)
            filled = [names[i] for query in queries for (i,) in connection.exec_driver_sql(query)]
        assert not filled, f"the demo goes into an empty database; these tables have rows: {filled}"
        snapshot = self._snapshots.get(key)
        if snapshot is None:
            self._snapshots[key] = self._seed(engine, day)
            return self._snapshots[key].seeded
        engine.dispose()
        if engine.dialect.name == "sqlite":
            assert snapshot.sqlite is not None
            target = sqlite3.connect(str(engine.url.database))
            try:
                snapshot.sqlite.backup(target)
            finally:
                target.close()
        else:
            _copy_in(engine, snapshot)
        engine.dispose()
        return snapshot.seeded

    def _seed(self, engine: Engine, day: datetime | None) -> _Snapshot:
        from marketplace.demo import seed
        from marketplace.types import utcnow

        with time_machine.travel(day, tick=True) if day is not None else contextlib.nullcontext():
            report = seed.run_all()
            db.session.commit()
            finished_at = utcnow()
        seeded = SeededDemo(
            finished_at=finished_at,
            lines=tuple(report.lines()),
            created={tally.kind: len(tally.created) for tally in report.tallies},
            created_count=report.created_count,
            existing_count=report.existing_count,
            sign_ins=tuple(report.sign_ins),
        )
        db.session.remove()
        snapshot = _Snapshot(seeded)
        if engine.dialect.name == "sqlite":
            snapshot.sqlite = sqlite3.connect(":memory:", check_same_thread=False)
            source = sqlite3.connect(str(engine.url.database))
            try:
                source.backup(snapshot.sqlite)
            finally:
                source.close()
        else:
            _copy_out(engine, snapshot)
        return snapshot


def _copy_out(engine: Engine, snapshot: _Snapshot) -> None:
    """Every table's rows (binary COPY, generated columns left out) and every sequence."""
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor:
            for table in db.metadata.sorted_tables:
                columns = [
                    name
                    for (name,) in cursor.execute(
                        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass"
                        " AND attnum > 0 AND NOT attisdropped AND attgenerated = ''"
                        " ORDER BY attnum",
                        (table.name,),
                    )
                ]
                listed = ", ".join(f'"{name}"' for name in columns)
                data = bytearray()
                with cursor.copy(
                    f'COPY "{table.name}" ({listed}) TO STDOUT (FORMAT binary)'
                ) as copy:
                    for block in copy:
                        data += block
                snapshot.tables.append((table.name, listed, bytes(data)))
            snapshot.sequences = [
                (f'"{schema}"."{name}"', last, last is not None)
                for schema, name, last in cursor.execute(
                    "SELECT schemaname, sequencename, last_value FROM pg_sequences"
                )
            ]
        connection.rollback()


def _copy_in(engine: Engine, snapshot: _Snapshot) -> None:
    """Load the rows, parents first, in one transaction; FOREIGN KEY checks of a table that
    refers to itself run at the end of its COPY. Then the sequences as they were."""
    with engine.begin() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor:
            for name, listed, data in snapshot.tables:
                with cursor.copy(f'COPY "{name}" ({listed}) FROM STDIN (FORMAT binary)') as copy:
                    copy.write(data)
            for sequence, last, called in snapshot.sequences:
                cursor.execute("SELECT setval(%s, %s, %s)", (sequence, last or 1, called))


@pytest.fixture(autouse=True)
def _on_the_day_collected() -> Iterator[None]:
    """A test that starts near or after midnight runs on the day its "today" was taken
    (tests/midnight.py)."""
    with before_midnight(TODAY):
        yield


@pytest.fixture(scope="session")
def demo_county() -> DemoCounty:
    """The demo county, seeded once per worker and day: see `DemoCounty`."""
    return DemoCounty()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_organisation(app: Flask) -> Callable[..., Organisation]:
    def build(
        name: str = "Example Care Ltd", status: OrganisationStatus = OrganisationStatus.APPROVED
    ) -> Organisation:
        organisation = Organisation(name=name, status=status)
        db.session.add(organisation)
        db.session.flush()
        return organisation

    return build


@pytest.fixture
def make_user(app: Flask, make_organisation: Callable[..., Organisation]) -> Callable[..., User]:
    """Make a committed user of a role (provider staff get an organisation of their own, and
    brokers a brokerage)."""

    def build(
        role: Role = Role.CITIZEN,
        email: str | None = None,
        organisation: Organisation | None = None,
        password: str = PASSWORD,
    ) -> User:
        if role is Role.PROVIDER_STAFF and organisation is None:
            organisation = make_organisation(f"Provider {uuid.uuid4().hex[:6]}")
        if role is Role.BROKER and organisation is None:
            organisation = make_organisation(f"Brokerage {uuid.uuid4().hex[:6]}")
            organisation.kind = OrganisationKind.BROKERAGE
        user = accounts.create_user(
            email=email or f"{role.value}-{uuid.uuid4().hex[:8]}@example.org",
            full_name=f"Test {role.label}",
            password=password,
            role=role,
            organisation_id=organisation.id if organisation else None,
        )
        db.session.commit()
        return user

    return build


@pytest.fixture
def reference_data(app: Flask) -> None:
    ensure_taxonomy()
    ensure_localities()
    db.session.commit()


@pytest.fixture
def make_listing(reference_data: None) -> Callable[..., Service]:
    def build(
        organisation: Organisation,
        name: str = "Home care visits",
        status: ServiceStatus = ServiceStatus.PUBLISHED,
        price_pence: int = 2600,
    ) -> Service:
        service = listings.create_listing(
            organisation,
            listings.ListingDetails(
                name=name,
                description="Help with washing and dressing.",
                category_codes=["personal-care"],
                price_pence=price_pence,
                price_unit=PriceUnit.PER_HOUR,
                area_codes=["stevenage"],
                delivery_modes=["at_home"],
            ),
        )
        service.status = status
        db.session.commit()
        return service

    return build


@pytest.fixture
def provider_owner(
    make_user: Callable[..., User], make_organisation: Callable[..., Organisation]
) -> User:
    organisation = make_organisation("Chiltern Home Care", OrganisationStatus.APPROVED)
    user = make_user(Role.PROVIDER_STAFF, organisation=organisation)
    user.is_organisation_owner = True
    db.session.commit()
    return user


def sign_in(client: FlaskClient, user: User, password: str = PASSWORD) -> None:
    response = client.post("/sign-in", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)


def links_in_outbox(app: Flask, to: str) -> list[str]:
    """Every link in the emails sent to `to`, oldest email first."""
    messages = [m for m in outbox_messages(app.config["MAIL_OUTBOX_PATH"]) if m.to == to]
    return [link for m in reversed(messages) for link in re.findall(r"https?://\S+", m.body)]
