"""Pages anyone can read without signing in (the `public` blueprint, in views.py).

The modules that add routes to the blueprint are imported here, so that it has them all
before the app registers it.
"""

import marketplace.public.suggestion_views  # noqa: F401
