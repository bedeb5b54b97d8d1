"""Templates: GOV.UK Frontend macros, our filters, and what every page needs to know."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_wtf import FlaskForm
from govuk_frontend_wtf.main import wtforms_errors
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

from marketplace.accounts.policy import can
from marketplace.formatting import london_time, pounds
from marketplace.navigation import navigation_for

GOVUK_FRONTEND_VERSION_FILE = "govuk-frontend/VERSION"


def init_app(app: Flask) -> None:
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(app.template_folder),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.add_template_global(error_summary)
    app.add_template_filter(pounds)
    app.add_template_filter(london_time)
    app.add_template_global(can)
    # Called by the layout, once a page, with the user Flask-Login put in the context: every
    # template rendered runs the context processors (a form field drawn by govuk-frontend-wtf
    # is one, eight or more a page), and the navigation asked `current_user`, a proxy resolved
    # again at each of its thirty-odd reads, for each of them.
    app.add_template_global(navigation_for)

    @app.context_processor
    def page_context() -> dict[str, Any]:
        return {
            "service_name": app.config["SERVICE_NAME"],
            "council_name": app.config["COUNCIL_NAME"],
        }


def error_summary(form: FlaskForm) -> dict[str, Any]:
    """The GOV.UK error summary's parameters for `form`: one link per field with errors, to
    the control that takes the focus (a date's first box to fix, not the date's wrapper)."""
    params: dict[str, Any] = wtforms_errors(form)
    targets = {
        f"#{field.id}": f"#{field.error_target_id()}"
        for field in form
        if field.errors and hasattr(field, "error_target_id")
    }
    for error in params["errorList"]:
        error["href"] = targets.get(error["href"], error["href"])
    return params
