"""The privacy officer's review (``restricted/review.html``): why every cell is hidden.

Each table as a grid with hidden and pooled cells marked by their rule, the reason and the
range an outsider can deduce (from the audit), the policy, fingerprints of the register,
the policy and the catalogue, and a one-line verdict at the top.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import jinja2
import polars as pl

from suoja.catalogue import TableSpec
from suoja.codelists import TOTAL
from suoja.protected import ProtectedRelease


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("suoja", "templates"),
                              autoescape=True, undefined=jinja2.StrictUndefined)


def _true_values(release: ProtectedRelease, spec: TableSpec) -> dict[str, int]:
    cells = release.restricted.cells.get(spec.population)
    if cells is None:
        return {}
    rows = cells.filter(pl.col("table") == spec.id)
    return dict(zip(rows["key"].to_list(), rows["value"].to_list(), strict=True))


def _table(release: ProtectedRelease, spec: TableSpec, log: dict[tuple[str, str], dict],
           ranges: dict[tuple[str, str], str]) -> dict[str, Any]:
    table = release.tables[spec.id]
    dims = list(spec.dimensions)
    truth = _true_values(release, spec)
    row_dim = dims[0] if dims else ""
    col_dim = dims[1] if len(dims) > 1 else None
    columns = list(dict.fromkeys(table[col_dim].to_list())) if col_dim else ["value"]
    rows: dict[str, list[dict[str, str]]] = {}
    for row in table.iter_rows(named=True):
        key = ";".join(f"{d}={row[d]}" for d in dims) or TOTAL
        entry = log.get((spec.id, key))
        status = entry["rule"] if entry else "published"
        shown = truth.get(key, row["value"])
        title = f"{entry['reason']}; outsider's range {ranges.get((spec.id, key), 'n/a')}" \
            if entry else ""
        rows.setdefault(row[row_dim] if dims else TOTAL, []).append(
            {"status": status, "title": title, "text": "" if shown is None else str(shown)})
    hidden = [{"cell": e["cell"], "original": e["original"], "rule": e["rule"],
               "range": ranges.get((spec.id, e["cell"]), "n/a"), "reason": e["reason"]}
              for (table_id, _), e in sorted(log.items()) if table_id == spec.id]
    return {"id": spec.id, "title": spec.title["en"], "row_dim": row_dim or "total",
            "columns": columns, "hidden": hidden,
            "rows": [{"code": code, "cells": cells} for code, cells in rows.items()]}


def _range(row: dict) -> str:
    """An audit range with the knowledge that produced it."""
    hi = "∞" if row["hi"] is None else row["hi"]
    knowledge = row.get("knowledge")
    return f"{row['lo']}..{hi}" + (f" (from {knowledge})" if knowledge else "")


def officer_review(release: ProtectedRelease, audit: pl.DataFrame) -> str:
    """The restricted review page as HTML."""
    log = {(r["table"], r["cell"]): r for r in release.restricted.log.iter_rows(named=True)}
    ranges = {(r["table"], r["key"]): _range(r) for r in audit.iter_rows(named=True)
              if r.get("year", release.year) == release.year} if audit.height else {}
    failed = audit.filter(~pl.col("ok")).height if audit.height else 0
    counts = release.restricted.log.group_by("rule").len().sort("rule")
    summary = ", ".join(f"{n} {rule}" for rule, n in counts.iter_rows())
    verdict = (f"PASSED: no hidden cell can be recomputed or narrowed beyond the policy "
               f"({audit.height} hidden cells audited; {summary or 'nothing hidden'})."
               if not failed else f"FAILED: {failed} hidden cell(s) can be narrowed too far.")
    policy = [(k, v) for k, v in asdict(release.policy).items()
              if k not in ("fingerprint", "source")]
    years = release.restricted.extra.get("earlier_releases", [])
    if release.year - 1 in years:
        earlier = ("Earlier releases taken as known by the protection and the audit: "
                   f"{', '.join(map(str, years))}.")
    else:
        earlier = (f"WARNING: no release of {release.year - 1} was found beside this one (or "
                   "given with --previous): last year's published figures were not taken into "
                   "account. Publish the years in order, or give the earlier release.")
    return _environment().get_template("officer.html.j2").render(
        earlier=earlier,
        title=release.catalogue.title["en"], year=release.year, passed=not failed,
        verdict=verdict, register_fingerprint=release.restricted.register_fingerprint,
        policy_source=release.policy.source, policy_fingerprint=release.policy.fingerprint,
        catalogue_fingerprint=release.catalogue.fingerprint, policy=policy,
        tables=[_table(release, spec, log, ranges) for spec in release.catalogue.tables],
    )
