"""The front door's pages (VISITS, issue 20): the assessment visit offered or booked: accept, move
or cancel it online.
"""

from __future__ import annotations

from marketplace.front_door import bp  # noqa: F401
