"""Ledger throughput: transfers per second through `marketplace.ledger`, beside the same
transfers written with raw SQL in the same run, single and contended.

    .venv/bin/python bench/ledger_bench.py                                  # SQLite
    scripts/with-postgres.sh .venv/bin/python bench/ledger_bench.py         # SQLite and PostgreSQL

Each transfer is its own transaction, committed, as a request or a job would do it: the
idempotency look-up, the guarded UPDATE of the debit account, the UPDATE of the credit
account, the INSERT of the transfer row, the COMMIT. "single" is one connection writing one
after another; "contended" is THREADS connections at once, all debiting the same guarded
account (the worst case: one hot row). The raw SQL does exactly those statements through the
driver with no ORM and no savepoint; the ratio ledger/raw is the cost of the library. The
ledger is verified at the end of each database's run, so both ways wrote a correct ledger.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import flask_migrate
import psycopg
from sqlalchemy.engine import make_url

from marketplace import create_app, ledger
from marketplace.extensions import db

AMOUNT_PENCE = 7


def _settings(url: str, instance: Path, threads: int) -> dict[str, Any]:
    return {
        "ENVIRONMENT": "testing",
        "SECRET_KEY": "benchmark-secret-key-that-is-long-enough",
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": threads + 1, "max_overflow": 0},
    }


# The statements `ledger.transfer` issues for a posted transfer, with "?" for parameters.
RAW_STATEMENTS = {
    "find": "SELECT id FROM ledger_transfers WHERE idempotency_key = ?",
    "debit": "UPDATE ledger_accounts SET debits_posted = debits_posted + ? WHERE id = ? "
    "AND credits_posted - debits_posted - debits_pending >= ?",
    "credit": "UPDATE ledger_accounts SET credits_posted = credits_posted + ? WHERE id = ?",
    "insert": "INSERT INTO ledger_transfers (id, idempotency_key, kind, debit_account_id, "
    "credit_account_id, amount_pence, code, description, created_at) "
    "VALUES (?, ?, 'posted', ?, ?, ?, 'bench', '', ?)",
}


class RawLedger:
    """The same transfer as `ledger.transfer(...)`, in plain SQL through the driver."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.sqlite = parsed.get_backend_name() == "sqlite"
        if self.sqlite:
            self.connect: Callable[[], Any] = lambda: self._sqlite(parsed.database or "")
            self.sql = RAW_STATEMENTS
        else:
            dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
            self.connect = lambda: psycopg.connect(dsn, autocommit=True)
            self.sql = {name: sql.replace("?", "%s") for name, sql in RAW_STATEMENTS.items()}

    @staticmethod
    def _sqlite(path: str) -> sqlite3.Connection:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("busy_timeout=10000", "foreign_keys=ON", "synchronous=NORMAL"):
            connection.execute(f"PRAGMA {pragma}")
        return connection

    def _id(self, value: uuid.UUID) -> Any:
        # SQLAlchemy keeps UUIDs as 32 hex digits on SQLite and native on PostgreSQL.
        return value.hex if self.sqlite else value

    def transfer(self, connection: Any, key: str, debit: uuid.UUID, credit: uuid.UUID) -> None:
        now = datetime.now(UTC)
        connection.execute("BEGIN IMMEDIATE" if self.sqlite else "BEGIN")
        try:
            if connection.execute(self.sql["find"], (key,)).fetchone() is None:
                guarded = connection.execute(
                    self.sql["debit"], (AMOUNT_PENCE, self._id(debit), AMOUNT_PENCE)
                )
                if guarded.rowcount != 1:
                    raise RuntimeError("insufficient funds")
                connection.execute(self.sql["credit"], (AMOUNT_PENCE, self._id(credit)))
                connection.execute(
                    self.sql["insert"],
                    (
                        self._id(uuid.uuid4()),
                        key,
                        self._id(debit),
                        self._id(credit),
                        AMOUNT_PENCE,
                        now.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else now,
                    ),
                )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise


def _timed(count: int, threads: int, write: Callable[[int, int], None]) -> float:
    """Transfers per second for `count` writes spread over `threads` threads started together."""
    barrier = threading.Barrier(threads)
    per_thread = count // threads

    def run(thread: int) -> None:
        barrier.wait()
        for number in range(per_thread):
            write(thread, number)

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(run, range(threads)))
    return per_thread * threads / (time.perf_counter() - started)


def bench(url: str, transfers: int, threads: int) -> list[tuple[str, str, float, float]]:
    """Run every measurement on one database; returns (database, mode, ledger, raw) rows."""
    with tempfile.TemporaryDirectory() as instance:
        app = create_app(_settings(url, Path(instance), threads))
        with app.app_context():
            flask_migrate.upgrade()
            run = uuid.uuid4().hex[:8]
            world = ledger.open_account(db.session, code=f"world:{run}", name="W", guarded=False)
            pot = ledger.open_account(db.session, code=f"pot:{run}", name="Pot", guarded=True)
            payee = ledger.open_account(db.session, code=f"payee:{run}", name="P", guarded=False)
            ledger.transfer(
                db.session,
                key=f"fund:{run}",
                debit=world,
                credit=pot,
                amount_pence=ledger.MAX_AMOUNT_PENCE,
                code="funding",
            )
            db.session.commit()
            pot_id, payee_id = pot.id, payee.id
        raw = RawLedger(url)
        connections: dict[int, Any] = {}

        def through_ledger(mode: str) -> Callable[[int, int], None]:
            def write(thread: int, number: int) -> None:
                with app.app_context():
                    ledger.transfer(
                        db.session,
                        key=f"{run}:{mode}:ledger:{thread}:{number}",
                        debit=pot_id,
                        credit=payee_id,
                        amount_pence=AMOUNT_PENCE,
                        code="bench",
                    )
                    db.session.commit()

            return write

        def through_sql(mode: str) -> Callable[[int, int], None]:
            def write(thread: int, number: int) -> None:
                if thread not in connections:
                    connections[thread] = raw.connect()
                raw.transfer(
                    connections[thread], f"{run}:{mode}:raw:{thread}:{number}", pot_id, payee_id
                )

            return write

        name = make_url(url).get_backend_name()
        rows = []
        for mode, count in (("single", 1), ("contended", threads)):
            # Alternate, so neither way gets a warmer cache or a fuller table throughout.
            ledger_rate = _timed(transfers, count, through_ledger(mode))
            raw_rate = _timed(transfers, count, through_sql(mode))
            for connection in connections.values():
                connection.close()
            connections.clear()
            rows.append(
                (name, f"{mode} ({count} thread{'s' if count > 1 else ''})", ledger_rate, raw_rate)
            )
        with app.app_context():
            report = ledger.verify_ledger(db.session)
            db.session.rollback()
            if not report.ok:
                raise SystemExit("the ledger does not verify:\n" + "\n".join(report.problems))
            db.engine.dispose()
        return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transfers", type=int, default=2000, help="per measurement")
    parser.add_argument("--threads", type=int, default=8, help="for the contended runs")
    parser.add_argument(
        "--database-url",
        action="append",
        help="a database to measure (repeatable); default: a temporary SQLite file, and "
        "DATABASE_URL too when it names PostgreSQL",
    )
    arguments = parser.parse_args()
    urls = arguments.database_url or []
    if not urls:
        folder = tempfile.mkdtemp(prefix="ledger-bench-")
        urls.append(f"sqlite:///{folder}/bench.db")
        if os.environ.get("DATABASE_URL", "").startswith("postgresql"):
            urls.append(os.environ["DATABASE_URL"])
    print(f"{arguments.transfers} transfers per measurement, each its own committed transaction")
    print(f"{'database':<11} {'mode':<22} {'ledger/s':>9} {'raw SQL/s':>10} {'ledger/raw':>11}")
    for url in urls:
        for name, mode, ledger_rate, raw_rate in bench(url, arguments.transfers, arguments.threads):
            print(
                f"{name:<11} {mode:<22} {ledger_rate:>9.0f} {raw_rate:>10.0f} "
                f"{ledger_rate / raw_rate:>11.2f}"
            )


if __name__ == "__main__":
    main()
