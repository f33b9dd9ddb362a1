"""The privacy officer's review (``restricted/review.html``): why every cell is hidden.

Each table as a grid with hidden and pooled cells marked by their rule, the reason and the
range an outsider can deduce (from the audit), the policy, fingerprints of the register,
the policy and the catalogue, and a one-line verdict at the top.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jinja2
import polars as pl

from suoja import codelists
from suoja.codelists import TOTAL
from suoja.policy import Policy
from suoja.protect.protected import ProtectedRelease
from suoja.tables.catalogue import TableSpec


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("suoja.protect", "templates"),
                              autoescape=True, undefined=jinja2.StrictUndefined)


def _true_values(release: ProtectedRelease, spec: TableSpec) -> dict[str, int]:
    cells = release.restricted.cells.get(spec.population)
    if cells is None:
        return {}
    rows = cells.filter(pl.col("table") == spec.id)
    return dict(zip(rows["key"].to_list(), rows["value"].to_list(), strict=True))


HIDING_RULES = ("primary", "secondary")
"""Rules that leave a cell empty in open/; pooled cells are not hidden but counted in _O."""


def _pooled_range(release: ProtectedRelease) -> str:
    """What anyone knows of a pooled category from the pooling rule alone."""
    top = release.policy.min_count - 1
    return f"1..{top} (pooling rule: fewer than {release.policy.min_count})"


def _coordinates(key: str, where: Mapping[str, str] | None = None) -> frozenset[str]:
    """The ``dim=code`` parts of a key that are not totals, with a table's ``where``."""
    parts = {p for p in key.split(";") if not p.endswith(f"={TOTAL}")}
    return frozenset(parts | {f"{d}={c}" for d, c in (where or {}).items()})


def _pooled_ranges(release: ProtectedRelease,
                   audit: pl.DataFrame) -> dict[tuple[str, frozenset[str]], str]:
    """The audit's range of each pooled category, by population and coordinates (the
    code and the ``where`` codes of the slice it is pooled in)."""
    if not audit.height:
        return {}
    rows = audit.filter((pl.col("kind") == "pooled") & (pl.col("year") == release.year))
    return {(r["table"].removesuffix("[pooled]"), _coordinates(r["key"])): _range(r)
            for r in rows.iter_rows(named=True)}


def _table(release: ProtectedRelease, spec: TableSpec, log: dict[tuple[str, str], dict],
           ranges: dict[tuple[str, str], str],
           pooled: dict[tuple[str, frozenset[str]], str]) -> dict[str, Any]:
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
    hidden = []
    for (table_id, _), e in sorted(log.items()):
        if table_id != spec.id:
            continue
        known = ranges.get((spec.id, e["cell"]))
        if known is None and e["rule"] == "pooled":
            known = pooled.get((spec.population, _coordinates(e["cell"], spec.where))) \
                or _pooled_range(release)
        hidden.append({"cell": e["cell"], "original": e["original"], "rule": e["rule"],
                       "range": known or "not audited", "reason": e["reason"]})
    return {"id": spec.id, "title": spec.title["en"], "row_dim": row_dim or "total",
            "columns": columns, "hidden": hidden,
            "rows": [{"code": code, "cells": cells} for code, cells in rows.items()]}


def _range(row: dict) -> str:
    """An audit range with the knowledge that produced it."""
    hi = "∞" if row["hi"] is None else row["hi"]
    knowledge = row.get("knowledge")
    return f"{row['lo']}..{hi}" + (f" (from {knowledge})" if knowledge else "")


def _derived_meaning(release: ProtectedRelease, derived_id: str) -> str:
    """What a derived table id such as ``finland_victims_citizenship[in_finland=N]`` is."""
    base, _, rest = derived_id.partition("[")
    dim, _, code = rest.rstrip("]").partition("=")
    catalogue = release.catalogue
    spec = catalogue.table(base)
    whole = [t for t in catalogue.tables_of(spec.population)
             if t.dimensions == spec.dimensions and dim not in t.where]
    dimension = catalogue.dimensions[dim]
    label = codelists.label(dimension.codelist, code, "en")
    source = f"{whole[0].id} minus {base}" if whole \
        else f"the figures of the whole population minus {base}"
    instead = f" instead of {spec.where[dim]}" if dim in spec.where else ""
    return (f"The cells of {base} (“{spec.title['en']}”) for {dim} = {code} ({label})"
            f"{instead}: {source}. No table shows them, but anyone can compute them from "
            "published tables, so they are protected and audited like published cells; they "
            "are not published as such.")


def _derived(release: ProtectedRelease, audit: pl.DataFrame) -> list[dict[str, Any]]:
    """The derived quantities the audit checked: their meaning, true values and ranges."""
    rows = audit.filter((pl.col("kind") == "implicit")
                        & (pl.col("year") == release.year)) if audit.height else audit
    truth: dict[tuple[str, str], Any] = {}
    for cells in release.restricted.cells.values():
        derived = cells.filter(pl.col("table").str.contains("[", literal=True))
        for r in derived.iter_rows(named=True):
            truth[(r["table"], r["key"])] = r["value"]
    out: dict[str, dict[str, Any]] = {}
    for r in rows.sort("table", "key").iter_rows(named=True) if rows.height else []:
        group = out.setdefault(r["table"], {"id": r["table"], "cells": [],
                                            "meaning": _derived_meaning(release, r["table"])})
        group["cells"].append({"cell": r["key"], "original": truth.get((r["table"], r["key"]),
                                                                        "n/a"),
                               "range": _range(r), "finding": r["finding"]})
    return list(out.values())


