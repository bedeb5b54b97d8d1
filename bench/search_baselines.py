"""What the search library is measured against: each engine used plainly, with its defaults.

Each baseline indexes the listings' name, description and provider name as text (and the id,
stored), with the engine's default analysis, and answers the words typed with its own query
parser and default scoring, first 20 by score, ids read from the stored field. Nothing the
library adds: no care vocabulary, no stemming unless the engine does it by default, no
filters, facets, snippets, spelling, places or caches. A query without words asks for every
document (the nearest thing to browsing these engines have).

- plain Whoosh: `TEXT` fields (StandardAnalyzer: words, lower case, stop words), default
  writer and commit, `MultifieldParser` (all words required), BM25F.
- plain tantivy: text fields with the default tokenizer, default writer,
  `parse_query_lenient` (the default QueryParser, any word may match; lenient because typed
  text such as "Alzheimer's" is a syntax error to the strict parser), BM25.
- SQLite FTS5: the standard library's sqlite3, `CREATE VIRTUAL TABLE ... USING fts5` with the
  default tokenizer (unicode61), each word quoted (all required), `ORDER BY rank` (bm25).
- PostgreSQL full-text search (only when `BENCH_DATABASE_URL` or `DATABASE_URL` names a
  PostgreSQL database, as `scripts/with-postgres.sh` sets it): a table with a stored generated
  `tsvector` of the three fields (the `english` configuration), a GIN index on it,
  `plainto_tsquery` (all words required) and `ORDER BY ts_rank`, through psycopg. The server
  is another process: its memory and CPU are not in the worker's figures.
"""

from __future__ import annotations

import os
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from search import ListingDocument

TEXT = ("name", "description", "provider")
PAGE = 20


class Baseline(ABC):
    """A plain engine on one folder: `build` once, then `search` the words typed."""

    name = ""

    @abstractmethod
    def build(self, documents: Iterable[ListingDocument], folder: Path) -> int:
        """Index `documents` from scratch in `folder`; returns how many."""

    @abstractmethod
    def search(self, words: str) -> list[str]:
        """Ids of the first page for `words` (every document when there are none)."""

    @abstractmethod
    def close(self) -> None:
        """Let go of the index."""

    def index_bytes(self, folder: Path) -> int:
        """The size of the index: by default, of the files in its folder."""
        return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


class PlainWhoosh(Baseline):
    name = "plain whoosh"

    def build(self, documents: Iterable[ListingDocument], folder: Path) -> int:
        from whoosh import fields, index
        from whoosh.qparser import MultifieldParser

        schema = fields.Schema(
            id=fields.ID(stored=True, unique=True),
            name=fields.TEXT,
            description=fields.TEXT,
            provider=fields.TEXT,
        )
        folder.mkdir(parents=True, exist_ok=True)
        self._ix = index.create_in(str(folder), schema)
        writer = self._ix.writer()
        count = 0
        for document in documents:
            count += 1
            writer.add_document(
                id=document.id,
                name=document.name,
                description=document.description,
                provider=document.provider_name,
            )
        writer.commit()
        self._parser = MultifieldParser(list(TEXT), schema)
        self._searcher: Any = None
        return count

    def search(self, words: str) -> list[str]:
        from whoosh import query

        if self._searcher is None:
            self._searcher = self._ix.searcher()
        parsed = self._parser.parse(words) if words else query.Every()
        return [hit["id"] for hit in self._searcher.search(parsed, limit=PAGE)]

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
        self._ix.close()


class PlainTantivy(Baseline):
    name = "plain tantivy"

    def build(self, documents: Iterable[ListingDocument], folder: Path) -> int:
        import tantivy

        builder = tantivy.SchemaBuilder()
        builder.add_text_field("id", stored=True, tokenizer_name="raw")
        for name in TEXT:
            builder.add_text_field(name)
        folder.mkdir(parents=True, exist_ok=True)
        self._tantivy = tantivy
        self._ix = tantivy.Index(builder.build(), path=str(folder))
        writer = self._ix.writer()
        count = 0
        for document in documents:
            count += 1
            writer.add_document(
                tantivy.Document(
                    id=document.id,
                    name=document.name,
                    description=document.description,
                    provider=document.provider_name,
                )
            )
        writer.commit()
        writer.wait_merging_threads()
        self._searcher: Any = None
        return count

    def search(self, words: str) -> list[str]:
        if self._searcher is None:
            self._ix.reload()
            self._searcher = self._ix.searcher()
        if words:
            parsed, _errors = self._ix.parse_query_lenient(words, list(TEXT))
        else:
            parsed = self._tantivy.Query.all_query()
        hits = self._searcher.search(parsed, limit=PAGE).hits
        return [self._searcher.doc(address)["id"][0] for _, address in hits]

    def close(self) -> None:
        self._searcher = None


