"""Guarding views by the policy: the Flask side of `accounts/policy.py`.

The rules (`can` and its table) are plain and Flask-free; this decorator asks them about the
signed-in user and answers a refusal the web's way (anonymous: sign in; others: 403).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user

from marketplace.accounts.policy import RULES, can

F = TypeVar("F", bound=Callable[..., Any])


def requires(action: str) -> Callable[[F], F]:
    """Guard a view: anonymous users are sent to sign in, others without the right get 403."""
    if action not in RULES:  # fail at import, not at the first request
        raise KeyError(action)

    def decorator(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            from marketplace.extensions import login_manager

            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not can(current_user._get_current_object(), action):
                abort(403)
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorator
