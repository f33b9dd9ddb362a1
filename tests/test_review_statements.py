"""Issue 15: the review's wording (plural, withheld and case forms from the catalogues),
the seed's statements that published figures support, and charts of hidden splits.

Each statement is checked for the embedded 2025 release and for a variant in which a
figure it needs is hidden: then it is absent, and so is its number.
"""

from __future__ import annotations

import re

import pytest
from test_review import page_text, render, with_cells

from suoja import codelists
from suoja.review.figures import Figure
from suoja.review.messages import LANGUAGES, Messages
from suoja.review.render import content


@pytest.fixture(scope="module")
def pages(release, tmp_path_factory):
    return {lang: page_text(html)
            for lang, html in render(release, tmp_path_factory.mktemp("r15")).items()}


@pytest.fixture(scope="module")
def release(embedded_release):
    return embedded_release.release


# ---- plural, case and withheld forms come from the catalogues ----

GRAMMAR = {
    # (key, fields): {lang: (text for 1, for 2, for 5)}
    ("apps.accepted", ()): {
        "en": ("1 applicant was accepted as a client.", "2 applicants were accepted as clients.",
               "5 applicants were accepted as clients."),
        "fi": ("Asiakkaaksi otettiin 1 hakija.", "Asiakkaaksi otettiin 2 hakijaa.",
               "Asiakkaaksi otettiin 5 hakijaa."),
        "sv": ("1 sökande togs emot som klient.", "2 sökande togs emot som klienter.",
               "5 sökande togs emot som klienter."),
    },
    ("finland.reflection_count", (("year", "2025"),)): {
        "en": ("The assistance system granted 1 reflection period in 2025.",
               "The assistance system granted 2 reflection periods in 2025.",
               "The assistance system granted 5 reflection periods in 2025."),
        "fi": ("Vuonna 2025 auttamisjärjestelmä myönsi 1 harkinta-ajan.",
               "Vuonna 2025 auttamisjärjestelmä myönsi 2 harkinta-aikaa.",
               "Vuonna 2025 auttamisjärjestelmä myönsi 5 harkinta-aikaa."),
        "sv": ("År 2025 beviljade hjälpsystemet 1 betänketid.",
               "År 2025 beviljade hjälpsystemet 2 betänketider.",
               "År 2025 beviljade hjälpsystemet 5 betänketider."),
    },
    ("citizenship.finnish_count", ()): {
        "en": ("1 person was a Finnish citizen.", "2 persons were Finnish citizens.",
               "5 persons were Finnish citizens."),
        "fi": ("Suomen kansalaisia oli 1.", "Suomen kansalaisia oli 2.",
               "Suomen kansalaisia oli 5."),
        "sv": ("1 person var finsk medborgare.", "2 personer var finska medborgare.",
               "5 personer var finska medborgare."),
    },
    ("new.citizenships", ()): {
        "en": ("The new clients all had the same citizenship.",
               "Between them, the new clients held 2 different citizenships.",
               "Between them, the new clients held 5 different citizenships."),
        "fi": ("Kaikilla uusilla asiakkailla oli sama kansalaisuus.",
               "Uusilla asiakkailla oli yhteensä 2 eri kansalaisuutta.",
               "Uusilla asiakkailla oli yhteensä 5 eri kansalaisuutta."),
        "sv": ("Alla nya klienter hade samma medborgarskap.",
               "De nya klienterna hade sammanlagt 2 olika medborgarskap.",
               "De nya klienterna hade sammanlagt 5 olika medborgarskap."),
    },
    ("finland.citizenships", ()): {
        "en": ("All of those exploited in Finland had the same citizenship.",
               "Those exploited in Finland held 2 different citizenships between them.",
               "Those exploited in Finland held 5 different citizenships between them."),
        "fi": ("Kaikilla Suomessa hyväksikäytetyillä oli sama kansalaisuus.",
               "Suomessa hyväksikäytetyillä oli yhteensä 2 eri kansalaisuutta.",
               "Suomessa hyväksikäytetyillä oli yhteensä 5 eri kansalaisuutta."),
        "sv": ("Alla som utnyttjats i Finland hade samma medborgarskap.",
               "De som utnyttjats i Finland hade sammanlagt 2 olika medborgarskap.",
               "De som utnyttjats i Finland hade sammanlagt 5 olika medborgarskap."),
    },
}


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("key", list(GRAMMAR), ids=[k for k, _ in GRAMMAR])
def test_counts_one_two_five_take_their_forms(key, lang):
    name, fields = key
    m = Messages(lang)
    got = tuple(m.t(name, n=Figure(n), **dict(fields)) for n in (1, 2, 5))
    assert got == GRAMMAR[key][lang]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_withheld_count_is_a_sentence_of_its_own(lang):
    """A hidden figure the margins do not bound gets its own sentence, no number slot."""
    m = Messages(lang)
    text = m.t("citizenship.finnish_count", n=Figure(None))
    assert text == {"en": "The number of Finnish citizens is not published.",
                    "fi": "Suomen kansalaisten määrää ei julkaista.",
                    "sv": "Antalet finska medborgare publiceras inte."}[lang]
    few = m.t("citizenship.finnish_count", n=Figure(None, bound=3))
    assert few == {"en": "Fewer than five persons were Finnish citizens.",
                   "fi": "Suomen kansalaisia oli alle viisi.",
                   "sv": "Färre än fem personer var finska medborgare."}[lang]


