"""`flask seed-demo`: a realistic county to try the product with."""

from __future__ import annotations

import click

from marketplace.demo import seed
from marketplace.extensions import db


@click.command("seed-demo")
def seed_demo() -> None:
    """Build the demo county. Running it again creates nothing twice."""
    report = seed.run_all()
    db.session.commit()
    for line in report.lines():
        click.echo(line)
