"""Finding people by name, and finding a person's budgets."""

from __future__ import annotations

from datetime import date

from marketplace.budgets.models import BudgetStatus
from marketplace.budgets.queries import (
    budget_of,
    budgets_of,
    current_budget,
    next_budget,
    overlapping_budget,
)
from marketplace.extensions import db
from marketplace.people.models import Person
from marketplace.people.service import find_people
from tests.budgets.fixtures import YEAR_END, YEAR_START, MakeBudget


def _people(*names: tuple[str, str | None]) -> None:
    db.session.add_all(
        Person(full_name=full, preferred_name=preferred) for full, preferred in names
    )
    db.session.commit()


def test_people_are_found_by_any_part_of_their_names_in_any_case(app: object) -> None:
    _people(
        ("Dorothy Pearce", "Dot"), ("Rajesh Mehta", "Raj"), ("Ann O'Neil", None), ("100%_Ltd", None)
    )

    assert [p.full_name for p in find_people(db.session)] == [
        "100%_Ltd",
        "Ann O'Neil",
        "Dorothy Pearce",
        "Rajesh Mehta",
    ]
    assert [p.full_name for p in find_people(db.session, "dot pearce")] == ["Dorothy Pearce"]
    assert [p.full_name for p in find_people(db.session, "RAJ")] == ["Rajesh Mehta"]
    assert [p.full_name for p in find_people(db.session, "o'neil")] == ["Ann O'Neil"]
    # LIKE's wildcards are searched for as themselves.
    assert [p.full_name for p in find_people(db.session, "%")] == ["100%_Ltd"]
    assert [p.full_name for p in find_people(db.session, "_")] == ["100%_Ltd"]
    assert find_people(db.session, "zebedee") == []
    assert len(find_people(db.session, limit=2)) == 2


def test_a_persons_budgets_current_next_and_overlapping(
    make_budget: MakeBudget, person: Person
) -> None:
    this_year = make_budget(council=100_00)
    next_year = make_budget(
        starts_on=date(2027, 4, 1), ends_on=date(2028, 3, 31), client_contribution=10_00
    )
    stranger = Person(full_name="Someone Else")
    db.session.add(stranger)
    db.session.commit()

    assert budgets_of(db.session, person) == [next_year, this_year]
    assert current_budget(db.session, person, date(2026, 6, 1)) == this_year
    assert current_budget(db.session, person, date(2025, 6, 1)) == this_year
    assert current_budget(db.session, person, date(2027, 6, 1)) == next_year
    assert next_budget(db.session, this_year) == next_year
    assert next_budget(db.session, next_year) is None
    assert budget_of(db.session, person, this_year.id) == this_year
    assert budget_of(db.session, stranger, this_year.id) is None
    assert overlapping_budget(db.session, person, YEAR_END, date(2027, 4, 1)) is not None
    assert overlapping_budget(db.session, person, date(2025, 1, 1), date(2026, 3, 31)) is None
    this_year.status = BudgetStatus.CLOSED
    assert current_budget(db.session, person, date(2028, 6, 1)) == next_year
    assert overlapping_budget(db.session, person, YEAR_START, YEAR_START) is None
