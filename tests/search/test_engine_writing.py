"""The engine suite, writing side: add, replace, delete, rebuild and swap, recovery from a
missing or damaged index, and one writer at a time. Every test runs on both engines.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from whoosh import index

from search import (
    Gazetteer,
    IndexCorrupted,
    IndexLocked,
    IndexMissing,
    ListingDocument,
    SearchEngine,
    UnknownEngine,
    open_engine,
)
from search.engine import BaseEngine
from search.home import IndexHome

from .helpers import ask, ids, listing

REPOSITORY = Path(__file__).parent.parent.parent


def test_added_listings_are_found_at_once_and_counted(engine: SearchEngine) -> None:
    before = engine.generation()
    assert engine.index_documents([listing("a"), listing("b", name="Tea dance")]) == 2
    assert engine.generation() != before
    assert engine.count() == 2
    assert ids(ask(engine, q="tea dance")) == ["b"]


def test_indexing_a_listing_again_replaces_it(engine: SearchEngine) -> None:
    engine.index_documents([listing("a", name="Bowls on the green")])
    engine.index_documents([listing("a", name="Ukulele band", price_pence=500)])
    assert engine.count() == 1
    assert ask(engine, q="bowls").total == 0
    [hit] = ask(engine, q="ukulele").hits
    assert hit.document.price_pence == 500


def test_deleted_listings_vanish_at_once(engine: SearchEngine) -> None:
    engine.index_documents([listing("a"), listing("b"), listing("c")])
    assert engine.delete(["b", "not-indexed"]) == 2
    assert sorted(ids(ask(engine))) == ["a", "c"]
    assert engine.count() == 2
    facets = {c.value: c.count for c in ask(engine).facets["category"]}
    assert facets["personal-care"] == 2


def test_another_process_sees_every_change(make_engine: Callable[..., SearchEngine]) -> None:
    writer, reader = make_engine(), make_engine()
    writer.rebuild([listing("a")])
    assert reader.count() == 1
    writer.index_documents([listing("b", name="Tea dance")])
    assert ids(ask(reader, q="tea dance")) == ["b"]
    writer.delete(["a"])
    assert ids(ask(reader)) == ["b"]


def test_a_listing_written_by_a_real_second_process_is_found(
    engine_name: str, engine: SearchEngine, tmp_path: Path
) -> None:
    engine.index_documents([listing("a")])
    assert engine.count() == 1
    _child("index", tmp_path / "index", engine_name, "from-child")
    assert ids(ask(engine, q="tea dance")) == ["from-child"]


def test_rebuild_swaps_in_a_whole_new_index(make_engine: Callable[..., SearchEngine]) -> None:
    serving, rebuilding = make_engine(), make_engine()
    serving.rebuild([listing("old")])
    assert ids(ask(serving)) == ["old"]
    seen: list[int] = []
    assert rebuilding.rebuild((listing(f"new-{n}") for n in range(3)), progress=seen.append) == 3
    assert seen[-1] == 3
    assert sorted(ids(ask(serving))) == ["new-0", "new-1", "new-2"]


def test_rebuild_keeps_the_previous_folder_only(
    engine: SearchEngine, engine_name: str, tmp_path: Path
) -> None:
    home = IndexHome(tmp_path / "index", engine_name)
    first = home.current()
    engine.rebuild([listing("a")])
    second = home.current()
    engine.rebuild([listing("b")])
    assert home.current() != second
    assert second.is_dir()
    assert not first.exists()


def test_a_failed_rebuild_leaves_the_old_index_serving(
    engine: SearchEngine, engine_name: str, tmp_path: Path
) -> None:
    engine.index_documents([listing("a")])
    home = IndexHome(tmp_path / "index", engine_name)
    folders = sorted(p.name for p in home.path.iterdir() if p.is_dir())

    def broken() -> Iterator[ListingDocument]:
        yield listing("b")
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        engine.rebuild(broken())
    assert ids(ask(engine)) == ["a"]
    assert sorted(p.name for p in home.path.iterdir() if p.is_dir()) == folders


def test_a_missing_index_is_reported(make_engine: Callable[..., SearchEngine]) -> None:
    engine = make_engine()
    with pytest.raises(IndexMissing):
        ask(engine)
    with pytest.raises(IndexMissing):
        engine.index_documents([listing("a")])


def test_a_missing_index_is_rebuilt_from_the_source(
    make_engine: Callable[..., SearchEngine],
) -> None:
    calls: list[int] = []

    def source() -> list[ListingDocument]:
        calls.append(1)
        return [listing("a"), listing("b")]

    engine = make_engine(source=source)
    assert ask(engine).total == 2
    engine.index_documents([listing("c")])
    assert engine.count() == 3
    assert calls == [1]


def _damage(folder: Path) -> None:
    for file in folder.rglob("*"):
        if file.is_file():
            file.write_bytes(b"\x00garbage" * 7)


def test_a_damaged_index_is_reported(
    make_engine: Callable[..., SearchEngine], engine_name: str, tmp_path: Path
) -> None:
    engine = make_engine()
    engine.rebuild([listing("a")])
    _damage(IndexHome(tmp_path / "index", engine_name).current())
    fresh = make_engine()
    with pytest.raises(IndexCorrupted):
        ask(fresh)


def test_a_damaged_index_is_rebuilt_from_the_source(
    make_engine: Callable[..., SearchEngine], engine_name: str, tmp_path: Path
) -> None:
    make_engine().rebuild([listing("a")])
    _damage(IndexHome(tmp_path / "index", engine_name).current())
    engine = make_engine(source=lambda: [listing("a"), listing("b")])
    assert sorted(ids(ask(engine))) == ["a", "b"]


def test_a_writer_waits_for_the_lock_then_gives_up(
    make_engine: Callable[..., SearchEngine], engine_name: str, tmp_path: Path
) -> None:
    engine = make_engine(writer_timeout=0.3)
    engine.rebuild([])
    with IndexHome(tmp_path / "index", engine_name).write_lock(timeout=1):
        started = time.monotonic()
        with pytest.raises(IndexLocked):
            engine.index_documents([listing("a")])
        assert time.monotonic() - started >= 0.25
    engine.index_documents([listing("a")])
    assert engine.count() == 1


def test_a_writer_waits_for_another_process_to_finish(
    make_engine: Callable[..., SearchEngine], engine_name: str, tmp_path: Path
) -> None:
    engine = make_engine(writer_timeout=10)
    engine.rebuild([])
    holder = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.search.child",
            "hold",
            str(tmp_path / "index"),
            engine_name,
            "0.5",
        ],
        cwd=REPOSITORY,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        engine.index_documents([listing("a")])
        assert time.monotonic() - started >= 0.2
    finally:
        holder.wait(timeout=10)
        holder.stdout.close()  # type: ignore[union-attr]
    assert engine.count() == 1


def test_each_engine_keeps_its_own_index_in_a_shared_folder(
    gazetteer: Gazetteer, tmp_path: Path
) -> None:
    whoosh = open_engine("whoosh", tmp_path, gazetteer=gazetteer)
    whoosh.rebuild([listing("w")])
    switched = open_engine("tantivy", tmp_path, gazetteer=gazetteer, source=lambda: [listing("t")])
    assert ids(ask(switched)) == ["t"]
    assert ids(ask(whoosh)) == ["w"]
    whoosh.close()
    switched.close()


def test_unknown_engine_names_are_refused(gazetteer: Gazetteer, tmp_path: Path) -> None:
    with pytest.raises(UnknownEngine, match="whoosh, tantivy"):
        open_engine("elasticsearch", tmp_path, gazetteer=gazetteer)


def test_each_engine_offers_the_interface(engine: SearchEngine, engine_name: str) -> None:
    assert isinstance(engine, SearchEngine)
    assert engine.name == engine_name


def _child(mode: str, path: Path, engine_name: str, argument: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "tests.search.child", mode, str(path), engine_name, argument],
        cwd=REPOSITORY,
        check=True,
        timeout=60,
    )


def test_whoosh_reads_only_new_segments_after_a_change(
    gazetteer: Gazetteer, tmp_path: Path
) -> None:
    engine = open_engine("whoosh", tmp_path / "index", gazetteer=gazetteer)
    assert isinstance(engine, BaseEngine)
    engine.rebuild([listing(str(n)) for n in range(20)])
    assert engine.count() == 20
    [first] = engine.segment_parts.values()
    engine.index_documents([listing("new")])
    engine.delete(["3"])
    assert engine.count() == 20
    assert any(part is first for part in engine.segment_parts.values())
    assert len(engine.segment_parts) == 2
    engine.close()


def test_whoosh_waits_for_its_own_lock_then_gives_up(gazetteer: Gazetteer, tmp_path: Path) -> None:
    engine = open_engine("whoosh", tmp_path / "index", gazetteer=gazetteer, writer_timeout=0.3)
    engine.rebuild([])
    # A writer that bypasses the library's lock: Whoosh's own lock must still be waited for.
    raw = index.open_dir(str(IndexHome(tmp_path / "index", "whoosh").current()))
    writer = raw.writer()
    try:
        started = time.monotonic()
        with pytest.raises(IndexLocked):
            engine.index_documents([listing("a")])
        assert time.monotonic() - started >= 0.25
    finally:
        writer.cancel()
        raw.close()
    engine.index_documents([listing("a")])
    assert engine.count() == 1
    engine.close()
