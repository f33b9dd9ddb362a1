"""The review: catalogues, imports, formats per language, adapting sentences, the methods note.

Every test here reads the real pipeline's protected release of the embedded register
(``embedded_release`` in conftest.py); variants change published cells only, as a year
with other figures would.
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import ClassVar

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suoja import codelists
from suoja.protect.protected import CONFIDENTIAL, ProtectedRelease
from suoja.review import LANGUAGES, write_review
from suoja.review.figures import Facts, Figure, share
from suoja.review.messages import Messages, catalogue, catalogue_keys
from suoja.review.render import content, write_html

REVIEW = Path(str(resources.files("suoja.review")))
ALLOWED_IMPORTS = {"suoja.protect.protected", "suoja.tables.catalogue", "suoja.codelists",
                   "suoja.policy", "suoja.errors", "suoja"}
NBSP = "\u00a0"


# ---- helpers shared by the review tests (imported by test_review_leak and _browser) ----

class _Text(HTMLParser):
    """Visible text of a page, one block per line; <style> and <time> left out."""

    BLOCKS: ClassVar[set[str]] = {"p", "h1", "h2", "h3", "li", "tr", "figcaption", "dt", "dd",
                                  "table", "td", "th"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("style", "time"):
            self.skip += 1
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "time"):
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def page_text(html: str) -> str:
    """The visible text of a review page."""
    parser = _Text()
    parser.feed(html)
    return re.sub(r"[ \t]+", " ", "".join(parser.parts))


def sentences(text: str) -> list[str]:
    """Sentences and table rows of a page's text."""
    out = []
    for block in text.split("\n"):
        out += [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-ZÄÖÅ0-9])", block) if s.strip()]
    return out


def with_cells(release: ProtectedRelease, table: str, cells: dict[tuple[str, ...], int | None],
               previous: bool = False) -> ProtectedRelease:
    """The release with some published cells changed (None hides a cell)."""
    target = release.previous if previous else release
    assert target is not None
    dims = target.catalogue.table(table).dimensions
    frame = target.tables[table]
    for codes, value in cells.items():
        hit = pl.all_horizontal([pl.col(d) == c for d, c in zip(dims, codes, strict=True)]) \
            if dims else pl.lit(True)
        frame = frame.with_columns(
            pl.when(hit).then(pl.lit(value, pl.Int64)).otherwise(pl.col("value")).alias("value"),
            pl.when(hit).then(pl.lit(None if value is not None else CONFIDENTIAL, pl.String))
            .otherwise(pl.col("status")).alias("status"))
    changed = replace(target, tables={**target.tables, table: frame})
    return replace(release, previous=changed) if previous else changed


def render(release: ProtectedRelease, folder: Path,
           languages: tuple[str, ...] = LANGUAGES) -> dict[str, str]:
    """Write the review's pages (no PDFs) in some languages and return their HTML."""
    folder.mkdir(parents=True, exist_ok=True)
    what = content(release)
    return {lang: write_html(release, what, lang, folder)[-1].read_text(encoding="utf-8")
            for lang in languages}


@pytest.fixture(scope="session")
def release(embedded_release) -> ProtectedRelease:
    """The protected 2025 release of the embedded register, from the real pipeline."""
    return embedded_release.release


@pytest.fixture(scope="session")
def review_dir(release: ProtectedRelease, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The review of the embedded release, HTML and charts, written once."""
    folder = tmp_path_factory.mktemp("review")
    write_review(release, folder, pdf=False)
    return folder


@pytest.fixture(scope="session")
def pages(review_dir: Path) -> dict[str, str]:
    """Each language's HTML."""
    return {lang: (review_dir / f"review.{lang}.html").read_text(encoding="utf-8")
            for lang in LANGUAGES}


# ---- the package keeps to published values ----

def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_review_imports_only_what_is_published():
    """The review package imports no stage that sees the register or true values."""
    modules = sorted(REVIEW.glob("*.py"))
    assert {p.name for p in modules} >= {"__init__.py", "figures.py", "charts.py", "render.py",
                                         "pdf.py"}
    for path in modules:
        ours = {m for m in _imports(path) if m == "suoja" or m.startswith("suoja.")}
        foreign = {m for m in ours if not m.startswith("suoja.review")} - ALLOWED_IMPORTS
        assert not foreign, f"{path.name} imports {sorted(foreign)}"


def test_review_never_reads_restricted():
    """No module of the review touches ``release.restricted`` (it holds true values)."""
    for path in REVIEW.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert "restricted" not in names, path.name
    for path in (REVIEW / "templates").glob("*.j2"):
        assert "restricted" not in path.read_text(encoding="utf-8"), path.name


# ---- message catalogues ----

def test_every_catalogue_has_every_key():
    """fi, sv and en hold the same keys, plural forms included."""
    keys = {lang: catalogue_keys(lang) for lang in LANGUAGES}
    for lang in LANGUAGES:
        assert keys[lang] == keys["en"], (lang, sorted(keys[lang] ^ keys["en"]))


def test_every_key_the_templates_use_exists():
    """Literal keys in the templates, and the families built from codes, are in every catalogue."""
    used = set()
    for path in (REVIEW / "templates").glob("*.j2"):
        source = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'\bt\("([a-z_.]+)"', source))
        for key in re.findall(r'one\([^,()]+, "([a-z_.]+)"\)', source):
            used |= {f"{key}_share", f"{key}_count"}
        for key in re.findall(r'listing\([^,()]+, "([a-z_.]+)"', source):
            used |= {f"{key}.share", f"{key}.count"}
    used = {k for k in used if not k.endswith((".", "_"))}
    used |= {f"change.{d}" for d in ("up", "down", "same")}
    used |= {f"apps.wellbeing_{d}" for d in ("up", "down", "same")}
    for kind, codelist in (("referrer", "referrer"), ("rejection", "rejection_reason"),
                           ("end", "end_reason"), ("sex", "sex"), ("age", "age_group"),
                           ("form", "form")):
        used |= {f"words.{kind}.{code}" for code in codelists.codes(codelist)}
    for lang in LANGUAGES:
        messages = catalogue(lang)
        missing = sorted(k for k in used if k not in messages)
        assert not missing, (lang, missing)


def test_plural_messages_have_other_form():
    for lang in LANGUAGES:
        for key, value in catalogue(lang).items():
            if isinstance(value, dict):
                assert "other" in value, (lang, key)


# ---- formats per language ----

@pytest.mark.parametrize(("lang", "thousands", "percent"), [
    ("fi", f"1{NBSP}634", f"61{NBSP}%"), ("sv", f"1{NBSP}634", f"61{NBSP}%"),
    ("en", "1,634", "61%"),
])
def test_headline_figures_in_local_format(pages, release, lang, thousands, percent):
    """Each page renders in its language with Babel's number and percent formats."""
    assert release.published("clients_year_end") == 1634
    html = pages[lang]
    assert f'<html lang="{lang}">' in html
    text = page_text(html)
    assert thousands in text
    assert percent in text
    m = Messages(lang)
    assert m.num(release.published("applications")) in text
    assert release.catalogue.title[lang] in text


def test_babel_formats():
    fi, sv, en = Messages("fi"), Messages("sv"), Messages("en")
    assert (fi.num(1634), sv.num(1634), en.num(1634)) == (f"1{NBSP}634", f"1{NBSP}634", "1,634")
    assert (fi.pct(0.61), en.pct(0.61)) == (f"61{NBSP}%", "61%")
    assert (fi.decimal(2.5), sv.decimal(2.5), en.decimal(2.5)) == ("2,5", "2,5", "2.5")
    assert fi.fig(Figure(None, 3, 5)) == "alle viisi"
    assert en.fig(Figure(None, 3, 5)) == "fewer than five"
    assert sv.fig(Figure(None, None, 5)) == "ett opublicerat antal"


def test_year_end_date_per_language(pages):
    assert "31.12.2025" in page_text(pages["fi"])
    assert "31.12.2025" in page_text(pages["sv"])
    assert "31 December 2025" in page_text(pages["en"])


def test_review_writes_every_language_and_chart(review_dir, pages):
    for lang, html in pages.items():
        sources = re.findall(r'<img src="([^"]+)"', html)
        assert len(sources) == 9
        for source in sources:
            assert source.endswith(f".{lang}.svg")
            assert (review_dir / source).stat().st_size > 1000
        assert html.count('alt="') == len(sources)
        assert html.count("<table") >= len(sources)


def test_sections_in_the_seed_order(pages):
    order = ["intro", "applications", "new-clients", "forms", "finland", "year-end", "methods"]
    for html in pages.values():
        at = [html.index(f'<section id="{s}">') for s in order]
        assert at == sorted(at)


# ---- facts from published values only ----

def test_share_only_of_published_values():
    assert share(Figure(5), Figure(10)) == 0.5
    assert share(Figure(None, 3), Figure(10)) is None
    assert share(Figure(5), Figure(None)) is None
    assert share(Figure(0), Figure(0)) is None


def test_ranking_needs_proof(release):
    """'Most common' only when no hidden or pooled category could be larger."""
    facts = Facts(with_cells(release, "applications", {
        ("MIGRI",): None, ("RECEPTION_CENTRE",): None}))
    assert Facts(release).ranking("applications", "referrer", top=3)
    # each hidden referrer may hold everything the published ones leave: more than any of them
    assert facts.ranking("applications", "referrer", top=3) == []
    assert facts.leader("applications", "referrer") is None
    assert facts.largest("applications", "referrer", top=1)[0].code not in (
        "MIGRI", "RECEPTION_CENTRE")


def test_comparison_needs_both_years(release, tmp_path):
    """No comparison when the previous year's figure is hidden, or there is no previous year."""
    assert Facts(release).change("applications") is not None
    hidden = with_cells(release, "applications", {("_T",): None}, previous=True)
    assert Facts(hidden).change("applications") is None
    assert Facts(replace(release, previous=None)).change("applications") is None
    text = page_text(render(replace(release, previous=None), tmp_path, ("en",))["en"])
    assert "when the figure was" not in text
    assert "than a year earlier" not in text


def test_hidden_figure_has_a_bound_from_its_margins(release):
    facts = Facts(release)
    for table in release.tables:
        frame = release.tables[table]
        dims = release.catalogue.table(table).dimensions
        for row in frame.filter(pl.col("value").is_null()).iter_rows(named=True):
            figure = facts.get(table, **{d: row[d] for d in dims})
            assert figure.hidden
            assert figure.bound is None or figure.bound >= 1


# ---- sentences adapt to the figures ----

def _small_women(release: ProtectedRelease) -> ProtectedRelease:
    """A year where women and girls are few among new clients and hidden."""
    men = release.published("new_clients", sex="M")
    variant = with_cells(release, "new_clients", {("_T", "_T"): men + 3, ("F", "_T"): None})
    return with_cells(variant, "finland_forms", {("FORCED_LABOUR", "_T"): None,
                                                 ("FORCED_LABOUR", "F"): None,
                                                 ("FORCED_LABOUR", "M"): None})


@pytest.mark.slow
def test_sentences_adapt_when_a_large_group_is_small(release, tmp_path):
    pages = render(_small_women(release), tmp_path)
    en, fi, sv = (page_text(pages[lang]) for lang in ("en", "fi", "sv"))
    assert "Fewer than five new victims were women and girls." in en
    assert "Uusista uhreista naisia ja tyttöjä oli alle viisi." in fi
    assert "Färre än fem nya offer var kvinnor och flickor." in sv
    assert "of the new victims were women and girls" not in en
    assert "Forced labour accounted for an unpublished number of events." in en
    for text in (en, fi, sv):
        assert "None" not in text and "nan" not in text.lower().split()


@pytest.mark.slow
def test_withheld_figure_is_named_without_number(release, tmp_path):
    """A hidden cell the margins do not bound is 'unpublished', never a number."""
    variant = with_cells(release, "new_clients", {("M", "_T"): None})
    en = page_text(render(variant, tmp_path / "one", ("en",))["en"])
    assert "The number of new victims who were men and boys is not published." in en
    assert "An unpublished number of" not in en
    both = with_cells(variant, "new_clients", {("F", "_T"): None})
    en = page_text(render(both, tmp_path / "both", ("en",))["en"])
    assert "The split of the new victims by sex is not published." in en
    assert "were men and boys" not in en


# ---- the methods note, with and without differential privacy ----

def test_methods_note_states_threshold_pooling_and_symbols(pages, release):
    k = release.policy.min_count
    assert k == 5
    methods = {lang: page_text(html.split('<section id="methods">')[1])
               for lang, html in pages.items()}
    assert "fewer than five persons" in methods["en"]
    assert "alle viisi henkilöä" in methods["fi"]
    assert "mindre än fem" in methods["sv"]
    assert "Other countries" in methods["en"] and "Muut maat" in methods["fi"]
    for text in methods.values():
        assert ".." in text
        assert "±" not in text  # no noise in a suppression release


@pytest.mark.slow
def test_methods_note_under_differential_privacy(release, tmp_path):
    policy = replace(release.policy, mode="dp", dp={"epsilon": 1.0, "suppress_below": 0,
                                                    "yearly_epsilon_cap": 3.5})
    bounds = {spec.id: 2.5 for spec in release.catalogue.tables}
    pages = render(replace(release, policy=policy, error_bounds=bounds), tmp_path,
                   ("fi", "sv", "en"))
    fi, sv, en = (page_text(pages[lang].split('<section id="methods">')[1])
                  for lang in ("fi", "sv", "en"))
    assert "kohinaa" in fi and "2,5" in fi
    assert "noise" in en and "2.5" in en
    assert en.count("2.5") == len(bounds)
    # the yearly cap counts a person once per release (issue 14)
    assert "at most ε = 3.5 together" in en and "once per release" in en
    assert "enintään ε = 3,5" in fi and "kerran julkaisua kohden" in fi
    assert "högst ε = 3,5" in sv and "en gång per publikation" in sv
    assert release.catalogue.table("new_clients").title["en"] in en


def _register_without_women(source: Path, target: Path, keep: int = 3) -> Path:
    """The embedded register with all but ``keep`` of 2025's new female victims removed."""
    frames = {p.stem: pl.read_csv(p, infer_schema=False) for p in source.glob("*.csv")}
    persons, periods = frames["persons"], frames["client_periods"]
    new = periods.filter(pl.col("start").str.starts_with("2025"))["person_id"]
    women = persons.filter((pl.col("role") == "VICTIM") & (pl.col("sex") == "F")
                           & pl.col("person_id").is_in(new.implode()))["person_id"].sort()
    gone = set(women.to_list()[keep:])
    gone |= set(persons.filter(pl.col("parent_id").is_in(list(gone)))["person_id"].to_list())
    target.mkdir(parents=True)
    for name, frame in frames.items():
        frame.filter(~pl.col("person_id").is_in(list(gone))).write_csv(target / f"{name}.csv")
    return target


@pytest.mark.slow
def test_review_of_a_year_with_few_women(tmp_path):
    """Through the real pipeline: a register where women are few still reads well."""
    from suoja.pipeline import protect_release
    from suoja.policy import read_policy
    from suoja.register import read_register
    from suoja.tables.catalogue import read_catalogue

    register = _register_without_women(Path(__file__).resolve().parents[1] / "data" / "register",
                                       tmp_path / "register")
    frames = read_register(register).frames
    catalogue, policy = read_catalogue(), read_policy()
    year = protect_release(frames, 2025, catalogue, policy)
    year = replace(year, previous=protect_release(frames, 2024, catalogue, policy))
    assert year.published("new_clients", sex="F") is None
    pages = render(year, tmp_path / "review", ("en", "fi"))
    en, fi = page_text(pages["en"]), page_text(pages["fi"])
    assert "of the new victims were women and girls" not in en
    assert re.search(r"Fewer than five new victims were women"
                     r"|The number of new victims who were women and girls is not published"
                     r"|The split of the new victims by sex is not published", en)
    assert re.search(r"Uusista uhreista naisia ja tyttöjä oli alle viisi"
                     r"|kuinka monta uusista uhreista oli naisia ja tyttöjä"
                     r"|Uusien uhrien jakaumaa sukupuolen mukaan ei julkaista", fi)
    for text in (en, fi):
        assert "None" not in text


# ---- any pattern of hidden cells reads ----

@pytest.mark.slow
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_review_renders_whatever_cells_are_hidden(release, tmp_path_factory, data):
    """Registers never seen hide other cells (totals included) or have empty tables:
    every sentence still reads."""
    variant = release
    for table_id, frame in release.tables.items():
        dims = release.catalogue.table(table_id).dimensions
        rows = frame.select(*dims).rows()
        if data.draw(st.booleans(), label=f"{table_id} empty"):
            variant = with_cells(variant, table_id, dict.fromkeys(rows, 0))
        hide = data.draw(st.lists(st.integers(0, 3), min_size=len(rows), max_size=len(rows)),
                         label=f"{table_id} hidden")
        variant = with_cells(variant, table_id,
                             {row: None for row, h in zip(rows, hide, strict=True) if h == 0})
    pages = render(variant, tmp_path_factory.mktemp("review"), ("en", "fi"))
    for text in (page_text(html) for html in pages.values()):
        assert "None" not in text and "nan" not in text.lower().split()


def test_lawful_stay_without_a_published_total(release, tmp_path):
    """The permits are published but the persons exploited in Finland are not: a count."""
    permits = ("SEASONAL_WORK", "WORK", "FAMILY", "OTHER_PERMIT", "INTERNATIONAL_PROTECTION")
    variant = with_cells(release, "finland_residence", {(code,): 10 for code in permits})
    variant = with_cells(variant, "finland_victims", {("_T",): None})
    en = page_text(render(variant, tmp_path, ("en",))["en"])
    assert "50 persons exploited in Finland stayed in the country lawfully" in en
