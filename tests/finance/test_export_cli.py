"""`flask finance export --output FILE`: what a council's scheduler runs."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.finance import exports
from marketplace.finance.models import FinanceExport
from marketplace.orders.models import Order
from tests.orders.fixtures import World


def _run(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["finance", "export", *args])
    return result.exit_code, result.output


def test_the_schedule_writes_each_export_and_the_next_one_is_only_what_is_new(
    app: Flask, session: Session, world: World, order: Order, later: None, tmp_path: Path
) -> None:
    first = tmp_path / "first.csv"
    code, output = _run(app, "--output", str(first))
    assert code == 0, output
    made = session.scalars(select(FinanceExport)).one()
    assert made.made_by_id is None
    assert first.read_bytes() == made.content.encode("utf-8")
    assert f"finance export {made.reference}: 8 lines" in output
    assert "commitment 8 (£416)" in output
    assert not (tmp_path / "first.csv.part").exists()

    second = tmp_path / "second.csv"
    assert _run(app, "--output", str(second), "--by", world.officer.email)[0] == 0
    assert second.read_bytes() == (",".join(exports.HEADER) + "\r\n").encode()
    latest = exports.latest_export(session)
    assert latest is not None
    assert latest.made_by_id == world.officer.id
    verify = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert verify.exit_code == 0, verify.output


def test_it_makes_nothing_over_an_existing_file_or_for_someone_not_an_officer(
    app: Flask, session: Session, world: World, order: Order, later: None, tmp_path: Path
) -> None:
    kept = tmp_path / "kept.csv"
    kept.write_text("yesterday's file")
    code, output = _run(app, "--output", str(kept))
    assert code == 1
    assert "exists" in output
    assert kept.read_text() == "yesterday's file"
    code, output = _run(app, "--output", str(tmp_path / "new.csv"), "--by", world.citizen.email)
    assert code == 1
    assert "not an officer" in output
    assert not (tmp_path / "new.csv").exists()
    assert session.scalars(select(FinanceExport)).all() == []
