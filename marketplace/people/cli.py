"""`flask people reencrypt`: after a new data encryption key is put first. `flask people
remind-consents`: daily, to tell whoever holds a consent, and the person, that it ends soon."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from marketplace.extensions import db
from marketplace.people.consents import EXPIRING_WITHIN, remind_expiring
from marketplace.people.records import reencrypt_how_to_get_in

# An AppGroup: its commands run in an app context, which the encrypted columns need.
people = AppGroup("people", help="People who receive care: their records.")


@people.command("reencrypt")
def reencrypt() -> None:
    """Encrypt every key safe code and access note again with the first key in
    DATA_ENCRYPTION_KEYS, so older keys can then be taken out of the setting."""
    count = reencrypt_how_to_get_in(db.session)
    db.session.commit()
    click.echo(f"people reencrypt: {count} people's ways in encrypted with the first key")


@people.command("remind-consents")
def remind_consents() -> None:
    """Tell the holders of each consent ending within 14 days, and the person, that it ends
    soon (once per consent). Run daily."""
    count = remind_expiring(db.session)
    db.session.commit()
    click.echo(
        f"people remind-consents: {count} consents ending within {EXPIRING_WITHIN.days} days "
        "reminded about"
    )
