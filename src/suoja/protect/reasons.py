"""The result frame: status, published value and a reason a privacy officer can read."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import polars as pl
from babel import Locale

from suoja.protect.model import LinearModel
from suoja.protect.relations import Relation, find_relations, relations_by_row
from suoja.protect.rules import SuppressionRules
from suoja.protect.secure import State

ENGLISH = Locale.parse("en")  # the reasons are for the privacy officer, in English


Unit = str | tuple[str, str]


def _forms(unit: Unit) -> tuple[str, str]:
    """Singular and plural of a unit; a bare singular takes an "s"."""
    return unit if isinstance(unit, tuple) else (unit, f"{unit}s")


def _units(n: int, unit: Unit) -> str:
    one, other = _forms(unit)
    return f"{n} {one if ENGLISH.plural_form(n) == 'one' else other}"


class _Namer:
    """Names cells and finds the relation that links two of them."""

    def __init__(self, model: LinearModel) -> None:
        cells = model.cells
        self.tables = cells["table"].to_list()
        self.keys = cells["key"].to_list()
        self.rows_of_form: dict[int, list[int]] = defaultdict(list)
        for row, form in enumerate(model.form_of_row.tolist()):
            self.rows_of_form[form].append(row)
        first: dict[tuple[str, ...], int] = {}
        self.coord_row = [
            first.setdefault(c, row) for row, c in enumerate(cells.select(model.dims).iter_rows())
        ]
        self.relations: list[Relation] = find_relations(cells, model.dimensions)
        self.by_row = relations_by_row(self.relations)

    def name(self, row: int) -> str:
        return f"{self.tables[row]} {self.keys[row]}"

    def representative(self, form: int, table: str) -> int:
        rows = self.rows_of_form[form]
        return next((r for r in rows if self.tables[r] == table), rows[0])

    def _relation_ids(self, form: int) -> set[int]:
        ids: set[int] = set()
        for row in self.rows_of_form[form]:
            ids.update(self.by_row.get(self.coord_row[row], ()))
        return ids

    def link(self, form: int, target: int) -> Relation | None:
        common = self._relation_ids(form) & self._relation_ids(target)
        return self.relations[min(common)] if common else None

    def has(self, form: int, row: int) -> bool:
        return any(self.coord_row[r] == row for r in self.rows_of_form[form])


def _secondary_reason(namer: _Namer, form: int, row: int, state: State, unit: Unit) -> str:
    cause = state.causes[form]
    target = namer.representative(cause.target, namer.tables[row])
    relation = namer.link(form, cause.target)
    what = namer.name(target)
    if relation is None:
        tables = sorted({namer.tables[row], namer.tables[target]})
        # A table id with brackets (T[dim=code]) names cells no table shows: the rest of
        # a slice, computed as a difference (suoja.tables.implicit_cells).
        shown = [t for t in tables if "[" not in t]
        derived = [t for t in tables if "[" in t]
        text = f"hidden so that {what} cannot be computed from the other published figures"
        if shown:
            text += f" of {' and '.join(shown)}"
        if derived:
            text += (f"{' and' if shown else ''} from the cells derived as a difference "
                     f"({', '.join(derived)})")
    elif namer.has(cause.target, relation.total):
        text = (
            f"hidden so that {what} cannot be computed by adding up {namer.name(row)} "
            "and the other cells that make it up"
        )
    else:
        text = f"hidden so that {what} cannot be computed from {namer.name(relation.total)}"
    if cause.singleton is not None:
        alone = namer.representative(cause.singleton, namer.tables[row])
        one = _forms(unit)[0]
        who = "the one person who" if one == "person" else f"the person behind the one {one} that"
        text += f", not even by {who} alone makes up {namer.name(alone)}"
    return text


def _primary_reason(
    namer: _Namer, value: int, margin_row: int | None, rules: SuppressionRules, unit: Unit
) -> str:
    if 1 <= value < rules.threshold:
        return f"{_units(value, unit)}, below the threshold of {rules.threshold}"
    assert margin_row is not None
    return (
        f"all {_units(value, unit)} of {namer.name(margin_row)} are in this one category, "
        "which would disclose it for each of them"
    )


OPTIMAL_REASON = (
    "secondary suppression of the least-cost pattern for the whole release (the optimal "
    "method): with the tables of every population, the release of the year before and the "
    "declared facts taken together, publishing this cell would let some hidden cell be "
    "narrowed down too far"
)


KNOWLEDGE_REASON = (
    "secondary suppression across the release: with this cell published, an outsider who "
    "combines it with another population's tables, last year's release or a declared fact "
    "of the data could narrow down another hidden cell"
)


def describe(
    model: LinearModel,
    state: State,
    primary: np.ndarray,
    single: dict[int, int],
    rules: SuppressionRules,
    unit: Unit,
) -> pl.DataFrame:
    """The cells with status, published value, reason and the cell each one protects."""
    namer = _Namer(model)
    form_of_row = model.form_of_row.tolist()
    status, published, reason, p_table, p_key = [], [], [], [], []
    for row, form in enumerate(form_of_row):
        value = int(state.values[form])
        target: int | None = None
        if not state.hidden[form]:
            status.append("published")
            published.append(value)
            reason.append(None)
        elif primary[form]:
            status.append("primary")
            published.append(None)
            reason.append(_primary_reason(namer, value, single.get(form), rules, unit))
        elif form not in state.causes:
            status.append("secondary")
            published.append(None)
            reason.append(state.need_reasons.get(form, KNOWLEDGE_REASON))
        else:
            status.append("secondary")
            published.append(None)
            reason.append(_secondary_reason(namer, form, row, state, unit))
            target = namer.representative(state.causes[form].target, namer.tables[row])
        p_table.append(None if target is None else namer.tables[target])
        p_key.append(None if target is None else namer.keys[target])
    return model.cells.drop("__form").with_columns(
        pl.Series("status", status, dtype=pl.String),
        pl.Series("published", published, dtype=pl.Int64),
        pl.Series("reason", reason, dtype=pl.String),
        pl.Series("protects_table", p_table, dtype=pl.String),
        pl.Series("protects_key", p_key, dtype=pl.String),
    )
