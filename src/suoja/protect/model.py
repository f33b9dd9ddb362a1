"""The linear model of a population: every published cell as a sum of finest cells.

A cell is a 0/1 row over *variables*. A variable starts as one finest cell (a full
cross-classification of the cube dimensions); finest cells covered by a published zero
are dropped (an outsider knows they are 0) and finest cells that every cell covers alike
are merged into one variable (an outsider cannot tell them apart, and replacing them by
their sum keeps every feasible range, under integrality too).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp

from suoja.protect.cube import Dimension, atoms

Hierarchies = Mapping[str, Mapping[str, str]]
ZeroBox = tuple[str, Mapping[str, Collection[str]]]
"""A structural zero: a name and, per dimension, the leaf codes of combinations that
cannot occur (every finest cell whose leaves all fall in the box is 0 by definition)."""


class StructuralZeroError(ValueError):
    """The true counts put units where a declared fact says none can be."""


@dataclass(frozen=True)
class LinearModel:
    """Cells as linear forms over the (merged) finest variables.

    Attributes:
        cells: The cells sorted by table and key, with an added ``form`` column: cells
            with the same form are the same sum (duplicates across tables, or sums that
            differ only by cells known to be 0) and must share one status.
        dims: The cube dimensions, in the order of ``domains``.
        A: 0/1 matrix, one row per row of ``cells``, one column per variable.
        forms: 0/1 matrix, one row per distinct form.
        values: True count of each variable, or None when built from published cells.
        zeros_dropped: Whether finest cells under a zero cell were dropped (then zero
            cells must stay published).
        dimensions: Code structure of each dimension.
        combo_atoms: For each kept finest combination of leaf groups, its group per dim.
        combo_var: The variable each kept combination was merged into.
        atom_of_leaf: For each dimension, the leaf group of each leaf.
    """

    cells: pl.DataFrame
    dims: tuple[str, ...]
    A: sp.csr_matrix
    forms: sp.csr_matrix
    values: np.ndarray | None
    zeros_dropped: bool
    dimensions: tuple[Dimension, ...]
    combo_atoms: np.ndarray
    combo_var: np.ndarray
    atom_of_leaf: tuple[np.ndarray, ...]

    @property
    def n_vars(self) -> int:
        """Number of variables."""
        return self.A.shape[1]

    @property
    def form_of_row(self) -> np.ndarray:
        """Form index of each row of ``cells``."""
        return self.cells["__form"].to_numpy()

    def vars_within(self, codes: Sequence[Sequence[str] | None]) -> np.ndarray:
        """Variables with a finest cell below one of ``codes[d]`` in every dimension d.

        ``None`` for a dimension means no restriction there.
        """
        inside = np.ones(len(self.combo_var), dtype=bool)
        for d, (dimension, allowed) in enumerate(zip(self.dimensions, codes, strict=True)):
            if allowed is None:
                continue
            leaves = np.zeros(len(dimension.leaves), dtype=bool)
            for code in allowed:
                leaves |= dimension.covers[code]
            mask = np.zeros(int(self.atom_of_leaf[d].max()) + 1, dtype=bool)
            mask[self.atom_of_leaf[d][leaves]] = True
            inside &= mask[self.combo_atoms[:, d]]
        return np.unique(self.combo_var[inside])


def check_cells(cells: pl.DataFrame, dims: Sequence[str], value: str | None) -> pl.DataFrame:
    """Check the cells frame and return it sorted by table and key.

    Raises:
        ValueError: A column is missing or mistyped, a (table, key) repeats, or a
            value is missing or negative.
    """
    needed = ["table", "key", *dims] + ([value] if value else [])
    missing = [c for c in needed if c not in cells.columns]
    if missing:
        raise ValueError(f"the cells frame lacks the column(s) {', '.join(missing)}")
    for column in ["table", "key", *dims]:
        if cells.schema[column] != pl.String:
            raise ValueError(f"column {column!r} of the cells must be String")
        if cells[column].null_count():
            raise ValueError(f"column {column!r} of the cells has missing values")
    dup = cells.group_by("table", "key").len().filter(pl.col("len") > 1)
    if dup.height:
        row = dup.sort("table", "key").row(0, named=True)
        raise ValueError(f"cell {row['table']} {row['key']} appears {row['len']} times")
    if value:
        bad = cells.filter(pl.col(value).is_null() | (pl.col(value) < 0))
        if bad.height:
            row = bad.sort("table", "key").row(0, named=True)
            raise ValueError(
                f"cell {row['table']} {row['key']} has {value} {row[value]!r}; "
                "a count of 0 or more is needed"
            )
    return cells.sort("table", "key")


def _rowwise_kron(left: sp.csr_matrix, right: sp.csr_matrix) -> sp.csr_matrix:
    """Row i of the result is the Kronecker product of row i of ``left`` and ``right``."""
    lc, rc = np.diff(left.indptr), np.diff(right.indptr)
    counts = lc * rc
    rows = np.repeat(np.arange(len(counts)), counts)
    start = np.repeat(np.cumsum(counts) - counts, counts)
    local = np.arange(int(counts.sum())) - start
    width = rc[rows]
    li = left.indices[left.indptr[rows] + local // np.maximum(width, 1)]
    ri = right.indices[right.indptr[rows] + local % np.maximum(width, 1)]
    indptr = np.concatenate([[0], np.cumsum(counts)])
    data = np.ones(len(li), dtype=np.int8)
    shape = (left.shape[0], left.shape[1] * right.shape[1])
    return sp.csr_matrix((data, li * right.shape[1] + ri, indptr), shape=shape)


def _dim_rows(codes: list[str], dimension: Dimension, amap: np.ndarray) -> sp.csr_matrix:
    """Atom incidence (coordinates x atoms) of one dimension's codes."""
    n_atoms = int(amap.max()) + 1
    masks = {}
    for code in set(codes):
        mask = np.zeros(n_atoms, dtype=bool)
        mask[amap[dimension.covers[code]]] = True
        masks[code] = mask
    dense = np.stack([masks[c] for c in codes]) if codes else np.zeros((0, n_atoms), bool)
    return sp.csr_matrix(dense.astype(np.int8))


