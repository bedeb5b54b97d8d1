"""The WSGI entry point: `gunicorn wsgi:app` (each worker imports it, so don't --preload)."""

import os

from marketplace import create_app
from providers.search_index import warm_in_background

app = create_app()
# A server's worker readies the search index as it starts, not on a person's first search.
# `flask` commands load this module too (they say so in the environment): they don't.
if os.environ.get("FLASK_RUN_FROM_CLI") != "true":
    warm_in_background(app)
