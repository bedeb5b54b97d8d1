"""Exports to the finance system: lines per person, order, payer and week from the ledger,
each export taking up where the last ended, all of them together adding up to the ledger."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.budgets.figures import budget_figures
from marketplace.budgets.models import StreamKind
from marketplace.budgets.rules import TransferCode
from marketplace.csv_export import pence_cell
from marketplace.extensions import db
from marketplace.finance import exports
from marketplace.finance.export_lines import LineType, split_by_week
from marketplace.finance.models import FinanceExport, PaymentRun, Remittance, RemittanceLine
from marketplace.orders import checkout, cycle_money, deliveries, invoicing, life
from marketplace.orders.models import Invoice, Order
from marketplace.types import utcnow
from tests.ledger.threads import engine_options, run_together
from tests.orders.fixtures import OCCASIONS, TODAY, World, assert_ledger_verifies

NOW = timedelta(0)  # `settle` for tests that make their rows and export them at once
DOCS = Path(__file__).parents[2] / "docs" / "finance-export.md"


def _settle(session: Session, world: World, order: Order) -> Invoice:
    """Seven visits of two hours and one missed: 364.00 spent, 52.00 released."""
    for day in OCCASIONS:
        deliveries.record_delivery(
            session,
            order,
            by=world.staff,
            delivered_on=day,
            units=0 if day == OCCASIONS[-1] else 2,
            note="Missed" if day == OCCASIONS[-1] else "",
            today=date(2026, 7, 6),
        )
    invoice = invoicing.raise_invoice(
        session, order, order.cycles[0], by=world.staff, today=date(2026, 7, 6)
    )
    invoicing.settle_invoice(session, invoice, by=world.officer)
    session.commit()
    return invoice


def _rows(export: FinanceExport) -> list[dict[str, str]]:
    return exports.read_rows(export.content)


def _table(export: FinanceExport) -> list[tuple[str, str, str, str, str]]:
    return [
        (r["line_type"], r["week_start"], r["source"], r["cost_centre"], r["amount"])
        for r in _rows(export)
    ]


def _make(session: Session, by: User, **kw: object) -> FinanceExport:
    export = exports.make_export(session, by=by, **kw)  # type: ignore[arg-type]
    session.commit()
    return export


MONDAYS = ["2026-06-08", "2026-06-15", "2026-06-22", "2026-06-29"]
# The cycle runs from the first visit (Monday 8 June) to the last (Thursday 2 July): 25 days,
# seven in each of the first three weeks and four in the last, its money spread so.
CONTRIBUTION = ["84.00", "84.00", "84.00", "48.00"]  # 300.00 held
NHS_HELD = ["32.48", "32.48", "32.48", "18.56"]  # 116.00 held
NHS_SPENT = ["17.92", "17.92", "17.92", "10.24"]  # 64.00 of it spent


def _negative(amounts: list[str]) -> list[str]:
    return ["-" + amount for amount in amounts]


def test_splitting_by_week_keeps_every_penny_and_a_release_undoes_its_hold() -> None:
    # Thursday 4 June to Wednesday 17 June: 4 days, 7 days, 3 days of 14.
    parts = split_by_week(1001, date(2026, 6, 4), date(2026, 6, 17))
    assert parts == [(date(2026, 6, 1), 286), (date(2026, 6, 8), 501), (date(2026, 6, 15), 214)]
    assert sum(p for _, p in parts) == 1001
    assert split_by_week(-1001, date(2026, 6, 4), date(2026, 6, 17)) == [
        (monday, -pence) for monday, pence in parts
    ]
    assert split_by_week(7, date(2026, 6, 10), date(2026, 6, 10)) == [(date(2026, 6, 8), 7)]


def test_a_held_cycle_is_a_commitment_line_per_week_and_payer_then_its_settlement_ends_it(
    session: Session, world: World, order: Order
) -> None:
    first = _make(session, world.officer, settle=NOW)
    assert first.since is None
    assert _table(first) == [
        row
        for monday, own, nhs in zip(MONDAYS, CONTRIBUTION, NHS_HELD, strict=True)
        for row in (
            ("commitment", monday, "client_contribution", "", own),
            ("commitment", monday, "nhs", "CHC-01", nhs),
        )
    ]
    row = _rows(first)[1]
    assert row["person_ref"] == "HCC-100234"
    assert row["person_id"] == str(world.person.id)
    assert row["order_ref"] == order.reference
    assert row["service"] == "Home care visits"
    assert row["provider_id"] == str(world.provider.id)
    assert row["provider"] == "Chiltern Home Care"
    assert row["funder"] == "Hertfordshire and West Essex ICB"
    assert row["pot_line"] == "Continuing healthcare"
    assert "Margaret" not in first.content  # no more of the person than a reference
    holds = cycle_money.commitment_of(session, order, order.cycles[0])
    assert holds is not None
    assert {r["transfer_ids"] for r in _rows(first)} == {
        str(part.transfer.id) for part in holds.parts
    }

    invoice = _settle(session, world, order)
    second = _make(session, world.officer, settle=NOW)
    assert second.since == first.until
    assert _table(second) == [
        row
        for monday, own, nhs_held, nhs_spent in zip(
            MONDAYS, CONTRIBUTION, NHS_HELD, NHS_SPENT, strict=True
        )
        for row in (
            ("commitment", monday, "client_contribution", "", "-" + own),
            ("commitment", monday, "nhs", "CHC-01", "-" + nhs_held),
            ("actual", monday, "client_contribution", "", own),
            ("actual", monday, "nhs", "CHC-01", nhs_spent),
        )
    ]
    actual = next(r for r in _rows(second) if r["line_type"] == "actual")
    assert actual["documents"] == invoice.reference
    assert_ledger_verifies(session)


def test_running_it_again_exports_nothing_new_and_a_later_change_only_in_the_next(
    session: Session, world: World, order: Order
) -> None:
    first = _make(session, world.officer, settle=NOW)
    again = _make(session, world.officer, settle=NOW)
    assert (again.since, again.row_count) == (first.until, 0)
    assert again.content == ",".join(exports.HEADER) + "\r\n"

    # A change recorded within the last minute waits for the next export (it may not have
    # committed when an export reads the ledger).
    held = budget_figures(session, world.budget).total.committed_pence
    life.cancel(session, order, by=world.citizen, today=TODAY, reason="Moving to my daughter's")
    session.commit()
    released = held - budget_figures(session, world.budget).total.committed_pence
    assert released > 0
    too_soon = _make(session, world.officer)
    assert too_soon.row_count == 0
    later = _make(session, world.officer, now=utcnow() + timedelta(minutes=2))
    assert later.since == too_soon.until
    assert sum(exports.pounds_to_pence(r["amount"]) for r in _rows(later)) == -released
    assert {r["line_type"] for r in _rows(later)} == {"commitment"}


def _pay(session: Session, world: World, invoice: Invoice, officer: User) -> list[ledger.Transfer]:
    """A payment run of the invoice's two shares, made by hand as PAYRUNS records one: each
    line a transfer out of the provider's payee account."""
    payee = cycle_money.provider_payee(session, invoice.order)
    bank = ledger.open_account(session, code="test:bank", name="Council bank", guarded=False)
    run = PaymentRun(reference="PR-TEST", settled_until=utcnow(), made_by_id=officer.id)
    remittance = Remittance(run=run, organisation_id=world.provider.id, reference="RA-TEST")
    session.add_all([run, remittance])
    cycle = invoice.cycle
    nhs_pot = next(s.pot for s in world.budget.streams if s.kind is StreamKind.NHS)
    assert nhs_pot is not None
    shares = [
        (f"own:{world.person.id}", "", "", 300_00),
        (f"pot:{nhs_pot.id}", nhs_pot.funder.name, "CHC-01", 64_00),
    ]
    transfers = []
    for position, (code, funder, centre, pence) in enumerate(shares):
        transfer = ledger.transfer(
            session,
            key=f"test-payment:{invoice.id}:{code}",
            debit=payee.id,
            credit=bank.id,
            amount_pence=pence,
            code="payment",
        )
        transfers.append(transfer)
        session.add(
            RemittanceLine(
                remittance=remittance,
                position=position,
                invoice_id=invoice.id,
                payer_code=code,
                funder_name=funder,
                cost_centre=centre,
                amount_pence=pence,
                period_start=cycle.starts_on,
                period_end=cycle.ends_on,
                transfer_id=transfer.id,
            )
        )
    session.commit()
    return transfers


