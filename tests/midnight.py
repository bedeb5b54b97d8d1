"""Keeping a test's day the day it was collected on.

Many tests take "today" once, at import (`tests.citizens.helpers.TODAY`, and constants built
from it), while the app asks the clock on every call. A run that crosses midnight in London
then compares two different days: a date typed as today is refused as past, an instalment
falls due between two figures. A test that starts after 23:00 on that day, or on a later day,
runs with the clock put back to 23:00 of it and ticking, so every test has an hour before its
midnight. Runs that start earlier are not touched at all.

The app in this process, its live servers' threads and the processes forked from it read the
moved clock; a fresh interpreter (a gunicorn, a CLI in a subprocess), PostgreSQL's `now()` and
the browser's own clock do not, which is why the clock moves only in that last hour.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date, datetime, time

import time_machine

from marketplace.formatting import LONDON

LAST_HOUR = time(23)


def latest_start(today: date) -> datetime:
    """The latest time on `today` at which a test may start on the real clock."""
    return datetime.combine(today, LAST_HOUR, tzinfo=LONDON)


@contextlib.contextmanager
def before_midnight(today: date) -> Iterator[None]:
    """Run the body on `today` with an hour to spare: as it is, or from 23:00 of `today`."""
    latest = latest_start(today)
    if datetime.now(LONDON) < latest:
        yield
        return
    with time_machine.travel(latest, tick=True):
        yield
