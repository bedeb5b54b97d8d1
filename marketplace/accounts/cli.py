"""`flask create-user`: make an account from the command line (the first admin, say);
`flask accounts prune-sessions`: the daily job that forgets sign-in sessions that have ended."""

from __future__ import annotations

import click

from marketplace.accounts import browser_sessions, service, sessions
from marketplace.accounts.roles import Role
from marketplace.extensions import db


@click.command("create-user")
@click.argument("email")
@click.option("--name", "full_name", required=True, help="The person's full name.")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role if r is not Role.PROVIDER_STAFF]),
    default=Role.ADMIN.value,
    show_default=True,
    help="Provider staff are invited by their organisation instead.",
)
@click.password_option()
def create_user(email: str, full_name: str, role: str, password: str) -> None:
    """Create an account with EMAIL."""
    try:
        user = service.create_user(
            email=email, full_name=full_name, password=password, role=Role(role)
        )
    except ValueError as refused:
        db.session.rollback()
        raise click.ClickException(str(refused)) from refused
    db.session.commit()
    click.echo(f"Created {user.role.label.lower()} {user.email}")


@click.group("accounts")
def accounts() -> None:
    """Jobs for accounts."""


@accounts.command("prune-sessions")
def prune_sessions() -> None:
    """Forget sign-in sessions that can never be used again: signed out, idle too long or
    past their absolute limit (run daily; safe to run twice)."""
    pruned = sessions.prune(browser_sessions.limits())
    db.session.commit()
    click.echo(f"Forgot {pruned} sign-in session{'' if pruned == 1 else 's'}.")
