"""A search worker's memory over many index generations, beside the same worker unchanged.

    .venv/bin/python bench/search_memory.py --size 10000
    .venv/bin/python bench/search_memory.py --size 100000 --generations 100

Issue 21 found Whoosh workers growing without bound: at 100,000 listings each new index
generation left 80 to 160 MB behind (a reference cycle kept every replaced generation's
scores alive until a collection ran). This measures what a gunicorn worker does all day, in
a process of its own per engine (so one engine's memory is not the other's): one SQLite
database of `--size` listings, indexed; the worker warms up with the bench's 200 queries,
then

- **unchanged** (the baseline, same process, same run): `--generations` rounds of
  `--searches` searches each, nothing changing;
- **changing**: `--generations` rounds, each saving one listing (a new description, committed
  with its outbox row, then caught up as a request's teardown does, which writes the index and
  makes a new generation) and then the same searches, which open that generation.

It prints the resident set size (VmRSS) after every tenth round of each phase (and, for the
changing phase, its anonymous and file-backed parts), what one `gc.collect()` gives back at
the end (much would mean garbage waiting for the collector: the old fault), and the heap the
worker still holds before the changing phase, after `--settle` generations and at the end,
each taken after a collection and `malloc_trim(0)`: glibc keeps freed memory in per-thread
arenas for reuse, so VmRSS wanders by tens of MiB with no leak (tantivy's writer threads).

The verdict is on that held heap from the `--settle`th generation to the last: at most
FLAT_MIB_PER_GENERATION MiB a generation (the old fault was 80 to 160). The first generations
grow the heap once, by design and within bounds: the engine keeps the previous generation
beside the current one (a search in another thread may still hold it), and per-segment
postings and catalogue parts fill their caches (SEGMENT_POSTINGS, PART_CACHE_SIZE). At
100,000 listings that is about 180 MiB over the first ten generations, after which the heap
is level; a leak would keep growing after them.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import logging
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from search_bench import _settings, load_directory
from search_corpus import QUERIES, TODAY, directory

# A generation of the 100,000-listing Whoosh index left 80 to 160 MB; "flat" is allowed a
# small fraction of one MiB per generation (allocator noise, the catalogue's caches).
FLAT_MIB_PER_GENERATION = 0.5


def _rss_mib(kind: str = "VmRSS") -> float:
    """The process's resident memory, MiB: all of it (VmRSS), or its anonymous part (RssAnon:
    the heap, what a leak grows) or its file-backed part (RssFile: mapped index files)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{kind}:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {kind} in /proc/self/status")


def _held_mib() -> float:
    """The heap the process still holds: after a collection, and after glibc has given back
    to the system what it kept free for reuse (its arenas keep freed memory, and tantivy's
    writer threads each allocate in an arena of their own, so VmRSS wanders by tens of MiB
    with no leak at all)."""
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    return _rss_mib("RssAnon")


