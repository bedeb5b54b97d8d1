"""What administrators look at: every account."""

from __future__ import annotations

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import User
from marketplace.extensions import db

USERS_PER_PAGE = 50


def users_page(page: int) -> Pagination:
    """One page of accounts, by email, with their organisations (one statement for all)."""
    return db.paginate(
        select(User).options(selectinload(User.organisation)).order_by(User.email),
        page=page,
        per_page=USERS_PER_PAGE,
        error_out=False,
    )
