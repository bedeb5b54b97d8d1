"""Accounts: who someone is (models, roles, principals, passwords, tokens, sessions), what
they may do (`policy`), and the sign-in pages (the `accounts` blueprint, made here).

The blueprint's routes are in `views` and `token_views`, imported at the bottom so that the
blueprint has them all when the app registers it (as microblog does).
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("accounts", __name__)

from marketplace.accounts import (  # noqa: E402,F401
    acting_views,
    claim_views,
    token_views,
    views,
)
