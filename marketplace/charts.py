"""Charts for the council's reports (issue 19, item 10): server-rendered SVG, no JavaScript,
always shown with the table of the same figures and a CSV of them (`templates/macros/chart.html`).

A chart is data in, accessible markup out:
- `<svg role="img" aria-labelledby="... title ... desc">` with a `<title>` (what the chart is)
  and a `<desc>` (the caller's summary and, made here, how many bars and the largest);
- every value is written as text beside its bar (direct labels), so nothing is told by colour
  alone; a second series ("against", e.g. supply against demand) is hatched as well as a
  different colour, with a legend naming both;
- GOV.UK colours with at least 3:1 against white (WCAG 2.2 AA non-text contrast): blue
  #1d70b8 (5.2:1) and, for the second series, dark grey #505a5f hatching (7.5:1) inside a black
  outline (19:1);
- bar lengths are percentages of the chart's width and text is sized in pixels, so the chart
  fills its column from 320 px up and its words stay readable (a scaled viewBox would shrink
  them to a third on a phone).

Values are whole numbers (counts, or money in pence): a float is refused, as `pounds` refuses
one. Every value's text is the caller's, already formatted (money through `pounds`), so the
chart shows exactly what the table beside it shows. Rules-side: no Flask.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

BLUE = "#1d70b8"
DARK_GREY = "#505a5f"
BLACK = "#0b0c0c"

FONT_SIZE = 16
LABEL_HEIGHT = 22
BAR_HEIGHT = 20
BAR_GAP = 4
ROW_GAP = 14
LEGEND_ROW = 26
# The longest bar leaves room after it for its value's words at 320 px (about 90 px of 288).
LONGEST_BAR_PERCENT = 66
# A label longer than fits on a phone is cut, with the whole of it in the bar's tooltip and the
# table beside the chart.
LONGEST_LABEL = 34
# A zero's stub in a two-series chart: wide enough to show the series' colour or hatching.
ZERO_STUB = 6

_CHART_ID = re.compile(r"[a-z][a-z0-9-]{0,60}")


def _whole_number(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{what} must be an int (a count, or money in pence), not {value!r}")
    if value < 0:
        raise ValueError(f"{what} cannot be negative: {value}")
    return value


@dataclass(frozen=True)
class Bar:
    """One category: its label, its value (a whole number) and that value as shown to people;
    `against` and `against_shown` for the second series when the chart has one."""

    label: str
    value: int
    shown: str
    against: int | None = None
    against_shown: str | None = None

    def __post_init__(self) -> None:
        _whole_number(self.value, f"the value of {self.label!r}")
        if self.against is not None:
            _whole_number(self.against, f"the second value of {self.label!r}")


@dataclass(frozen=True)
class DataTable:
    """A table of figures as shown (every cell already text): what the chart macro puts beside
    a chart, and what a report's CSV holds the same rows of. `numeric` holds the indexes of the
    columns GOV.UK right-aligns as numbers."""

    caption: str
    head: Sequence[str]
    rows: Sequence[Sequence[str]]
    numeric: frozenset[int] = frozenset()
    # What the table says in place of rows when it has none.
    empty_text: str = "None in this period."


@dataclass(frozen=True)
class BarChart:
    """A horizontal bar chart: one bar per category (two when `against_name` is given), largest
    value longest. `chart_id` names the chart on its page (lower case letters, digits and
    dashes: the ids of its title and description are made from it). `label_heading` heads the
    table's first column; `series_name` and `against_name` its value columns and the legend."""

    chart_id: str
    title: str
    description: str
    label_heading: str
    series_name: str
    bars: Sequence[Bar]
    against_name: str | None = None
    empty_text: str = "There are no figures to show."

    def __post_init__(self) -> None:
        if not _CHART_ID.fullmatch(self.chart_id):
            raise ValueError(f"chart_id: lower case letters, digits and dashes: {self.chart_id!r}")
        if self.against_name is None and any(bar.against is not None for bar in self.bars):
            raise ValueError("a bar has a second value but the chart names no second series")
        if self.against_name is not None and any(
            bar.against is None or bar.against_shown is None for bar in self.bars
        ):
            raise ValueError("every bar needs its second value and its text")

    @property
    def title_id(self) -> str:
        return f"{self.chart_id}-title"

    @property
    def desc_id(self) -> str:
        return f"{self.chart_id}-desc"

    def summary(self) -> str:
        """The description read out with the chart: the caller's words, then how many bars and
        which is largest (or that there is nothing to show)."""
        if not self.bars:
            return f"{self.description} {self.empty_text}".strip()
        largest = max(self.bars, key=lambda bar: bar.value)
        count = len(self.bars)
        words = (
            f"{self.description} {count} bar{'' if count == 1 else 's'}. "
            f"Largest {self.series_name.lower()}: {largest.label}, {largest.shown}."
        )
        if self.against_name is not None:
            most = max(self.bars, key=lambda bar: bar.against or 0)
            words += f" Largest {self.against_name.lower()}: {most.label}, {most.against_shown}."
        return words.strip()

    def table(self, caption: str | None = None) -> DataTable:
        """The chart's own figures as a table: label, value, and the second value if any."""
        head = [self.label_heading, self.series_name]
        if self.against_name is not None:
            head.append(self.against_name)
        rows = [
            [bar.label, bar.shown] + ([bar.against_shown or ""] if self.against_name else [])
            for bar in self.bars
        ]
        return DataTable(caption or self.title, head, rows, frozenset(range(1, len(head))))

    def svg(self) -> Markup:
        """The chart as SVG markup, every text escaped."""
        return Markup(_render(self))  # noqa: S704 (every text in it went through escape)


