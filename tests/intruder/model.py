"""The independent intruder: exact integer ranges of what a release hides, with CP-SAT.

It knows the published cells of year y and of every earlier release given, the catalogue
(tables, populations, declared facts), the pooling rule and the threshold, and nothing else.
It shares no code with suoja.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from ortools.sat.python import cp_model

from .cube import Cube
from .spec import (
    OTHER,
    TOTAL,
    UNKNOWN,
    Release,
    Spec,
    Table,
    cell_key,
    codelist,
    read_release,
    read_spec,
)

REST = "_REST"  # pooled codes that no release mentions, lumped together
# Lump them only when there are more than this many: then each of them can still be 0
# (the lump would need over LUMP * (threshold - 1) units to force one), so no pooled code
# of the lump can be known to be small and they need no finding of their own.
LUMP = 10
COARSE = "~"  # suffix of a pooled dimension coarsened to shown codes + one pooled class
POOLED = "~pooled"


@dataclass(frozen=True)
class Finding:
    year: int
    table: str
    key: str
    kind: str  # hidden, pooled, complement
    lo: int
    hi: int | None  # None = unbounded
    ok: bool


def attack(
    release_dir: Path,
    catalogue_path: Path,
    policy_path: Path,
    previous_dirs: list[Path] | tuple[Path, ...] = (),
    codelists_dir: Path | None = None,
) -> list[Finding]:
    """Every hidden cell, pooled code and complement cell with its exact range and verdict."""
    spec = read_spec(catalogue_path, policy_path, codelists_dir)
    releases = [read_release(Path(d), spec) for d in [*previous_dirs, release_dir]]
    return Intruder(spec, releases).findings()


class Intruder:
    def __init__(self, spec: Spec, releases: list[Release]) -> None:
        self.spec = spec
        self.releases = {r.year: r for r in sorted(releases, key=lambda r: r.year)}
        if len(self.releases) != len(releases):
            raise ValueError("two releases of the same year")
        self.table = {t.id: t for t in spec.tables}
        self.universe = self._pooled_universes()
        published = sum(
            c.value or 0 for r in releases for cells in r.tables.values() for c in cells
        )
        n_codes = sum(len(codes) + n for codes, n in self.universe.values())
        n_cubes = len(releases) * len(spec.populations)
        self.m0 = published + (spec.threshold - 1) * n_codes * n_cubes
        self.big = 10 * self.m0 + 1000
        self.model = cp_model.CpModel()
        self.cubes: dict[tuple[int, str], Cube] = {}
        for year in self.releases:
            for pop in spec.populations:
                codes = self._codes(year, pop)
                derived = {
                    d + COARSE: (d, self._classes(year, pop, d))
                    for d in spec.populations[pop] if d + COARSE in codes
                }
                self.cubes[year, pop] = Cube(
                    self.model, f"{pop}@{year}", codes, self._hyperedges(pop), self.big, derived
                )
        for year in self.releases:
            self._publication(year)
            for fact in spec.facts:
                self._fact(year, fact)

    # --- the codes of the cubes -------------------------------------------------------

    def _pooled_universes(self) -> dict[str, tuple[list[str], int]]:
        """Per pooled dimension: the codes any release mentions, and how many others exist."""
        out = {}
        for dim in self.spec.pooling:
            seen = list(self.spec.cube_only(dim))
            for t in self.spec.tables:
                if dim in t.where:
                    seen.append(t.where[dim])
                for r in self.releases.values():
                    if dim in t.dims:
                        seen += [c.codes[dim] for c in r.tables.get(t.id, [])]
            # A code a fact names must stay apart: the lump stands for many codes at once.
            for f in self.spec.facts:
                if f["kind"] == "iff":
                    seen += list(f["left"].get(dim, ())) + list(f["right"].get(dim, ()))
            seen = [c for c in dict.fromkeys(seen) if c not in (TOTAL, OTHER)]
            rest = [c for c in codelist(self.spec, dim) if c not in seen]
            if len(rest) <= LUMP:  # few: keep them apart, each can be pinned on its own
                seen, rest = seen + rest, []
            out[dim] = (seen, len(rest))
        return out

    def _codes(self, year: int, pop: str) -> dict[str, list[str]]:
        relevant = set().union(*self._hyperedges(pop)) if self._hyperedges(pop) else set()
        codes = {}
        for dim in self.spec.populations[pop]:
            if dim + COARSE in relevant:
                codes[dim + COARSE] = list(dict.fromkeys(self._classes(year, pop, dim).values()))
            if dim not in relevant:
                continue  # nothing tells its codes apart: summed out everywhere
            cube_only = list(self.spec.cube_only(dim))
            if dim in self.universe:
                seen, rest = self.universe[dim]
                codes[dim] = seen + ([REST] if rest else [])
                continue
            shown = [
                c.codes[dim]
                for t in self.spec.tables_of(pop) if dim in t.dims
                for c in self.releases[year].tables.get(t.id, [])
            ]
            shown += [t.where[dim] for t in self.spec.tables_of(pop) if dim in t.where]
            shown = [c for c in shown if c not in (TOTAL, OTHER)]
            if not any(dim in t.dims for t in self.spec.tables_of(pop)):
                shown += codelist(self.spec, dim)
            codes[dim] = list(dict.fromkeys(shown + cube_only))
        return codes

    def _hyperedges(self, pop: str) -> list[frozenset[str]]:
        """The margins the rules use; a coarse dimension stands in where classes suffice."""
        dims = set(self.spec.populations[pop])
        tables = [set(t.dims) | set(t.where) for t in self.spec.tables_of(pop)]
        coarse_ok = tables + [set(f["left"]) | set(f["right"]) for f in self._iffs(pop)]
        fine = []  # margins that need every pooled code on its own
        for d in self.universe:
            for t in self.spec.rule_tables(pop, d):
                fine.append({d} | set(t.where))
        for f in self.spec.facts:
            if f["kind"] == "at_least" and pop in (f["population"], f["than"]):
                fine.append(set(f["dimensions"]))
            elif f["kind"] == "stock":
                where = set(f.get("where", {}))
                for d in f.get("dimensions", []):
                    if pop == f["stock"]:
                        fine.append({d} | where)
                    elif pop in (f["inflow"], f.get("outflow")):
                        fine.append({d})
                if pop == f["stock"]:
                    fine.append(where)
        coarse = {d for d in self._coarsened(pop) if any(d in e and len(e) > 1 for e in coarse_ok)}
        edges = [e & dims for e in fine]
        for e in coarse_ok:
            e = e & dims
            edges.append({d + COARSE if d in coarse and len(e) > 1 else d for d in e})
        edges += [{d, d + COARSE} for d in coarse]
        return [frozenset(e) for e in edges if e]

    def _iffs(self, pop: str) -> list[dict]:
        return [f for f in self.spec.facts if f["kind"] == "iff" and f["population"] == pop]

    def _coarsened(self, pop: str) -> set[str]:
        """Pooled dimensions whose pooled codes may be one class beside other dimensions."""
        dims = set(self.spec.populations[pop]) & set(self.universe)
        for f in self.spec.facts:
            if f["kind"] == "at_least" and pop in (f["population"], f["than"]):
                dims -= set(f["dimensions"])
        return dims

    def _classes(self, year: int, pop: str, dim: str) -> dict[str, str]:
        """Each code of a coarsened dimension -> itself, or the class of pooled codes."""
        keep = self.shown(year, pop, dim) | set(self.spec.cube_only(dim))
        keep |= {t.where[dim] for t in self.spec.tables_of(pop) if dim in t.where}
        for f in self._iffs(pop):
            keep |= set(f["left"].get(dim, ())) | set(f["right"].get(dim, ()))
        seen, rest = self.universe[dim]
        return {c: c if c in keep else POOLED for c in seen + ([REST] if rest else [])}

    def shown(self, year: int, pop: str, dim: str) -> set[str]:
        return {
            c.codes[dim]
            for t in self.spec.tables_of(pop) if dim in t.dims
            for c in self.releases[year].tables.get(t.id, [])
        } - {TOTAL, OTHER}

    def pooled_in(self, year: int, table: Table, dim: str) -> list[str]:
        """The codes one table counts in its ``_O``: every code it does not list."""
        listed = {c.codes[dim] for c in self.releases[year].tables.get(table.id, [])}
        cube_only = self.spec.cube_only(dim)
        return [c for c in self.cubes[year, table.population].codes[dim]
                if c not in listed and c not in cube_only]

    # --- what the publication says ------------------------------------------------------

    def fixed(self, year: int, table: Table, codes: dict[str, str]) -> dict[str, set[str]]:
        out = {d: {c} for d, c in table.where.items()}
        for d in table.dims:
            c = codes[d]
            if c == OTHER and d in self.universe:
                out[d] = set(self.pooled_in(year, table, d))
            elif c != TOTAL:
                out[d] = {c}
        return out

    def cell(self, year: int, table: Table, codes: dict[str, str]) -> cp_model.LinearExprT:
        return self.cubes[year, table.population].margin(self.fixed(year, table, codes))

    def _publication(self, year: int) -> None:
        release, t_min = self.releases[year], self.spec.threshold
        for tid, cells in release.tables.items():
            for c in cells:
                if c.value is not None:
                    self.model.add(self.cell(year, self.table[tid], c.codes) == c.value)
        for pop in self.spec.populations:
            for dim in self.spec.populations[pop]:
                if dim not in self.universe:
                    continue
                for ref in self.spec.rule_tables(pop, dim):
                    if ref.id not in release.tables:
                        continue
                    cube, where = self.cubes[year, pop], {d: {c} for d, c in ref.where.items()}
                    n_rest = self.universe[dim][1]
                    for code in self.pooled_in(year, ref, dim):
                        cap = (t_min - 1) * (n_rest if code == REST else 1)
                        self.model.add(cube.margin({**where, dim: {code}}) <= cap)
                    listed = {c.codes[dim] for c in release.tables[ref.id]}
                    for code in listed - {UNKNOWN, TOTAL, OTHER}:
                        self.model.add(cube.margin({**where, dim: {code}}) >= t_min)

    # --- declared facts ---------------------------------------------------------------

    def _fact(self, year: int, fact: dict) -> None:
        kind = fact["kind"]
        if kind == "iff":
            cube = self.cubes[year, fact["population"]]
            left, right = fact["left"], fact["right"]
            for codes, var in cube.cells([*left, *right]):
                in_left = all(codes[d] in v for d, v in left.items())
                in_right = all(codes[d] in v for d, v in right.items())
                if in_left != in_right:
                    self.model.add(var == 0)
        elif kind == "at_least":
            big, small = self.cubes[year, fact["population"]], self.cubes[year, fact["than"]]
            dims = fact["dimensions"]
            options = [
                [None, *dict.fromkeys(big.codes.get(d, []) + small.codes.get(d, []))] for d in dims
            ]
            for combo in itertools.product(*options):
                fixed = {d: {c} for d, c in zip(dims, combo, strict=True) if c is not None}
                self.model.add(big.margin(fixed) >= small.margin(fixed))
        elif kind == "stock":
            if year - 1 in self.releases:
                self._stock(year, fact)
        else:
            raise ValueError(f"unknown kind of fact {kind!r}")

    def _stock(self, year: int, fact: dict) -> None:
        now, before = self.cubes[year, fact["stock"]], self.cubes[year - 1, fact["stock"]]
        where = {d: {c} for d, c in fact.get("where", {}).items()}
        inflow = self.cubes[year, fact["inflow"]]
        outflow = self.cubes[year, fact["outflow"]] if fact.get("outflow") else None
        out_total = outflow.margin({}) if outflow else self._fresh(f"{fact['id']}@{year}:out")
        add = self.model.add
        add(now.margin(where) == before.margin(where) + inflow.margin({}) - out_total)
        for d in fact.get("dimensions", []):
            codes = list(dict.fromkeys(
                now.codes.get(d, []) + before.codes.get(d, []) + inflow.codes.get(d, [])
                + (outflow.codes.get(d, []) if outflow else [])
            ))
            flows = [self._by_code(inflow, d, codes, inflow.margin({}), f"{fact['id']}@{year}:in")]
            flows.append(self._by_code(outflow, d, codes, out_total, f"{fact['id']}@{year}:out"))
            for c in codes:
                at = {**where, d: {c}}
                add(now.margin(at) == before.margin(at) + flows[0][c] - flows[1][c])

    def _by_code(self, cube, dim, codes, total, name):
        """A flow's count by each code: from its cube, or unknowns that sum to its total."""
        if cube is not None and dim in cube.codes:
            return {c: cube.margin({dim: {c}}) for c in codes}
        parts = {c: self._fresh(f"{name}:{dim}={c}") for c in codes}
        self.model.add(cp_model.LinearExpr.sum(list(parts.values())) == total)
        return parts

    def _fresh(self, name: str) -> cp_model.IntVar:
        return self.model.new_int_var(0, self.big, name)

    # --- the verdict --------------------------------------------------------------------

    def quantities(self):
        """(year, table, key, kind, expression) of everything the verdict looks at."""
        for year, release in self.releases.items():
            for tid, cells in release.tables.items():
                t = self.table[tid]
                for c in cells:
                    if c.value is None:
                        yield year, tid, cell_key(t, c.codes), "hidden", self.cell(year, t, c.codes)
            for pop in self.spec.populations:
                for dim in self.spec.populations[pop]:
                    if dim not in self.universe:
                        continue
                    for ref in self.spec.rule_tables(pop, dim):
                        if ref.id not in release.tables:
                            continue
                        cube = self.cubes[year, pop]
                        where = {d: {c} for d, c in ref.where.items()}
                        for code in self.pooled_in(year, ref, dim):
                            if code != REST:
                                expr = cube.margin({**where, dim: {code}})
                                yield year, ref.id, f"{dim}={code}", "pooled", expr
            yield from self._complements(year)

    def _complements(self, year: int):
        release = self.releases[year]
        for t in self.spec.tables:
            for dim, code in t.where.items():
                if t.id not in release.tables or dim not in self.cubes[year, t.population].codes:
                    continue
                cube_only = self.spec.cube_only(dim)
                others = [c for c in self.cubes[year, t.population].codes[dim]
                          if c not in cube_only and c != code]
                rest_where = {d: c for d, c in t.where.items() if d != dim}
                twin = [u for u in self.spec.tables_of(t.population)
                        if set(u.dims) == set(t.dims) and u.where == rest_where
                        and u.id in release.tables]
                if len(others) != 1 or not twin:
                    continue
                for c in release.tables[t.id]:
                    fixed = {**self.fixed(year, t, c.codes), dim: {others[0]}}
                    key = f"{cell_key(t, c.codes)};{dim}={others[0]}".removeprefix(f"{TOTAL};")
                    expr = self.cubes[year, t.population].margin(fixed)
                    yield year, t.id, key, "complement", expr

    def _optimum(self, expr, maximize: bool) -> int:
        (self.model.maximize if maximize else self.model.minimize)(expr)
        return round(self._run().objective_value)

    def _run(self) -> cp_model.CpSolver:
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 8
        solver.parameters.cp_model_probing_level = 0
        solver.parameters.symmetry_level = 0
        # The LP relaxation proves most bounds at once: without it some minima of a
        # citizenship cell took minutes.
        solver.parameters.linearization_level = 2
        solver.parameters.max_time_in_seconds = 120
        status = solver.solve(self.model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE) or (
            self.model.has_objective() and status != cp_model.OPTIMAL
        ):
            raise RuntimeError(
                f"CP-SAT: {solver.status_name(status)}; if INFEASIBLE the releases "
                "break the published rules or the intruder is wrong"
            )
        self._observe(solver)
        return solver

    def _observe(self, solver: cp_model.CpSolver) -> None:
        """Widen the seen range of every open quantity with this solution."""
        for i, (*_, expr) in enumerate(self._open):
            if i in self._done:
                continue
            v = solver.value(expr)
            lo, hi = self._seen.get(i, (v, v))
            self._seen[i] = (min(lo, v), max(hi, v))

    def verdict(self, kind: str, lo: int, hi: int | None) -> bool:
        t, exact = self.spec.threshold, self.spec.interval == "exact"
        if kind == "hidden":
            return hi is None or (hi > lo and (exact or lo <= 0 or hi >= t))
        # A pooled code is below the threshold by the public pooling rule: only its exact
        # size must stay unknown (the methods note states this choice).
        if exact or kind == "pooled":
            return not (hi is not None and lo == hi and 1 <= lo <= t - 1)
        return not (lo >= 1 and hi is not None and hi <= t - 1)

    def findings(self) -> list[Finding]:
        """Solve every quantity: min and max, skipping a bound a seen solution already proves."""
        self._open = [q for q in self.quantities() if not isinstance(q[4], int)]
        self._seen: dict[int, tuple[int, int]] = {}
        self._done: set[int] = set()
        self.model.clear_objective()
        self._run()
        ranges = {}
        for i, (_, _, _, kind, expr) in enumerate(self._open):
            cap = self.spec.threshold - 1 if kind == "pooled" else None
            seen_lo, seen_hi = self._seen[i]
            lo = 0 if seen_lo == 0 else self._optimum(expr, maximize=False)
            hi = cap if seen_hi == cap else self._optimum(expr, maximize=True)
            ranges[i] = (lo, None if hi > self.m0 else hi)
            self._done.add(i)
        out, k = [], 0
        for year, table, key, kind, expr in self.quantities():
            if isinstance(expr, int):
                lo, hi = expr, expr
            else:
                lo, hi = ranges[k]
                k += 1
            out.append(Finding(year, table, key, kind, lo, hi, self.verdict(kind, lo, hi)))
        return out
