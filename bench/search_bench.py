"""Search speed: our Whoosh and tantivy engines beside plain Whoosh, plain tantivy, SQLite FTS5
(and PostgreSQL full-text search, when given a PostgreSQL database).

    .venv/bin/python bench/search_bench.py            # 10,000 and 100,000 listings, ~11 min
    scripts/with-postgres.sh .venv/bin/python bench/search_bench.py   # and PostgreSQL's
    .venv/bin/python bench/search_bench.py --quick    # 2,000 and 10,000 (HTTP at 2,000), ~1 min
    .venv/bin/python bench/search_bench.py --sizes 50000 --http-sizes 0 --facets

One run, figures beside baselines measured in the same run: on a shared machine absolute times
drift from run to run, the ratios much less. For each size a directory of listings is generated
deterministically from the demo county's phrase banks (bench/search_corpus.py). Each engine
gets its own forked worker process (so one's memory does not count against another's), and:

- indexes every listing from scratch, one engine after another (ours: `engine.rebuild`, what
  `flask search reindex` runs after reading the database; plain ones: their default writer),
  giving the indexing rate and the size of the index folder;
- answers the fixed mix of 200 queries (bench/search_corpus.py: plain words and misspellings,
  synonym phrases, filters, facets, browse, distance) in rounds, each call timed: ours through
  `engine.search(parse_params(...))` exactly as the search page asks (facet counts, snippets,
  a page of 20); the baselines the words typed only (bench/search_baselines.py). The engines
  take turns, 25 queries at a time, so the machine's other work falls on all of them alike;
- reports p50/p95/p99 over every timed call, the first search of the new index separately (ours
  build their per-generation catalogue there), and the worker's memory: its peak resident set
  (`getrusage` ru_maxrss) above what it held when forked, and what it still holds at the end.

Over HTTP (at `--http-sizes`, by default every size): the app from `create_app` on a temporary
instance folder and SQLite database migrated with `flask_migrate.upgrade`, the same listings
inserted through the models, the index rebuilt from the database as `flask search reindex`
does, one app per engine served by werkzeug's threaded server on 127.0.0.1 (free ports), and a
bounded number of `/api/v1/services?search=...` requests for the word queries, each asked of
both engines in turn; no request starts after `--http-seconds`.

At the end the issue's targets are printed beside the figures with whether each is met.
Nothing is downloaded; the only network traffic is to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import multiprocessing
import os
import platform
import resource
import sqlite3
import statistics
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

from search_baselines import BASELINES, Baseline, postgres_url
from search_corpus import (
    BASELINE_RULE,
    KINDS,
    QUERIES,
    SEED,
    TODAY,
    baseline_words,
    directory,
    http_words,
    read_json,
)

from search import CategoryTree, Gazetteer, ListingDocument, open_engine, parse_params
from search.analysis import slug
from search.engine import BaseEngine
from search.facets import count_facets, select
from search.indexing import prepare
from search.planning import plan_words
from search.vocabulary import Vocabulary
from search.whoosh_engine import whoosh_query, whoosh_schema

OURS = ("whoosh", "tantivy")
SUBJECTS = ("whoosh", "plain whoosh", "tantivy", "plain tantivy", "sqlite fts5", "postgresql fts")
LABELS = {"whoosh": "our whoosh", "tantivy": "our tantivy"}
MIB = 1024 * 1024
WHOOSH_REINDEX_TARGET_S = 180.0
WHOOSH_P95_TARGET_MS = 15.0


def label(subject: str) -> str:
    return LABELS.get(subject, subject)


# Measuring -------------------------------------------------------------------------------------


def _maxrss_mib() -> float:
    # Linux reports KiB. In a forked child it starts at the resident set inherited at the fork.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mib() -> float:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize() / MIB
    except OSError:
        return float("nan")


def _folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile of `values` (share 0.95 for p95)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, math.ceil(round(share * len(ordered), 6)))
    return ordered[min(len(ordered), rank) - 1]


@dataclass
class Measured:
    """One engine at one size: indexing, memory and the latency of the query mix."""

    subject: str
    size: int
    build_s: float = float("nan")
    index_bytes: int = 0
    peak_mib: float = float("nan")
    held_mib: float = float("nan")
    first_s: float = float("nan")
    samples: dict[str, list[float]] = field(default_factory=dict)
    rounds: int = 0
    empty: int = 0
    error: str | None = None

    @property
    def every(self) -> list[float]:
        return [s for kind in KINDS for s in self.samples.get(kind, [])]

    def p(self, share: float, kind: str | None = None) -> float:
        return percentile(self.every if kind is None else self.samples.get(kind, []), share)

    @property
    def rate(self) -> float:
        return self.size / self.build_s


@dataclass
class HttpMeasured:
    """Our engine behind the app's ORUK feed at one size."""

    subject: str
    size: int
    insert_s: float = float("nan")
    reindex_s: float = float("nan")
    first_s: float = float("nan")
    floor: list[float] = field(default_factory=list)
    samples: list[float] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)
    failures: int = 0
    stopped_early: bool = False
    error: str | None = None


