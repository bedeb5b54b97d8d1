"""Who is asking, when it is not a signed-in user: a machine holding an API token.

The policy (`can`) judges a `TokenPrincipal` exactly as it judges a `User` of the token's
role. A token belongs to no person and no organisation, so rules about one's own person or
organisation never let a token through: only rules granted to the whole role do.

A token may act for a user account (`user_id`); the API then makes its requests as that user
(`marketplace.api.auth`), so the policy judges the user, not this principal; the request's
database session then carries the token's id (`act_through_token`), so that the order's
timeline records the token beside the user.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from marketplace.accounts.roles import Role
from marketplace.types import Session

# Where the API puts the token a request came with, for the rules that record who acted.
_SESSION_INFO_KEY = "marketplace.acting_token_id"


@dataclass(frozen=True)
class TokenPrincipal:
    """An API token's holder, as the policy sees it: a role, and nothing it owns."""

    token_id: uuid.UUID
    name: str
    role: Role
    # The user account this token acts for, if any, and whether that user has confirmed it.
    user_id: uuid.UUID | None = None
    confirmed: bool = True
    person_id: uuid.UUID | None = None
    organisation_id: uuid.UUID | None = None
    is_organisation_owner: bool = False
    is_active: bool = True
    is_authenticated: bool = True
    # A token never acts for a person by session: the API names the person in each request.
    acting_for: None = None

    @property
    def identity(self) -> str:
        """A stable name for this principal (idempotency keys are scoped by it)."""
        return f"token:{self.token_id}"


def act_through_token(session: Session, token_id: uuid.UUID) -> None:
    """Say that what is done in this session (one request's) is done through the API token
    `token_id`, so that records of who acted name the token as well as the user."""
    session.info[_SESSION_INFO_KEY] = token_id


def acting_token_id(session: Session) -> uuid.UUID | None:
    """The API token this session's changes are made through (`act_through_token`), if any."""
    return session.info.get(_SESSION_INFO_KEY)
