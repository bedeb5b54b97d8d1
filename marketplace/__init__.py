"""The care services e-marketplace: a Flask application built by `create_app`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from marketplace.config import instance_path_from_env, load_config

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, errors, Jinja, CLI.

    `overrides` replaces configuration read from the environment (tests use it). Raises
    `ConfigurationError` when production is asked for without a real SECRET_KEY.
    """
    instance_path = Path((overrides or {}).get("INSTANCE_PATH") or instance_path_from_env())
    instance_path.mkdir(parents=True, exist_ok=True)
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        static_folder=str(PROJECT_ROOT / "static"),
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.config.from_mapping(load_config(instance_path, overrides))

    from marketplace import database, errors, jinja, payments_setup, request_text, security
    from marketplace.pages import audit_hooks, on_behalf, reader_words
    from providers import search_index

    database.init_app(app)
    # After the database: the audit log's entry is written before the request's commit.
    audit_hooks.init_app(app)
    search_index.init_app(app)
    security.init_app(app)
    payments_setup.init_app(app)
    request_text.init_app(app)
    jinja.init_app(app)
    errors.init_app(app)
    # Before every blueprint's loaders: the person a broker or family member acts for.
    on_behalf.init_app(app)
    # The citizens' pages say "you" to the person and name them to whoever acts for them.
    reader_words.init_app(app)
    _register_blueprints(app)
    _register_cli(app)
    return app


def _register_blueprints(app: Flask) -> None:
    # Each audience's package makes its blueprint and imports its views (docs/architecture.md).
    from marketplace.accounts import bp as accounts
    from marketplace.admin import bp as admin
    from marketplace.api import bp as api
    from marketplace.brokers import bp as brokers
    from marketplace.citizens import bp as citizens
    from marketplace.council import bp as council
    from marketplace.front_door import bp as front_door
    from marketplace.notifications import bp as notifications
    from marketplace.public import bp as public
    from marketplace.webhooks import bp as webhooks
    from providers.portal import bp as provider_portal

    for blueprint in (
        public,
        front_door,
        accounts,
        citizens,
        provider_portal,
        brokers,
        council,
        admin,
        api,
        notifications,
        webhooks,
    ):
        app.register_blueprint(blueprint)


def _register_cli(app: Flask) -> None:
    from marketplace.accounts.cli import accounts, create_user
    from marketplace.api.cli import api, api_token
    from marketplace.backup_cli import backup
    from marketplace.cqc.cli import cqc
    from marketplace.demo.cli import seed_demo
    from marketplace.finance_cli import finance  # FINEXPORT (issue 19)
    from marketplace.ledger_cli import ledger
    from marketplace.orders.cli import orders
    from marketplace.payments_cli import payments
    from marketplace.people.cli import people
    from marketplace.referrals.cli import referrals  # VISITS (issue 20)
    from marketplace.retention_cli import retention_group
    from providers.listings_cli import listings
    from providers.openreferral.cli import directory
    from providers.search_cli import search

    app.cli.add_command(seed_demo)
    app.cli.add_command(backup)
    app.cli.add_command(create_user)
    app.cli.add_command(accounts)
    app.cli.add_command(api_token)
    app.cli.add_command(api)
    app.cli.add_command(directory)
    app.cli.add_command(ledger)
    app.cli.add_command(finance)
    app.cli.add_command(search)
    app.cli.add_command(orders)
    app.cli.add_command(payments)
    app.cli.add_command(listings)
    app.cli.add_command(people)
    app.cli.add_command(referrals)  # VISITS (issue 20)
    app.cli.add_command(cqc)
    app.cli.add_command(retention_group)
