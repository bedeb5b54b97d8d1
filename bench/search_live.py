"""Search while providers change listings: p95 beside the unchanged index's, in the same run.

    .venv/bin/python bench/search_live.py --size 10000
    .venv/bin/python bench/search_live.py --size 100000 --engine tantivy --every 3

The app's own path, not the engine alone: one SQLite database of `--size` listings, indexed,
and two apps on the same index folder, as two gunicorn workers of one machine are. The
"searching" worker answers the bench's 200 queries over and over, catching up before each
search as the search page does (`sync_if_stale`). For `--seconds`, first with nothing
changing (the baseline), then while another worker process saves one listing every `--every`
seconds (a new description, committed with its outbox row, then synced as a request's
teardown does). Printed: p50, p95 and max of each phase, the ratio of the p95s (target: at
most 1.5), and how many index generations the searching worker opened in each phase.

Before changes were applied once per machine, every change was applied again at every sync
for the five minutes of the re-read window: a new generation every couple of seconds, which
the next search in every worker paid to open.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from search_bench import _settings, load_directory, percentile
from search_corpus import QUERIES, TODAY, directory


def _phase(app: Any, seconds: float) -> tuple[list[float], int]:
    """Search for `seconds` as the search page does; the times and generations opened."""
    from providers import search_index
    from search import parse_params

    engine = search_index.search_engine(app)
    times: list[float] = []
    generations = {engine.generation()}
    stop = time.monotonic() + seconds
    n = 0
    with app.app_context():
        while time.monotonic() < stop:
            _, params = QUERIES[n % len(QUERIES)]
            n += 1
            started = time.perf_counter()
            search_index.sync_if_stale(app)
            engine.search(parse_params(params, today=TODAY))
            times.append(time.perf_counter() - started)
            generations.add(engine.generation())
    return times, len(generations) - 1


def _change_listings(
    settings: dict[str, Any], every: float, ready: Any, stop: Any, made: Any
) -> None:
    """Another worker process: save one listing every `every` seconds, as a provider's
    request would (commit, then catch up as the request's teardown does)."""
    from sqlalchemy import select

    from marketplace import create_app
    from marketplace.extensions import db
    from providers import search_index
    from providers.models import Service

    app = create_app(settings)
    with app.app_context():
        search_index.sync(app)
        search_index.search_engine(app).count()  # opened, as a worker that has served
        ids = list(db.session.scalars(select(Service.id).limit(200)))
        ready.set()
        n = 0
        while not stop.wait(every):
            service = db.session.get(Service, ids[n % len(ids)])
            assert service is not None
            service.description = f"{service.description.split(' [')[0]} [changed {n}]"
            db.session.commit()
            search_index.sync(app)
            db.session.rollback()
            n += 1
        made.value = n
        search_index.search_engine(app).close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--engine", choices=["whoosh", "tantivy", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=60.0, help="of each phase")
    parser.add_argument("--every", type=float, default=3.0, help="seconds between changes")
    options = parser.parse_args()

    from marketplace import create_app
    from providers import search_index

    logging.getLogger("alembic").setLevel(logging.WARNING)
    print(f"search while listings change: {options.size:,} listings, engines {options.engine}")
    engines = ["whoosh", "tantivy"] if options.engine == "both" else [options.engine]
    documents = list(directory(options.size))
    rows = []
    with tempfile.TemporaryDirectory(prefix="search-live-") as temporary:
        work = Path(temporary)
        loaded = False
        for name in engines:
            settings = _settings(work, name)
            searching = create_app(settings)
            with searching.app_context():
                if not loaded:
                    started = time.perf_counter()
                    load_directory(documents)
                    loaded = True
                    print(
                        f"  {options.size:,} listings inserted in "
                        f"{time.perf_counter() - started:.0f} s",
                        flush=True,
                    )
                started = time.perf_counter()
                search_index.reindex(searching)
                print(f"  {name}: indexed in {time.perf_counter() - started:.0f} s", flush=True)
            with searching.app_context():
                search_index.sync(searching)
            _phase(searching, min(10.0, options.seconds))  # warming up, not timed
            still, still_generations = _phase(searching, options.seconds)
            # The other worker is a process of its own, as under gunicorn.
            processes = multiprocessing.get_context("spawn")
            ready, stop = processes.Event(), processes.Event()
            made = processes.Value("i", 0)
            changer = processes.Process(
                target=_change_listings, args=(settings, options.every, ready, stop, made)
            )
            changer.start()
            try:
                if not ready.wait(300):
                    raise RuntimeError("the changing worker did not start")
                live, live_generations = _phase(searching, options.seconds)
            finally:
                stop.set()
                changer.join()
            ratio = percentile(live, 0.95) / percentile(still, 0.95)
            rows.append((name, still, still_generations, live, live_generations, made.value, ratio))
            search_index.search_engine(searching).close()
    print()
    print(
        f"{options.size:,} listings, {options.seconds:.0f} s a phase, a change every "
        f"{options.every:g} s; times in ms"
    )
    print("| engine | phase | searches | p50 | p95 | max | generations opened |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, still, still_g, live, live_g, changes, _ in rows:
        for phase, times, opened in (
            ("unchanged", still, still_g),
            (f"{changes} changes", live, live_g),
        ):
            print(
                f"| {name} | {phase} | {len(times)} | {percentile(times, 0.5) * 1000:.1f} | "
                f"{percentile(times, 0.95) * 1000:.1f} | {max(times) * 1000:.1f} | {opened} |"
            )
    print()
    for name, *_, ratio in rows:
        verdict = "met" if ratio <= 1.5 else "NOT met"
        print(
            f"{name}: p95 while changing is {ratio:.2f}x the unchanged index's "
            f"(target at most 1.5x: {verdict})"
        )


if __name__ == "__main__":
    main()
