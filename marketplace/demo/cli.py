"""`flask seed-demo`: a realistic county to try the product with."""

from __future__ import annotations

import click
from flask import current_app

from marketplace.demo import seed
from marketplace.extensions import db


@click.command("seed-demo")
@click.option("--quiet", is_flag=True, help="Print one summary line instead of the full report.")
@click.option(
    "--allow-production",
    is_flag=True,
    help="Seed even in production (the demo sign-ins have published passwords).",
)
def seed_demo(quiet: bool, allow_production: bool) -> None:
    """Build the demo county. Running it again creates nothing twice."""
    if current_app.config["ENVIRONMENT"] == "production" and not allow_production:
        raise click.ClickException(
            "Refusing to seed demo data in production: the demo accounts' passwords are "
            "public. Pass --allow-production if this really is a demonstration site."
        )
    try:
        report = seed.run_all()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    for line in [report.summary()] if quiet else report.lines():
        click.echo(line)