def _incidence(
    coords: pl.DataFrame, dimensions: Sequence[Dimension], amaps: Sequence[np.ndarray]
) -> sp.csr_matrix:
    """Coordinates x finest combinations of atoms (row-major over the dimensions)."""
    result: sp.csr_matrix | None = None
    for dimension, amap in zip(dimensions, amaps, strict=True):
        part = _dim_rows(coords[dimension.name].to_list(), dimension, amap)
        result = part if result is None else _rowwise_kron(result, part)
    assert result is not None
    return result


def _combo_values(
    finest: pl.DataFrame, dimensions: Sequence[Dimension], amaps: Sequence[np.ndarray]
) -> np.ndarray:
    """Sum the finest counts into combinations of atoms."""
    names = [d.name for d in dimensions]
    missing = [c for c in [*names, "value"] if c not in finest.columns]
    if missing:
        raise ValueError(f"the finest frame lacks the column(s) {', '.join(missing)}")
    shape = tuple(int(a.max()) + 1 for a in amaps)
    index = []
    for dimension, amap in zip(dimensions, amaps, strict=True):
        lookup = {code: i for i, code in enumerate(dimension.leaves)}
        codes = finest[dimension.name].to_list()
        unknown = sorted({c for c in codes if c not in lookup}, key=str)
        if unknown:
            raise ValueError(
                f"the finest frame has code(s) {unknown[:5]} in {dimension.name!r} "
                "that are not leaf codes of its list"
            )
        index.append(amap[np.array([lookup[c] for c in codes], dtype=np.int64)])
    values = finest["value"].to_numpy()
    if finest["value"].null_count() or (values < 0).any():
        raise ValueError("the finest frame has a missing or negative value")
    flat = np.ravel_multi_index(index, shape) if index and len(values) else np.zeros(0, int)
    return np.bincount(flat, weights=values, minlength=int(np.prod(shape))).astype(np.int64)


def distinct_columns(matrix: sp.csr_matrix) -> np.ndarray:
    """Group identical columns; returns each column's group, numbered by first column."""
    return distinct_rows(matrix.T.tocsr())


def distinct_rows(matrix: sp.csr_matrix) -> np.ndarray:
    """Group identical 0/1 rows; returns each row's group, numbered by first row."""
    m = sp.csr_matrix(matrix, dtype=np.float64)
    m.sort_indices()
    m.data[:] = 1.0
    weights = np.random.default_rng(20240917).random((m.shape[1], 2))
    hashes = m @ weights
    keys = np.column_stack([hashes, np.diff(m.indptr)])
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    group = rank[inverse.ravel()]
    representative = np.sort(first)[group]
    if (m[representative] != m).nnz:
        raise AssertionError("hash collision while merging identical rows; please report")
    return group


MAX_COMBINATIONS = 20_000_000


def _dimensions(
    cells: pl.DataFrame, domains: Mapping[str, Sequence[str]], hierarchies: Hierarchies | None
) -> tuple[Dimension, ...]:
    unknown = sorted(set(hierarchies or {}) - set(domains))
    if unknown:
        raise ValueError(f"hierarchies given for unknown dimension(s) {', '.join(unknown)}")
    dimensions = tuple(
        Dimension.build(d, list(domains[d]), (hierarchies or {}).get(d)) for d in domains
    )
    for dimension in dimensions:
        bad = cells.filter(~pl.col(dimension.name).is_in(list(dimension.covers)))
        if bad.height:
            row = bad.row(0, named=True)
            dimension.cover(row[dimension.name], row["table"], row["key"])
    return dimensions


def _coordinates(cells: pl.DataFrame, dims: Sequence[str]) -> tuple[pl.DataFrame, np.ndarray]:
    """Distinct coordinate tuples (first-seen order) and each cell's tuple."""
    coords = cells.select(dims).unique(maintain_order=True).with_row_index("coord")
    joined = cells.select(dims).join(coords, on=list(dims), how="left", maintain_order="left")
    return coords, joined["coord"].to_numpy().astype(np.int64)


def _check_sums(cells: pl.DataFrame, coord: np.ndarray, sums: np.ndarray) -> None:
    """Every cell must equal the sum of its finest cells."""
    values = cells["value"].to_numpy()
    wrong = np.flatnonzero(sums[coord] != values)
    if len(wrong):
        row = cells.row(int(wrong[0]), named=True)
        raise ValueError(
            f"cell {row['table']} {row['key']} has value {row['value']} but its finest "
            f"cells add up to {int(sums[coord[wrong[0]]])} ({len(wrong)} cell(s) disagree)"
        )


def _structural(
    dimensions: Sequence[Dimension], amaps: Sequence[np.ndarray], shape: tuple[int, ...],
    boxes: Sequence[ZeroBox],
) -> tuple[np.ndarray, list[str]]:
    """Combinations of atoms that lie wholly inside a structural-zero box, and box names."""
    n = int(np.prod(shape))
    zero = np.zeros(n, dtype=bool)
    names = []
    coords = np.unravel_index(np.arange(n), shape) if boxes else ()
    for name, box in boxes:
        inside = np.ones(n, dtype=bool)
        for d, (dimension, amap) in enumerate(zip(dimensions, amaps, strict=True)):
            if dimension.name not in box:
                continue
            leaf_in = _box_masks(dimension, [(name, box)])[0]
            # An atom is inside when every one of its leaves is.
            atom_out = np.zeros(int(amap.max()) + 1, dtype=bool)
            atom_out[amap[~leaf_in]] = True
            inside &= ~atom_out[coords[d]]
        zero |= inside
        names.append(name)
    return zero, names


def _box_masks(dimension: Dimension, boxes: Sequence[ZeroBox]) -> list[np.ndarray]:
    """Leaves inside each box that restricts ``dimension`` (kept apart in the atoms)."""
    leaves = np.array(dimension.leaves, dtype=object)
    return [np.isin(leaves, list(box[dimension.name])) for _, box in boxes
            if dimension.name in box]


def _check_structural(values: np.ndarray, zero: np.ndarray, boxes: Sequence[ZeroBox]) -> None:
    if values[zero].any():
        names = ", ".join(name for name, _ in boxes)
        raise StructuralZeroError(
            f"{int(values[zero].sum())} unit(s) fall in combinations that the declared "
            f"fact(s) {names} rule out"
        )