def test_no_machine_phrases_in_the_review(pages):
    en, fi, sv = pages["en"], pages["fi"], pages["sv"]
    assert not re.search(r"\b1 (persons|events|applications)\b", en)
    assert "An unpublished number of persons" not in en
    assert "Ej publicerat antal" not in sv
    assert "suurimmasta alkaen" not in fi
    assert "myönsi harkinta-aikoja" not in fi and "myönsi 35 harkinta-aikaa" in fi
    assert fi.count("Määrä kasvoi vuodesta") <= 1
    assert "sukupuoli, ikä ja kansalaisuus sekä heihin kohdistuneen hyväksikäytön muodot" in fi


def test_suppression_log_counts_in_singular_and_plural(embedded_release):
    log = embedded_release.release.restricted.log
    reasons = " | ".join(r for r in log["reason"].to_list() if r)
    assert not re.search(r"\b1 (persons|events|applications|children)\b", reasons)
    assert "1 person," in reasons or "1 event," in reasons
    assert "the one event who" not in reasons


def test_country_names_as_people_say_them():
    assert codelists.label("citizenship", "COD", "en") == "Democratic Republic of the Congo"
    assert codelists.label("citizenship", "COD", "fi") == "Kongon demokraattinen tasavalta"
    assert codelists.label("citizenship", "VGB", "en") == "British Virgin Islands"
    for code in ("COD", "FSM", "PSE", "VGB", "VIR"):
        for lang in LANGUAGES:
            assert ", " not in codelists.label("citizenship", code, lang), (code, lang)


def test_source_lines_name_the_table_title_and_methods_agree_on_symbol(pages, release):
    title = release.catalogue.table("finland_forced_labour_sectors").title
    assert f"Source: the release's table “{title['en']}”." in pages["en"]
    assert f"Lähde: julkaisun taulukko ”{title['fi']}”." in pages["fi"]
    assert "table finland_forced_labour_sectors" not in pages["en"]
    assert "left empty" not in pages["en"] and "the symbol .. in its place" in pages["en"]
    assert "jätetään tyhjäksi" not in pages["fi"]


def test_contact_block_from_the_catalogue(pages, release):
    contact = release.catalogue.metadata["contact"]
    for lang in LANGUAGES:
        intro = pages[lang].split(Messages(lang).t("section.applications", year="2025"))[1]
        assert contact["email"] in intro and contact["helpline"][lang] in intro


# ---- statements the published figures support, and only then ----

def test_lawful_residence_from_published_residence_cells(release, tmp_path):
    # In the embedded release FINNISH_CITIZEN is hidden (it is the Finns in Finland, who
    # differ from all Finnish new clients by one): the statement needs it, so it is made
    # here on a release that publishes it.
    published = with_cells(release, "finland_residence", {("FINNISH_CITIZEN",): 17})
    pages = {lang: page_text(html) for lang, html in render(published, tmp_path).items()}
    assert "96 persons exploited in Finland (68%) stayed in the country lawfully" in pages["en"]
    assert "Suomessa hyväksikäytetyistä 96 eli 68\u00a0% oleskeli maassa laillisesti" in pages["fi"]
    hidden = with_cells(release, "finland_residence", {("NO_RIGHT",): None, ("WORK",): None})
    facts = content(hidden).sections["finland"]
    assert facts["lawful"] is None


