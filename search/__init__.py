"""Full-text search over the directory: a library with no Flask in it.

The import-linter contract in pyproject.toml keeps it so: the web pages and the API call it,
never the other way round.
"""
