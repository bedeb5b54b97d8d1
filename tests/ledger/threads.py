"""Run simulated requests at once, each in its own thread, app context, session and
connection, committing at its end as a request does."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from marketplace.extensions import db
from marketplace.ledger import InsufficientFunds


def run_together(app: Flask, count: int, request: Callable[[int], object]) -> list[str]:
    """Start `count` requests together; each answers "ok" or "insufficient_funds" (any other
    error is raised here). `request(number)` uses `db.session`, which is its own."""
    barrier = threading.Barrier(count)

    def run(number: int) -> str:
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                request(number)
                db.session.commit()
            except InsufficientFunds:
                db.session.rollback()
                return "insufficient_funds"
            except BaseException:
                db.session.rollback()
                raise
            return "ok"

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def engine_options(threads: int) -> dict[str, object]:
    """A pool with a connection for every thread, so they really run side by side."""
    return {"pool_size": threads, "max_overflow": 2, "pool_pre_ping": True, "pool_timeout": 30}
