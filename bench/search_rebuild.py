"""A whole Whoosh rebuild in one process and shared between processes, in the same run.

    .venv/bin/python bench/search_rebuild.py --size 10000
    .venv/bin/python bench/search_rebuild.py --size 100000 --repeat 1

`engine.rebuild` of the bench's `--size` listings (analysis included, as `flask search
reindex` does after reading the database), alternately with one process and with
`--processes`, `--repeat` times each, into folders of their own. After each build the bench's
200 queries are answered and their answers (hits, scores, snippets, distances, facet counts,
notices: `search_rounds.answer`) digested: the digests must be equal. Printed: each build's
wall and CPU seconds (this process and its children), the median wall time of each way and
their ratio, and the digests. On a machine whose cores are busy with other work the wall
times say little: compare them on a quiet one.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from search_bench import _context
from search_corpus import QUERIES, TODAY, directory
from search_rounds import answer

from search import open_engine, parse_params


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the building processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _build(size: int, processes: int, folder: Path) -> tuple[float, float, str, int]:
    """Seconds to rebuild (wall and CPU), the answers' digest, and the index's segments."""
    engine = open_engine("whoosh", folder, **_context())
    engine.build_processes = processes  # type: ignore[attr-defined]
    listings = list(directory(size))
    started, cpu = time.perf_counter(), _cpu()
    engine.rebuild(listings)
    seconds, cpu = time.perf_counter() - started, _cpu() - cpu
    answers = [engine.search(parse_params(params, today=TODAY)) for _, params in QUERIES]
    digest = hashlib.sha256(
        json.dumps([answer(a) for a in answers], sort_keys=True).encode("utf-8")
    ).hexdigest()
    segments = len(engine.current_view().snapshot._reader.leaf_readers())  # type: ignore[attr-defined]
    engine.close()
    return seconds, cpu, digest, segments


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    options = parser.parse_args()

    times: dict[int, list[float]] = {1: [], options.processes: []}
    digests: dict[int, set[str]] = {1: set(), options.processes: set()}
    with tempfile.TemporaryDirectory(prefix="search-rebuild-") as temporary:
        for number in range(options.repeat):
            for processes in (1, options.processes):
                folder = Path(temporary) / f"{processes}-{number}"
                seconds, cpu, digest, segments = _build(options.size, processes, folder)
                times[processes].append(seconds)
                digests[processes].add(digest)
                print(
                    f"{options.size:,} listings, {processes} process(es): {seconds:.1f} s "
                    f"(CPU {cpu:.1f} s), "
                    f"{segments} segment(s), answers {digest[:16]}",
                    flush=True,
                )
    one, many = statistics.median(times[1]), statistics.median(times[options.processes])
    print(
        f"median: one process {one:.1f} s, {options.processes} processes {many:.1f} s "
        f"({many / one:.2f}x)"
    )
    same = digests[1] == digests[options.processes] and len(digests[1]) == 1
    print(f"answers identical: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
