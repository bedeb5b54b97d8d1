"""Two real processes, one database: the outbox keeps every machine's index in step."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from marketplace.types import utcnow
from providers import search_index
from providers.models import Organisation, OrganisationStatus, Service, ServiceStatus
from search import parse_params

ROOT = Path(__file__).resolve().parents[2]


def _child(app: Flask, instance: Path, index: Path, name: str = "") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.providers.search_child",
            app.config["SQLALCHEMY_DATABASE_URI"],
            str(instance),
            str(index),
            name,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )


def _finish(process: subprocess.Popen[str]) -> int:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
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
    children = [_child(app, tmp_path / f"p{n}", shared) for n in range(3)]
    assert [_finish(child) for child in children] == [6, 6, 6]
