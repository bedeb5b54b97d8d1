"""The council's front door pages (VISITS, issue 20): assessors, their diaries and absences, and
booking, moving and cancelling assessment and review visits.
"""

from __future__ import annotations

from marketplace.council import bp  # noqa: F401