def test_lawful_residence_absent_when_a_cell_it_needs_is_hidden(release, tmp_path):
    hidden = with_cells(release, "finland_residence", {("NO_RIGHT",): None, ("WORK",): None})
    en = page_text(render(hidden, tmp_path, ("en",))["en"])
    assert "stayed in the country lawfully" not in en and "96" not in en


def test_extra_events_belong_to_women(pages):
    assert "All 8 extra events belonged to women and girls." in pages["en"]
    assert "Kaikki 8 ylimääräistä tapahtumaa kohdistuivat naisiin ja tyttöihin." in pages["fi"]
    assert "Alla 8 extra händelser gällde kvinnor och flickor." in pages["sv"]


def test_extra_events_absent_when_events_by_sex_are_hidden(release, tmp_path):
    hidden = with_cells(release, "finland_forms", {("_T", "F"): None, ("_T", "M"): None})
    en = page_text(render(hidden, tmp_path, ("en",))["en"])
    assert "extra events" not in en


def test_oldest_age_groups_together(pages):
    assert "Together, 11 new clients (4%) were aged 50 or over" in pages["en"]
    assert "50 vuotta täyttäneitä oli yhteensä 11 eli 4\u00a0%" in pages["fi"]
    assert "Sammanlagt 11 nya klienter (4\u00a0%) var 50 år eller äldre" in pages["sv"]


def test_oldest_age_groups_absent_when_the_rest_is_hidden(release, tmp_path):
    """Two hidden groups apart: no range, and the sum cannot be taken from the margin."""
    hidden = with_cells(release, "new_clients", {("_T", "Y40T49"): None, ("_T", "Y18T29"): None})
    en = page_text(render(hidden, tmp_path, ("en",))["en"])
    assert "aged 50 or over" not in en and "Together," not in en and " 11 " not in en


def test_youngest_age_groups_together(release, tmp_path):
    """The hidden range starts at the youngest, open-ended group: "under 30", never None."""
    hidden = with_cells(release, "new_clients", {("_T", "Y_LT18"): None, ("_T", "Y18T29"): None,
                                                 ("_T", "Y50T59"): 6, ("_T", "Y_GE60"): 5})
    pages = render(hidden, tmp_path, ("en", "fi", "sv"))
    en, fi, sv = (page_text(pages[lang]) for lang in ("en", "fi", "sv"))
    assert "were under 30" in en and "None" not in en
    assert "alle 30-vuotiaita" in fi and "under 30 år" in sv


# ---- a hidden split with a published total is drawn as that total ----

def _split_hidden(release):
    """The release with the women/men split of sexual exploitation hidden and its total
    published (at its true value, from the restricted log if the release hides it), as a
    protected release may have it."""
    import polars as pl

    table = release.tables["exploitation_forms"]
    total = table.filter((pl.col("form") == "SEXUAL_EXPLOITATION") & (pl.col("sex") == "_T"))
    value = total["value"][0]
    if value is None:
        log = release.restricted.log.filter(
            (pl.col("table") == "exploitation_forms")
            & (pl.col("cell") == "form=SEXUAL_EXPLOITATION;sex=_T"))
        value = int(log["original"][0])
    return with_cells(release, "exploitation_forms", {("SEXUAL_EXPLOITATION", "F"): None,
                                                      ("SEXUAL_EXPLOITATION", "M"): None,
                                                      ("SEXUAL_EXPLOITATION", "_T"): value})


def test_hidden_split_chart_draws_the_published_total(release, tmp_path):
    release = _split_hidden(release)
    facts_table = release.tables["exploitation_forms"]
    row = facts_table.filter((facts_table["form"] == "SEXUAL_EXPLOITATION")
                             & (facts_table["sex"] == "_T"))
    total = int(row["value"][0])
    render(release, tmp_path, ("en", "fi"))
    for lang, words in (("en", "split not published"), ("fi", "jakaumaa ei julkaistu")):
        svg = (tmp_path / f"exploitation_forms.{lang}.svg").read_text(encoding="utf-8")
        assert re.search(r'id="split-\d+"', svg)
        assert f"{total} ({words})" in svg


def test_chart_without_hidden_split_has_no_neutral_bar(release, tmp_path):
    render(release, tmp_path, ("en",))
    svg = (tmp_path / "new_clients_sex.en.svg").read_text(encoding="utf-8")
    assert 'id="split-' not in svg


