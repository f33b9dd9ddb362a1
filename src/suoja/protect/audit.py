"""The independent audit: what an outsider can deduce from the published figures.

The audit sees only public information: the cells with ``published`` (null when hidden),
the code lists and hierarchies. It knows the additive structure and that counts are
non-negative integers, and computes for every hidden cell the lowest and highest value
consistent with everything published. It does not look at how the pattern was chosen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

from suoja.protect.local import LocalRanges
from suoja.protect.model import Hierarchies, LinearModel, public_model
from suoja.protect.ranges import Attacker
from suoja.protect.rules import SuppressionRules

BIG_COMPONENT = 5_000
"""Components with more free variables than this get quick inner ranges when allowed."""

SCHEMA = {
    "table": pl.String,
    "key": pl.String,
    "lo": pl.Int64,
    "hi": pl.Int64,
    "exact": pl.Boolean,
    "ok": pl.Boolean,
    "finding": pl.String,
}


def known_values(model: LinearModel) -> np.ndarray:
    """Published value of each form (NaN when no cell of the form is published)."""
    known = np.full(model.forms.shape[0], np.nan)
    pub = model.cells.select("__form", "published").drop_nulls()
    forms = pub["__form"].to_numpy()
    values = pub["published"].to_numpy().astype(np.float64)
    known[forms] = values
    clash = np.flatnonzero(known[forms] != values)
    if len(clash):
        raise ValueError("a figure is published twice with two different values")
    return known


def finding(lo: float, hi: float, rules: SuppressionRules, inner: bool = False) -> str:
    """One sentence on a hidden cell's deducible range."""
    if lo == hi:
        return f"can be computed exactly: {int(lo)}"
    top = "or more" if hi == np.inf else f"to {int(hi)}"
    if not rules.range_ok(lo, hi):
        return (
            f"known to lie between {int(lo)} and {int(hi)}, so below the threshold of "
            f"{rules.threshold}"
        )
    if inner:
        return f"protected: at least anything from {int(lo)} {top}"
    return f"protected: anything from {int(lo)} {top}"


def _hidden_forms(model: LinearModel) -> np.ndarray:
    hidden = model.cells.filter(pl.col("published").is_null())["__form"].unique().sort()
    return hidden.to_numpy()


def form_ranges(
    model: LinearModel,
    known: np.ndarray,
    rules: SuppressionRules,
    exact_ranges: bool | None = True,
) -> tuple[dict[int, tuple[float, float]], set[int]]:
    """Ranges of every hidden form given the ``known`` values (see ``audit``).

    Returns:
        The ranges, and the forms whose range is only an inner bound.
    """
    attacker = Attacker(model.forms, known, rules.time_limit)
    forms = [f for f in _hidden_forms(model).tolist() if np.isnan(known[f])]
    big = {lab for lab, c in attacker.components.items() if len(c.cols) > BIG_COMPONENT}
    if exact_ranges or (exact_ranges is None and not big):
        return {f: attacker.range(f) for f in forms}, set()
    local = LocalRanges(model, known, attacker.point())
    ranges, inner = {}, set()
    for f in forms:
        if attacker.component_of(f) & big:
            for opened in local.windows(f):
                lo, hi = local.range(f, opened, rules)
                if rules.range_ok(lo, hi):
                    ranges[f] = (lo, hi)
                    inner.add(f)
                    break
            if f in inner:
                continue
            # Only one side is needed when the cell's value at the point already passes.
            lo, base = attacker.lowest(f), float((local.forms[f] @ local.point)[0])
            if rules.range_ok(lo, base):
                ranges[f] = (lo, base)
                inner.add(f)
                continue
        ranges[f] = attacker.range(f)
    return ranges, inner


def audit(
    cells_published: pl.DataFrame,
    domains: Mapping[str, Sequence[str]],
    hierarchies: Hierarchies | None = None,
    rules: SuppressionRules | None = None,
    *,
    exact_ranges: bool | None = None,
) -> pl.DataFrame:
    """The range an outsider can deduce for every hidden cell, and whether it passes.

    Args:
        cells_published: Cells with ``table``, ``key``, one column per dimension and
            ``published`` (null when hidden). Any ``value`` column is ignored.
        domains: Leaf codes per dimension.
        hierarchies: Optional ``child -> parent`` codes per dimension.
        rules: The rules (threshold and interval); defaults to ``SuppressionRules()``.
        exact_ranges: True: the exact range of every hidden cell. False: for cells in
            large linked systems (over 5 000 unknowns), a range proved reachable by
            moving only nearby cells when that range already passes (the true range
            is at least as wide; the finding says "at least"); exact ranges otherwise.
            None (default): exact unless such a large system exists.

    Returns:
        One row per hidden cell: table, key, lo, hi (null when unbounded), exact, ok and
        finding, sorted by table and key.

    Raises:
        ValueError: Malformed input, or published figures that contradict each other.
    """
    rules = rules or SuppressionRules()
    model = public_model(cells_published, domains, hierarchies)
    known = known_values(model)
    ranges, inner = form_ranges(model, known, rules, exact_ranges)
    rows = []
    hidden = model.cells.filter(pl.col("published").is_null())
    for table, key, form in hidden.select("table", "key", "__form").iter_rows():
        lo, hi = ranges.get(form, (known[form], known[form]))
        rows.append(
            (table, key, int(lo), None if hi == np.inf else int(hi), lo == hi,
             rules.range_ok(lo, hi), finding(lo, hi, rules, form in inner))
        )
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