def _distinct_counts(release: ProtectedRelease) -> list[dict[str, Any]]:
    """The counts of distinct codes (``suoja.distinct``): true value, published or why not."""
    log = release.restricted.log
    out = []
    for spec in release.catalogue.distinct:
        if spec.id not in release.tables:
            continue
        value = release.tables[spec.id]["value"][0]
        why = log.filter((pl.col("table") == spec.id) & (pl.col("rule") == "distinct"))
        out.append({"id": spec.id, "of": spec.of, "title": spec.title["en"],
                    "original": value if value is not None else
                    (why["original"][0] if why.height else "n/a"),
                    "published": "yes" if value is not None else "no",
                    "reason": why["reason"][0] if why.height else
                    "published: it tells nothing about any cell of the table beyond the table"})
    return out


def policy_in_words(policy: Policy) -> list[str]:
    """The disclosure policy as sentences a privacy officer reads, not program values."""
    k = policy.min_count
    if policy.mode == "dp":
        return ["Differential privacy: every published figure has random noise added; "
                f"the settings are in {policy.source}."]
    words = [f"Primary suppression: a cell of 1 to {k - 1} units is not published "
             f"(threshold {k})."]
    words.append("Zeros are published." if policy.zeros == "publish" else
                 "Zeros are protected: a row whose whole total falls into one category is "
                 "treated as if that category were small.")
    if policy.pool:
        dims = " and ".join(policy.pool)
        words.append(f"Categories of {dims} with fewer than {k} units are counted together "
                     "in Other (_O) instead of being shown and hidden.")
    words.append("Secondary suppression chooses further cells to hide "
                 + ("by a fast heuristic, then audits and repeats until nothing can be "
                    "computed." if policy.method == "heuristic" else
                    "by an optimisation over the whole release that includes this audit: no "
                    "pattern that passes it hides less (by the cost the policy states)."
                    if policy.method == "optimal" else
                    "by Gaussian elimination, for the fewest hidden cells against exact "
                    "disclosure."))
    if policy.singletons:
        words.append("A unit alone in a hidden cell knows that cell: every other hidden cell "
                     "stays protected against such a unit too.")
    words.append("A hidden cell must not be computable exactly"
                 + (f", and its feasible range must reach 0 or {k}, so that nobody can tell a "
                    "small cell from an empty or a large one." if policy.interval == "threshold"
                    else "."))
    return words


def _verdict(release: ProtectedRelease, audit: pl.DataFrame) -> str:
    """One line whose counts add up: hidden = primary + secondary; pooled and derived apart."""
    log = release.restricted.log
    rules = dict(log.group_by("rule").len().iter_rows()) if log.height else {}
    primary, secondary = rules.get("primary", 0), rules.get("secondary", 0)
    pooled = rules.get("pooled", 0)
    this_year = audit.filter(pl.col("year") == release.year) if audit.height else audit
    kinds = dict(this_year.group_by("kind").len().iter_rows()) if this_year.height else {}
    failed = audit.filter(~pl.col("ok")).height if audit.height else 0
    counts = (f"{primary + secondary} hidden cells ({primary} primary + {secondary} "
              f"secondary), {kinds.get('implicit', 0)} derived cells and "
              f"{kinds.get('pooled', 0)} pooled groups audited; {pooled} small categories "
              "pooled into Other (_O), not hidden")
    if failed:
        return f"FAILED: {failed} hidden or derived cell(s) can be narrowed too far ({counts})."
    return f"PASSED: no hidden cell can be recomputed or narrowed beyond the policy ({counts})."


def officer_review(release: ProtectedRelease, audit: pl.DataFrame) -> str:
    """The restricted review page as HTML."""
    log = {(r["table"], r["cell"]): r for r in release.restricted.log.iter_rows(named=True)}
    ranges = {(r["table"], r["key"]): _range(r) for r in audit.iter_rows(named=True)
              if r.get("year", release.year) == release.year} if audit.height else {}
    failed = audit.filter(~pl.col("ok")).height if audit.height else 0
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
        verdict=_verdict(release, audit),
        register_fingerprint=release.restricted.register_fingerprint,
        policy_source=release.policy.source, policy_fingerprint=release.policy.fingerprint,
        catalogue_fingerprint=release.catalogue.fingerprint,
        policy=policy_in_words(release.policy),
        tables=[_table(release, spec, log, ranges, _pooled_ranges(release, audit))
                for spec in release.catalogue.tables],
        derived=_derived(release, audit),
        never_hide=_never_hide(release),
        costs=_costs(release.policy, release.restricted.extra.get("bound")),
        distinct=_distinct_counts(release),
    )


def _costs(policy: Policy, bound: pl.DataFrame | None = None) -> str:
    """The loss secondary suppression minimises, in words, and how far above the proven
    least cost the release is (``restricted/bound.csv``)."""
    if policy.mode == "dp":
        return ""
    text = (f"Secondary suppression minimises the cost of the hidden cells: "
            f"{policy.cell_cost:g} per cell plus {policy.unit_cost:g} per unit in it, times "
            "the catalogue's priority weights.")
    if bound is not None and not bound.is_empty():
        from suoja.protect.loss import bound_summary

        text += (f" The {bound_summary(bound)} (restricted/bound.csv, per population and "
                 "for the whole release).")
    return text


def _never_hide(release: ProtectedRelease) -> list[dict[str, Any]]:
    """The catalogue's never-hide cells with what became of each."""
    report = release.restricted.extra.get("never_hide")
    if report is None:
        return []
    return report.to_dicts()