# ---- "mostly women" over every value an outsider can deduce ----

def test_sexual_exploitation_mostly_women_from_the_feasible_range(release, tmp_path):
    """The women/men split of sexual exploitation is hidden, but the men's column leaves at
    most a few men's events for it: every value an outsider can deduce says "mostly women"."""
    from suoja.review.figures import Facts

    release = _split_hidden(release)
    pages = {lang: page_text(html) for lang, html in render(release, tmp_path).items()}
    facts = Facts(release)
    cell = {"form": "SEXUAL_EXPLOITATION"}
    assert facts.get("exploitation_forms", **cell, sex="F").hidden
    total = facts.get("exploitation_forms", **cell).value
    floor = facts.floor("exploitation_forms", **cell, sex="F")
    ceiling = facts.get("exploitation_forms", **cell, sex="M").ceiling
    assert total is not None and floor > total / 2 and floor + ceiling >= total
    mostly = content(release).sections["forms"]["mostly"]
    assert "SEXUAL_EXPLOITATION" in mostly["women"]
    assert re.search(r"Women and girls were the majority among the victims of [^.]*"
                     r"sexual exploitation", pages["en"])
    assert re.search(r"Naiset ja tytöt olivat enemmistönä[^.]*seksuaalinen hyväksikäyttö",
                     pages["fi"])
    assert re.search(r"Kvinnor och flickor var i majoritet[^.]*sexuellt utnyttjande", pages["sv"])


def test_floor_is_never_above_the_true_value(release, embedded_release):
    """The floor of every hidden cell is at most its true value (a valid bound)."""
    from suoja.review.figures import Facts

    facts = Facts(release)
    log = embedded_release.release.restricted.log
    for table in ("exploitation_forms", "finland_forms", "new_clients"):
        dims = release.catalogue.table(table).dimensions
        for row in log.filter(log["table"] == table).iter_rows(named=True):
            codes = dict(part.split("=") for part in row["cell"].split(";"))
            assert facts.floor(table, **codes) <= int(row["original"]), row
            assert set(codes) <= set(dims)


def test_mostly_women_absent_when_the_margins_allow_a_men_majority(release, tmp_path):
    """Hide the men's and women's column totals: the men's events of sexual exploitation
    can then be anything up to the row total, and nothing is said."""
    hidden = with_cells(release, "exploitation_forms", {("_T", "M"): None, ("_T", "F"): None})
    assert "SEXUAL_EXPLOITATION" not in content(hidden).sections["forms"]["mostly"]["women"]
    pages = render(hidden, tmp_path)
    for lang, words in (("en", "the majority among the victims of"),
                        ("fi", "olivat enemmistönä"), ("sv", "i majoritet bland offren")):
        for sentence in re.split(r"(?<=\.)\s", page_text(pages[lang])):
            if words in sentence and sentence.startswith(("Women", "Naiset", "Kvinnor")):
                raise AssertionError(sentence)


# ---- construction: NACE divisions 41-43 published as one sector ----

def test_catalogue_groups_construction_divisions(release):
    sector = release.catalogue.dimensions["sector"]
    assert sector.groups == {"F": ("41", "42", "43")}
    assert "F" in sector.codes and not {"41", "42", "43"} & set(sector.codes)
    table = release.tables["finland_forced_labour_sectors"]
    assert "F" in table["sector"].to_list() and "41" not in table["sector"].to_list()
    assert {codelists.label("sector", "F", lang) for lang in LANGUAGES} == {
        "Rakentaminen", "Byggverksamhet", "Construction"}


def test_grouped_cube_counts_every_member(tmp_path):
    """A register's divisions 41, 42 and 43 are counted together as F (tiny register)."""
    from conftest import TINY, write_tiny

    from suoja.register import read_register
    from suoja.tables.catalogue import read_catalogue
    from suoja.tables.cubes import compute_cubes, compute_tables

    events = [*TINY["exploitation"],
              "E4,P1,FORCED_LABOUR,SECONDARY,FIN,41,2025-02-01",
              "E5,P1,FORCED_LABOUR,SECONDARY,FIN,43,2025-02-01"]
    frames = read_register(write_tiny(tmp_path / "r", {"exploitation": events})).frames
    catalogue = read_catalogue()
    table = compute_tables(compute_cubes(frames, catalogue, 2025), catalogue, 2025)[
        "finland_forced_labour_sectors"]
    values = dict(zip(table["sector"].to_list(), table["value"].to_list(), strict=True))
    assert values["F"] == 2 and values["02"] == 1 and values["_T"] == 3