def test_payments_come_from_remittance_lines_and_a_reversed_one_is_a_negative_line(
    session: Session, world: World, order: Order
) -> None:
    invoice = _settle(session, world, order)
    _make(session, world.officer, settle=NOW)
    transfers = _pay(session, world, invoice, world.officer)
    paid = _make(session, world.officer, settle=NOW)
    assert _table(paid) == [
        row
        for monday, own, nhs in zip(MONDAYS, CONTRIBUTION, NHS_SPENT, strict=True)
        for row in (
            ("payment", monday, "nhs", "CHC-01", nhs),
            ("payment", monday, "own", "", own),
        )
    ]
    assert {r["documents"] for r in _rows(paid)} == {"RA-TEST"}

    ledger.reverse(session, transfers[1], key="test-payment:undo", reason="Run cancelled")
    session.commit()
    undone = _make(session, world.officer, settle=NOW)
    assert _table(undone) == [
        ("payment", monday, "nhs", "CHC-01", amount)
        for monday, amount in zip(MONDAYS, _negative(NHS_SPENT), strict=True)
    ]
    assert {r["transfer_ids"] for r in _rows(undone)} == {
        str(
            session.scalar(
                select(ledger.Transfer.id).where(ledger.Transfer.reverses_id == transfers[1].id)
            )
        )
    }


