"""What a change costs the searches that follow it: the bench's 200 queries right after each
change beside the same 200 with nothing changed, in one process.

    .venv/bin/python bench/search_after_change.py --size 10000
    git archive <commit> search bench | tar -x -C /tmp/before
    .venv/bin/python bench/search_after_change.py --size 10000 --code /tmp/before

`--changes` times: the 200 queries on the current generation, then one listing changed
(`engine.index_documents`, as the outbox does after a provider saves) and the 200 again, the
first of which opens the new generation. Printed: the medians of both and the extra a change
costs. `--code` runs another copy of `search/` and `bench/` (an older commit, say) on the same
index folder, so two versions can be compared back to back; the index is built once in
`--folder` and reused (the changes stay in it).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--engine", choices=("whoosh", "tantivy"), default="whoosh")
    parser.add_argument("--changes", type=int, default=6)
    parser.add_argument("--folder", type=Path, default=Path("instance/bench-after-change"))
    parser.add_argument("--code", type=Path, default=HERE.parent, help="a copy of the code")
    options = parser.parse_args()
    code = options.code.resolve()
    sys.path[:0] = [str(code / "bench"), str(code)]

    from search_bench import _context
    from search_corpus import QUERIES, TODAY, directory

    import search
    from search import open_engine, parse_params
    from search.errors import IndexCorrupted, IndexMissing

    print(f"code: {Path(search.__file__).parent}")
    engine = open_engine(
        options.engine, options.folder / f"{options.engine}-{options.size}", **_context()
    )
    listings = list(directory(options.size))
    try:
        held = engine.count()
    except (IndexMissing, IndexCorrupted):
        held = -1
    if held != options.size:
        engine.rebuild(listings)
    searches = [parse_params(params, today=TODAY) for _, params in QUERIES]
    for query in searches:
        engine.search(query)
    still: list[float] = []
    changed: list[float] = []
    for number in range(options.changes):
        began = time.perf_counter()
        for query in searches:
            engine.search(query)
        still.append(time.perf_counter() - began)
        listing = listings[number]
        engine.index_documents(
            [dataclasses.replace(listing, description=f"{listing.description} {time.time()}")]
        )
        began = time.perf_counter()
        for query in searches:
            engine.search(query)
        changed.append(time.perf_counter() - began)
    before, after = statistics.median(still), statistics.median(changed)
    print(
        f"{options.size:,} listings, {options.engine}: the 200 unchanged {before:.2f} s, the "
        f"first 200 after a change {after:.2f} s (median of {options.changes}): a change "
        f"costs {after - before:.2f} s ({after / before:.2f}x)"
    )
    engine.close()


if __name__ == "__main__":
    main()
