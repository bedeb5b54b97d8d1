"""Two machines on one database, as the design says the site scales: two gunicorn processes,
each with its own instance folder and search index, sharing the database (PostgreSQL under
`make test-postgres`, SQLite otherwise). What is done on one is seen on the other, a session
started on one works on the other, and every scheduled job run on both at the same moment does
its work once."""

from __future__ import annotations

import gc
import html
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
import requests
from sqlalchemy import create_engine, select, text

from marketplace import create_app
from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.formatting import LONDON
from marketplace.orders import checkout
from marketplace.orders.models import Order, ScheduleKind
from marketplace.orders.schedule import Schedule
from providers.models import Service, ServiceStatus
from tests.conftest import DemoCounty, test_settings

ROOT = Path(__file__).resolve().parent.parent
CSRF = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'name="csrf_token" value="([^"]+)"'
)


@dataclass
class Machine:
    name: str
    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]

    def session(self) -> requests.Session:
        return requests.Session()

    def flask(self, *args: str) -> subprocess.Popen[str]:
        """Start a `flask` command on this machine (not waiting for it)."""
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(name: str, database_url: str, instance: Path, **settings: str) -> Machine:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance),
        "MARKETPLACE_ENV": "development",
        "SECRET_KEY": "two-machines-share-one-secret-key-as-a-site-does",
        "DATA_ENCRYPTION_KEYS": "dGVzdC1kYXRhLWVuY3J5cHRpb24ta2V5LTMyLWJ5dGU=",
        "RATELIMIT_ENABLED": "false",
        "MAIL_SERVER": "",
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_KIB": "8192",
        "ARGON2_PARALLELISM": "1",
        # A worker once died of SIGSEGV mid-search here (4 December 2026, once in many runs):
        # should it happen again, every thread's Python stack goes to the captured stderr.
        "PYTHONFAULTHANDLER": "1",
        **settings,
    }
    instance.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"machine {name} stopped as it started")
        try:
            if requests.get(f"{url}/healthz", timeout=30).status_code == 200:
                return Machine(name, url, env, process)
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"machine {name} did not answer within a minute")


@pytest.fixture
def county(make_empty_database: Callable[[], str], tmp_path: Path, demo_county: DemoCounty) -> str:
    """The demo county, as `flask seed-demo` commits it, in a database of its own (copied in
    from the worker's snapshot: `demo_county` in tests/conftest.py; seeded the first time)."""
    url = make_empty_database()
    app = create_app(test_settings(url, tmp_path / "seed"))
    with app.app_context():
        flask_migrate.upgrade()
        demo_county.restore()
        db.session.remove()
        db.engine.dispose()
    return url


@pytest.fixture
def machines(county: str, tmp_path: Path) -> Iterator[tuple[Machine, Machine]]:
    one = _start("one", county, tmp_path / "machine-one")
    try:
        two = _start("two", county, tmp_path / "machine-two")
    except Exception:
        one.process.kill()
        raise
    try:
        yield one, two
    finally:
        for machine in (one, two):
            machine.process.terminate()
        for machine in (one, two):
            try:
                machine.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                machine.process.kill()


def _csrf(page: str) -> str:
    found = CSRF.search(page)
    assert found, "the page has no CSRF token"
    return html.unescape(found.group(1) or found.group(2))