@dataclass
class Failed:
    error: str


def _failure(error: BaseException) -> Failed:
    return Failed(f"{type(error).__name__}: {error}\n{traceback.format_exc()}")


def _context() -> dict[str, Any]:
    return {
        "gazetteer": Gazetteer.from_county(read_json("providers/data/hertfordshire.json")),
        "categories": CategoryTree.from_terms(read_json("providers/data/taxonomy.json")["terms"]),
        "vocabulary": Vocabulary.load(),
    }


class Subject:
    """One engine's index, inside its worker process: built once, then asked the query mix."""

    def __init__(self, subject: str, documents: list[ListingDocument], folder: Path) -> None:
        self.subject = subject
        self.start_peak, self.start_rss = _maxrss_mib(), _rss_mib()
        self.engine: Any = None
        started = time.perf_counter()
        if subject in OURS:
            engine = open_engine(subject, folder, **_context())
            engine.rebuild(documents)
            self.build_s = time.perf_counter() - started
            assert isinstance(engine, BaseEngine)
            self.index_bytes = _folder_bytes(engine.home.current())
            self.searches = [(kind, parse_params(params, today=TODAY)) for kind, params in QUERIES]
            self.engine = engine

            def ask(search: Any) -> Sequence[object]:
                return engine.search(search).hits

            self.ask: Callable[[Any], Sequence[object]] = ask
            self.close: Callable[[], None] = engine.close
        else:
            baseline: Baseline = BASELINES[subject]()
            baseline.build(documents, folder)
            self.build_s = time.perf_counter() - started
            self.index_bytes = baseline.index_bytes(folder)
            self.searches = [(kind, baseline_words(params)) for kind, params in QUERIES]
            self.ask, self.close = baseline.search, baseline.close
        started = time.perf_counter()
        self.ask(self.searches[0][1])
        self.first_s = time.perf_counter() - started

    def run(self, start: int, stop: int) -> tuple[list[tuple[str, float]], int]:
        """Queries start..stop of the mix, each timed; and how many found nothing."""
        timings, empty = [], 0
        for kind, search in self.searches[start:stop]:
            started = time.perf_counter()
            found = self.ask(search)
            timings.append((kind, time.perf_counter() - started))
            empty += not found
        return timings, empty

    def finish(self) -> tuple[float, float]:
        """Peak and still-held memory above the start, MiB."""
        return _maxrss_mib() - self.start_peak, _rss_mib() - self.start_rss


def _worker(
    connection: Any, subject: str, documents: list[ListingDocument], folder: Path, facets: bool
) -> None:
    try:
        state = Subject(subject, documents, folder)
        connection.send((state.build_s, state.index_bytes, state.first_s))
        while True:
            command = connection.recv()
            if command[0] == "run":
                connection.send(state.run(command[1], command[2]))
                continue
            memory = state.finish()
            if facets and subject == "whoosh":
                compare_facets(state.engine, documents, folder.parent, _context())
            state.close()
            connection.send(memory)
            return
    except BaseException as error:  # reported, not raised: the parent carries on
        connection.send(_failure(error))


class Worker:
    """A forked process holding one engine's index, so engines neither share memory nor
    compete for the CPU: the parent asks one at a time."""

    def __init__(
        self, subject: str, documents: list[ListingDocument], folder: Path, facets: bool
    ) -> None:
        context = multiprocessing.get_context("fork")
        self.connection, theirs = context.Pipe()
        self.process = context.Process(
            target=_worker, args=(theirs, subject, documents, folder, facets), daemon=True
        )
        self.process.start()
        theirs.close()

    def ask(self, message: Any, timeout: float) -> Any:
        """Send `message` (None: only wait) and return the answer, or Failed."""
        try:
            if message is not None:
                self.connection.send(message)
            if not self.connection.poll(timeout):
                return Failed(f"no answer within {timeout:.0f} s")
            return self.connection.recv()
        except (EOFError, OSError):
            return Failed(f"the process died (exit code {self.process.exitcode})")

    def stop(self) -> None:
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


CHUNK = 25


