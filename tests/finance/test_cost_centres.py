"""The cost centre a funder's money is booked to: the pot line's, else the funder's default."""

from __future__ import annotations

from marketplace.budgets.models import Funder, FunderKind, FunderPotLine
from marketplace.finance.cost_centres import cost_centre


def test_a_pot_line_with_its_own_cost_centre_comes_before_the_funders_default() -> None:
    funder = Funder(name="Herts Valleys ICB", kind=FunderKind.NHS, cost_centre="NHS100")
    assert cost_centre(funder, FunderPotLine(name="Section 117", cost_centre="S117")) == "S117"
    assert cost_centre(funder, FunderPotLine(name="CHC", cost_centre="")) == "NHS100"
    assert cost_centre(funder) == "NHS100"
    assert cost_centre(None) == ""
