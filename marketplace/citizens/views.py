"""Citizens' own pages: their care and support (the blueprint; its routes are in the
`*_views` modules beside it)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("citizens", __name__, url_prefix="/my")
