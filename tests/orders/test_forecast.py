"""The forecast's one rule for spending to come: weekly care carries on to the period's end.
Asking "what if I add this" and then ordering it must give the same figures."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from marketplace.budgets.figures import budget_figures
from marketplace.orders import checkout, life
from marketplace.orders import forecast as outlook
from marketplace.orders.forecast import WeeklyCare, expected_spending
from marketplace.orders.schedule import WEEKDAYS
from tests.orders.fixtures import HOURLY_PENCE, TODAY, World

PERIOD_END = date(2027, 3, 31)


def test_weekly_care_carries_on_from_the_day_after_its_last_occasion() -> None:
    care = WeeklyCare(("MO", "TH"), 52_00, last_occasion=date(2027, 3, 4))  # a Thursday

    spending = expected_spending([care], today=TODAY, ends_on=PERIOD_END)

    days = [m.on for m in spending]
    assert days[0] == date(2027, 3, 8)  # the next Monday
    assert all(day.weekday() in (0, 3) for day in days)
    assert days[-1] == date(2027, 3, 29)
    assert sum(m.amount_pence for m in spending) == len(days) * 52_00 == 7 * 52_00


def test_nothing_is_expected_before_tomorrow_or_after_the_period() -> None:
    care = WeeklyCare(("MO",), 10_00, last_occasion=date(2026, 5, 1))

    spending = expected_spending([care], today=TODAY, ends_on=date(2026, 6, 30))

    assert spending[0].on == date(2026, 6, 8)  # TODAY is a Monday: it is not to come
    assert spending[-1].on == date(2026, 6, 29)
    assert expected_spending([care], today=PERIOD_END, ends_on=PERIOD_END) == []


@given(
    st.lists(
        st.tuples(
            st.sets(st.sampled_from(WEEKDAYS), min_size=1),
            st.integers(min_value=1, max_value=50_000),
            st.integers(min_value=0, max_value=300),
        ),
        max_size=4,
    ),
    st.sets(st.sampled_from(WEEKDAYS), min_size=1),
    st.integers(min_value=1, max_value=50_000),
    st.integers(min_value=0, max_value=300),
)
def test_ordering_more_weekly_care_never_lowers_the_spending_expected(
    existing: list[tuple[set[str], int, int]], days: set[str], pence: int, offset: int
) -> None:
    def care(days: set[str], pence: int, offset: int) -> WeeklyCare:
        return WeeklyCare(tuple(sorted(days)), pence, TODAY + timedelta(days=offset))

    before = [care(*each) for each in existing]
    after = [*before, care(days, pence, offset)]

    def total(cares: list[WeeklyCare]) -> int:
        spending = expected_spending(cares, today=TODAY, ends_on=PERIOD_END)
        return sum(m.amount_pence for m in spending)

    assert total(after) >= total(before)


def _what_if_then_order(session: Session, world: World, schedule_of_world: dict) -> None:
    """Ask what if, place the order, and compare with the budget's forecast afterwards."""
    schedule = world.schedule(**schedule_of_world)
    quote = checkout.quote(session, world.person, world.service, schedule, today=TODAY)
    asked = outlook.what_if_ordered(
        session,
        world.budget,
        total_pence=quote.total_pence,
        adding=outlook.weekly_care_of(schedule, quote.unit_price_pence),
        today=TODAY,
    )
    before = outlook.budget_outlook(session, world.budget, TODAY)
    checkout.place_order(
        session,
        world.person,
        world.service,
        schedule,
        by=world.citizen,
        today=TODAY,
        placement_key=f"forecast-{schedule_of_world}",
    )
    session.commit()

    after = outlook.budget_outlook(session, world.budget, TODAY)
    assert asked.available_before_pence == before.available_pence
    assert asked.end_before_pence == before.end_balance_pence
    assert asked.available_after_pence == after.available_pence
    assert (
        asked.available_after_pence == budget_figures(session, world.budget).total.available_pence
    )
    assert asked.end_after_pence == after.end_balance_pence
    assert asked.runs_out_after == after.runs_out_on
    # Committing more never made the spending expected go down.
    assert after.spending_pence >= before.spending_pence


def test_what_if_then_ordering_weekly_care_gives_the_same_figures(
    session: Session, world: World
) -> None:
    _what_if_then_order(session, world, {"units": 1, "days": ("TU",)})
    _what_if_then_order(session, world, {"units": 2, "days": ("MO", "TH")})


def test_what_if_then_ordering_once_gives_the_same_figures_and_expects_nothing_more(
    session: Session, world: World
) -> None:
    assert outlook.budget_outlook(session, world.budget, TODAY).spending_pence == 0

    _what_if_then_order(session, world, {"weeks": None, "starts_on": date(2026, 6, 10)})

    assert outlook.budget_outlook(session, world.budget, TODAY).spending_pence == 0


def test_care_cut_short_or_declined_does_not_carry_on(session: Session, world: World) -> None:
    def place(key: str) -> object:
        order = checkout.place_order(
            session,
            world.person,
            world.service,
            world.schedule(),
            by=world.citizen,
            today=TODAY,
            placement_key=key,
        )
        session.commit()
        return order

    declined = place("declined")
    carrying = outlook.budget_outlook(session, world.budget, TODAY).spending_pence
    # Eight visits a month from July to March: about £3,700 at 2 hours of £26.
    assert carrying > 30 * 2 * 2 * HOURLY_PENCE
    life.decline(session, declined, by=world.staff, reason="No carers free")
    session.commit()
    assert outlook.budget_outlook(session, world.budget, TODAY).spending_pence == 0

    cut_short = place("cut-short")
    life.accept(session, cut_short, by=world.staff)
    life.cancel(session, cut_short, by=world.citizen, today=TODAY + timedelta(days=7))
    session.commit()
    assert cut_short.cancelled_from is not None
    assert outlook.budget_outlook(session, world.budget, TODAY).spending_pence == 0
