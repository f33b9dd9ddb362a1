"""The review as HTML: one set of Jinja2 templates, the words from each language's catalogue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from babel.dates import format_date

from suoja.codelists import TOTAL
from suoja.protect.protected import ProtectedRelease
from suoja.review import sections
from suoja.review.charts import ChartText, draw
from suoja.review.figures import Facts, Figure
from suoja.review.messages import LANGUAGES, Messages
from suoja.review.sections import Chart

ALT_ITEMS = 12
SECTIONS = (("intro", "section.intro"), ("applications", "section.applications"),
            ("new-clients", "section.new_clients"), ("forms", "section.forms"),
            ("finland", "section.finland"), ("year-end", "section.year_end"),
            ("methods", "section.methods"))
OPEN_DATA = "../open/datapackage.json"


@dataclass(frozen=True)
class Content:
    """What the review says, in no language: the facts of each section and the charts."""

    facts: Facts
    sections: dict[str, dict[str, Any]]
    charts: dict[str, Chart]


@dataclass(frozen=True)
class ChartView:
    """A chart as one page shows it: its file, caption, text alternative and table."""

    chart: Chart
    file: str
    width: int
    height: int
    caption: str
    alt: str
    dimension: str
    series_labels: dict[str, str]
    totals: dict[str, Figure]
    any_hidden: bool


def content(release: ProtectedRelease) -> Content:
    """Every fact and chart of the review, read from the published tables.

    Counts of distinct codes are said when the release holds them (``suoja.protect.distinct``
    publishes them, by their own rule, beside the protected tables).
    """
    facts = Facts(release)
    return Content(facts, {
        "apps": sections.applications(facts),
        "new": sections.new_clients(facts),
        "forms": sections.forms(facts),
        "finland": sections.finland(facts),
        "year_end": sections.year_end(facts),
        "methods": sections.methods(facts),
    }, sections.charts(facts))


def environment() -> jinja2.Environment:
    """The review's templates: escaped, strict about missing values, tidy whitespace."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("suoja", "review/templates"),
        autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )


def year_end_date(year: int, m: Messages) -> str:
    """31 December of ``year`` as the language writes a date."""
    return format_date(dt.date(year, 12, 31), format=m.t("meta.date_format"), locale=m.locale)


def _series_label(code: str, m: Messages, alone: bool = True) -> str:
    if code == TOTAL:
        return m.t("chart.number") if alone else m.t("chart.total")
    return m.label("sex", code)


def _alt(chart: Chart, caption: str, m: Messages) -> str:
    labels = {code: _series_label(code, m) for code, _ in chart.drawn_series}
    details = []
    for category in chart.drawn[:ALT_ITEMS]:
        values = []
        for code, _ in chart.drawn_series:
            figure = chart.figure(code, category)
            shown = m.t("hidden.alt") if figure.hidden else m.num(figure.value or 0)
            values.append(shown if len(labels) == 1 else f"{labels[code]} {shown}")
        details.append(m.t("chart.alt_item", what=m.label(chart.codelist, category),
                           values=", ".join(values)))
    text = "; ".join(details) + "."
    if len(chart.categories) > ALT_ITEMS or chart.plotted:
        text += " " + m.t("chart.alt_more")
    return m.t("chart.alt", kind=m.t("chart.kind"), title=caption, details=text)


def chart_view(chart: Chart, facts: Facts, m: Messages, folder: Path, date: str) -> ChartView:
    """Draw one chart in one language and describe it for the page."""
    caption = m.t(f"chart.{chart.id}.title", year=str(facts.release.year), date=date)
    text = ChartText(
        categories=[m.label(chart.codelist, c) for c in chart.drawn],
        series=[_series_label(code, m) for code, _ in chart.drawn_series],
        values=[[m.cell(chart.figure(code, c)) for c in chart.drawn]
                for code, _ in chart.drawn_series],
        hidden=m.t("hidden.alt"), hidden_note=m.t("chart.hidden_note"),
        split=m.t("hidden.split"), split_note=m.t("chart.split_note"),
        axis=m.t("chart.events" if "forms" in chart.id or "sectors" in chart.id
                 else "chart.persons"),
        number=lambda v: m.num(int(v)) if float(v).is_integer() else m.decimal(v),
    )
    name = f"{chart.id}.{m.lang}.svg"
    width, height = draw(chart, text, folder / name)
    totals = {code: facts.get(chart.table) if code == TOTAL else facts.get(chart.table, sex=code)
              for code, _ in chart.series}
    dimension = facts.release.catalogue.dimensions[chart.codelist].label[m.lang]
    any_hidden = any(f.hidden for _, figs in chart.series for f in figs)
    alone = len(chart.series) == 1
    return ChartView(chart, name, width, height, caption, _alt(chart, caption, m), dimension,
                     {code: _series_label(code, m, alone) for code, _ in chart.series}, totals,
                     any_hidden)


def contact(release: ProtectedRelease, lang: str) -> dict[str, str] | None:
    """The catalogue's ``[metadata.contact]`` in one language, or None without one."""
    raw = release.catalogue.metadata.get("contact")
    if not raw:
        return None
    helpline = raw.get("helpline")
    return {"name": raw["name"][lang], "email": raw["email"], "url": raw["url"],
            "helpline": helpline[lang] if helpline else ""}


def _languages(lang: str) -> list[dict[str, Any]]:
    return [{"code": other, "name": Messages(other).t("meta.switch"),
             "href": f"review.{other}.html", "current": other == lang} for other in LANGUAGES]


def render_html(release: ProtectedRelease, what: Content, m: Messages,
                charts: dict[str, ChartView]) -> str:
    """The review in one language."""
    year = str(release.year)
    date = year_end_date(release.year, m)
    context = {
        "lang": m.lang, "m": m, "t": m.t, "s": what.sections, "charts": charts,
        "year": year, "date": date,
        "heading": m.t("meta.title", title=release.catalogue.title[m.lang], year=year),
        "publisher": release.catalogue.publisher[m.lang],
        "created": format_date(release.created.date(), format="long", locale=m.locale),
        "created_iso": release.created.date().isoformat(),
        "languages": _languages(m.lang), "pdf_href": f"review.{m.lang}.pdf",
        "open_href": OPEN_DATA,
        "contents": [(anchor, m.t(key, year=year, date=date)) for anchor, key in SECTIONS],
        "table_title": lambda table: release.catalogue.table(table).title[m.lang],
        "contact": contact(release, m.lang),
    }
    return environment().get_template("review.html.j2").render(context)


def write_html(release: ProtectedRelease, what: Content, lang: str, folder: Path) -> list[Path]:
    """Draw the charts and write ``review.LANG.html``; returns the files written."""
    m = Messages(lang)
    date = year_end_date(release.year, m)
    views = {cid: chart_view(c, what.facts, m, folder, date) for cid, c in what.charts.items()}
    page = folder / f"review.{lang}.html"
    page.write_text(render_html(release, what, m, views), encoding="utf-8")
    return [*(folder / v.file for v in views.values()), page]
