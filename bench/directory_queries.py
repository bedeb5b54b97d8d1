"""The two queries issue 22 named, before and after, in-process on a database already loaded
(for example by bench/large_directory.py, whose temporary folder it leaves behind):

    DATABASE_URL=sqlite:///FOLDER/size-10000/county.db INSTANCE_PATH=FOLDER/instance-10000 \
        SECRET_KEY=x .venv/bin/python bench/directory_queries.py

The home page's directory figures counted afresh (before) and through directory_summary
(after, kept per outbox position); the feed's middle page of 50 read by sorting whole rows
(before) and by finding the page's ids first (after). 15 calls each, p50 and p95 in ms.
"""

import time

from sqlalchemy import func, select

from marketplace import create_app
from marketplace.extensions import db

app = create_app()
with app.app_context():
    from marketplace.api import queries
    from marketplace.api.params import ServiceFilters
    from providers import directory
    from providers.directory_summary import directory_summary
    from providers.models import Organisation, Service

    def t(f, n=15):
        xs = []
        for _ in range(n):
            s = time.perf_counter()
            f()
            xs.append((time.perf_counter() - s) * 1000)
            db.session.rollback()
        xs.sort()
        p95 = xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]
        return f"p50 {xs[len(xs) // 2]:.1f} ms, p95 {p95:.1f} ms"

    print("services:", db.session.scalar(select(func.count(Service.id))))
    print(
        "home figures uncounted (before):",
        t(
            lambda: (
                directory.public_service_count(),
                directory.top_category_counts(),
                directory.districts(),
            )
        ),
    )
    directory_summary()
    print("home figures cached (after):", t(directory_summary))
    conditions = queries._service_conditions(ServiceFilters(), None)
    total = db.session.scalar(select(func.count(Service.id)).join(Organisation).where(*conditions))
    middle = (total // 50 // 2) * 50

    def old():
        list(
            db.session.scalars(
                select(Service)
                .join(Organisation)
                .where(*conditions)
                .order_by(Service.name, Service.id)
                .options(*queries._SERVICE_PARTS)
                .limit(50)
                .offset(middle)
            )
        )

    def new():
        ids = list(
            db.session.scalars(
                select(Service.id)
                .join(Organisation)
                .where(*conditions)
                .order_by(Service.name, Service.id)
                .limit(50)
                .offset(middle)
            )
        )
        list(
            db.session.scalars(
                select(Service).where(Service.id.in_(ids)).options(*queries._SERVICE_PARTS)
            )
        )

    print("feed middle page rows, whole rows sorted (before):", t(old))
    print("feed middle page rows, ids first (after):", t(new))
