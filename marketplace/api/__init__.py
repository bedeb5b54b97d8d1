"""The JSON API at /api/v1 (the `api` blueprint, made here): the Open Referral UK 3.0
directory feed (`views`), the integration API for the council's case-management system
(`integration_views`) and its orders (`order_views`), and their OpenAPI documents.

The views are thin: `params` and the `*_requests` modules read requests, `queries` reads the
database, the `*_json` modules write answers. The feed is read-only and public, and every route
authenticates by bearer token or session itself (`auth`), so the blueprint is exempt from CSRF.
"""

from __future__ import annotations

from flask import Blueprint

from marketplace.extensions import csrf

PREFIX = "/api/v1"

bp = Blueprint("api", __name__, url_prefix=PREFIX)
csrf.exempt(bp)

from marketplace.api import (  # noqa: E402,F401
    consent_views,
    integration_views,
    order_views,
    views,
)