def test_unknown_group_is_a_catalogue_error(tmp_path):
    from suoja.errors import CatalogueError
    from suoja.tables.catalogue import default_catalogue_path, read_catalogue

    text = default_catalogue_path().read_text(encoding="utf-8")
    bad = tmp_path / "catalogue.toml"
    bad.write_text(text.replace('groups = ["F"]', 'groups = ["Q9"]'), encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"dimensions.sector.groups: 'Q9' is not a group"):
        read_catalogue(bad)


def test_construction_is_named_among_the_common_sectors(pages):
    for lang, word in (("en", "construction"), ("fi", "rakentaminen"), ("sv", "byggverksamhet")):
        sentence = next(s for s in re.split(r"(?<=\.)\s", pages[lang])
                        if {"en": "most often in these sectors",
                            "fi": "toimialoilla", "sv": "näringsgrenar"}[lang] in s)
        assert word in sentence, sentence


def test_construction_absent_when_its_cell_is_hidden(release, tmp_path):
    hidden = with_cells(release, "finland_forced_labour_sectors", {("F",): None})
    codes = [i.code for i in content(hidden).sections["finland"]["sectors"]]
    assert "F" not in codes
    en = page_text(render(hidden, tmp_path, ("en",))["en"])
    assert "construction" not in en.split("most often in these sectors")[1].split(".")[0]


# ---- year end: victims taken in as minors, and still minors ----

def test_year_end_minors_are_a_protected_table_of_the_stock(release):
    cells = release.restricted.cells["year_end"]
    assert "clients_year_end_minors" in cells["table"].to_list()
    table = release.tables["clients_year_end_minors"]
    assert set(table["minor"].to_list()) == {"_T", "MINOR", "MINOR_AT_START", "ADULT_AT_START",
                                             "_U"}


def test_year_end_minors_are_said(pages):
    assert ("85 of the victims had been taken into the assistance system as minors." in pages["en"])
    assert "At the end of the year, 10 victims were still minors." in pages["en"]
    assert "Uhreista 85 oli tullut auttamisjärjestelmän asiakkaiksi alaikäisinä." in pages["fi"]
    assert "Vuoden lopussa uhreista 10 oli yhä alaikäisiä." in pages["fi"]
    assert "85 av offren hade kommit in i hjälpsystemet som minderåriga." in pages["sv"]
    assert "Vid årets slut var 10 av offren fortfarande minderåriga." in pages["sv"]


def test_year_end_minors_absent_when_hidden(release, tmp_path):
    hidden = with_cells(release, "clients_year_end_minors",
                        {("MINOR",): None, ("MINOR_AT_START",): None, ("ADULT_AT_START",): None})
    pages = {lang: page_text(html) for lang, html in render(hidden, tmp_path).items()}
    assert "taken into the assistance system" not in pages["en"]
    assert "still minors" not in pages["en"] and "still a minor" not in pages["en"]
    assert "alaikäisinä" not in pages["fi"] and "yhä alaikäi" not in pages["fi"]
    assert "fortfarande minderårig" not in pages["sv"]


def test_year_end_minors_taken_in_from_the_margin(release, tmp_path):
    """MINOR hidden but everything else published: those taken in as minors are the margin
    minus the rest, which any reader can compute; the minors now are hidden and not said."""
    hidden = with_cells(release, "clients_year_end_minors", {("MINOR",): None})
    facts = content(hidden).sections["year_end"]
    assert facts["minors_now"] is None and facts["taken_as_minors"].value == 85
    both = with_cells(release, "clients_year_end_minors",
                      {("MINOR",): None, ("ADULT_AT_START",): None})
    assert content(both).sections["year_end"]["taken_as_minors"] is None