class SqliteFts5(Baseline):
    name = "sqlite fts5"

    def build(self, documents: Iterable[ListingDocument], folder: Path) -> int:
        folder.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(folder / "fts.db")
        self._db.execute(
            "CREATE VIRTUAL TABLE listings USING fts5(id UNINDEXED, name, description, provider)"
        )
        with self._db:
            self._db.executemany(
                "INSERT INTO listings (id, name, description, provider) VALUES (?, ?, ?, ?)",
                ((d.id, d.name, d.description, d.provider_name) for d in documents),
            )
        count: int = self._db.execute("SELECT count(*) FROM listings").fetchone()[0]
        return count

    def search(self, words: str) -> list[str]:
        if not words:
            rows = self._db.execute("SELECT id FROM listings LIMIT ?", (PAGE,))
            return [row[0] for row in rows]
        # Each word quoted: bare FTS5 syntax would reject "Alzheimer's" or read "near" and "or".
        match = " ".join('"' + word.replace('"', '""') + '"' for word in words.split())
        rows = self._db.execute(
            "SELECT id FROM listings WHERE listings MATCH ? ORDER BY rank LIMIT ?", (match, PAGE)
        )
        return [row[0] for row in rows]

    def close(self) -> None:
        self._db.close()


def postgres_url() -> str | None:
    """The PostgreSQL database to measure, as psycopg takes it, or None when there is none."""
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
    if not url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        return None
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


class PostgresFts(Baseline):
    name = "postgresql fts"

    def build(self, documents: Iterable[ListingDocument], folder: Path) -> int:
        import psycopg

        url = postgres_url()
        if url is None:
            raise RuntimeError("set BENCH_DATABASE_URL (or run under scripts/with-postgres.sh)")
        self._db = psycopg.connect(url, autocommit=True)
        self._db.execute("DROP TABLE IF EXISTS bench_listings")
        self._db.execute(
            """CREATE TABLE bench_listings (
                id text PRIMARY KEY, name text, description text, provider text,
                document tsvector GENERATED ALWAYS AS (to_tsvector('english',
                    name || ' ' || description || ' ' || provider)) STORED)"""
        )
        with self._db.cursor().copy(
            "COPY bench_listings (id, name, description, provider) FROM STDIN"
        ) as copy:
            for d in documents:
                copy.write_row((d.id, d.name, d.description, d.provider_name))
        self._db.execute(
            "CREATE INDEX bench_listings_document ON bench_listings USING gin (document)"
        )
        self._db.execute("ANALYZE bench_listings")
        row = self._db.execute("SELECT count(*) FROM bench_listings").fetchone()
        return int(row[0]) if row else 0

    def search(self, words: str) -> list[str]:
        if not words:
            rows = self._db.execute("SELECT id FROM bench_listings LIMIT %s", (PAGE,))
        else:
            rows = self._db.execute(
                """SELECT id FROM bench_listings, plainto_tsquery('english', %s) AS query
                    WHERE document @@ query ORDER BY ts_rank(document, query) DESC LIMIT %s""",
                (words, PAGE),
            )
        return [row[0] for row in rows]

    def index_bytes(self, folder: Path) -> int:
        row = self._db.execute("SELECT pg_total_relation_size('bench_listings')").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self._db.execute("DROP TABLE IF EXISTS bench_listings")
        self._db.close()


BASELINES: dict[str, type[Baseline]] = {
    cls.name: cls for cls in (PlainWhoosh, PlainTantivy, SqliteFts5, PostgresFts)
}
