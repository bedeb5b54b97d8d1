"""Who is asking, when it is not a signed-in user: a machine holding an API token.

The policy (`can`) judges a `TokenPrincipal` exactly as it judges a `User` of the token's
role. A token belongs to no person and no organisation, so rules about one's own person or
organisation never let a token through: only rules granted to the whole role do.

A token may act for a user account (`user_id`); the API then makes its requests as that user
(`marketplace.api.auth`), so the policy judges the user, not this principal.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from marketplace.accounts.roles import Role


@dataclass(frozen=True)
class TokenPrincipal:
    """An API token's holder, as the policy sees it: a role, and nothing it owns."""

    token_id: uuid.UUID
    name: str
    role: Role
    # The user account this token acts for, if any.
    user_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = None
    organisation_id: uuid.UUID | None = None
    is_organisation_owner: bool = False
    is_active: bool = True
    is_authenticated: bool = True

    @property
    def identity(self) -> str:
        """A stable name for this principal (idempotency keys are scoped by it)."""
        return f"token:{self.token_id}"