@pytest.mark.parametrize("lang", LANGUAGES)
def test_year_end_minor_sentences_one_two_five(lang):
    m = Messages(lang)
    got = [m.t("year_end.minors_now", n=Figure(n)) for n in (1, 2, 5)]
    expected = {
        "en": ["At the end of the year, 1 victim was still a minor.",
               "At the end of the year, 2 victims were still minors.",
               "At the end of the year, 5 victims were still minors."],
        "fi": ["Vuoden lopussa uhreista 1 oli yhä alaikäinen.",
               "Vuoden lopussa uhreista 2 oli yhä alaikäisiä.",
               "Vuoden lopussa uhreista 5 oli yhä alaikäisiä."],
        "sv": ["Vid årets slut var 1 av offren fortfarande minderårig.",
               "Vid årets slut var 2 av offren fortfarande minderåriga.",
               "Vid årets slut var 5 av offren fortfarande minderåriga."],
    }[lang]
    assert got == expected
    taken = [m.t("year_end.taken_as_minors", n=Figure(n)) for n in (1, 5)]
    assert taken[0] != taken[1]


# ---- the privacy officer's page adds up ----

@pytest.fixture(scope="module")
def officer_page(embedded_release):
    return page_text((embedded_release.target / "restricted" / "review.html")
                     .read_text(encoding="utf-8"))


def test_officer_header_counts_add_up(embedded_release, officer_page):
    log = embedded_release.release.restricted.log
    rules = dict(log.group_by("rule").len().iter_rows())
    audit = embedded_release.audit.filter(embedded_release.audit["year"] == 2025)
    kinds = dict(audit.group_by("kind").len().iter_rows())
    found = re.search(r"\((\d+) hidden cells \((\d+) primary \+ (\d+) secondary\), (\d+) derived "
                      r"cells and (\d+) pooled groups audited; (\d+) small categories pooled",
                      officer_page)
    assert found, officer_page[:600]
    hidden, primary, secondary, derived, groups, pooled = map(int, found.groups())
    assert hidden == primary + secondary == embedded_release.hidden
    assert (primary, secondary, pooled) == (rules["primary"], rules["secondary"], rules["pooled"])
    assert derived == kinds.get("implicit", 0) and groups == kinds.get("pooled", 0)


def test_officer_policy_in_words_and_derived_cells_explained(officer_page):
    policy = officer_page.split("Policy")[1][:1500]
    for machine in ("('citizenship'", "True", "{}", "heuristic\n"):
        assert machine not in policy
    assert "a cell of 1 to 4 units is not published (threshold 5)" in officer_page
    assert "Derived cells" in officer_page
    assert re.search(r"finland_victims_citizenship\[in_finland=N\]\s+The cells of "
                     r"finland_victims_citizenship .* for in_finland = N \(Exploited abroad only\)"
                     r" instead of Y: new_clients_citizenship minus finland_victims_citizenship",
                     officer_page)


def test_officer_pooled_cells_have_a_range(embedded_release, officer_page):
    assert " n/a " not in officer_page
    assert "1..4 (pooling rule: fewer than 5)" in officer_page or "pooled" not in officer_page


def test_mostly_sentence_for_one_form_reads_naturally():
    fi = Messages("fi")
    assert fi.t("forms.mostly_women", count=1, list="seksuaalinen hyväksikäyttö") == (
        "Naiset ja tytöt olivat enemmistönä uhreista, kun hyväksikäytön muoto oli "
        "seksuaalinen hyväksikäyttö.")
    assert "näissä muodoissa" in fi.t("forms.mostly_men", count=2, list="a ja b")


def _label_lines(svg: str, axis_x: float) -> list[float]:
    """The baselines of the text lines left of the value axis (the category labels)."""
    lines = []
    for attrs in re.findall(r"<text ([^>]*)>", svg):
        at = re.search(r'x="([\d.]+)" y="([\d.]+)"', attrs) or \
            re.search(r"translate\(([\d.]+) ([\d.]+)\)", attrs)
        if at and float(at.group(1)) < axis_x:
            lines.append(float(at.group(2)))
    return sorted(lines)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_category_labels_of_the_sector_chart_never_overlap(release, tmp_path, lang):
    """Every line of every wrapped category label is at least a font size below the last."""
    render(release, tmp_path, (lang,))
    svg = (tmp_path / f"finland_sectors.{lang}.svg").read_text(encoding="utf-8")
    size = float(re.search(r"font-size: ([\d.]+)px", svg).group(1))
    axis = min(float(x) for x in re.findall(r'text-anchor: middle" x="([\d.]+)"', svg))
    lines = _label_lines(svg, axis)
    assert len(lines) >= 6
    gaps = [b - a for a, b in zip(lines, lines[1:], strict=False)]
    assert min(gaps) >= size, gaps
