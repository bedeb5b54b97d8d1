"""The reports' charts (marketplace/charts.py) and the macro that shows each with its table and
CSV link (templates/macros/chart.html)."""

from __future__ import annotations

import re

import pytest
from flask import Flask, render_template_string

from marketplace.charts import Bar, BarChart, DataTable
from marketplace.formatting import pounds


def _chart(**overrides: object) -> BarChart:
    settings: dict[str, object] = {
        "chart_id": "searches",
        "title": "Searches that found nothing, by category",
        "description": "Searches in the last 30 days.",
        "label_heading": "Category",
        "series_name": "Searches",
        "bars": [Bar("Help at home", 12, "12"), Bar("Meals", 3, "3"), Bar("Transport", 0, "0")],
    }
    settings.update(overrides)
    return BarChart(**settings)  # type: ignore[arg-type]


def _texts(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg)


def test_markup_names_itself_with_a_title_and_a_description() -> None:
    svg = str(_chart().svg())
    assert svg.startswith("<svg ")
    assert 'role="img"' in svg
    assert 'aria-labelledby="searches-title searches-desc"' in svg
    assert '<title id="searches-title">Searches that found nothing, by category</title>' in svg
    desc = re.search(r'<desc id="searches-desc">([^<]*)</desc>', svg)
    assert desc is not None
    assert desc.group(1) == (
        "Searches in the last 30 days. 3 bars. Largest searches: Help at home, 12."
    )
    # It fills its column whatever the width, with no fixed pixel width.
    assert 'width="100%"' in svg


def test_every_value_and_label_appears_as_text() -> None:
    texts = _texts(str(_chart().svg()))
    for words in ("Help at home", "12", "Meals", "3", "Transport", "0"):
        assert words in texts


def test_bars_are_in_proportion_the_largest_longest() -> None:
    svg = str(_chart().svg())
    widths = [float(w) for w in re.findall(r'<rect x="0" y="\d+" width="([\d.]+)%"', svg)]
    # A zero draws no bar (its "0" is still written); 12 is the longest, 3 a quarter of it.
    assert widths == [66.0, 16.5]


def test_a_second_series_is_hatched_with_a_legend_and_its_own_words() -> None:
    chart = _chart(
        chart_id="demand",
        series_name="Orders",
        against_name="Services",
        bars=[
            Bar("Help at home", 4, "4 orders", 8, "8 services"),
            Bar("Meals", 0, "0 orders", 0, "0 services"),
        ],
    )
    svg = str(chart.svg())
    texts = _texts(svg)
    assert texts[:2] == ["Orders", "Services"]  # the legend
    for words in ("4 orders", "8 services", "0 orders", "0 services"):
        assert words in texts
    assert '<pattern id="demand-hatch"' in svg
    # The legend's swatch, the one bar, and the zero's stub: a "0" still says its series.
    assert svg.count('fill="url(#demand-hatch)"') == 3
    assert svg.count('<rect x="0" y="') == 4  # two bars and two zeros' stubs
    assert "Largest services: Help at home, 8 services." in svg
    assert chart.table().head == ["Category", "Orders", "Services"]
    assert chart.table().rows == [
        ["Help at home", "4 orders", "8 services"],
        ["Meals", "0 orders", "0 services"],
    ]


def test_no_data_says_so_and_draws_no_bars() -> None:
    chart = _chart(bars=[])
    svg = str(chart.svg())
    assert "<rect" not in svg
    assert "There are no figures to show." in _texts(svg)
    assert "Searches in the last 30 days. There are no figures to show." in svg
    assert chart.table().rows == []


def test_all_zero_values_draw_no_bars_and_no_division_by_zero() -> None:
    svg = str(_chart(bars=[Bar("Meals", 0, "0"), Bar("Transport", 0, "0")]).svg())
    assert "<rect" not in svg
    assert _texts(svg).count("0") == 2


def test_labels_and_words_are_escaped() -> None:
    hostile = '<script>alert("x")</script> & Sons'
    svg = str(_chart(title="A <b>title</b>", bars=[Bar(hostile, 1, "<i>1</i>")]).svg())
    assert "<script>" not in svg
    assert "<b>" not in svg
    assert "<i>" not in svg
    assert "&lt;script&gt;" in svg
    assert "&amp; Sons" in svg


def test_a_long_label_is_cut_on_the_chart_and_whole_in_its_table() -> None:
    label = "Social activities and befriending in Welwyn Hatfield"
    chart = _chart(bars=[Bar(label, 5, "5")])
    texts = _texts(str(chart.svg()))
    assert label not in texts
    assert any(text.endswith("…") and label.startswith(text[:-1]) for text in texts)
    assert chart.table().rows == [[label, "5"]]


def test_money_is_whole_pence_never_a_float() -> None:
    with pytest.raises(TypeError):
        Bar("Meals", 12.5, "£0.12")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Bar("Meals", 1, "1", 2.0, "2")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Bar("Meals", True, "yes")
    with pytest.raises(ValueError, match="cannot be negative"):
        Bar("Meals", -1, "-1")
    svg = str(_chart(bars=[Bar("Meals", 1250, pounds(1250))]).svg())
    assert "£12.50" in _texts(svg)


def test_bad_ids_and_half_given_second_series_are_refused() -> None:
    with pytest.raises(ValueError, match="chart_id"):
        _chart(chart_id='x" onload="alert(1)')
    with pytest.raises(ValueError, match="names no second series"):
        _chart(bars=[Bar("Meals", 1, "1", 2, "2")])
    with pytest.raises(ValueError, match="every bar needs"):
        _chart(against_name="Services", bars=[Bar("Meals", 1, "1")])


def test_the_macro_shows_chart_table_and_csv_link(app: Flask) -> None:
    chart = _chart(bars=[Bar("Help at home", 12, "12"), Bar("<Meals>", 3, "3")])
    with app.test_request_context():
        html = render_template_string(
            '{% from "macros/chart.html" import chart_and_table %}'
            "{{ chart_and_table(chart, '/council/reports/x.csv') }}",
            chart=chart,
        )
    assert html.count("<svg ") == 1
    assert '<caption id="searches-table-caption"' in html
    assert "Searches that found nothing, by category</caption>" in html
    assert '<th scope="row" class="govuk-table__header">Help at home</th>' in html
    assert '<td class="govuk-table__cell govuk-table__cell--numeric">12</td>' in html
    assert "&lt;Meals&gt;" in html
    assert "<Meals>" not in html
    assert 'href="/council/reports/x.csv" download' in html


def test_the_macro_takes_a_fuller_table_and_says_when_it_is_empty(app: Flask) -> None:
    table = DataTable("Prices", ["Category", "Median", "Listings"], [], frozenset({1, 2}))
    with app.test_request_context():
        html = render_template_string(
            '{% from "macros/chart.html" import chart_and_table %}'
            "{{ chart_and_table(chart, '/x.csv', table) }}",
            chart=_chart(bars=[]),
            table=table,
        )
    assert "Prices</caption>" in html
    assert "None in this period." in html
    assert "There are no figures to show." in html
