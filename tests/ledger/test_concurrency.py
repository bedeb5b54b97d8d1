"""Many transfers at once out of one small guarded account, each on its own connection:
exactly as many succeed as the money allows, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from marketplace import ledger
from marketplace.extensions import db
from marketplace.ledger import LedgerAccount
from tests.ledger.threads import engine_options, run_together

THREADS = 24
PRICE_PENCE = 700
BALANCE_PENCE = 10_000  # room for 14 purchases, with 200p over


def test_concurrent_transfers_never_overspend_a_guarded_account(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(THREADS))
    with app.app_context():
        world = ledger.open_account(db.session, code="world", name="World", guarded=False)
        pot = ledger.open_account(db.session, code="pot", name="Pot", guarded=True)
        payee = ledger.open_account(db.session, code="payee", name="Payee", guarded=False)
        ledger.transfer(
            db.session, key="fund", debit=world, credit=pot, amount_pence=BALANCE_PENCE, code="f"
        )
        db.session.commit()
        pot_id, payee_id = pot.id, payee.id

    def buy(number: int) -> None:
        ledger.transfer(
            db.session,
            key=f"buy:{number}",
            debit=db.session.get_one(LedgerAccount, pot_id),
            credit=db.session.get_one(LedgerAccount, payee_id),
            amount_pence=PRICE_PENCE,
            code="c",
            pending=number % 2 == 0,
        )

    outcomes = run_together(app, THREADS, buy)

    assert outcomes.count("ok") == BALANCE_PENCE // PRICE_PENCE
    assert outcomes.count("insufficient_funds") == THREADS - BALANCE_PENCE // PRICE_PENCE
    with app.app_context():
        assert ledger.balance(db.session, pot_id).available == BALANCE_PENCE % PRICE_PENCE
        result = app.test_cli_runner().invoke(args=["ledger", "verify"])
        assert result.exit_code == 0, result.output


def test_the_same_key_from_many_connections_records_one_transfer(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(8))
    with app.app_context():
        world = ledger.open_account(db.session, code="world", name="World", guarded=False)
        pot = ledger.open_account(db.session, code="pot", name="Pot", guarded=True)
        ledger.transfer(db.session, key="f", debit=world, credit=pot, amount_pence=10, code="f")
        db.session.commit()
        world_id, pot_id = world.id, pot.id

    def retry(_: int) -> None:
        ledger.transfer(
            db.session,
            key="the-same",
            debit=db.session.get_one(LedgerAccount, world_id),
            credit=db.session.get_one(LedgerAccount, pot_id),
            amount_pence=5,
            code="f",
        )

    assert run_together(app, 8, retry) == ["ok"] * 8
    with app.app_context():
        assert ledger.balance(db.session, pot_id).available == 15
        assert ledger.verify_ledger(db.session).ok
