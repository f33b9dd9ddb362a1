"""The review's PDFs: no page but the last is mostly blank (issue 15).

The fill of a page is measured from the PDF itself: the lowest point of anything drawn
on it (text, rules and bars, placed images and forms) below the top margin, as a share of
the printable height. Charts are drawn as vector paths and text, so they count too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream

from suoja.review import LANGUAGES, write_review

MM = 72 / 25.4
TOP_MARGIN, BOTTOM_MARGIN = 18 * MM, 20 * MM  # as in the review's @page rule
IDENTITY = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
MOST_EMPTY = 0.5

pytestmark = pytest.mark.real_pdf


def _mult(m: tuple[float, ...], n: tuple[float, ...]) -> tuple[float, ...]:
    """The PDF matrix product ``m × n`` (apply m, then n)."""
    a, b, c, d, e, f = m
    na, nb, nc, nd, ne, nf = n
    return (a * na + b * nc, a * nb + b * nd, c * na + d * nc, c * nb + d * nd,
            e * na + f * nc + ne, e * nb + f * nd + nf)


def _y(m: tuple[float, ...], x: float, y: float) -> float:
    return m[1] * x + m[3] * y + m[5]


def _lowest(page, resources, contents, floor: float, ctm=IDENTITY) -> float:
    """The lowest y (points from the bottom) of anything ``contents`` draws above ``floor``.

    What reaches below the floor is the page's background or its margin (page number).
    """
    found: list[float] = []
    stack, tm, line = [], IDENTITY, IDENTITY
    for operands, op in ContentStream(contents, page.pdf).operations:
        nums = tuple(float(v) for v in operands) if op in (b"cm", b"Tm", b"Td", b"TD",
                                                             b"re") else ()
        if op == b"q":
            stack.append(ctm)
        elif op == b"Q" and stack:
            ctm = stack.pop()
        elif op == b"cm":
            ctm = _mult(nums, ctm)
        elif op == b"BT":
            tm = line = IDENTITY
        elif op == b"Tm":
            tm = line = nums
        elif op in (b"Td", b"TD"):
            tm = line = _mult((1, 0, 0, 1, nums[0], nums[1]), line)
        elif op in (b"Tj", b"TJ", b"'", b'"'):
            found.append(_y(_mult(tm, ctm), 0, 0))
        elif op == b"re":
            x, y, w, h = nums
            found.append(min(_y(ctm, px, py) for px in (x, x + w) for py in (y, y + h)))
        elif op == b"Do":
            xobject = resources["/XObject"][operands[0]].get_object()
            matrix = _mult(tuple(float(v) for v in xobject.get("/Matrix", IDENTITY)), ctm)
            if xobject["/Subtype"] == "/Form":
                inner = xobject.get("/Resources", resources)
                found.append(_lowest(page, inner, xobject, floor, matrix))
            else:  # an image fills the unit square
                found.append(min(_y(matrix, px, py) for px in (0, 1) for py in (0, 1)))
    return min((y for y in found if y >= floor), default=float("inf"))


def page_fills(path: Path) -> list[float]:
    """Per page, how far down the printable area its content reaches (0 to 1)."""
    fills = []
    for page in PdfReader(path).pages:
        height = float(page.mediabox.height)
        top, bottom = height - TOP_MARGIN, BOTTOM_MARGIN
        low = _lowest(page, page["/Resources"], page.get_contents(), bottom - 1)
        fills.append(max(0.0, (top - low) / (top - bottom)))
    return fills


@pytest.fixture(scope="module")
def pdfs(embedded_release, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pdf")
    write_review(embedded_release.release, folder)
    return {lang: folder / f"review.{lang}.pdf" for lang in LANGUAGES}


def test_page_fill_measures_what_is_drawn(pdfs):
    """The measure itself: the last page of the methods note is partly empty, and every
    page reads as something."""
    fills = page_fills(pdfs["fi"])
    assert all(0 < f <= 1.01 for f in fills)
    assert fills[-1] < 0.95


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_page_but_the_last_is_mostly_blank(pdfs, lang):
    fills = page_fills(pdfs[lang])
    assert len(fills) > 3
    empty = [(number, round(fill, 2)) for number, fill in enumerate(fills[:-1], 1)
             if fill < 1 - MOST_EMPTY]
    assert not empty, f"{lang}: pages more than half empty: {empty}"


# ---- fonts: the body font everywhere, no serif fallback, tables no larger than text ----

SERIF = ("times", "georgia", "roman", "garamond", "cambria", "charter", "tinos", "bookman",
         "palatino", "century", "schoolbook")


def _is_serif(name: str) -> bool:
    low = name.lower()
    return ("serif" in low and "sans" not in low) or any(w in low for w in SERIF)


def _font_names(resources, seen: set[int] | None = None) -> set[str]:
    """Every font a page's resources (and the forms they place) can use."""
    seen = set() if seen is None else seen
    names: set[str] = set()
    if resources is None or id(resources) in seen:
        return names
    seen.add(id(resources))
    resources = resources.get_object()
    for font in (resources.get("/Font") or {}).values():
        font = font.get_object()
        names.add(str(font.get("/BaseFont")).split("+")[-1])
        for part in font.get("/DescendantFonts") or []:
            names.add(str(part.get_object().get("/BaseFont")).split("+")[-1])
    for xobject in (resources.get("/XObject") or {}).values():
        names |= _font_names(xobject.get_object().get("/Resources"), seen)
    return names