def _worker(
    settings: dict[str, Any], generations: int, searches: int, settle: int, results: Any
) -> None:
    """One engine's search worker: warm up, then the unchanged and the changing phases."""
    from sqlalchemy import select

    from marketplace import create_app
    from marketplace.extensions import db
    from providers import search_index
    from providers.models import Service
    from search import parse_params

    logging.getLogger("alembic").setLevel(logging.WARNING)
    app = create_app(settings)
    plans = [parse_params(params, today=TODAY) for _, params in QUERIES]
    engine = search_index.search_engine(app)
    asked = 0

    def search_round() -> None:
        nonlocal asked
        for _ in range(searches):
            search_index.sync_if_stale(app)
            engine.search(plans[asked % len(plans)])
            asked += 1

    with app.app_context():
        search_index.sync(app)
        for _ in range(len(plans) // searches + 1):
            search_round()  # warm: every query once, the catalogue and caches built
        start = _rss_mib()
        unchanged = [(0, start)]
        for n in range(1, generations + 1):
            search_round()
            unchanged.append((n, _rss_mib()))
        ids = list(db.session.scalars(select(Service.id).order_by(Service.id).limit(200)))
        first_generation = engine.generation()
        held_before = held_settled = _held_mib()
        changing = [(0, _rss_mib())]
        anonymous = [(0, _rss_mib("RssAnon"))]
        mapped = [(0, _rss_mib("RssFile"))]
        started = time.perf_counter()
        for n in range(1, generations + 1):
            service = db.session.get(Service, ids[n % len(ids)])
            assert service is not None
            service.description = f"{service.description.split(' [')[0]} [changed {n}]"
            db.session.commit()
            search_index.sync(app)
            db.session.rollback()
            search_round()
            changing.append((n, _rss_mib()))
            anonymous.append((n, _rss_mib("RssAnon")))
            mapped.append((n, _rss_mib("RssFile")))
            if n == settle:
                held_settled = _held_mib()
        seconds = time.perf_counter() - started
        opened = engine.generation() != first_generation
        before_collect = _rss_mib()
        collected = gc.collect()
        after_collect = _rss_mib()
        held_after = _held_mib()
        engine.close()
    results.put(
        {
            "unchanged": unchanged,
            "changing": changing,
            "changing, anonymous": anonymous,
            "changing, mapped files": mapped,
            "seconds": seconds,
            "opened": opened,
            "before_collect": before_collect,
            "after_collect": after_collect,
            "collected": collected,
            "held_before": held_before,
            "held_settled": held_settled,
            "held_after": held_after,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--engine", choices=["whoosh", "tantivy", "both"], default="both")
    parser.add_argument("--generations", type=int, default=100)
    parser.add_argument("--searches", type=int, default=20, help="searches a round")
    parser.add_argument(
        "--settle",
        type=int,
        default=10,
        help="generations after which the engine's bounded caches are full (see the docstring)",
    )
    options = parser.parse_args()

    from marketplace import create_app
    from providers import search_index

    logging.getLogger("alembic").setLevel(logging.WARNING)
    engines = ["whoosh", "tantivy"] if options.engine == "both" else [options.engine]
    documents = list(directory(options.size))
    processes = multiprocessing.get_context("spawn")
    outcomes: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="search-memory-") as temporary:
        work = Path(temporary)
        loaded = False
        for name in engines:
            settings = _settings(work, name)
            builder = create_app(settings)
            with builder.app_context():
                if not loaded:
                    load_directory(documents)
                    loaded = True
                started = time.perf_counter()
                search_index.reindex(builder)
                search_index.search_engine(builder).close()
                print(f"  {name}: indexed in {time.perf_counter() - started:.0f} s", flush=True)
            results = processes.Queue()
            worker = processes.Process(
                target=_worker,
                args=(settings, options.generations, options.searches, options.settle, results),
            )
            worker.start()
            outcomes[name] = results.get()
            worker.join()

    print()
    print(
        f"{options.size:,} listings; {options.generations} rounds of {options.searches} "
        "searches a phase; resident set size (VmRSS) of the search worker, MiB"
    )
    marks = list(range(0, options.generations + 1, max(1, options.generations // 10)))
    print("| engine | phase | " + " | ".join(f"round {n}" for n in marks) + " |")
    print("| --- | --- | " + " | ".join("---:" for _ in marks) + " |")
    for name, outcome in outcomes.items():
        for phase in ("unchanged", "changing", "changing, anonymous", "changing, mapped files"):
            points = dict(outcome[phase])
            cells = " | ".join(f"{points[n]:.0f}" for n in marks)
            print(f"| {name} | {phase} | {cells} |")
    print()
    for name, outcome in outcomes.items():
        grew = outcome["changing"][-1][1] - outcome["changing"][0][1]
        held = outcome["held_after"] - outcome["held_before"]
        settled = outcome["held_after"] - outcome["held_settled"]
        later = max(1, options.generations - options.settle)
        per_generation = settled / later
        verdict = "flat" if per_generation <= FLAT_MIB_PER_GENERATION else "NOT flat"
        print(
            f"{name}: {options.generations} generations in {outcome['seconds']:.0f} s "
            f"(new generations opened: {outcome['opened']}); VmRSS {grew:+.0f} MiB over them "
            f"(the unchanged phase: {outcome['unchanged'][-1][1] - outcome['unchanged'][0][1]:+.0f}"
            f" MiB); gc.collect() at the end freed "
            f"{outcome['before_collect'] - outcome['after_collect']:.0f} MiB "
            f"({outcome['collected']} objects); heap held after collecting and trimming "
            f"{outcome['held_before']:.0f} MiB before the first change, "
            f"{outcome['held_settled']:.0f} after {options.settle} generations "
            f"({held:+.0f} over all {options.generations}), {outcome['held_after']:.0f} at the "
            f"end: {per_generation:+.2f} MiB a generation after the first {options.settle} "
            f"({verdict}: at most {FLAT_MIB_PER_GENERATION} MiB a generation)"
        )


if __name__ == "__main__":
    main()