def _percent(value: int, largest: int) -> float:
    return 0.0 if largest == 0 else value * LONGEST_BAR_PERCENT / largest


def _short(label: str) -> str:
    return label if len(label) <= LONGEST_LABEL else label[: LONGEST_LABEL - 1].rstrip() + "…"


def _text(x: str, y: int, words: str, *, bold: bool = False, dx: int = 0) -> str:
    weight = ' font-weight="700"' if bold else ""
    shift = f' dx="{dx}"' if dx else ""
    return (
        f'<text x="{x}" y="{y}"{shift} font-size="{FONT_SIZE}" fill="{BLACK}"{weight}>'
        f"{escape(words)}</text>"
    )


def _bar(
    y: int, percent: float, shown: str, label: str, *, hatched: str | None, marked: bool
) -> str:
    """One bar and its words. A zero draws no bar; where the chart has two series (`marked`)
    it draws a stub of the series' fill instead, so a "0" still says which series it is."""
    fill = f"url(#{hatched})" if hatched else BLUE
    outline = f' stroke="{BLACK}" stroke-width="1"' if hatched else ""
    tooltip = f"<title>{escape(label)}: {escape(shown)}</title>"
    parts = []
    if percent > 0:
        parts.append(
            f'<rect x="0" y="{y}" width="{percent:.2f}%" height="{BAR_HEIGHT}" '
            f'fill="{fill}"{outline}>{tooltip}</rect>'
        )
    elif marked:
        parts.append(
            f'<rect x="0" y="{y}" width="{ZERO_STUB}" height="{BAR_HEIGHT}" '
            f'fill="{fill}"{outline}>{tooltip}</rect>'
        )
    shift = 6 if percent > 0 else (ZERO_STUB + 6 if marked else 0)
    parts.append(_text(f"{percent:.2f}%", y + BAR_HEIGHT - 5, shown, dx=shift))
    return "".join(parts)


def _render(chart: BarChart) -> str:
    hatch_id = f"{chart.chart_id}-hatch"
    body: list[str] = []
    y = 0
    if chart.against_name is not None and chart.bars:
        for name, hatched in ((chart.series_name, None), (chart.against_name, hatch_id)):
            fill = f"url(#{hatched})" if hatched else BLUE
            outline = f' stroke="{BLACK}" stroke-width="1"' if hatched else ""
            body.append(
                f'<rect x="1" y="{y + 3}" width="18" height="18" fill="{fill}"{outline}></rect>'
            )
            body.append(_text("26", y + 18, name))
            y += LEGEND_ROW
        y += ROW_GAP // 2
    if not chart.bars:
        body.append(_text("0", y + FONT_SIZE + 2, chart.empty_text))
        y += FONT_SIZE + 10
    largest = max(
        [bar.value for bar in chart.bars] + [bar.against or 0 for bar in chart.bars], default=0
    )
    for bar in chart.bars:
        body.append(_text("0", y + FONT_SIZE, _short(bar.label), bold=True))
        y += LABEL_HEIGHT + 2
        two = chart.against_name is not None
        body.append(
            _bar(y, _percent(bar.value, largest), bar.shown, bar.label, hatched=None, marked=two)
        )
        y += BAR_HEIGHT
        if bar.against is not None:
            y += BAR_GAP
            body.append(
                _bar(
                    y,
                    _percent(bar.against, largest),
                    bar.against_shown or "",
                    bar.label,
                    hatched=hatch_id,
                    marked=two,
                )
            )
            y += BAR_HEIGHT
        y += ROW_GAP
    defs = (
        f'<defs><pattern id="{hatch_id}" patternUnits="userSpaceOnUse" width="8" height="8" '
        f'patternTransform="rotate(45)"><rect width="8" height="8" fill="#ffffff"></rect>'
        f'<rect width="4" height="8" fill="{DARK_GREY}"></rect></pattern></defs>'
        if chart.against_name is not None
        else ""
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart__svg" width="100%" '
        f'height="{y}" role="img" aria-labelledby="{chart.title_id} {chart.desc_id}" '
        f'focusable="false">'
        f'<title id="{chart.title_id}">{escape(chart.title)}</title>'
        f'<desc id="{chart.desc_id}">{escape(chart.summary())}</desc>'
        f"{defs}{''.join(body)}</svg>"
    )
