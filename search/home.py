"""Where an index lives on disk: generation folders, the pointer to the current one, the locks.

    <home>/CURRENT-<engine> the name of the folder searches read (replaced atomically)
    <home>/<engine>-<n>/    one complete index each; a rebuild writes a new one, then swaps
    <home>/write.lock       held by whoever writes to the current index or swaps it
    <home>/rebuild.lock     held for the whole of a rebuild, so two never run at once

The swap is `os.replace` of the pointer file, atomic on POSIX: a search sees the old index or
the new one, never half of either. The previous folder is kept for searches already reading
it. Each engine has its own pointer, so switching engines on the same home finds no index (and
rebuilds one) rather than trying to read the other engine's files.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from search.errors import IndexLocked, IndexMissing

LOCK_POLL_SECONDS = 0.05


class IndexHome:
    """The folder holding one engine's index generations."""

    def __init__(self, path: Path, engine: str) -> None:
        self.path = Path(path)
        self.engine = engine
        self.pointer_file = self.path / f"CURRENT-{engine}"

    def current(self) -> Path:
        """The folder searches should read. Raises IndexMissing if there is none."""
        name = self.pointer()
        if name is None:
            raise IndexMissing(f"no search index in {self.path}")
        folder = self.path / name
        if not folder.is_dir():
            raise IndexMissing(
                f"search index folder {folder} named by {self.pointer_file} is missing"
            )
        return folder

    def pointer(self) -> str | None:
        """The folder name the pointer file holds, or None without one."""
        try:
            return self.pointer_file.read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def new_folder(self) -> Path:
        """A fresh, empty folder for a new generation (not yet current)."""
        self.path.mkdir(parents=True, exist_ok=True)
        folder = self.path / f"{self.engine}-{time.time_ns()}-{os.getpid()}"
        folder.mkdir()
        return folder

    def swap(self, folder: Path) -> None:
        """Make `folder` current; keep the previous one, remove any older ones.

        Call with the write lock held, so no writer is halfway through the old folder.
        """
        previous = self.pointer()
        temporary = self.path / f"{self.pointer_file.name}.{os.getpid()}.tmp"
        temporary.write_text(folder.name, encoding="utf-8")
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, self.pointer_file)
        keep = {folder.name, previous}
        for old in self.path.iterdir():
            if old.is_dir() and old.name.startswith(f"{self.engine}-") and old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)

    @contextlib.contextmanager
    def write_lock(self, timeout: float) -> Iterator[None]:
        """Hold the write lock, waiting up to `timeout` seconds. Raises IndexLocked."""
        with self._lock("write.lock", timeout):
            yield

    @contextlib.contextmanager
    def rebuild_lock(self, timeout: float) -> Iterator[None]:
        """Hold the rebuild lock, waiting up to `timeout` seconds. Raises IndexLocked."""
        with self._lock("rebuild.lock", timeout):
            yield

    @contextlib.contextmanager
    def _lock(self, name: str, timeout: float) -> Iterator[None]:
        self.path.mkdir(parents=True, exist_ok=True)
        with (self.path / name).open("a") as handle:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise IndexLocked(
                            f"another process has held {self.path / name} for {timeout:g}s"
                        ) from None
                    time.sleep(LOCK_POLL_SECONDS)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
