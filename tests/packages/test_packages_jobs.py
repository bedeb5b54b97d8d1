"""The packages' daily job from the command line, and run twice at once (PACKAGES, issue 18):
`flask ledger release-instalments` rolls the packages after releasing, `flask orders
roll-packages` on its own; two runs on separate connections hold each cycle once (SQLite and
PostgreSQL, TEST_DATABASE_URL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.budgets.rules import TransferCode
from marketplace.extensions import db
from marketplace.ledger import Transfer
from marketplace.notifications.models import Notification, NotificationKind
from marketplace.orders import cycle_money, packages
from marketplace.orders.models import Order, OrderCycle, OrderEvent, PackageShortfall
from tests.ledger.threads import engine_options, run_together
from tests.orders.fixtures import assert_ledger_verifies
from tests.packages import package_fixtures
from tests.packages.package_fixtures import FIRST_DAY, WEEKLY_PENCE, PackageWorld

package_world = package_fixtures.package_world

RUNS = 4


def _verify(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output


def test_releasing_instalments_rolls_the_packages_after(
    app: Flask, session: Session, package_world: PackageWorld
) -> None:
    package_world.make_budget(council=2_000_00, starts_on=date(2026, 4, 1))
    order = package_world.place(session)

    result = app.test_cli_runner().invoke(
        args=["ledger", "release-instalments", "--date", "2026-06-15"]
    )

    assert result.exit_code == 0, result.output
    assert "Packages: held 3 cycles (£312)" in result.output
    session.expire_all()
    assert [c.number for c in order.cycles] == [1, 2, 3, 4]
    _verify(app)


def test_roll_packages_on_its_own_flags_with_the_notice_days_given(
    app: Flask, session: Session, package_world: PackageWorld
) -> None:
    package_world.make_budget(council=150_00, starts_on=date(2026, 4, 1))
    package_world.place(session)

    # Cycle 2 starts in 7 days and cannot be covered; with 3 days' notice it is not flagged yet.
    early = app.test_cli_runner().invoke(
        args=["orders", "roll-packages", "--date", "2026-06-01", "--notice-days", "3"]
    )
    assert early.exit_code == 0, early.output
    assert "0 shortfalls flagged" in early.output
    late = app.test_cli_runner().invoke(args=["orders", "roll-packages", "--date", "2026-06-05"])
    assert "1 shortfalls flagged" in late.output
    assert session.scalar(select(func.count()).select_from(PackageShortfall)) == 1
    _verify(app)


def test_the_job_run_twice_at_once_holds_each_cycle_once(
    make_app: Callable[..., Flask], session: Session, package_world: PackageWorld
) -> None:
    package_world.make_budget(council=2_000_00, starts_on=date(2026, 4, 1))
    short = package_world.place(session, key="second")
    order = package_world.place(session)
    # Two packages, both three weeks behind: each run tries to catch both up.
    order_id, short_id = order.id, short.id
    runs = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(RUNS))
    late = FIRST_DAY + timedelta(weeks=3)

    def roll(_: int) -> None:
        packages.roll_packages(db.session, late)

    assert run_together(runs, RUNS, roll) == ["ok"] * RUNS

    db.session.expire_all()
    for package_id in (order_id, short_id):
        cycles = db.session.scalars(
            select(OrderCycle).where(OrderCycle.order_id == package_id).order_by(OrderCycle.number)
        ).all()
        assert [c.number for c in cycles] == [1, 2, 3, 4, 5]
        assert db.session.get_one(Order, package_id).total_pence == 5 * WEEKLY_PENCE
        for cycle in cycles:
            held = db.session.scalar(
                select(func.sum(Transfer.amount_pence)).where(
                    Transfer.reference == cycle.commitment_key
                )
            )
            assert held == cycle.amount_pence
    assert db.session.scalar(select(func.count()).select_from(PackageShortfall)) == 0
    assert_ledger_verifies(db.session)
    _verify(runs)


def test_a_shortfall_flagged_by_two_runs_at_once_is_flagged_and_told_once(
    make_app: Callable[..., Flask], session: Session, package_world: PackageWorld
) -> None:
    package_world.make_budget(
        council=1_000_00, starts_on=date(2026, 4, 1), ends_on=date(2026, 6, 28)
    )
    order = package_world.place(session)
    order_id, citizen_id = order.id, package_world.citizen.id
    runs = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(RUNS))

    def roll(_: int) -> None:
        packages.roll_packages(db.session, date(2026, 6, 22))

    assert run_together(runs, RUNS, roll) == ["ok"] * RUNS

    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(PackageShortfall)) == 1
    told = db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(
            Notification.user_id == citizen_id,
            Notification.kind == NotificationKind.PACKAGE_SHORTFALL,
        )
    )
    assert told == 1
    events = db.session.scalars(
        select(OrderEvent.kind).where(OrderEvent.order_id == order_id)
    ).all()
    assert events.count("shortfall") == 1
    assert_ledger_verifies(db.session)
    _verify(runs)


def test_one_package_the_job_cannot_roll_does_not_stop_the_others(
    app: Flask, session: Session, package_world: PackageWorld
) -> None:
    budget = package_world.make_budget(council=2_000_00, starts_on=date(2026, 4, 1))
    broken = package_world.place(session, key="broken")
    order = package_world.place(session)
    # Something else held money under the key of the broken package's next cycle.
    stream = budget.streams[0]
    ledger.transfer(
        session,
        key="stray",
        debit=stream.account_id,
        credit=cycle_money.provider_payee(session, broken),
        amount_pence=1,
        code=TransferCode.COMMITMENT,
        description="A stray hold",
        reference=f"order:{broken.id}:cycle:3",
        pending=True,
    )
    session.commit()

    result = app.test_cli_runner().invoke(args=["orders", "roll-packages", "--date", "2026-06-08"])

    assert result.exit_code == 0, result.output
    assert f"Could not roll {broken.reference}: this cycle already holds its money" in (
        result.output
    )
    session.expire_all()
    assert [c.number for c in order.cycles] == [1, 2, 3]
    # The broken one's cycle 2, made before its cycle 3 failed, was undone with it.
    assert [c.number for c in broken.cycles] == [1]
    assert "Packages: held 2 cycles" in result.output
