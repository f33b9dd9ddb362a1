"""Leak tests: no sentence, percentage or chart of the review gives away a hidden cell.

The embedded register has exactly the small groups a disclosure-control policy must not
print: three new clients aged 60 or over, and one Finnish new client exploited only abroad.
The review (every language, HTML and SVG) must state neither as a number or a number word,
and every number it prints must be a published value or computed from published values.
"""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import polars as pl
import pytest
from test_review import page_text, pages, release, review_dir, sentences  # noqa: F401

from suoja.codelists import TOTAL
from suoja.protect.protected import ProtectedRelease
from suoja.register import read_register
from suoja.review import LANGUAGES
from suoja.review.messages import Messages
from suoja.review.render import content, year_end_date
from suoja.review.sections import YEAR_END_CHART_TOP

REGISTER = Path(__file__).resolve().parents[1] / "data" / "register"
NUMBER_WORDS = {"en": {1: "one", 3: "three"}, "fi": {1: "yksi", 3: "kolme"},
                "sv": {1: "ett", 3: "tre"}}  # Swedish "en" is also the article
CITIZENS = {"en": "finnish citizen", "fi": "suomen kansalai", "sv": "finska medborgare"}
ABROAD = {"en": "abroad", "fi": "ulkomail", "sv": "utomlands"}
CONSTANTS = {95, 100, 2006, YEAR_END_CHART_TOP}  # the 95 % bound, 100 %, the founding year


@pytest.fixture(scope="module")
def truth() -> dict[str, int]:
    """The true small counts of the embedded register (only a test may look)."""
    frames = read_register(REGISTER).frames
    persons, periods = frames["persons"], frames["client_periods"]
    new = (periods.filter(pl.col("start").dt.year() == 2025)
           .join(persons.filter(pl.col("role") == "VICTIM"), on="person_id"))
    old = new.filter(pl.col("start").dt.year() - pl.col("birth_year") >= 60)
    events = frames["exploitation"]
    in_finland = events.filter(pl.col("country") == "FIN")["person_id"].unique()
    finnish_abroad = new.filter((pl.col("citizenship") == "FIN")
                                & ~pl.col("person_id").is_in(in_finland.implode()))
    return {"aged_60": old["person_id"].n_unique(),
            "finnish_abroad": finnish_abroad["person_id"].n_unique()}


def test_register_has_the_small_groups(truth, release):  # noqa: F811
    """The premise: the register holds the small groups, and the tables hide them."""
    assert truth == {"aged_60": 3, "finnish_abroad": 1}
    assert release.published("new_clients", age_group="Y_GE60") is None


# ---- the 60+ group ----

def _strip_age_words(sentence: str, m: Messages) -> str:
    for code in ("Y_LT18", "Y18T29", "Y30T39", "Y40T49", "Y50T59", "Y_GE60", "_U"):
        for text in (m.what("age", code), m.label("age_group", code)):
            sentence = re.sub(re.escape(text), " ", sentence, flags=re.IGNORECASE)
    return sentence


@pytest.mark.parametrize("lang", LANGUAGES)
def test_hidden_age_group_is_never_a_number(pages, truth, lang):  # noqa: F811
    m = Messages(lang)
    words = (m.what("age", "Y_GE60"), m.label("age_group", "Y_GE60"))
    about = [s for s in sentences(page_text(pages[lang]))
             if any(w.lower() in s.lower() for w in words)]
    assert about, "the review says nothing about the oldest age group"
    for sentence in about:
        rest = _strip_age_words(sentence, m)
        assert not re.search(r"\d", rest), sentence
        word = NUMBER_WORDS[lang][3]
        assert not re.search(rf"\b({word})\b", rest, re.IGNORECASE), sentence
    row = re.search(rf"<tr><th scope=\"row\">{re.escape(m.label('age_group', 'Y_GE60'))}</th>"
                    r"(.*?)</tr>", pages[lang], re.DOTALL)
    assert row and re.findall(r'<td class="n">([^<]*)</td>', row.group(1)) == [".."]


# ---- the Finnish client exploited abroad ----

@pytest.mark.parametrize("lang", LANGUAGES)
def test_finnish_client_exploited_abroad_is_not_disclosed(pages, lang):  # noqa: F811
    text = page_text(pages[lang])
    assert ABROAD[lang] not in text.lower()
    for sentence in sentences(text):
        if CITIZENS[lang] in sentence.lower():
            assert not re.search(rf"\b({NUMBER_WORDS[lang][1]})\b", sentence, re.IGNORECASE), \
                sentence


def test_linked_tables_do_not_give_away_the_finnish_client_abroad(release):  # noqa: F811
    """No small count follows from the two Finnish figures the review prints.

    The review gives Finnish citizens among new clients and among those exploited in
    Finland whenever both are published; their difference (Finnish new clients exploited
    only abroad) must then not be a small count. This guards the protection engine: the
    review can only repeat what the tables publish.
    """
    all_new = release.published("new_clients_citizenship", citizenship="FIN")
    in_finland = release.published("finland_victims_citizenship", citizenship="FIN")
    small = range(1, release.policy.min_count)
    # From the two published figures alone, when both are published:
    if all_new is not None and in_finland is not None:
        assert all_new - in_finland not in small, (
            f"open/ publishes {all_new} Finnish new clients and {in_finland} exploited in "
            f"Finland: {all_new - in_finland} exploited only abroad can be computed")
    # In every case, the range of the difference given everything published:
    audit = release.restricted.audit
    found = audit.filter((pl.col("table") == "finland_victims_citizenship[in_finland=N]")
                         & (pl.col("key") == "citizenship=FIN"))
    assert found.height == 1, "the audit ranges the Finns exploited only abroad"
    lo, hi = found["lo"][0], found["hi"][0]
    assert found["ok"][0] and not (lo in small and hi is not None and hi in small), (lo, hi)


# ---- every number printed is published or computed from published values ----

def _published(rel: ProtectedRelease) -> dict[str, list[pl.DataFrame]]:
    out: dict[str, list[pl.DataFrame]] = {}
    for r in (rel, rel.previous):
        if r is not None:
            for table, frame in r.tables.items():
                out.setdefault(table, []).append(frame)
    return out


def _line_values(rel: ProtectedRelease, table: str, frame: pl.DataFrame) -> list[list[int]]:
    """The published values of each line of a table (one dimension varying, margin included)."""
    dims = rel.catalogue.table(table).dimensions
    lines = [frame["value"].drop_nulls().to_list()]
    for dim in dims:
        others = [d for d in dims if d != dim]
        groups = frame.group_by(others) if others else [((), frame)]
        for _, group in groups:
            lines.append(group["value"].drop_nulls().to_list())
    return lines


def _allowed(rel: ProtectedRelease) -> tuple[set[int], set[int]]:
    """Numbers and whole percentages that published values allow."""
    numbers = {rel.year, rel.year - 1, rel.policy.min_count} | CONSTANTS
    percents: set[int] = {95, 100}
    for table, frames in _published(rel).items():
        for frame in frames:
            for line in _line_values(rel, table, frame):
                values = set(line)
                if len(line) <= 11:  # a sum of some categories, e.g. everyone on a permit
                    parts = [v for v in line if v]
                    for size in range(2, min(len(parts), 6) + 1):
                        values |= {sum(c) for c in itertools.combinations(parts, size)}
                numbers |= values
                for part, whole in itertools.product(values, line):
                    if whole > 0 and part <= whole:
                        ratio = 100 * part / whole
                        percents |= {math.floor(ratio), math.ceil(ratio)}
    return numbers, percents


NUMBER = {"en": r"(\d{1,3}(?:,\d{3})+|\d+)(\s?%)?",
          "fi": r"(\d{1,3}(?:[\u00a0\u202f]\d{3})+|\d+)([\u00a0 ]?%)?",
          "sv": r"(\d{1,3}(?:[\u00a0\u202f]\d{3})+|\d+)([\u00a0 ]?%)?"}


def unexplained_numbers(html: str, rel: ProtectedRelease, lang: str) -> list[str]:
    """Every number of a page's text that no published value explains."""
    m = Messages(lang)
    text = page_text(html).replace(year_end_date(rel.year, m), " ")
    # The contact block comes from the catalogue's metadata (a telephone number), not from
    # any table.
    contact = rel.catalogue.metadata.get("contact", {})
    for value in (contact.get("helpline", {}).get(lang, ""), contact.get("email", "")):
        if value:
            text = text.replace(value, " ")
    numbers, percents = _allowed(rel)
    found = []
    for line in text.split("\n"):
        line = _strip_age_words(line, m)
        for match in re.finditer(NUMBER[lang], line):
            value = int(re.sub(r"\D", "", match.group(1)))
            if value not in (percents if match.group(2) else numbers):
                found.append(f"{match.group(0)!r} in: {line.strip()}")
    return found


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_number_is_published_or_derived(pages, release, lang):  # noqa: F811
    assert unexplained_numbers(pages[lang], release, lang) == []


def test_the_number_check_catches_a_leak(pages, release, truth):  # noqa: F811
    """The check above would notice a hidden count or a share of one."""
    html = pages["en"].replace("</main>", "<p>In all, 3 new victims were aged 60 or over.</p>"
                               "</main>")
    assert unexplained_numbers(html, release, "en") == [
        "'3' in: In all, 3 new victims were  ."]


# ---- charts: hidden cells are drawn as hidden, never as a number or zero ----

TEXT = re.compile(r'<g id="(value|hidden)-(\d+)-(\d+)">\s*<text[^>]*>([^<]*)</text>')
SPLIT = re.compile(r'<g id="split-label-(\d+)">\s*<text[^>]*>([^<]*)</text>')


@pytest.mark.parametrize("lang", LANGUAGES)
def test_charts_show_hidden_cells_as_hidden(review_dir, release, truth, lang):  # noqa: F811
    m = Messages(lang)
    for chart in content(release).charts.values():
        svg = (review_dir / f"{chart.id}.{lang}.svg").read_text(encoding="utf-8")
        marks = {(int(s), int(r)): (kind, label) for kind, s, r, label in TEXT.findall(svg)}
        splits = {int(r): label for r, label in SPLIT.findall(svg)}
        for s, (_, figures) in enumerate(chart.drawn_series):
            for r, code in enumerate(chart.drawn):
                figure = figures[chart.categories.index(code)]
                if r in splits:
                    # A row whose split is hidden shows its published total, and says so.
                    total = chart.figure("_T", code)
                    assert any(f.hidden for _, fs in chart.drawn_series
                               for f in [fs[chart.categories.index(code)]]), (chart.id, code)
                    assert total.value is not None
                    assert splits[r].startswith(m.num(total.value)), (chart.id, code)
                    continue
                kind, label = marks[(s, r)]
                if figure.hidden:
                    assert kind == "hidden" and label.startswith(".."), (chart.id, code)
                else:
                    assert (kind, label) == ("value", m.num(figure.value)), (chart.id, code)
        labels = [label for _, label in marks.values()]
        for secret in truth.values():
            assert m.num(secret) not in labels, chart.id


def test_chart_tables_match_published_values(pages, release):  # noqa: F811
    """The table under each chart shows published values and '..' for hidden cells."""
    m = Messages("en")
    for chart in content(release).charts.values():
        for code, figures in chart.series:
            for category, figure in zip(chart.categories, figures, strict=True):
                codes = {chart.codelist: category}
                if code != TOTAL:
                    codes["sex"] = code
                assert figure.value == release.published(chart.table, **codes)
        assert all(m.cell(f) == ".." for _, figs in chart.series for f in figs if f.hidden)


def test_a_nearly_empty_year_reads_and_gives_nothing_away(tiny_register, tmp_path):
    """Four persons in the register: nearly every figure is hidden, and the review says so."""
    from dataclasses import replace

    from suoja.pipeline import protect_release
    from suoja.policy import read_policy
    from suoja.review.render import write_html
    from suoja.tables.catalogue import read_catalogue

    frames = read_register(tiny_register).frames
    catalogue, policy = read_catalogue(), read_policy()
    before = protect_release(frames, 2024, catalogue, policy)
    year = replace(protect_release(frames, 2025, catalogue, policy, {2024: before.tables}),
                   previous=before)
    for lang in ("en", "fi"):
        html = write_html(year, content(year), lang, tmp_path)[-1].read_text(encoding="utf-8")
        text = page_text(html)
        assert "None" not in text and "{" not in text
        assert unexplained_numbers(html, year, lang) == []
        assert {"en": "The number of rejected applications is not published.",
                "fi": "Hylättyjen hakemusten määrää ei julkaista."}[lang] in text