SINGLETON_SCHEMA = {"singleton_table": pl.String, "singleton_key": pl.String, **SCHEMA}


def _support(model: LinearModel, form: int) -> frozenset[int]:
    f = model.forms
    return frozenset(f.indices[f.indptr[form] : f.indptr[form + 1]].tolist())


def _singleton_forms(model: LinearModel, singletons: pl.DataFrame) -> list[tuple[int, str, str]]:
    found = singletons.select("table", "key").join(
        model.cells.filter(pl.col("published").is_null()).select("table", "key", "__form"),
        on=["table", "key"],
        how="inner",
    )
    seen: dict[int, tuple[int, str, str]] = {}
    for table, key, form in found.sort("table", "key").iter_rows():
        seen.setdefault(form, (form, table, key))
    return sorted(seen.values())


def _unchanged(base: Attacker, s: int, extremes: tuple) -> bool:
    """Whether both ends of a range are attained where form ``s`` is 1 (then knowing
    that s is 1 cannot narrow the range)."""
    _, _, at_lo, at_hi = extremes
    if at_lo is None or at_hi is None:
        return False
    return base.value_at(s, at_lo) == 1 and base.value_at(s, at_hi) == 1


def _pool_certifies(
    base: Attacker, s: int, h: int, rules: SuppressionRules, shift: int
) -> bool:
    """Whether kept integer points where s is 1 already give h a passing range."""
    for lab in base.component_of(h) & base.component_of(s):
        at_s = base.pool_values(s, lab)
        at_h = base.pool_values(h, lab)
        if at_s is None or at_h is None:
            continue
        valid = at_h[np.abs(at_s - 1) < 1e-6] - shift
        if len(valid) and rules.range_ok(valid.min(), valid.max()):
            return True
    return False


def _judge(lo: float, hi: float, shift: int, rules: SuppressionRules) -> bool:
    """Whether a range passes under a singleton attack. With the singleton inside the
    cell (``shift`` 1), the others in the cell are judged; knowing there are none
    discloses nobody."""
    if shift and hi == 1:
        return True
    return rules.range_ok(lo - shift, hi - shift)


def _attack_one(
    model: LinearModel, known: np.ndarray, base: Attacker, s: int, rules: SuppressionRules,
    extremes: dict[int, tuple],
) -> list[tuple[int, float, float]]:
    """Hidden forms that fail once form ``s`` is known to be 1."""
    reach = base.component_of(s)
    own = _support(model, s)
    failures = []
    suspects = []
    for h in _hidden_forms(model).tolist():
        if h == s or h not in extremes or not base.component_of(h) & reach \
                or _support(model, h) <= own:
            continue  # a hidden form known without the singleton is judged by the audit
        shift = int(own <= _support(model, h))
        if _unchanged(base, s, extremes[h]):
            lo, hi = extremes[h][:2]
            if not _judge(lo, hi, shift, rules):
                failures.append((h, lo, hi))
        elif not _pool_certifies(base, s, h, rules, shift):
            suspects.append((h, shift))
    if suspects:
        attacked = known.copy()
        attacked[s] = 1.0
        attacker = Attacker(model.forms, attacked, rules.time_limit)
        for h, shift in suspects:
            lo, hi = attacker.range(h)
            if not _judge(lo, hi, shift, rules):
                failures.append((h, lo, hi))
    return sorted(failures)


def audit_singletons(
    cells_published: pl.DataFrame,
    singletons: pl.DataFrame,
    domains: Mapping[str, Sequence[str]],
    hierarchies: Hierarchies | None = None,
    rules: SuppressionRules | None = None,
) -> pl.DataFrame:
    """What the one unit alone in a hidden cell could compute, for each such cell in turn.

    The unit knows its cell is 1. Only hidden cells linked to that cell through published
    rows (the same component of the published system) can change, so only they are
    re-examined. A cell inside the singleton's own, or one that holds only that unit,
    tells it nothing new and is not reported.

    Args:
        cells_published: As for ``audit``.
        singletons: ``table`` and ``key`` of the hidden cells whose true value is 1 (the
            caller knows them; an outsider does not).
        domains: Leaf codes per dimension.
        hierarchies: Optional ``child -> parent`` codes per dimension.
        rules: The rules; defaults to ``SuppressionRules()``.

    Returns:
        One row per (singleton, hidden cell) that fails the rules: the singleton's table
        and key, then the columns of ``audit``. Empty when the pattern passes.
    """
    rules = rules or SuppressionRules()
    model = public_model(cells_published, domains, hierarchies)
    known = known_values(model)
    base = Attacker(model.forms, known, rules.time_limit)
    extremes = {h: base.extremes(h) for h in _hidden_forms(model).tolist() if np.isnan(known[h])}
    first = model.cells.filter(pl.col("published").is_null())
    rows_of_form: dict[int, list[tuple[str, str]]] = {}
    for table, key, form in first.select("table", "key", "__form").iter_rows():
        rows_of_form.setdefault(form, []).append((table, key))
    rows = []
    for s, s_table, s_key in _singleton_forms(model, singletons):
        for h, lo, hi in _attack_one(model, known, base, s, rules, extremes):
            for table, key in rows_of_form[h]:
                rows.append(
                    (s_table, s_key, table, key, int(lo), None if hi == np.inf else int(hi),
                     lo == hi, False, finding(lo, hi, rules))
                )
    return pl.DataFrame(rows, schema=SINGLETON_SCHEMA, orient="row")
