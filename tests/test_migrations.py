"""The migrations build the schema the models describe, from nothing, and take it away again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import CheckConstraint, create_engine, inspect

from marketplace import create_app
from marketplace.extensions import db
from tests.conftest import DemoCounty, test_settings


@pytest.fixture
def empty_database_url(make_empty_database: Callable[[], str]) -> str:
    """A database of the same kind as the suite's, with nothing in it."""
    return make_empty_database()


def _user_tables(database_url: str) -> set[str]:
    engine = create_engine(database_url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _check_constraints_in_models() -> set[tuple[str, str]]:
    """Named as the database names them: the naming convention applies at CREATE time."""
    return {
        (table.name, name if name.startswith(f"ck_{table.name}_") else f"ck_{table.name}_{name}")
        for table in db.metadata.tables.values()
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint)
        for name in [str(constraint.name)]
    }


def _check_constraints_in_database() -> set[tuple[str, str]]:
    inspector = inspect(db.engine)
    return {
        (table, check["name"])
        for table in inspector.get_table_names()
        if table != "alembic_version"
        for check in inspector.get_check_constraints(table)
    }


def test_migrations_upgrade_match_the_models_and_downgrade(
    empty_database_url: str, tmp_path: Path
) -> None:
    app = create_app(test_settings(empty_database_url, tmp_path / "instance"))
    with app.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "render_as_batch": True}
            )
            differences = compare_metadata(context, db.metadata)
        assert differences == [], f"models and migrations disagree: {differences}"
        assert _user_tables(empty_database_url) == set(db.metadata.tables)
        # Alembic's comparison ignores CHECK constraints; money and status rules live in them.
        assert _check_constraints_in_database() == _check_constraints_in_models()

        flask_migrate.downgrade(revision="base")
        assert _user_tables(empty_database_url) == set()
        db.engine.dispose()


def test_a_seeded_database_downgrades_to_nothing(
    empty_database_url: str, tmp_path: Path, demo_county: DemoCounty
) -> None:
    """With the demo county in it, every migration's downgrade still runs (foreign keys and all)."""
    app = create_app(test_settings(empty_database_url, tmp_path / "instance"))
    with app.app_context():
        flask_migrate.upgrade()
        demo_county.restore()  # the demo county, as `flask seed-demo` commits it
        db.session.remove()

        flask_migrate.downgrade(revision="base")
        assert _user_tables(empty_database_url) == set()
        db.engine.dispose()


def test_the_head_file_names_the_one_head() -> None:
    """migrations/HEAD names the newest revision. Two branches that each add a migration both
    change that line, so git stops their merge as a conflict instead of leaving two heads."""
    from alembic.script import ScriptDirectory

    folder = Path(__file__).resolve().parent.parent / "migrations"
    heads = ScriptDirectory(str(folder)).get_heads()
    assert len(heads) == 1, f"the migrations have {len(heads)} heads: {heads}"
    assert (folder / "HEAD").read_text().strip() == heads[0], (
        "migrations/HEAD must name the newest revision: write its id there"
    )