def test_all_the_exports_together_add_up_to_the_ledger(
    session: Session, world: World, order: Order
) -> None:
    made = [_make(session, world.officer, settle=NOW)]
    second = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(units=1, starts_on=date(2026, 6, 10), weeks=None),
        by=world.citizen,
        today=TODAY,
        placement_key="second",
    )
    session.commit()
    made.append(_make(session, world.officer, settle=NOW))
    invoice = _settle(session, world, order)
    made.append(_make(session, world.officer, settle=NOW))
    _pay(session, world, invoice, world.officer)
    made.append(_make(session, world.officer, settle=NOW))
    assert second.status is not None

    totals = dict.fromkeys(LineType, 0)
    for export in made:
        for kind, pence in exports.summary_of_export(export).totals.items():
            totals[kind] += pence
    figures = budget_figures(session, world.budget).total
    assert totals[LineType.COMMITMENT] == figures.committed_pence == second.total_pence
    assert totals[LineType.ACTUAL] == figures.spent_pence == 364_00
    paid = session.scalar(select(func.sum(RemittanceLine.amount_pence)))
    assert totals[LineType.PAYMENT] == paid == 364_00
    # Every ledger row of the money is named by some line, once per export it is in.
    named = {
        uuid.UUID(t)
        for export in made
        for row in _rows(export)
        for t in row["transfer_ids"].split(";")
    }
    commitment_rows = session.scalars(
        select(ledger.Transfer.id).where(
            ledger.Transfer.code == TransferCode.COMMITMENT,
            ledger.Transfer.kind != ledger.TransferKind.POSTED,
        )
    ).all()
    assert set(commitment_rows) <= named


def test_an_export_keeps_its_file_and_reads_back_under_the_documented_header(
    session: Session, world: World, order: Order
) -> None:
    export = _make(session, world.officer, settle=NOW)
    assert export.layout == exports.LAYOUT
    assert export.sha256 == hashlib.sha256(export.content.encode()).hexdigest()
    rows = list(csv.reader(io.StringIO(export.content)))
    documented = re.search(r"```csv\n(.*?)\n", DOCS.read_text(), re.S)
    assert documented is not None
    assert rows[0] == list(exports.HEADER) == documented.group(1).split(",")
    assert len(rows) == export.row_count + 1 == 9
    summary = exports.summary_of_export(export)
    assert summary.counts[LineType.COMMITMENT] == 8
    assert summary.totals[LineType.COMMITMENT] == order.total_pence


