"""What the search library raises: one base class, so callers can catch it in one place."""


class SearchError(Exception):
    """Base of every error this library raises on purpose."""


class IndexMissing(SearchError):
    """There is no index yet (or its folder has gone): rebuild it."""


class IndexCorrupted(SearchError):
    """The index is there but cannot be read: rebuild it."""


class IndexLocked(SearchError):
    """Another writer held the index for longer than the lock timeout."""


class UnknownEngine(SearchError, ValueError):
    """The configured engine name is not one this library has."""
