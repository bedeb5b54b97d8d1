"""Run by test_search_processes as a separate process: another machine of the same site.

Usage: python -m tests.providers.search_child DATABASE_URL INSTANCE INDEX SERVICE_NAME
Publishes the named listing (if given) and brings this process's index up to date.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import select

from marketplace import create_app
from marketplace.extensions import db
from providers import search_index
from providers.models import Service, ServiceStatus
from tests.conftest import test_settings


def main(database_url: str, instance: str, index: str, name: str) -> None:
    app = create_app(test_settings(database_url, Path(instance), SEARCH_INDEX_PATH=index))
    with app.app_context():
        if name:
            service = db.session.scalar(select(Service).where(Service.name == name))
            service.status = ServiceStatus.PUBLISHED
            db.session.commit()
        search_index.sync(app)
        db.session.rollback()
        print(search_index.search_engine(app).count())
        search_index.search_engine(app).close()
        db.engine.dispose()


if __name__ == "__main__":
    main(*sys.argv[1:5])