def measure_size(
    documents: list[ListingDocument], work: Path, options: argparse.Namespace
) -> list[Measured]:
    """Every engine at one size: built one after another, then the query mix in rounds.

    A round is the 200 queries in chunks of 25; each chunk is run by every engine in turn,
    starting with a different engine each time, so that whatever else the machine is doing
    falls on all of them alike and their ratios hold.
    """
    size = len(documents)
    results = {subject: Measured(subject, size) for subject in options.engines}
    workers: dict[str, Worker] = {}
    for subject in options.engines:
        worker = Worker(subject, documents, work / subject.replace(" ", "-"), options.facets)
        built = worker.ask(None, options.job_timeout)
        result = results[subject]
        if isinstance(built, Failed):
            result.error = built.error
            worker.stop()
        else:
            result.build_s, result.index_bytes, result.first_s = built
            result.samples = {kind: [] for kind in KINDS}
            workers[subject] = worker
        print(build_line(result), flush=True)

    def drop(subject: str, failure: Failed) -> None:
        results[subject].error = failure.error
        workers.pop(subject).stop()
        print(f"  {label(subject):14} FAILED: {failure.error}", flush=True)

    stop_at = time.perf_counter() + options.query_seconds
    turn = 0
    for number in range(options.rounds):
        if number and time.perf_counter() > stop_at:
            break
        for start in range(0, len(QUERIES), CHUNK):
            names = list(workers)
            for subject in names[turn % len(names) :] + names[: turn % len(names)]:
                answer = workers[subject].ask(("run", start, start + CHUNK), options.job_timeout)
                if isinstance(answer, Failed):
                    drop(subject, answer)
                    continue
                timings, empty = answer
                for kind, seconds in timings:
                    results[subject].samples[kind].append(seconds)
                if number == 0:
                    results[subject].empty += empty
            turn += 1
        for subject in workers:
            results[subject].rounds += 1
    for subject in list(workers):
        answer = workers[subject].ask(("finish",), options.job_timeout)
        if isinstance(answer, Failed):
            drop(subject, answer)
            continue
        results[subject].peak_mib, results[subject].held_mib = answer
        workers.pop(subject).stop()
    for result in results.values():
        if not result.error:
            print(query_line(result), flush=True)
    return list(results.values())


def in_child(function: Callable[..., Any], *args: Any, timeout: float) -> Any:
    """`function(*args)` in a forked process; its result, or Failed after `timeout` seconds."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(send, function, args), daemon=True)
    process.start()
    send.close()
    try:
        result = receive.recv() if receive.poll(timeout) else Failed(f"timed out ({timeout:.0f} s)")
    except EOFError:
        result = Failed(f"the process died (exit code {process.exitcode})")
    process.join(10)
    if process.is_alive():
        process.kill()
        process.join()
    return result


def _child(send: Any, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        result = function(*args)
    except BaseException as error:  # reported, not raised: the parent carries on
        result = _failure(error)
    send.send(result)
    send.close()


def _ms(seconds: float, width: int = 7) -> str:
    return f"{seconds * 1000:{width}.1f}" if seconds == seconds else " " * (width - 1) + "-"


def build_line(m: Measured) -> str:
    if m.error:
        return f"  {label(m.subject):14} FAILED: {m.error}"
    return (
        f"  {label(m.subject):14} built in {m.build_s:6.1f} s ({m.rate:7.0f} docs/s),"
        f" index {m.index_bytes / 1e6:6.1f} MB, first search {_ms(m.first_s)} ms"
    )


def query_line(m: Measured) -> str:
    return (
        f"  {label(m.subject):14} p50 {_ms(m.p(0.5))}  p95 {_ms(m.p(0.95))}"
        f"  p99 {_ms(m.p(0.99))} ms over {len(m.every)} searches ({m.rounds} rounds);"
        f" peak RSS +{m.peak_mib:.0f} MiB; {m.empty} of 200 found nothing"
    )


# Facets: the per-generation cache against Whoosh's own grouping (--facets) --------------------

FACET_FIELDS: dict[str, Callable[[ListingDocument, CategoryTree], list[str]]] = {
    "category": lambda d, tree: [c for code in d.category_codes for c in tree.lineage(code)],
    "locality": lambda d, tree: list(d.locality_codes),
    "mode": lambda d, tree: list(d.delivery_modes),
    "availability": lambda d, tree: [d.availability.value],
    "language": lambda d, tree: [slug(v) for v in d.languages],
    "access": lambda d, tree: [slug(v) for v in d.accessibility],
    "cqc": lambda d, tree: [d.cqc_rating] if d.cqc_rating else [],
    "budgets": lambda d, tree: ["yes" if d.accepts_personal_budgets else "no"],
}
FACET_QUERIES = [*[params for kind, params in QUERIES if kind == "words"][:20], {}]
FACET_ROUNDS = 3


def _grouping_index(documents: list[ListingDocument], work: Path, context: dict[str, Any]) -> Any:
    """Our Whoosh schema plus a keyword field per facet, for Whoosh's own grouping."""
    from whoosh import fields, index

    schema = whoosh_schema()
    for facet in FACET_FIELDS:
        schema.add(f"facet_{facet}", fields.KEYWORD(commas=True))
    folder = work / "whoosh-grouping"
    folder.mkdir()
    ix = index.create_in(str(folder), schema)
    vocabulary: Vocabulary = context["vocabulary"]
    tree: CategoryTree = context["categories"]
    writer = ix.writer(limitmb=256)
    for document in documents:
        prepared = prepare(document, vocabulary, tree)
        writer.add_document(
            id=prepared.id,
            payload=prepared.payload,
            spell=prepared.spell,
            **prepared.fields,
            **{
                f"facet_{facet}": ",".join(values(document, tree))
                for facet, values in FACET_FIELDS.items()
            },
        )
    writer.commit(optimize=True)
    return ix


