"""Two real processes, one database: the outbox keeps every machine's index in step."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from marketplace.types import utcnow
from providers import search_index
from providers.models import Organisation, OrganisationStatus, Service, ServiceStatus
from search import parse_params
from tests import forking
from tests.providers import search_child


def _child(app: Flask, instance: Path, index: Path, name: str = "") -> forking.Child:
    """Another machine: a process of its own (forked: tests/forking.py), with its own app
    and index, on the same database."""
    arguments = [app.config["SQLALCHEMY_DATABASE_URI"], str(instance), str(index), name]
    return forking.fork(search_child.main, arguments)


def _finish(child: forking.Child) -> int:
    code, out, err = forking.finish(child)
    assert code == 0, err
    return int(out.strip().splitlines()[-1])


def _names(app: Flask, words: str) -> list[str]:
    query = parse_params({"q": words}, today=utcnow().date())
    results = search_index.search_engine(app).search(query)
    return [hit.document.name for hit in results.hits]


def test_a_change_made_by_another_process_reaches_this_ones_index(
    app: Flask,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
    tmp_path: Path,
) -> None:
    organisation = make_organisation("Chiltern Home Care", OrganisationStatus.APPROVED)
    make_listing(organisation, name="Night sitting", status=ServiceStatus.DRAFT)
    search_index.sync(app)
    assert _names(app, "night sitting") == []

    other_index = tmp_path / "other-machine-index"
    assert _finish(_child(app, tmp_path / "other", other_index, "Night sitting")) == 1
    assert "Night sitting" not in _names(app, "night sitting"), "not until this machine syncs"
    search_index.sync(app)
    assert _names(app, "night sitting") == ["Night sitting"]


def test_processes_sharing_one_index_wait_for_its_writer_instead_of_failing(
    app: Flask,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
    tmp_path: Path,
) -> None:
    organisation = make_organisation("Chiltern Home Care", OrganisationStatus.APPROVED)
    for number in range(6):
        make_listing(organisation, name=f"Visit {number}")
    shared = tmp_path / "shared-index"
    shared.mkdir()
    lock = shared / f"sync-{app.config['SEARCH_ENGINE']}.lock"
    # This process is a worker syncing the index when three others start: each must wait
    # for it (blocked on the machine's sync lock, as /proc/locks shows) rather than fail or
    # skip, and then find the index whole.
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        children = [_child(app, tmp_path / f"p{n}", shared) for n in range(3)]
        deadline = time.monotonic() + 60
        while _waiting_for(lock) < 3:
            assert time.monotonic() < deadline, "the other workers never waited for the lock"
            assert all(_running(child) for child in children), "a worker ended without waiting"
            time.sleep(0.05)
        fcntl.flock(handle, fcntl.LOCK_UN)
    assert [_finish(child) for child in children] == [6, 6, 6]


def _waiting_for(path: Path) -> int:
    """How many lock requests on `path` are blocked: the lines of /proc/locks marked "->"."""
    inode = str(path.stat().st_ino)
    blocked = 0
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if len(fields) > 6 and fields[1] == "->" and fields[6].rsplit(":", 1)[-1] == inode:
            blocked += 1
    return blocked


def _running(child: forking.Child) -> bool:
    ended, _ = os.waitpid(child.pid, os.WNOHANG)
    return ended == 0