def test_two_exports_at_once_never_cover_the_same_time(
    make_app: Callable[..., Flask], world: World, order: Order
) -> None:
    officer_id = world.officer.id
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(2))

    def export(_: int) -> None:
        exports.make_export(db.session, by=db.session.get_one(User, officer_id), settle=NOW)

    assert run_together(app, 2, export) == ["ok", "ok"]
    db.session.expire_all()
    made = db.session.scalars(select(FinanceExport).order_by(FinanceExport.until)).all()
    assert sorted(e.reference for e in made) == ["FX-00001", "FX-00002"]
    assert made[0].since is None
    assert made[1].since == made[0].until
    assert [e.row_count for e in made] == [8, 0]


def test_the_range_never_goes_backwards(session: Session, world: World, order: Order) -> None:
    first = _make(session, world.officer, now=datetime(2030, 1, 1, tzinfo=UTC), settle=NOW)
    second = _make(session, world.officer)
    assert second.since == second.until == first.until
    assert second.row_count == 0


def test_a_real_payment_run_and_its_cancellation_are_payment_lines(
    session: Session, world: World, order: Order
) -> None:
    from marketplace.finance import payment_runs

    invoice = _settle(session, world, order)
    _make(session, world.officer, settle=NOW)
    preview = payment_runs.preview_run(session, settled_until=utcnow())
    run = payment_runs.make_run(
        session,
        settled_until=preview.settled_until,
        fingerprint=preview.fingerprint,
        by=world.officer,
    )
    session.commit()
    paid = _make(session, world.officer, settle=NOW)
    rows = _rows(paid)
    assert {r["line_type"] for r in rows} == {"payment"}
    assert sum(exports.pounds_to_pence(r["amount"]) for r in rows) == invoice.amount_pence
    nhs = [r for r in rows if r["source"] == "nhs"]
    # The run pays the ICB's share as its pot line's money: the line's name and cost centre.
    assert {(r["pot_line"], r["cost_centre"]) for r in nhs} == {("Continuing healthcare", "CHC-01")}
    assert [r["amount"] for r in nhs] == NHS_SPENT
    assert {r["documents"] for r in rows} == {run.remittances[0].reference}

    payment_runs.cancel_run(session, run, by=world.officer, reason="Wrong bank file")
    session.commit()
    undone = _make(session, world.officer, settle=NOW)
    assert sum(exports.pounds_to_pence(r["amount"]) for r in _rows(undone)) == -invoice.amount_pence
    assert_ledger_verifies(session)


def test_a_re_worked_hold_ends_its_old_lines_and_holds_anew_in_the_next_export(
    session: Session, world: World, order: Order
) -> None:
    first = _make(session, world.officer, settle=NOW)
    cycle = order.cycles[0]
    old_parts = cycle_money.commitment_of(session, order, cycle)
    assert old_parts is not None
    cycle_money.rework_cycle(session, order, cycle, units=12, amount_pence=312_00)  # fewer hours
    session.commit()
    new_parts = cycle_money.commitment_of(session, order, cycle)
    assert new_parts is not None

    second = _make(session, world.officer, settle=NOW)
    assert second.since == first.until
    rows = _rows(second)
    # The old hold ends and the new one is held in the same export, so each week's line is
    # their sum: the contribution is held again whole (0.00, kept: its transfers are named),
    # the NHS stream holds 12.00 instead of 116.00.
    period = (cycle.starts_on, cycle.ends_on)
    nhs_change = [
        pence_cell(new - old)
        for (_, new), (_, old) in zip(
            split_by_week(12_00, *period), split_by_week(116_00, *period), strict=True
        )
    ]
    assert _table(second) == [
        row
        for monday, nhs in zip(MONDAYS, nhs_change, strict=True)
        for row in (
            ("commitment", monday, "client_contribution", "", "0.00"),
            ("commitment", monday, "nhs", "CHC-01", nhs),
        )
    ]
    named = {t for r in rows for t in r["transfer_ids"].split(";")}
    assert {str(part.transfer.id) for part in new_parts.parts} <= named
    voids = session.scalars(
        select(ledger.Transfer.id).where(
            ledger.Transfer.pending_id.in_([part.transfer.id for part in old_parts.parts])
        )
    ).all()
    assert {str(v) for v in voids} <= named
    assert sum(exports.pounds_to_pence(r["amount"]) for r in rows) == 312_00 - 416_00
    assert_ledger_verifies(session)
