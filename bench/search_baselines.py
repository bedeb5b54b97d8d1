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
"""

from __future__ import annotations

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


BASELINES: dict[str, type[Baseline]] = {
    cls.name: cls for cls in (PlainWhoosh, PlainTantivy, SqliteFts5)
}
