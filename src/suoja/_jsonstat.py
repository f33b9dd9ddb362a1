"""JSON-stat 2.0 datasets of protected tables, one per language.

Each dataset has a ``time`` dimension (``year``), the table's dimensions in catalogue order
and a ``metric`` dimension (``measure``, with the population's unit). A hidden cell is
``null`` with the status ``C``; the meaning of ``C`` is stated in ``extension.status`` in
the dataset's language. The PX writer (``suoja.portal.px``) walks the cells in the same
order, through ``cube_order``.
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl

from suoja import codelists
from suoja.catalogue import Catalogue, TableSpec
from suoja.errors import InternalError
from suoja.protected import CONFIDENTIAL, ProtectedRelease

METRIC = "measure"
STATUS_TEXT = {
    "fi": "Luottamuksellinen: alle kynnysarvon tai suojattu, "
          "ettei se ole laskettavissa muista luvuista.",
    "sv": "Konfidentiellt: under tröskelvärdet eller skyddat så att det inte kan räknas ut.",
    "en": "Confidential: below the threshold, "
          "or hidden so that it cannot be computed from other figures.",
}
METRIC_LABEL = {"fi": "Lukumäärä", "sv": "Antal", "en": "Number"}
YEAR_LABEL = {"fi": "Vuosi", "sv": "År", "en": "Year"}


def cube_order(release: ProtectedRelease, spec: TableSpec) -> tuple[dict[str, list[str]],
                                                                      pl.DataFrame]:
    """The codes of each dimension in table order, and the cells in row-major order.

    The last dimension varies fastest, as JSON-stat and PX both require. Raises
    InternalError if the table is not a complete grid of its codes.
    """
    table = release.tables[spec.id]
    codes = {d: list(dict.fromkeys(table[d].to_list())) for d in spec.dimensions}
    order = [pl.col(d).replace_strict(codes[d], list(range(len(codes[d]))))
             for d in spec.dimensions]
    ordered = table.sort(order) if spec.dimensions else table
    cells = math.prod(len(c) for c in codes.values())
    if ordered.height != cells:
        raise InternalError(f"{spec.id}: {ordered.height} rows, but its codes make {cells} cells")
    return codes, ordered


def _dimension(catalogue: Catalogue, dim: str, codes: list[str], lang: str) -> dict[str, Any]:
    codelist = catalogue.dimensions[dim].codelist
    return {
        "label": catalogue.dimensions[dim].label[lang],
        "category": {
            "index": {code: i for i, code in enumerate(codes)},
            "label": {code: codelists.label(codelist, code, lang) for code in codes},
        },
    }


def dataset(release: ProtectedRelease, spec: TableSpec, lang: str) -> dict[str, Any]:
    """The JSON-stat 2.0 dataset of one table in one language."""
    codes, ordered = cube_order(release, spec)
    year = str(release.year)
    unit = release.catalogue.unit_of(spec)[lang]
    dimension: dict[str, Any] = {
        "year": {"label": YEAR_LABEL[lang], "category": {"index": {year: 0},
                                                         "label": {year: year}}},
        **{d: _dimension(release.catalogue, d, codes[d], lang) for d in spec.dimensions},
        METRIC: {"label": METRIC_LABEL[lang], "category": {
            "index": {"value": 0}, "label": {"value": METRIC_LABEL[lang]},
            "unit": {"value": {"label": unit, "decimals": 0}}}},
    }
    statuses = ordered["status"].to_list()
    return {
        "version": "2.0",
        "class": "dataset",
        "label": spec.title[lang],
        "source": release.catalogue.publisher[lang],
        "updated": release.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "note": [spec.note[lang]],
        "id": ["year", *spec.dimensions, METRIC],
        "size": [1, *[len(codes[d]) for d in spec.dimensions], 1],
        "role": {"time": ["year"], "metric": [METRIC]},
        "dimension": dimension,
        "value": ordered["value"].to_list(),
        "status": {str(i): s for i, s in enumerate(statuses) if s == CONFIDENTIAL},
        "extension": _extension(release, spec, lang),
    }


def _extension(release: ProtectedRelease, spec: TableSpec, lang: str) -> dict[str, Any]:
    """What the status means, and under differential privacy the 95 % error bound."""
    extension: dict[str, Any] = {"status": {CONFIDENTIAL: STATUS_TEXT[lang]},
                                 "table": spec.id, "language": lang}
    if spec.id in release.error_bounds:
        from suoja.dp import jsonstat_extension

        extension.update(jsonstat_extension(release.error_bounds[spec.id],
                                            release.policy.dp_settings(), lang))
    return extension
