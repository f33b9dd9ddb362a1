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


def _mult(m: tuple[float, ...], n: tuple[float, ...]) -> tuple[float, ...]:
    """The PDF matrix product ``m × n`` (apply m, then n)."""
    a, b, c, d, e, f = m
    na, nb, nc, nd, ne, nf = n
    return (a * na + b * nc, a * nb + b * nd, c * na + d * nc, c * nb + d * nd,
            e * na + f * nc + ne, e * nb + f * nd + nf)


def _y(m: tuple[float, ...], x: float, y: float) -> float:
    return m[1] * x + m[3] * y + m[5]


def _lowest(page, resources, contents, floor: float, ctm=IDENTITY) -> float:  # noqa: C901
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
