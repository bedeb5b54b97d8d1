"""Backups of the database and restoring them into an empty one.

SQLite is copied with SQLite's own online backup (a consistent copy while the site keeps
writing: a file copy of a WAL database is not). PostgreSQL is dumped with Debian's `pg_dump`
in its custom format and restored with `pg_restore`; point-in-time recovery, which needs WAL
archiving on the server, is described in docs/operations.md.

A restore only ever writes into an empty database, so it cannot be pointed at the live one by
mistake and merge two histories.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL, make_url


class BackupError(Exception):
    """A backup or restore could not be made; the message says why, for the operator."""


@dataclass(frozen=True)
class BackupFile:
    path: Path
    kind: str  # "sqlite" or "postgresql"
    size_bytes: int


def create_backup(database_url: str, target: Path) -> BackupFile:
    """Write a consistent copy of the database to `target` (which must not exist yet)."""
    url = make_url(database_url)
    if target.exists():
        raise BackupError(f"{target} already exists: choose a new file for each backup")
    target.parent.mkdir(parents=True, exist_ok=True)
    kind = url.get_backend_name()
    if kind == "sqlite":
        _sqlite_copy(_sqlite_path(url), target)
    elif kind == "postgresql":
        _run(
            [
                _pg_tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--file={target}",
                _libpq_url(url),
            ]
        )
    else:
        raise BackupError(f"no backup is known for {kind} databases")
    return BackupFile(target, kind, target.stat().st_size)


def restore_backup(backup: Path, database_url: str) -> None:
    """Load `backup` into the database at `database_url`, which must hold no tables."""
    url = make_url(database_url)
    if not backup.is_file():
        raise BackupError(f"{backup} is not a backup file")
    tables = _tables(url)
    if tables:
        raise BackupError(
            f"the database already holds {len(tables)} tables: restore only into an empty "
            "database, then point the site at it"
        )
    kind = url.get_backend_name()
    if kind == "sqlite":
        if _sqlite_header(backup) is False:
            raise BackupError(f"{backup} is not a SQLite backup")
        _sqlite_copy(backup, _sqlite_path(url))
    elif kind == "postgresql":
        _run(
            [
                _pg_tool("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={_libpq_url(url)}",
                str(backup),
            ]
        )
    else:
        raise BackupError(f"no restore is known for {kind} databases")


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def _sqlite_header(path: Path) -> bool:
    with path.open("rb") as file:
        return file.read(16) == b"SQLite format 3\x00"


def _sqlite_copy(source: Path, target: Path) -> None:
    # The backup API copies page by page under SQLite's own locking, so writers carry on and
    # the copy is one moment of the database, WAL included.
    source_connection = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        target_connection = sqlite3.connect(target)
        try:
            source_connection.backup(target_connection)
        finally:
            target_connection.close()
    finally:
        source_connection.close()


def _tables(url: URL) -> list[str]:
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        return []
    engine = create_engine(url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def _libpq_url(url: URL) -> str:
    """The same address as libpq writes it (SQLAlchemy's driver name is not part of it)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_tool(name: str) -> str:
    """Debian keeps the versioned tools in /usr/lib/postgresql/N/bin; PATH has wrappers."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if versions:
        return str(versions[-1])
    raise BackupError(f"{name} was not found: install Debian's postgresql-client package")


def _run(command: list[str]) -> None:
    result = subprocess.run(  # noqa: S603 (the tool's path is found above, not from input)
        command, capture_output=True, text=True, check=False, env={**os.environ}
    )
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip()}")
