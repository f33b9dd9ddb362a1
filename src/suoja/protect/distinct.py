"""Counts of distinct codes ("the new clients had 50 citizenships"), with their own rule.

A count of distinct citizenships is no margin of a cube: it counts codes, not persons, and
the protection engine cannot protect it. Beside the published citizenship table it says how
many countries with clients hide in "Other countries" (``_O``), and perhaps how many of the
hidden countries of the table have any client at all. This module computes it from the
protected cells (true values kept for the privacy officer) and publishes it only when it
changes nothing an outsider can deduce about any cell:

An outsider has the table: ``k`` listed codes known to have clients (a published positive
count, or any listed code of a table that pools by its own counts, which has at least the
threshold by the public pooling rule), ``u`` listed codes whose count is hidden and might be
zero, and ``T`` persons in ``_O``, where every pooled country with clients has 1 to
``m = threshold - 1`` of them. So the number of pooled countries with clients, ``P``, lies in
``ceil(T / m) .. T`` and the number of hidden listed codes with clients, ``H``, in
``0 .. u``. The distinct count ``D = k + H + P`` is published only when

1. ``H`` may still be anything from 0 to ``u``: ``D - k <= T`` and
   ``D - k - ceil(T / m) >= u`` (else ``D`` would tell that hidden cells are non-zero, or
   zero); this holds for an outsider who knows more of the listed cells too;
2. one pooled country's count may still be anything it could be without ``D``, even for an
   outsider who knows every listed count (then ``P = D - listed codes with clients``
   exactly): ``T - m (P - 1) <= 1`` and ``min(m, T - P + 1) = min(m, T - ceil(T / m) + 1)``.
   ``D - S = T`` (every pooled country has exactly one client) fails here;
3. ``_O`` is published (a hidden ``_O`` would be bounded by ``P``), and the release is not
   noisy (a distinct count has no noise of its own).

Otherwise the figure is withheld, and the suppression log says why.

``with_distinct(release)`` runs after the protection of the tables (it reads the protected
cells' true values, as the protection does) and before the release and the review are
written; the review reads only the figures it publishes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import polars as pl

from suoja.codelists import OTHER, TOTAL, UNKNOWN
from suoja.protect.pooling import per_table, reference_table
from suoja.protect.protected import CONFIDENTIAL, ProtectedRelease
from suoja.tables.catalogue import TableSpec
from suoja.tables.cubes import OTHER_OF

NOT_CODES = (TOTAL, OTHER, UNKNOWN)
RULE = "distinct"


@dataclass(frozen=True)
class Outsider:
    """What the published table tells about the codes of one dimension."""

    known: int
    """Listed codes known to have units."""
    unknown: int
    """Listed codes whose count is hidden and may be zero."""
    other: int | None
    """Units in ``_O`` (None: ``_O`` hidden); 0 when nothing is pooled."""
    top: int
    """The largest count a pooled code can have: the threshold minus one."""


def withheld_because(distinct: int, listed: int, seen: Outsider) -> str | None:
    """Why ``distinct`` codes (``listed`` of them shown) may not be published, or None.

    >>> withheld_because(50, 12, Outsider(known=12, unknown=0, other=70, top=4)) is None
    True
    >>> withheld_because(31, 12, Outsider(known=1, unknown=11, other=19, top=4))
    'it would show which hidden cells are zero or not'
    >>> withheld_because(20, 10, Outsider(known=10, unknown=0, other=10, top=4))
    'it would narrow the count of a country in Other countries'
    """
    if seen.other is None:
        return "Other countries is hidden, and the count would bound it"
    t, m = seen.other, seen.top
    fewest = math.ceil(t / m) if t else 0
    rest = distinct - seen.known
    if rest > t or rest - fewest < seen.unknown:
        return "it would show which hidden cells are zero or not"
    if t:
        pooled = distinct - listed
        if pooled < fewest or pooled > t:
            return "it contradicts the published table"  # cannot happen with true figures
        if t - m * (pooled - 1) > 1 or min(m, t - pooled + 1) != min(m, t - fewest + 1):
            return "it would narrow the count of a country in Other countries"
    return None


def _truth(release: ProtectedRelease, counted: TableSpec) -> tuple[int, int]:
    """The distinct codes with units in ``counted``, and how many of them are listed."""
    dim = counted.dimensions[0]
    cells = release.restricted.cells[counted.population]
    rows = cells.filter((pl.col("table") == counted.id) & ~pl.col(dim).is_in(NOT_CODES)
                        & ~pl.col(dim).str.starts_with(OTHER + OTHER_OF))
    listed = rows.filter(pl.col("value") > 0).height
    log = release.restricted.log
    pooled = log.filter((pl.col("table") == counted.id) & (pl.col("rule") == "pooled")
                        & (pl.col("original") > 0)).height
    return listed + pooled, listed


def _outsider(release: ProtectedRelease, counted: TableSpec) -> Outsider:
    """What the published table (and the public pooling rule) tells an outsider."""
    dim = counted.dimensions[0]
    table = release.tables[counted.id]
    listed = table.filter(~pl.col(dim).is_in(NOT_CODES))
    catalogue = release.catalogue
    free = [s for s in catalogue.tables_of(counted.population) if dim in s.dimensions]
    # A listed code is at least the threshold in the table that pools it by its own counts
    # (every table where the slices nest, else the reference table): a hidden one is not 0.
    reference = dim in release.policy.pool and (per_table(free)
                                                or reference_table(free).id == counted.id)
    published = listed.filter(pl.col("value").is_not_null())
    known = published.filter(pl.col("value") > 0).height
    hidden = listed.height - published.height
    other = table.filter(pl.col(dim) == OTHER)["value"]
    return Outsider(known=known + (hidden if reference else 0),
                    unknown=0 if reference else hidden,
                    other=(None if other[0] is None else int(other[0])) if other.len() else 0,
                    top=release.policy.min_count - 1)


def distinct_figure(release: ProtectedRelease, spec: TableSpec) -> tuple[int, str | None]:
    """The count of distinct codes of ``spec.of`` and why it is withheld (None: published)."""
    counted = release.catalogue.table(spec.of)
    distinct, listed = _truth(release, counted)
    if release.policy.mode == "dp":
        return distinct, "a count of distinct codes gets no noise of its own"
    return distinct, withheld_because(distinct, listed, _outsider(release, counted))


def with_distinct(release: ProtectedRelease) -> ProtectedRelease:
    """The release with its counts of distinct codes: published, or hidden and logged.

    Idempotent: counts already in ``release.tables`` are left as they are.
    """
    todo = [s for s in release.catalogue.distinct if s.id not in release.tables]
    if not todo or not release.restricted.cells or release.policy.mode == "dp":
        return release  # under noise a count of distinct codes is not published at all
    tables, logs = dict(release.tables), [release.restricted.log]
    for spec in todo:
        if spec.population not in release.restricted.cells:
            continue
        value, why = distinct_figure(release, spec)
        tables[spec.id] = pl.DataFrame(
            {"year": [release.year], "value": [None if why else value],
             "status": [CONFIDENTIAL if why else None]},
            schema={"year": pl.Int32, "value": pl.Int64, "status": pl.String})
        if why:
            logs.append(pl.DataFrame(
                {"table": [spec.id], "cell": [TOTAL], "original": [value],
                 "published": [""], "rule": [RULE],
                 "reason": [f"{value} distinct codes of {spec.of}, not published: {why}"]},
                schema=release.restricted.log.schema))
    log = pl.concat(logs) if len(logs) > 1 else release.restricted.log
    return replace(release, tables=tables,
                   restricted=replace(release.restricted, log=log))
