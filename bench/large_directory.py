"""The pages people and clients page through, timed at the demo county's size and with a large
directory loaded beside it.

    .venv/bin/python bench/large_directory.py --sizes 0 10000
    scripts/with-postgres.sh .venv/bin/python bench/large_directory.py --sizes 0 10000 100000 0

For each size, a fresh database (PostgreSQL when TEST_DATABASE_URL names one, else SQLite in a
temporary folder) with the demo county, then `size` more listings generated from the demo's
phrase banks by the search bench's generator (bench/search_corpus.py: kinds, names, prices,
descriptions in a provider's voice, places from the county gazetteer, capacity), written as
our CSV template and loaded by `flask directory import --approve`: the importer's own rules,
one savepoint per record, as a council's real file would be. The search index is brought into
step, then one gunicorn sync worker serves and each page is asked `--rounds` times in turn by
one client (no concurrency: these are each page's own times, not throughput): the search page,
a service page, a provider page, the ORUK feed's first page, a middle page and a search, the
council's overview, providers (its first and a middle page) and orders pages. Printed: p50 and
p95 in ms, and bytes.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import _database, _env, serve, stop
from search_corpus import directory

from providers.openreferral.csv_records import COLUMNS

ROOT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
NAMESPACE = uuid.UUID("6f1c7f0e-5d1b-4a43-9a55-0c2b7d0f4e21")


# The importer refuses a file over 50 MB (providers/openreferral/importer.py); 25,000 of
# these listings are about 20 MB, so a national directory goes in as several files, one after
# another, as a council would send it.
LISTINGS_PER_FILE = 25_000
WARM_UP_SECONDS = 10


def write_directory(folder: Path, size: int) -> tuple[list[Path], int]:
    """`size` generated listings as our CSV template, in files of at most
    `LISTINGS_PER_FILE`; the files and the number of organisations."""
    organisations: set[str] = set()
    files: list[Path] = []
    handle = None
    for number, listing in enumerate(directory(size)):
        if number % LISTINGS_PER_FILE == 0:
            if handle is not None:
                handle.close()
            files.append(folder / f"directory-{size}-part-{len(files) + 1}.csv")
            handle = files[-1].open("w", newline="", encoding="utf-8")
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
        provider = listing.provider_name
        organisations.add(provider)
        row = dict.fromkeys(COLUMNS, "")
        row.update(
            organisation_id=str(uuid.uuid5(NAMESPACE, provider)),
            organisation_name=provider,
            organisation_description=f"{provider}: care and support in Hertfordshire.",
            service_id=str(uuid.uuid5(NAMESPACE, listing.id)),
            service_name=listing.name,
            service_description=listing.description,
            status="active",
            categories="; ".join(listing.category_codes),
            areas="; ".join(listing.locality_codes),
            price=f"{listing.price_pence / 100:.2f}",
            price_unit=listing.price_unit,
            minimum_order="1",
            delivery_modes="; ".join(listing.delivery_modes),
            languages="; ".join(listing.languages),
            accessibility="; ".join(listing.accessibility),
            conditions="; ".join(listing.conditions),
            accepts_personal_budgets="yes" if listing.accepts_personal_budgets else "no",
            capacity_status=str(listing.availability),
            earliest_start=listing.earliest_start.isoformat() if listing.earliest_start else "",
            last_checked=listing.last_confirmed.isoformat() if listing.last_confirmed else "",
        )
        writer.writerow(row)
    if handle is not None:
        handle.close()
    return files, len(organisations)


def _timed(browser: requests.Session, url: str, rounds: int) -> tuple[float, float, int]:
    times, size = [], 0
    for _ in range(rounds):
        started = time.perf_counter()
        answer = browser.get(url, timeout=120)
        times.append(time.perf_counter() - started)
        if answer.status_code != 200:
            raise SystemExit(f"{url} answered {answer.status_code}")
        size = len(answer.content)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return times[len(times) // 2] * 1000, p95 * 1000, size


def measure(size: int, rounds: int, folder: Path, run: int) -> list[str]:
    """Time the pages with `size` generated listings (`run`: this size's place in the list,
    so that a size can be given twice, the demo's before and after the large ones)."""
    database_url = _database(folder / f"size-{size}-{run}", f"directory_{size}_{run}")
    env = _env(database_url, folder / f"instance-{size}-{run}")
    flask = [sys.executable, "-m", "flask"]
    for command in (["db", "upgrade"], ["seed-demo", "--quiet"]):
        _flask(command, env)
    loaded = ""
    if size:
        _progress(f"{size}: writing and importing the directory")
        files, organisations = write_directory(folder, size)
        started = time.perf_counter()
        summary = []
        for file in files:
            done = subprocess.run(
                [*flask, "directory", "import", "--approve", str(file)],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise SystemExit(f"importing {file.name} failed:\n{done.stdout}{done.stderr}")
            summary += [line for line in done.stdout.splitlines() if line.strip()][-1:]
        took = time.perf_counter() - started
        loaded = (
            f" (+{size} listings of {organisations} organisations, import {took:.0f} s: {summary})"
        )
    _progress(f"{size}: bringing the search index into step")
    started = time.perf_counter()
    _flask(["search", "sync"], env)
    indexed = time.perf_counter() - started
    engine = create_engine(database_url)
    with engine.connect() as connection:
        services = connection.execute(
            text("SELECT count(*) FROM services WHERE status = 'published'")
        ).scalar()
        service_id, organisation_id = connection.execute(
            text(
                "SELECT s.id, s.organisation_id FROM services s JOIN organisations o ON "
                "o.id = s.organisation_id WHERE o.name = 'Chiltern Home Care' "
                "AND s.status = 'published' ORDER BY s.name LIMIT 1"
            )
        ).one()
        organisations = connection.execute(text("SELECT count(*) FROM organisations")).scalar()
    engine.dispose()
    # The council's providers list is 50 a page (marketplace/council/views.py).
    providers_middle = max(1, -(-int(organisations or 0) // 50) // 2)
    service_id, organisation_id = uuid.UUID(str(service_id)), uuid.UUID(str(organisation_id))
    process, url = serve("wsgi:app", env, "sync", 1, ROOT)
    try:
        anyone = requests.Session()
        officer = requests.Session()
        form = officer.get(f"{url}/sign-in", timeout=60).text
        officer.post(
            f"{url}/sign-in",
            data={
                "csrf_token": CSRF.search(form).group(1),  # type: ignore[union-attr]
                "email": "council@demo.example.org",
                "password": "beacon heron parsnip",
            },
            timeout=60,
        )
        feed = anyone.get(f"{url}/api/v1/services?per_page=50", timeout=120).json()
        middle = max(1, int(feed.get("total_pages", 1)) // 2)
        at_venues = anyone.get(f"{url}/api/v1/service_at_locations?per_page=50", timeout=120)
        venues = max(1, int(at_venues.json().get("total_pages", 1)) // 2)
        pages = [
            ("home", anyone, "/"),
            ("search page", anyone, "/search?q=help+at+home+in+Stevenage"),
            ("service page", anyone, f"/services/{service_id}"),
            ("provider page", anyone, f"/providers/{organisation_id}"),
            ("feed, first page", anyone, "/api/v1/services?per_page=50"),
            ("feed, middle page", anyone, f"/api/v1/services?per_page=50&page={middle}"),
            ("feed, search", anyone, "/api/v1/services?per_page=50&search=home+care"),
            ("feed at venues", anyone, "/api/v1/service_at_locations?per_page=50"),
            (
                "feed at venues, mid",
                anyone,
                f"/api/v1/service_at_locations?per_page=50&page={venues}",
            ),
            ("council overview", officer, "/council/"),
            ("council providers", officer, "/council/providers"),
            ("council providers, mid", officer, f"/council/providers?page={providers_middle}"),
            ("council orders", officer, "/council/orders"),
        ]
        lines = [
            f"{size} generated listings{loaded}; {services} services in all, "
            f"index sync {indexed:.0f} s",
            f"  {'page':<20} {'p50 ms':>8} {'p95 ms':>8} {'bytes':>10}",
        ]
        # Every page once, to warm what is kept; then a pause, as the worker's own warm-up
        # (wsgi.py: the search index's catalogue, about 3 s at 100,000 listings) holds the GIL
        # in a thread beside the first requests; then every page again.
        for _label, browser, path in pages:
            browser.get(f"{url}{path}", timeout=120)
        time.sleep(WARM_UP_SECONDS)
        for _label, browser, path in pages:
            browser.get(f"{url}{path}", timeout=120)
        _progress(f"{size}: timing the pages (keep the machine quiet)")
        for label, browser, path in pages:
            p50, p95, size_bytes = _timed(browser, f"{url}{path}", rounds)
            lines.append(f"  {label:<20} {p50:>8.1f} {p95:>8.1f} {size_bytes:>10,}")
        _progress(f"{size}: done")
        return lines
    finally:
        stop(process)


def _flask(command: list[str], env: dict[str, str]) -> None:
    """Run a flask command; stop the run with its output if it fails."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", *command], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(command)} failed:\n{done.stdout}{done.stderr}")


def _progress(what: str) -> None:
    """Where the run is, on stderr, so that whoever shares the machine knows when to wait."""
    print(f"{time.strftime('%H:%M:%S')} {what}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 10000])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="large-directory-"))
    kind = "postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite"
    print(f"{kind}, {args.rounds} rounds a page, one client, one gunicorn sync worker")
    for run, size in enumerate(args.sizes):
        (folder / f"size-{size}-{run}").mkdir()
        print("\n".join(measure(size, args.rounds, folder, run)), flush=True)


if __name__ == "__main__":
    main()