def _best_of(action: Callable[[], object]) -> float:
    times = []
    for _ in range(FACET_ROUNDS):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def compare_facets(
    engine: Any, documents: list[ListingDocument], work: Path, context: dict[str, Any]
) -> None:
    """Facet counts for the word and browse queries: the cache beside Whoosh's `groupedby`.

    Both count the same matches (one facet is checked to agree). Grouping is timed as the
    search with `groupedby` minus the same search without it; each is the best of 3.
    """
    from whoosh import query as wq
    from whoosh import sorting

    started = time.perf_counter()
    ix = _grouping_index(documents, work, context)
    built = time.perf_counter() - started
    print(f"  facets: Whoosh index with facet fields built in {built:.1f} s")
    facets = {
        facet: sorting.FieldFacet(f"facet_{facet}", allow_overlap=True) for facet in FACET_FIELDS
    }
    view = engine.current_view()
    cached_total = grouped_total = 0.0
    print("  facets: query                        matches   cache ms  grouping ms   ratio")
    with ix.searcher() as searcher:
        for params in FACET_QUERIES:
            search = parse_params(params, today=TODAY)
            plan = plan_words(
                search.words, engine.vocabulary, engine.gazetteer, lambda: view.lexicon(set)
            )
            matches = view.match(plan.groups, True) if plan.groups else view.catalogue.live
            selection = select(view.catalogue, search.filters, (), TODAY)
            query = whoosh_query(plan.groups, True) if plan.groups else wq.Every()

            def cached(m: int = matches, s: Any = selection) -> Any:
                return count_facets(view.catalogue, m, s, lambda f, v, label: label)

            def grouped(q: Any = query) -> Any:
                return searcher.search(q, limit=10, groupedby=facets, maptype=sorting.Count)

            cache_s = _best_of(cached)
            plain_s = _best_of(lambda q=query: searcher.search(q, limit=10))
            grouped_s = max(_best_of(grouped) - plain_s, 0.0)
            mode_counts = {c.value: c.count for c in cached()["mode"]}
            assert grouped().groups("mode") == mode_counts, "cache and grouping disagree"
            cached_total += cache_s
            grouped_total += grouped_s
            print(
                f"  facets: {(search.words or '(browse)')[:28]:28} {matches.bit_count():8}"
                f" {_ms(cache_s, 9)}   {_ms(grouped_s, 9)}  {grouped_s / cache_s:6.0f}x"
            )
    print(
        f"  facets: all {len(FACET_QUERIES)} queries: cache {_ms(cached_total, 1)} ms, Whoosh"
        f" grouping {_ms(grouped_total, 1)} ms ({grouped_total / cached_total:.0f}x)",
        flush=True,
    )
    ix.close()


# Over HTTP -------------------------------------------------------------------------------------


def _settings(work: Path, engine: str) -> dict[str, Any]:
    return {
        "ENVIRONMENT": "development",
        "SECRET_KEY": "search-bench-secret-key-long-enough-to-pass",
        "INSTANCE_PATH": str(work / "instance"),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'bench.db'}",
        "MAIL_SERVER": "",
        "MAIL_OUTBOX_PATH": str(work / "instance" / "mail-outbox"),
        "RATELIMIT_ENABLED": False,
        "SEARCH_ENGINE": engine,
        "SEARCH_INDEX_PATH": str(work / f"index-{engine}"),
    }


def load_directory(documents: list[ListingDocument]) -> None:
    """A fresh database (in an app context) migrated, with the reference data and the listings
    as rows: what every bench that goes through the app starts from."""
    import flask_migrate

    from marketplace.extensions import db
    from providers.reference_data import ensure_localities, ensure_taxonomy

    logging.disable(logging.WARNING)  # alembic's INFO lines, one per migration
    try:
        flask_migrate.upgrade()
    finally:
        logging.disable(logging.NOTSET)
    ensure_taxonomy()
    ensure_localities()
    db.session.commit()
    insert_listings(documents)