def text_runs(path: Path) -> list[tuple[int, str, float, float, str]]:
    """Every run of text: (page, font, size in points, y from the bottom, text)."""
    runs = []
    for number, page in enumerate(PdfReader(path).pages, 1):
        def visit(text, cm, tm, font, size, number=number):
            if not text.strip() or font is None:
                return
            m = _mult(tuple(map(float, tm)), tuple(map(float, cm)))
            scale = (m[2] ** 2 + m[3] ** 2) ** 0.5
            runs.append((number, str(font.get("/BaseFont")).split("+")[-1],
                         round(size * scale, 2), _y(m, 0, 0), text))
        page.extract_text(visitor_text=visit)
    return runs


def _body(runs) -> tuple[str, float]:
    """The body text's font and size: what most characters are set in."""
    weight: dict[tuple[str, float], int] = {}
    for _, font, size, _, text in runs:
        weight[(font, size)] = weight.get((font, size), 0) + len(text.strip())
    return max(weight, key=weight.__getitem__)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_serif_font_anywhere(pdfs, lang):
    fonts = set().union(*(_font_names(p.get("/Resources"))
                          for p in PdfReader(pdfs[lang]).pages))
    assert fonts and all("DejaVu" in f for f in fonts), fonts
    assert not [f for f in fonts if _is_serif(f)], fonts


def test_serif_names_are_recognised():
    assert _is_serif("DejaVuSerif") and _is_serif("LiberationSerif-Bold")
    assert _is_serif("TimesNewRomanPSMT") and _is_serif("Times-Roman")
    assert not _is_serif("DejaVuSans") and not _is_serif("DejaVuSans-Bold")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_page_numbers_are_set_in_the_body_font(pdfs, lang):
    runs = text_runs(pdfs[lang])
    body_font, _ = _body(runs)
    pages = len(PdfReader(pdfs[lang]).pages)
    numbers = {page: font for page, font, _, y, text in runs
               if y < BOTTOM_MARGIN and text.strip() == str(page)}
    assert sorted(numbers) == list(range(1, pages + 1)), numbers
    assert set(numbers.values()) == {body_font}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_tables_are_not_larger_than_body_text(pdfs, lang):
    """The total row of every table (its label from the catalogue) is set no larger than
    the body text."""
    from suoja.review.messages import Messages

    runs = text_runs(pdfs[lang])
    _, body_size = _body(runs)
    total = Messages(lang).t("chart.total")
    rows = [size for _, _, size, _, text in runs if text.split()[:1] == [total]]
    assert rows, f"{lang}: no table total row ({total!r}) found"
    assert max(rows) <= body_size, (rows, body_size)