def _assemble(
    cells: pl.DataFrame,
    domains: Mapping[str, Sequence[str]],
    hierarchies: Hierarchies | None,
    zero_rows: np.ndarray,
    finest: pl.DataFrame | None,
    structural: Sequence[ZeroBox] = (),
) -> LinearModel:
    """Build the model; ``zero_rows`` marks cells known to be 0 (their finest cells go),
    ``structural`` the combinations that cannot occur (they go too)."""
    dims = tuple(domains)
    dimensions = _dimensions(cells, domains, hierarchies)
    amaps = tuple(
        atoms(d, cells[d.name].unique().sort().to_list(), _box_masks(d, structural))
        for d in dimensions
    )
    shape = tuple(int(a.max()) + 1 for a in amaps)
    if int(np.prod(shape, dtype=np.float64)) > MAX_COMBINATIONS:
        raise ValueError(f"the cube has {np.prod(shape):.0f} finest combinations; too many")
    coords, coord = _coordinates(cells, dims)
    incidence = _incidence(coords, dimensions, amaps)
    combo_values = None
    if finest is not None:
        combo_values = _combo_values(finest, dimensions, amaps)
        _check_sums(cells, coord, incidence @ combo_values)
    zero_coords = np.unique(coord[zero_rows])
    covered = np.diff(incidence.tocsc().indptr) > 0
    dropped, _ = _structural(dimensions, amaps, shape, structural)
    if combo_values is not None:
        _check_structural(combo_values, dropped, structural)
    dropped[incidence[zero_coords].indices] = True
    kept = np.flatnonzero(covered & ~dropped)
    kept_matrix = incidence[:, kept].tocsr()
    var_of_kept = distinct_columns(kept_matrix)
    representative = np.unique(var_of_kept, return_index=True)[1]
    by_coord = kept_matrix[:, representative].tocsr()
    form_of_coord = distinct_rows(by_coord)
    form_rows = np.unique(form_of_coord, return_index=True)[1]
    forms = by_coord[form_rows].tocsr().astype(np.int8)
    form = form_of_coord[coord]
    values = None
    if combo_values is not None:
        values = np.bincount(var_of_kept, weights=combo_values[kept]).astype(np.int64)
    return LinearModel(
        cells=cells.with_columns(pl.Series("__form", form, dtype=pl.Int64)),
        dims=dims,
        A=forms[form].tocsr(),
        forms=forms,
        values=values,
        zeros_dropped=bool(zero_rows.any()),
        dimensions=dimensions,
        combo_atoms=np.stack(np.unravel_index(kept, shape), axis=1),
        combo_var=var_of_kept,
        atom_of_leaf=amaps,
    )


def build_model(
    cells: pl.DataFrame,
    domains: Mapping[str, Sequence[str]],
    finest: pl.DataFrame,
    hierarchies: Hierarchies | None = None,
    *,
    drop_zeros: bool = True,
    structural: Sequence[ZeroBox] = (),
) -> LinearModel:
    """Build the linear model of one population from its cells and finest counts.

    Args:
        cells: Columns ``table``, ``key``, one String column per dimension (a code, a
            parent code or ``"_T"``) and ``value`` (the true count).
        domains: Leaf codes of every dimension (zeros included), in dimension order.
        finest: The non-zero finest counts: one column per dimension and ``value``.
        hierarchies: Optional ``child -> parent`` codes per dimension.
        drop_zeros: Drop the finest cells under every zero cell. Pass False when zero
            cells may be hidden (``zeros_sensitive``).
        structural: Structural zeros (declared facts): finest cells that cannot occur.

    Returns:
        The model, with cells sorted by table and key.

    Raises:
        ValueError: The frames are malformed, a code is unknown, or a cell does not
            equal the sum of its finest cells.
        StructuralZeroError: A finest cell ruled out by ``structural`` holds units.
    """
    cells = check_cells(cells, list(domains), "value")
    zero_rows = (cells["value"] == 0).to_numpy() if drop_zeros else np.zeros(cells.height, bool)
    return _assemble(cells, domains, hierarchies, zero_rows, finest, structural)


def public_model(
    cells: pl.DataFrame,
    domains: Mapping[str, Sequence[str]],
    hierarchies: Hierarchies | None = None,
    structural: Sequence[ZeroBox] = (),
) -> LinearModel:
    """The model an outsider can build from published cells (``published``, null = hidden)
    and the structural zeros everyone knows."""
    cells = check_cells(cells.drop("value", strict=False), list(domains), None)
    if "published" not in cells.columns:
        raise ValueError("the cells frame lacks the column published")
    if cells.filter(pl.col("published") < 0).height:
        raise ValueError("a published cell is negative")
    zero_rows = (cells["published"] == 0).fill_null(False).to_numpy()
    return _assemble(cells, domains, hierarchies, zero_rows, None, structural)