def insert_listings(documents: list[ListingDocument]) -> None:
    """The listings as rows, through the models (in an app context): providers, then services."""
    from sqlalchemy import select

    from marketplace.extensions import db
    from providers.models import (
        CapacityStatus,
        CqcRating,
        Locality,
        Location,
        Organisation,
        OrganisationStatus,
        PriceUnit,
        Service,
        ServiceAtLocation,
        ServiceStatus,
        TaxonomyTerm,
    )

    terms = {term.code: term for term in db.session.scalars(select(TaxonomyTerm))}
    places = {place.code: place for place in db.session.scalars(select(Locality))}
    towns = [place for place in places.values() if place.kind == "town"]
    organisations: dict[str, uuid.UUID] = {}
    for document in documents:
        if document.provider_name not in organisations:
            organisation = Organisation(
                id=uuid.uuid4(),
                name=document.provider_name,
                description=f"{document.provider_name} provides care and support.",
                status=OrganisationStatus.APPROVED,
            )
            db.session.add(organisation)
            organisations[document.provider_name] = organisation.id
    db.session.commit()

    def town_of(document: ListingDocument) -> Locality:
        return min(
            towns,
            key=lambda t: (
                ((t.latitude or 0) - (document.latitude or 0)) ** 2
                + ((t.longitude or 0) - (document.longitude or 0)) ** 2
            ),
        )

    for start in range(0, len(documents), 1000):
        for document in documents[start : start + 1000]:
            organisation_id = organisations[document.provider_name]
            service = Service(
                id=uuid.uuid4(),
                organisation_id=organisation_id,
                name=document.name,
                description=document.description,
                price_pence=document.price_pence,
                price_unit=PriceUnit(document.price_unit),
                status=ServiceStatus.PUBLISHED,
                delivery_modes=list(document.delivery_modes),
                languages=list(document.languages),
                accessibility=list(document.accessibility),
                accepts_personal_budgets=document.accepts_personal_budgets,
                cqc_rating=CqcRating(document.cqc_rating) if document.cqc_rating else None,
                capacity_status=CapacityStatus(document.availability.value),
                earliest_start=document.earliest_start,
                capacity_confirmed_at=datetime.combine(
                    document.last_confirmed or TODAY, clock(12), UTC
                ),
                taxonomy_terms=[terms[code] for code in document.category_codes],
                localities=[places[code] for code in document.locality_codes],
            )
            if document.latitude is not None:
                town = town_of(document)
                venue = Location(
                    id=uuid.uuid4(),
                    organisation_id=organisation_id,
                    name=f"{document.provider_name} centre",
                    address="1 High Street",
                    town=town.name,
                    postcode=f"{town.postcode_districts[0]} 1AB",
                    latitude=document.latitude,
                    longitude=document.longitude,
                    accessibility=list(document.accessibility),
                )
                service.locations = [ServiceAtLocation(location=venue)]
            db.session.add(service)
        db.session.commit()


def _get(opener: urllib.request.OpenerDirector, url: str) -> tuple[float, int, Any]:
    started = time.perf_counter()
    try:
        with opener.open(url, timeout=120) as response:
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        return time.perf_counter() - started, error.code, None
    except OSError:  # refused, reset or timed out: counted as an error
        return time.perf_counter() - started, 0, None
    elapsed = time.perf_counter() - started
    return elapsed, status, json.loads(body)


