"""One of our engines alone on the search bench's 200 queries: each round apart, and a digest.

    .venv/bin/python bench/search_rounds.py --size 100000 --engine tantivy
    .venv/bin/python bench/search_rounds.py --size 100000 --engine tantivy --profile 0
    .venv/bin/python bench/search_rounds.py --size 100000 --engine tantivy --changes 5

What `search_bench.py` folds into one p95, taken apart to find where the time goes: the p50
and p95 of each round of the 200 (the first round fills what an index generation keeps; the
later ones show the steady state), how many of the first round took over `--slow` ms, the
slowest of them, optionally a cProfile of one round, and a SHA-256 of every answer (hits,
scores, snippets, distances, facet counts, notices) of the first round. An optimisation that
leaves the digest as it was has changed no result. The index is built once in `--folder` and
reused by later runs of the same size and engine, so runs can be compared back to back.

With `--changes N`, afterwards: N times, one listing is changed (`engine.index_documents`, as
the outbox does after a provider saves) and the next search is timed, which opens the new
generation: what a search costs right after a change, in a process that had been searching.
The changes stay in the index (later runs see a few renamed listings).
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import hashlib
import json
import pstats
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from search_bench import _context, percentile
from search_corpus import QUERIES, TODAY, directory

from search import SearchResults, open_engine, parse_params
from search.errors import IndexCorrupted, IndexMissing


def answer(results: SearchResults) -> list[Any]:
    """Everything a search page shows of a search, in a form JSON can hold."""
    return [
        results.total,
        [
            [h.document.id, round(h.score, 6), h.snippet, h.name_html, h.distance_miles]
            for h in results.hits
        ],
        {
            f: [[c.value, c.label, c.count, c.selected] for c in cs]
            for f, cs in results.facets.items()
        },
        list(results.notices),
        results.relaxed,
        results.suggestion,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--engine", choices=("whoosh", "tantivy"), default="tantivy")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--slow", type=float, default=5.0, help="ms: count first-round searches")
    parser.add_argument("--profile", type=int, metavar="ROUND", help="cProfile this round")
    parser.add_argument("--folder", type=Path, default=Path("instance/bench-rounds"))
    parser.add_argument("--answers", type=Path, help="also write the first round's answers here")
    parser.add_argument("--changes", type=int, default=0, help="then time searches after changes")
    options = parser.parse_args()

    folder = options.folder / f"{options.engine}-{options.size}"
    engine = open_engine(options.engine, folder, **_context())
    try:
        held = engine.count()
    except (IndexMissing, IndexCorrupted):
        held = -1
    if held != options.size:
        started = time.perf_counter()
        engine.rebuild(directory(options.size))
        print(f"built {options.size:,} listings in {time.perf_counter() - started:.1f} s")
        # A fresh process would open the new index cold: drop what the build left open.
        engine.close()
    searches = [(kind, params, parse_params(params, today=TODAY)) for kind, params in QUERIES]
    started = time.perf_counter()
    engine.current_view()
    print(f"opened the generation in {(time.perf_counter() - started) * 1000:.0f} ms")

    every: list[float] = []
    first_round: list[tuple[float, str, dict[str, str]]] = []
    answers: list[Any] = []
    profile = cProfile.Profile() if options.profile is not None else None
    for number in range(options.rounds):
        timings = []
        for kind, params, search in searches:
            if profile and number == options.profile:
                profile.enable()
            began = time.perf_counter()
            results = engine.search(search)
            seconds = time.perf_counter() - began
            if profile and number == options.profile:
                profile.disable()
            timings.append(seconds)
            if number == 0:
                first_round.append((seconds, kind, params))
                answers.append(answer(results))
        every += timings
        print(
            f"round {number}: p50 {percentile(timings, 0.5) * 1000:.2f}"
            f"  p95 {percentile(timings, 0.95) * 1000:.2f}  max {max(timings) * 1000:.2f} ms"
        )
    print(
        f"all {len(every)}: p50 {percentile(every, 0.5) * 1000:.2f}"
        f"  p95 {percentile(every, 0.95) * 1000:.2f}  p99 {percentile(every, 0.99) * 1000:.2f} ms"
    )
    slow = sorted((t for t in first_round if t[0] * 1000 > options.slow), key=lambda t: -t[0])
    print(f"first round over {options.slow:g} ms: {len(slow)} of {len(first_round)}")
    for seconds, kind, params in slow[:10]:
        print(f"  {seconds * 1000:7.2f} ms  {kind:9} {params}")
    digest = hashlib.sha256(json.dumps(answers, sort_keys=True).encode("utf-8")).hexdigest()
    print(f"answers digest {digest}")
    if options.answers:
        options.answers.write_text(json.dumps(answers, sort_keys=True, indent=1), encoding="utf-8")
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
    listings = directory(options.changes)
    for number, listing in enumerate(listings, start=1):
        changed = dataclasses.replace(listing, name=f"{listing.name} (changed {time.time():.0f})")
        began = time.perf_counter()
        engine.index_documents([changed])
        written = time.perf_counter() - began
        _, _, search = searches[0]
        began = time.perf_counter()
        engine.search(search)
        after = time.perf_counter() - began
        began = time.perf_counter()
        engine.search(search)
        again = time.perf_counter() - began
        print(
            f"change {number}: written in {written * 1000:.0f} ms; the next search"
            f" {after * 1000:.0f} ms, the one after {again * 1000:.1f} ms"
        )
    engine.close()


if __name__ == "__main__":
    main()
