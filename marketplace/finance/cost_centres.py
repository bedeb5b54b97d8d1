"""Which cost centre a funder's money is booked to in the council's finance files (issue 19).

A funding stream may name a line of its funder's pot (`FunderPotLine`), and a line may carry
its own cost centre; otherwise the funder's default (`Funder.cost_centre`, set by the council)
is used. Money that is not a funder's (the person's own, a card payment) has no cost centre.
"""

from __future__ import annotations

from marketplace.budgets.models import Funder, FunderPotLine


def cost_centre(funder: Funder | None, line: FunderPotLine | None = None) -> str:
    """The pot line's cost centre when it names one, else the funder's default, else ""."""
    if line is not None and line.cost_centre:
        return line.cost_centre
    return funder.cost_centre if funder is not None else ""