def measure_http(
    documents: list[ListingDocument], requests: int, seconds: float
) -> list[HttpMeasured]:
    """Both of our engines behind the API, on one database of `documents` (in a child)."""
    from sqlalchemy import update
    from werkzeug.serving import make_server

    from marketplace import create_app
    from marketplace.extensions import db
    from marketplace.types import utcnow
    from providers import search_index

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # No proxy from the environment: every request goes straight to 127.0.0.1.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    words = http_words()
    found: list[HttpMeasured] = []
    with tempfile.TemporaryDirectory(prefix="search-bench-http-") as temporary:
        work = Path(temporary)
        apps = {name: create_app(_settings(work, name)) for name in OURS}
        first = apps[OURS[0]]
        started = time.perf_counter()
        with first.app_context():
            load_directory(documents)
            # Steady state: the last change is older than the outbox's re-read window, so a
            # search's catch-up finds nothing to apply (else it re-applies every new listing).
            db.session.execute(
                update(search_index.SearchOutboxEntry).values(
                    created_at=utcnow() - timedelta(days=1)
                )
            )
            db.session.commit()
        insert_s = time.perf_counter() - started
        print(f"  over HTTP: inserted and migrated in {insert_s:.1f} s", flush=True)
        servers: dict[str, Any] = {}
        try:
            for name, app in apps.items():
                result = HttpMeasured(name, len(documents), insert_s=insert_s)
                found.append(result)
                with app.app_context():
                    started = time.perf_counter()
                    search_index.reindex(app)
                    result.reindex_s = time.perf_counter() - started
                    db.session.rollback()
                print(
                    f"  over HTTP: {label(name)} reindexed in {result.reindex_s:.1f} s", flush=True
                )
                server = make_server("127.0.0.1", 0, app, threaded=True)
                threading.Thread(target=server.serve_forever, daemon=True).start()
                servers[name] = server
            bases = {
                name: f"http://127.0.0.1:{server.server_port}/api/v1/services"
                for name, server in servers.items()
            }
            for result in found:
                result.first_s, _, _ = _get(opener, f"{bases[result.subject]}?search=help")
            for number in range(10):
                for result in found[:: 1 if number % 2 else -1]:
                    result.floor.append(_get(opener, bases[result.subject])[0])
            # The same words asked of each engine in turn (first one, then the other), so the
            # machine's other work falls on both alike.
            stop_at = time.perf_counter() + seconds
            for number in range(requests):
                if time.perf_counter() > stop_at:
                    for result in found:
                        result.stopped_early = True
                    break
                query = urllib.parse.urlencode({"search": words[number % len(words)]})
                for result in found[:: 1 if number % 2 else -1]:
                    elapsed, status, body = _get(opener, f"{bases[result.subject]}?{query}")
                    result.samples.append(elapsed)
                    if status != 200:
                        result.failures += 1
                    else:
                        result.totals.append(body["total_items"])
        finally:
            for server in servers.values():
                server.shutdown()
                server.server_close()
            for app in apps.values():
                with app.app_context():
                    db.engine.dispose()
    return found