def _sign_in(machine: Machine, email: str, password: str) -> requests.Session:
    browser = machine.session()
    form = browser.get(f"{machine.url}/sign-in", timeout=30)
    answer = browser.post(
        f"{machine.url}/sign-in",
        data={"csrf_token": _csrf(form.text), "email": email, "password": password},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text[:500]
    assert "Sign out" in answer.text
    return browser


def _eventually(check: Callable[[], bool], seconds: float = 15) -> float:
    """Wait until `check` holds; return how long it took."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, "the other machine never saw the change"
        time.sleep(0.1)
    return time.monotonic() - started


def _found(machine: Machine, words: str, service_id: uuid.UUID) -> bool:
    page = requests.get(f"{machine.url}/search", params={"q": words}, timeout=30).text
    return f"/services/{service_id}" in page


def _scalar(url: str, query: object) -> object:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(query)  # type: ignore[call-overload]
    finally:
        engine.dispose()


def _listing_of(url: str, organisation_name: str) -> tuple[uuid.UUID, str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                text(
                    "SELECT s.id, s.name FROM services s JOIN organisations o "
                    "ON o.id = s.organisation_id WHERE o.name = :name AND s.status = :published "
                    "ORDER BY s.name LIMIT 1"
                ),
                {"name": organisation_name, "published": ServiceStatus.PUBLISHED.value},
            ).one()
    finally:
        engine.dispose()
    return uuid.UUID(str(row[0])), str(row[1])


def test_what_one_machine_does_the_other_sees(
    machines: tuple[Machine, Machine], county: str, tmp_path: Path
) -> None:
    one, two = machines
    service_id, name = _listing_of(county, "Chiltern Home Care")
    assert _found(one, name, service_id)
    assert _found(two, name, service_id)

    # A provider takes a listing down on machine one: machine two's own index drops it.
    provider = _sign_in(one, "provider@demo.example.org", "copper kettle meadow")
    dashboard = provider.get(f"{one.url}/provider/", timeout=30).text
    moved = provider.post(
        f"{one.url}/provider/services/{service_id}/status",
        data={"csrf_token": _csrf(dashboard), "move": "unpublish"},
        timeout=30,
    )
    assert moved.status_code == 200
    _eventually(lambda: not _found(two, name, service_id))
    assert requests.get(f"{two.url}/services/{service_id}", timeout=30).status_code == 404

    # A session begun on machine one is the same session on machine two (they are rows in the
    # shared database), and signing out on two ends it on one.
    citizen = _sign_in(one, "citizen@demo.example.org", "marmalade lighthouse tandem")
    on_two = citizen.get(f"{two.url}/my/orders", timeout=30)
    assert on_two.status_code == 200
    assert "<title>Your orders" in on_two.text
    assert "Sign out" in on_two.text

    # An order placed on machine one is on the citizen's and the provider's pages on two.
    orderable = _orderable_service(county, tmp_path)
    form = citizen.get(f"{one.url}/my/services/{orderable.id}/order", timeout=30)
    added = citizen.post(
        f"{one.url}/my/services/{orderable.id}/order",
        data={
            "csrf_token": _csrf(form.text),
            "schedule_kind": "one_off",
            "starts_on": [
                str(orderable.day.day),
                str(orderable.day.month),
                str(orderable.day.year),
            ],
            "units_per_occasion": str(orderable.units),
            "add": "yes",
        },
        timeout=30,
    )
    assert added.status_code == 200, added.text[:2000]
    basket = citizen.get(f"{one.url}/my/checkout", timeout=30)
    placed = citizen.post(
        f"{one.url}/my/checkout",
        data={
            "csrf_token": _csrf(basket.text),
            "item": re.findall(r'name="item" value="([^"]+)"', basket.text),
            "place": "yes",
        },
        timeout=30,
    )
    assert placed.status_code == 200, placed.text[:2000]
    reference = _scalar(county, select(Order.reference).where(Order.service_id == orderable.id))
    assert reference, "the order was not placed"
    assert str(reference) in citizen.get(f"{two.url}/my/orders", timeout=30).text

    signed_out = citizen.post(
        f"{two.url}/sign-out",
        data={"csrf_token": _csrf(citizen.get(f"{two.url}/my/orders", timeout=30).text)},
        timeout=30,
    )
    assert signed_out.status_code == 200
    assert "Sign out" not in citizen.get(f"{one.url}/my/orders", timeout=30).text


@dataclass(frozen=True)
class Orderable:
    id: uuid.UUID
    day: date
    units: int


def _orderable_service(url: str, tmp_path: Path) -> Orderable:
    """A service the demo citizen's budget and plan let her buy once, two weeks from now: found
    with the same quote checkout will run."""
    app = create_app(test_settings(url, tmp_path / "finder"))
    today = datetime.now(LONDON).date()
    day = today + timedelta(days=14)
    with app.app_context():
        try:
            citizen = db.session.scalar(
                select(User).where(User.email == "citizen@demo.example.org")
            )
            assert citizen is not None
            assert citizen.person is not None
            services = db.session.scalars(
                select(Service)
                .where(Service.status == ServiceStatus.PUBLISHED)
                .order_by(Service.name)
            )
            for service in services:
                schedule = Schedule(ScheduleKind.ONE_OFF, day, max(service.minimum_order, 1))
                try:
                    quote = checkout.quote(
                        db.session, citizen.person, service, schedule, today=today
                    )
                except Exception:  # noqa: S112 (not this one: try the next)
                    continue
                if quote.plan_check.name == "ALLOWED":
                    return Orderable(service.id, day, schedule.units_per_occasion)
        finally:
            db.session.remove()
            db.engine.dispose()
    pytest.fail("the demo citizen can buy nothing")


# Far enough ahead that instalments fall due and listings near their staleness date.
AHEAD = (datetime.now(LONDON) + timedelta(days=70)).date().isoformat()
JOBS = [
    ("ledger", "release-instalments", "--date", AHEAD),
    ("listings", "remind-stale", "--days-before", "60"),
    ("orders", "settle-due"),
    ("accounts", "prune-sessions"),
    ("api", "prune-idempotency-keys"),
    ("search", "sync"),
]
DONE = {
    "release-instalments": re.compile(r"Released (\d+) instalments"),
    "remind-stale": re.compile(r"Reminded the providers of (\d+) listings"),
    "settle-due": re.compile(r"Settled (\d+) invoices"),
}


def _run_jobs(url: str, instance: str, barrier: Any, results: Any) -> None:
    """One machine's scheduler: each job started at the same moment as the other machine's,
    then the counted jobs once more. Runs in a process forked from the test's (which has the
    app imported: a fresh interpreter spent 3 s of CPU importing it), with an app, engine and
    connections of its own; the database's connections the test's process holds are never
    touched here (the collector leaves what was inherited alone, and the child ends by
    `os._exit`)."""
    gc.freeze()
    app = create_app(test_settings(url, Path(instance)))
    runner = app.test_cli_runner()
    for round_, job in [(1, job) for job in JOBS] + [(2, job) for job in JOBS[:3]]:
        barrier.wait(timeout=120)
        with app.app_context():
            outcome = runner.invoke(args=list(job))
            db.session.remove()
        results.put((round_, job[1], outcome.exit_code, outcome.output + repr(outcome.exception)))
    with app.app_context():
        db.engine.dispose()


def _done(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                "release-instalments": connection.scalar(
                    text("SELECT count(*) FROM budget_instalments WHERE released")
                ),
                "remind-stale": connection.scalar(text("SELECT count(*) FROM listing_reminders")),
                "settle-due": connection.scalar(
                    text("SELECT count(*) FROM invoices WHERE status = 'settled'")
                ),
            }
    finally:
        engine.dispose()


def test_every_scheduled_job_run_on_both_machines_at_once_does_its_work_once(
    county: str, tmp_path: Path
) -> None:
    before = _done(county)
    # The county's database has no connection open in this process as it forks (`_done` and
    # the fixture closed theirs), so SQLite's per-process lock state of its file is clean.
    fork = multiprocessing.get_context("fork")
    barrier = fork.Barrier(2)
    results = fork.Queue()
    schedulers = [
        fork.Process(target=_run_jobs, args=(county, str(tmp_path / name), barrier, results))
        for name in ("one", "two")
    ]
    for scheduler in schedulers:
        scheduler.start()
    outcomes = [results.get(timeout=300) for _ in range(2 * (len(JOBS) + 3))]
    for scheduler in schedulers:
        scheduler.join(timeout=60)
        assert scheduler.exitcode == 0
    counted: dict[tuple[int, str], int] = {}
    for round_, name, exit_code, output in outcomes:
        assert exit_code == 0, f"{name}: {output}"
        if name in DONE:
            found = DONE[name].search(output)
            assert found, f"{name}: {output}"
            counted[round_, name] = counted.get((round_, name), 0) + int(found.group(1))
    after = _done(county)
    # What the two machines say they did between them is what happened, once: no instalment
    # released twice, no listing reminded twice; and a second round finds nothing left.
    for name in DONE:
        assert counted[1, name] == after[name] - before[name], name
        assert counted[2, name] == 0, name
    assert counted[1, "release-instalments"] > 0
    assert counted[1, "remind-stale"] > 0

    app = create_app(test_settings(county, tmp_path / "auditor"))
    with app.app_context():
        verified = app.test_cli_runner().invoke(args=["ledger", "verify"])
        db.session.remove()
        db.engine.dispose()
    assert verified.exit_code == 0, verified.output
    assert "ledger verify: OK" in verified.output


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A throw-away Redis server (Debian's redis-server, installed by `make test`)."""
    server = shutil.which("redis-server")
    assert server, (
        "redis-server is not installed: run scripts/install-debian-packages.sh redis-server"
    )
    port = _free_port()
    process = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_rate_limits_are_counted_across_machines_through_redis(
    make_empty_database: Callable[[], str], redis_url: str, tmp_path: Path
) -> None:
    """With the limiter's store in Redis, a guesser who spreads sign-ins over the machines is
    held to the one limit: three a minute is three in all, not three on each."""
    url = make_empty_database()
    app = create_app(test_settings(url, tmp_path / "migrate"))
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    limits = {
        "RATELIMIT_ENABLED": "true",
        "RATELIMIT_STORAGE_URI": redis_url,
        "SIGN_IN_RATE_LIMIT": "3 per minute",
    }
    one = _start("one", url, tmp_path / "one", **limits)
    try:
        two = _start("two", url, tmp_path / "two", **limits)
    except Exception:
        one.process.kill()
        raise
    try:
        answers = []
        for attempt in range(5):
            machine = (one, two)[attempt % 2]
            guesser = machine.session()
            form = guesser.get(f"{machine.url}/sign-in", timeout=30)
            answers.append(
                guesser.post(
                    f"{machine.url}/sign-in",
                    data={
                        "csrf_token": _csrf(form.text),
                        "email": "someone@example.org",
                        "password": f"guess {attempt}",
                    },
                    timeout=30,
                ).status_code
            )
        assert answers[:3] == [400, 400, 400]
        assert answers[3:] == [429, 429]
    finally:
        for machine in (one, two):
            machine.process.terminate()
            machine.process.wait(timeout=10)
