"""`flask api-token create|revoke|list`: API tokens from the command line; `flask api
prune-idempotency-keys`: the daily job that forgets Idempotency-Keys older than 24 hours.

`create` prints the token on its last line, alone, so a script can take it with `tail -n 1`.
"""

from __future__ import annotations

import click

from marketplace.accounts import api_tokens as tokens
from marketplace.accounts.roles import Role
from marketplace.accounts.service import user_by_email
from marketplace.api import idempotency
from marketplace.extensions import db


@click.group("api-token")
def api_token() -> None:
    """Make, list and revoke tokens for the integration API."""


@api_token.command("create")
@click.option("--name", required=True, help="Which system uses it.")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    required=True,
    help="It may do what a user of this role may do (council_officer for case management).",
)
@click.option(
    "--user",
    "email",
    default=None,
    help="Act for this user (their email): an active user of the role, who must then confirm "
    "it on their account page before it works. Without it the token stands for its role alone "
    "and may not change orders.",
)
def create(name: str, role: str, email: str | None) -> None:
    """Create a token; it is printed once, on the last line."""
    user = None
    if email is not None:
        user = user_by_email(email)
        if user is None:
            raise click.ClickException(f"There is no user with the email {email!r}")
    try:
        row, secret = tokens.create_token(db.session, name=name, role=Role(role), user=user)
    except tokens.TokenError as refused:
        db.session.rollback()
        raise click.ClickException(str(refused)) from refused
    db.session.commit()
    acting = f", acting for {user.email}" if user is not None else ""
    click.echo(f"Created the token {row.name!r} for the role {row.role.value}{acting}.")
    if row.awaiting_confirmation:
        click.echo(
            f"It does nothing until {user.email} confirms it: they sign in and confirm it "
            "under Your account, API tokens."
        )
    click.echo("It is shown only this once; keep it secret:")
    click.echo(secret)


@api_token.command("revoke")
@click.argument("name")
def revoke(name: str) -> None:
    """Revoke the token called NAME."""
    row = tokens.token_by_name(db.session, name)
    if row is None:
        raise click.ClickException(f"There is no token named {name!r}")
    changed = tokens.revoke(db.session, row)
    db.session.commit()
    click.echo(f"Revoked {name!r}." if changed else f"{name!r} was already revoked.")


@api_token.command("list")
def list_tokens() -> None:
    """Every token: name, role, status, last used, and the user it acts for, if any."""
    for row in tokens.tokens(db.session):
        status = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "live"
        if row.awaiting_confirmation:
            status = "waiting for its user to confirm it"
        used = f"{row.last_used_at:%Y-%m-%d %H:%M} UTC" if row.last_used_at else "never"
        acting = f"\tacts for {row.user.email}" if row.user else ""
        click.echo(f"{row.name}\t{row.role.value}\t{status}\tlast used {used}{acting}")


@click.group("api")
def api() -> None:
    """Jobs for the API."""


@api.command("prune-idempotency-keys")
def prune_idempotency_keys() -> None:
    """Forget Idempotency-Keys used more than 24 hours ago (run daily; safe to run twice)."""
    pruned = idempotency.prune(db.session)
    db.session.commit()
    click.echo(f"Forgot {pruned} Idempotency-Key{'' if pruned == 1 else 's'} older than 24 hours.")