# Reporting -------------------------------------------------------------------------------------


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    rows = [list(header), *(list(row) for row in rows)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for number, row in enumerate(rows):
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
        cells += [cell.rjust(width) for cell, width in zip(row[2:], widths[2:], strict=True)]
        lines.append("  " + "  ".join(cells).rstrip())
        if number == 0:
            lines.append("  " + "  ".join("-" * width for width in widths))
    return lines


def _f(seconds: float) -> str:
    return _ms(seconds, 1) if seconds == seconds else "-"


def report(
    results: list[Measured], http: list[HttpMeasured], sizes: list[int], http_sizes: list[int]
) -> list[str]:
    lines = ["", "=" * 100, "Search benchmark: figures", ""]
    counts = ", ".join(f"{sum(k == kind for k, _ in QUERIES)} {kind}" for kind in KINDS)
    lines.append(f"Query mix: 200 queries ({counts}); seed {SEED}. Latency in ms.")
    lines.append("Baselines: " + BASELINE_RULE + ".")
    lines.append("")
    rows = []
    for m in results:
        if m.error:
            rows.append([f"{m.size:,}", label(m.subject), "failed", *["-"] * 8])
            continue
        rows.append(
            [
                f"{m.size:,}",
                label(m.subject),
                f"{m.rate:,.0f}",
                f"{m.build_s:,.1f}",
                f"{m.index_bytes / 1e6:.1f}",
                f"{m.peak_mib:,.0f}",
                f"{m.held_mib:,.0f}",
                _f(m.first_s),
                _f(m.p(0.5)),
                _f(m.p(0.95)),
                _f(m.p(0.99)),
                f"{len(m.every)}",
                f"{m.empty}",
            ]
        )
    header = [
        "listings",
        "engine",
        "docs/s",
        "build s",
        "index MB",
        "peak RSS MiB",
        "held MiB",
        "first",
        "p50",
        "p95",
        "p99",
        "timed",
        "empty",
    ]
    lines += _table(header, rows)
    lines += [
        "",
        "  peak RSS: the process's peak resident set above what it held at the start (indexing",
        "  and searching); held: still resident after the searches. first: the first search of",
        "  the new index (ours build the facet catalogue there), not in the percentiles. timed:",
        "  calls timed (rounds of the 200). empty: of the 200, how many found nothing.",
        "",
        "p95 by kind of query (ms; for the baselines, the words of those queries only):",
        "",
    ]
    rows = [
        [f"{m.size:,}", label(m.subject), *(_f(m.p(0.95, kind)) for kind in KINDS)]
        for m in results
        if not m.error
    ]
    lines += _table(["listings", "engine", *KINDS], rows)
    if http:
        lines += ["", "Over HTTP: GET /api/v1/services?search=<words> (ms):", ""]
        rows = []
        for h in http:
            if h.error:
                rows.append([f"{h.size:,}", label(h.subject), "failed: " + h.error.splitlines()[0]])
                continue
            rows.append(
                [
                    f"{h.size:,}",
                    label(h.subject),
                    f"{h.size / h.insert_s:,.0f}",
                    f"{h.reindex_s:.1f}",
                    _f(h.first_s),
                    _f(statistics.median(h.floor)),
                    _f(percentile(h.samples, 0.5)),
                    _f(percentile(h.samples, 0.95)),
                    _f(percentile(h.samples, 0.99)),
                    f"{len(h.samples)}{'*' if h.stopped_early else ''}",
                    f"{statistics.median(h.totals):,.0f}" if h.totals else "-",
                    f"{h.failures}",
                ]
            )
        header = [
            "listings",
            "engine",
            "rows/s",
            "reindex s",
            "first",
            "no search",
            "p50",
            "p95",
            "p99",
            "requests",
            "median found",
            "errors",
        ]
        lines += _table(header, rows) if all(len(r) > 3 for r in rows) else [str(r) for r in rows]
        lines += [
            "",
            "  rows/s: listings inserted through the models (providers, services, venues, their",
            "  outbox rows). reindex: `flask search reindex`'s work (read every public listing,",
            "  rebuild). no search: median of 10 requests for the first page without `search`.",
            "  The word queries (words and phrases, interleaved) in order; * stopped at the time",
            "  limit. median found: total_items of the answers. The feed's search asks the engine",
            "  for one page with facets (for the search log), then for every match's id at once",
            "  (providers/search_index.py, matching_ids; up to 5,000) before its own paging.",
        ]
        skipped = [size for size in sizes if size not in http_sizes]
        if skipped:
            lines.append(
                "  Not measured over HTTP at " + ", ".join(f"{s:,}" for s in skipped) + "."
            )
    lines += ["", "Targets (issue 5, Speed):", ""]
    lines += _table(["target", "measured", "met"], targets(results, http))
    return lines


def _find(results: list[Measured], subject: str, size: int) -> Measured | None:
    return next(
        (m for m in results if m.subject == subject and m.size == size and not m.error), None
    )


def targets(results: list[Measured], http: list[HttpMeasured]) -> list[list[str]]:
    sizes = sorted({m.size for m in results})
    rows: list[list[str]] = []

    def verdict(met: bool | None) -> str:
        return "n/a" if met is None else "yes" if met else "NO"

    for size in sizes:
        ours, plain = _find(results, "whoosh", size), _find(results, "plain whoosh", size)
        if ours and plain:
            ratio = ours.p(0.95) / plain.p(0.95)
            rows.append(
                [
                    f"our whoosh p95 <= 1/2 of plain whoosh's, {size:,}",
                    f"{_f(ours.p(0.95))} vs {_f(plain.p(0.95))} ms: {ratio:.2f}x",
                    verdict(ratio <= 0.5),
                ]
            )
    ours10 = _find(results, "whoosh", 10_000)
    rows.append(
        [
            f"our whoosh p95 < {WHOOSH_P95_TARGET_MS:.0f} ms at 10,000",
            f"{_f(ours10.p(0.95))} ms" if ours10 else "10,000 not run",
            verdict(ours10.p(0.95) * 1000 < WHOOSH_P95_TARGET_MS if ours10 else None),
        ]
    )
    large = 100_000
    ours, plain, fts = (
        _find(results, "tantivy", large),
        _find(results, "plain tantivy", large),
        _find(results, "sqlite fts5", large),
    )
    if ours and plain:
        ratio = ours.p(0.95) / plain.p(0.95)
        rows.append(
            [
                "our tantivy p95 <= 3x plain tantivy's at 100,000",
                f"{_f(ours.p(0.95))} vs {_f(plain.p(0.95))} ms: {ratio:.1f}x",
                verdict(ratio <= 3),
            ]
        )
    else:
        rows.append(["our tantivy p95 <= 3x plain tantivy's at 100,000", "100,000 not run", "n/a"])
    if ours and fts:
        rows.append(
            [
                "our tantivy p95 ahead of SQLite FTS5's at 100,000",
                f"{_f(ours.p(0.95))} vs {_f(fts.p(0.95))} ms",
                verdict(ours.p(0.95) < fts.p(0.95)),
            ]
        )
    else:
        rows.append(["our tantivy p95 ahead of SQLite FTS5's at 100,000", "not run", "n/a"])
    postgres = _find(results, "postgresql fts", large)
    if ours and postgres:
        rows.append(
            [
                "our tantivy p95 ahead of PostgreSQL's at 100,000",
                f"{_f(ours.p(0.95))} vs {_f(postgres.p(0.95))} ms",
                verdict(ours.p(0.95) < postgres.p(0.95)),
            ]
        )
    else:
        rows.append(
            [
                "our tantivy p95 ahead of PostgreSQL's at 100,000",
                "100,000 not run" if postgres_url() else "no PostgreSQL: scripts/with-postgres.sh",
                "n/a",
            ]
        )
    # The index alone (engine.rebuild) and, when measured over HTTP, `flask search reindex`'s
    # whole work: reading every listing from the database, then the rebuild.
    reindexes: list[tuple[str, float]] = []
    whoosh = _find(results, "whoosh", large)
    if whoosh:
        reindexes.append(("engine.rebuild", whoosh.build_s))
    reindexes += [
        ("from the database", h.reindex_s)
        for h in http
        if h.subject == "whoosh" and h.size == large and not h.error
    ]
    rows.append(
        [
            f"whoosh full reindex of 100,000 < {WHOOSH_REINDEX_TARGET_S:.0f} s",
            "; ".join(f"{what} {seconds:.0f} s" for what, seconds in reindexes)
            or "100,000 not run",
            verdict(max(s for _, s in reindexes) < WHOOSH_REINDEX_TARGET_S if reindexes else None),
        ]
    )
    return rows


# Running ---------------------------------------------------------------------------------------


def _machine() -> str:
    """Cores, Python and the load average: other work on the machine moves every figure."""
    from importlib.metadata import version

    load = " / ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, whoosh-reloaded"
        f" {version('whoosh-reloaded')}, tantivy {version('tantivy')}, SQLite"
        f" {sqlite3.sqlite_version}; load average (1/5/15 min) {load}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[10_000, 100_000],
        help="listings per directory (0 for none)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="2,000 and 10,000 listings (HTTP at 2,000)"
    )
    parser.add_argument(
        "--engines",
        nargs="+",
        # PostgreSQL's only when there is a database to measure.
        default=[s for s in SUBJECTS if s != "postgresql fts" or postgres_url()],
        choices=SUBJECTS,
        metavar="ENGINE",
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the 200 queries")
    parser.add_argument(
        "--query-seconds",
        type=float,
        default=240,
        help="per size, all engines: no round starts after this long (one always runs)",
    )
    parser.add_argument(
        "--http-sizes",
        type=int,
        nargs="*",
        help="sizes to measure over HTTP (default: every size; 0 for none)",
    )
    parser.add_argument("--http-requests", type=int, default=40, help="per engine")
    parser.add_argument(
        "--http-seconds",
        type=float,
        default=240,
        help="per size, both engines together: no request starts after this long",
    )
    parser.add_argument(
        "--job-timeout",
        type=float,
        default=1200,
        help="seconds to wait for any one step (a build, a chunk of queries, the HTTP part)",
    )
    parser.add_argument(
        "--facets",
        action="store_true",
        help="also time the facet cache against Whoosh's own grouping (slow at 100,000)",
    )
    options = parser.parse_args()
    sizes = [2_000, 10_000] if options.quick else [size for size in options.sizes if size > 0]
    http_sizes = options.http_sizes
    if http_sizes is None:
        http_sizes = [2_000] if options.quick else sizes
    http_sizes = [size for size in http_sizes if size > 0]
    began = time.perf_counter()
    print(
        f"Search benchmark: sizes {', '.join(f'{s:,}' for s in sizes)}; engines"
        f" {', '.join(label(s) for s in options.engines)}; {len(QUERIES)} queries, up to"
        f" {options.rounds} rounds ({options.query_seconds:.0f} s cap); HTTP at"
        f" {', '.join(f'{s:,}' for s in http_sizes) or 'no size'}",
        flush=True,
    )
    print(f"Machine: {_machine()}", flush=True)
    results: list[Measured] = []
    http: list[HttpMeasured] = []
    for size in sorted(set(sizes) | set(http_sizes)):
        started = time.perf_counter()
        documents = list(directory(size))
        print(f"\n{size:,} listings (generated in {time.perf_counter() - started:.1f} s)")
        if size in sizes:
            with tempfile.TemporaryDirectory(prefix="search-bench-") as temporary:
                results += measure_size(documents, Path(temporary), options)
        if size in http_sizes:
            print(f"  over HTTP: inserting {size:,} listings, reindexing, requests", flush=True)
            answer = in_child(
                measure_http,
                documents,
                options.http_requests,
                options.http_seconds,
                timeout=options.job_timeout + options.http_seconds,
            )
            if isinstance(answer, Failed):
                answer = [HttpMeasured(name, size, error=answer.error) for name in OURS]
            http += answer
            for h in answer:
                if h.error:
                    print(f"  {label(h.subject):14} HTTP FAILED: {h.error}", flush=True)
                else:
                    print(
                        f"  {label(h.subject):14} HTTP p50 {_ms(percentile(h.samples, 0.5))}"
                        f"  p95 {_ms(percentile(h.samples, 0.95))} ms over {len(h.samples)}"
                        " requests",
                        flush=True,
                    )
    print("\n".join(report(results, http, sizes, http_sizes)))
    print(f"\nWhole run: {(time.perf_counter() - began) / 60:.1f} min; at the end {_machine()}")


if __name__ == "__main__":
    main()
