"""Refusals of the support plans' rules, in the same shape as the ledger's (a stable `code`,
a `message` for people, `details` for machines), so the API turns any of them into the same
JSON error. `details["field"]`, when present, names the part of the request at fault."""

from __future__ import annotations

from typing import Any


class PlanError(Exception):
    """The plan asked for breaks a rule (no outcomes, an unknown category, a bad amount)."""

    code = "validation_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class PlanForbidden(PlanError):
    """This user may not draft, or approve, this person's plan."""

    code = "forbidden"


class PlanConflict(PlanError):
    """The plan changed under the request: approved already, or drafted by someone else at once."""

    code = "conflict"
