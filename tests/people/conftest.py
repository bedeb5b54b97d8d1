"""The budgets' fixtures (funded pots, a person, a payee, `make_budget`), here too."""

from tests.budgets.conftest import (  # noqa: F401  (fixtures)
    council_pot,
    make_budget,
    nhs_pot,
    payee,
    person,
    session,
)
