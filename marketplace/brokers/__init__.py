"""Brokers' pages (the `brokers` blueprint, at /broker): their caseload, and each client's page
(/broker/clients/<person_id>), whose person is loaded from the URL for a broker whose
brokerage holds a live consent of theirs (`act_for`), 404 otherwise. Its routes are in `views`
and `client_views`, imported at the bottom."""

from __future__ import annotations

from flask import Blueprint

from marketplace.pages.acting_for import load_person_from_url

bp = Blueprint("brokers", __name__, url_prefix="/broker")

load_person_from_url(bp, gate="use_broker_pages", action="act_for")

from marketplace.brokers import client_views, views  # noqa: E402,F401
