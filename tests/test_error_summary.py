"""The error summary links each problem to the control that takes the focus.

A date is three boxes in a wrapper; the wrapper has the field's id but cannot take focus, so a
link to it left the focus on the link (issue 14). The browser tests check that every error
link, followed, focuses a form control; these pin down which box a date's link names.
"""

from __future__ import annotations

import pytest
from flask import Flask, render_template_string
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import StringField
from wtforms.validators import InputRequired

from marketplace.forms import GovDateField
from marketplace.jinja import error_summary


class VisitForm(FlaskForm):
    starts_on = GovDateField("Date")
    note = StringField("Note", validators=[InputRequired(message="Enter a note")])


@pytest.mark.parametrize(
    ("day", "month", "year", "box"),
    [
        ("1", "", "2027", "month"),
        ("", "", "2027", "day"),
        ("1", "4", "", "year"),
        ("31", "2", "2027", "day"),  # not a real date: the whole date, from its first box
    ],
)
def test_a_date_error_links_to_the_first_box_to_fix(
    app: Flask, day: str, month: str, year: str, box: str
) -> None:
    data = MultiDict([("starts_on", day), ("starts_on", month), ("starts_on", year)])
    with app.test_request_context(method="POST"):
        form = VisitForm(formdata=data, meta={"csrf": False})
        assert not form.validate()
        links = {error["text"]: error["href"] for error in error_summary(form)["errorList"]}
    date_errors = [text for text in links if text.startswith("Date")]
    assert len(date_errors) == 1
    assert links[date_errors[0]] == f"#starts_on-{box}"
    assert links["Enter a note"] == "#note"


def test_the_page_links_a_date_error_to_its_box(app: Flask) -> None:
    data = MultiDict([("starts_on", "1"), ("starts_on", ""), ("starts_on", "2027")])
    with app.test_request_context(method="POST"):
        form = VisitForm(formdata=data, meta={"csrf": False})
        form.validate()
        page = render_template_string(
            '{% extends "layouts/base.html" %}{% block content %}'
            "{{ form.starts_on() }}{% endblock %}",
            form=form,
        )
    assert 'href="#starts_on-month"' in page
    assert 'id="starts_on-month"' in page
