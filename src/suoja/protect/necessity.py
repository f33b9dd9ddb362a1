"""Least loss: a check that every secondary suppression of a written release was needed.

For each cell the suppression log (``restricted/suppression_log.csv``) calls secondary,
the cell is published at its true value, everything else as released, the earlier
releases still known to the outsider. The cell was needed when the release then fails
one of suoja's checks:

1. *rank*: a hidden cell of the year lies in the span of the published equalities (the
   published figures and the declared stock identities): it can be computed exactly (an
   implicit cell or pooled category: exactly, and 1..threshold-1);
2. *singleton rank*: the unit alone in a hidden cell (true value 1) knows that cell, and
   with it could compute another hidden cell exactly;
3. *joint audit*: ``release_audit.audit_views`` (verdict mode) finds a quantity the
   outsider can narrow too far (integer ranges over every population, the earlier
   releases, the facts and the publication rules);
4. *singleton audit*: within the cell's population (its published figures and
   structural zeros, as its protection ``secure`` sees them), the integer ranges with
   one hidden singleton fixed at 1 narrow another hidden cell too far, judged as
   ``secure`` judges it: a cell inside the singleton's own, or one holding only it,
   tells the unit nothing; with the singleton inside the cell, the others in it count;
5. *joint singleton audit*: the same over the whole joint programme of check 3.

The checks run cheapest first and stop at the first that fails. A failure that the
release as published already shows (say a singleton attack across populations, which
the per-population protection does not model) is not held against the cell. Checks 1
and 2 are exact linear algebra modulo the prime 2**61 - 1 (``gauss._Elimination``, as in
Langsrud 2024; a rank over that field is lower than over the rationals only when the
prime divides a minor, which for 0/1 tables does not happen in practice); 3 to 5 are the
attacker's integer programme of tau-ARGUS and sdcTable (``ranges.Attacker``,
``joint_ranges.JointAttacker``). This is the converse of ``secure.publish_unneeded``:
there a cell is published again when the certificates allow it; here the written release
is tried cell by cell from ``open/`` and the log alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from suoja.errors import UsageError
from suoja.policy import Policy, read_policy
from suoja.protect.audit import known_values
from suoja.protect.joint_ranges import JointAttacker
from suoja.protect.ranges import Attacker
from suoja.protect.release_audit import (
    ONE,
    audit_views,
    implicit_truth,
    joint_earlier,
    read_open_tables,
    read_previous,
    views_from_tables,
)
from suoja.protect.unhide_pattern import Cell, Pattern, singleton_judge, span_text
from suoja.tables.catalogue import Catalogue, read_catalogue
from suoja.tables.cubes import cell_key

SCHEMA = {"table": pl.String, "cell": pl.String, "value": pl.Int64, "verdict": pl.String,
          "check": pl.String, "reason": pl.String, "seconds": pl.Float64}
NEEDED, NOT_NEEDED = "needed", "not needed"


@dataclass(frozen=True)
class Outcome:
    """A check a pattern fails: its name and its first finding, in one sentence."""

    check: str
    reason: str


class UnhideCheck:
    """The outsider's view of one written release, and the true values of its hidden cells
    (from the suppression log), to try publishing them one at a time."""

    def __init__(self, tables: Mapping[str, pl.DataFrame], log: pl.DataFrame, year: int,
                 catalogue: Catalogue, policy: Policy, earlier_views: list,
                 joint_singletons: bool = True) -> None:
        """The release as published (``tables``, as under ``open/``), its suppression log
        (``table``, ``cell``, ``original``, ``rule``), its year and the outsider's views of
        the earlier releases. The true values of the implicit cells (``T[dim=code]``,
        ``release_audit.implicit_truth``) make the person behind an implicit singleton an
        attacker too, as the engine (``secure``) has them."""
        self.joint_singletons = joint_singletons
        self.catalogue, self.policy = catalogue, policy
        self.rules = policy.suppression_rules()
        self.tables = dict(tables)
        self.year = year
        self.earlier_views = list(earlier_views)
        self.codes = {d: dim.cube_codes for d, dim in catalogue.dimensions.items()}
        self.codes[ONE] = ("x",)
        self.log = log
        cells = log.filter(pl.col("rule") != "pooled")
        self.values: dict[Cell, int] = {(t, k): int(v) for t, k, v in
                                        cells.select("table", "cell", "original").iter_rows()}
        implicit = implicit_truth(self.tables, cells, catalogue, policy, year)
        self.values.update({c: int(v) for c, v in implicit.items()})
        self.base = self.pattern(self.tables)
        self._last: tuple[tuple[Cell, ...], Pattern] | None = None
        self._base_audit: set[tuple] | None = None
        self._base_singleton: dict[tuple[Cell, Cell], bool] = {}

    @classmethod
    def from_folder(cls, release: Path, catalogue: Catalogue | None = None,
                    policy: Policy | None = None,
                    previous: Mapping[int, Mapping[str, pl.DataFrame]] | None = None,
                    joint_singletons: bool = True) -> UnhideCheck:
        """The check of a written release ``OUT/YEAR`` (``open/`` and the restricted log).

        Raises:
            UsageError: ``release`` has no ``open/`` or no suppression log.
        """
        log_path = release / "restricted" / "suppression_log.csv"
        if not (release / "open").is_dir() or not log_path.is_file():
            raise UsageError(f"{release}: not a written release with its restricted/ "
                             "suppression log")
        catalogue = catalogue or read_catalogue()
        policy = policy or read_policy()
        tables = read_open_tables(release / "open", catalogue)
        first = next(iter(tables.values()))
        year = int(first["year"][0]) if first.height else int(release.name)
        if previous is None:
            previous = read_previous(release.parent, year, catalogue)
        earlier_views = []
        for y, earlier in sorted(joint_earlier(previous, year).items()):
            earlier_views += views_from_tables(earlier, catalogue, policy, y)
        log = pl.read_csv(log_path, schema_overrides={"cell": pl.String, "original": pl.Int64})
        return cls(tables, log, year, catalogue, policy, earlier_views, joint_singletons)

    def publish(self, cell: Cell) -> None:
        """Take ``cell`` as published from now on (the base every later check starts from)."""
        self.tables = self.published(cell)
        self.log = self.log.filter((pl.col("table") != cell[0]) | (pl.col("cell") != cell[1]))
        self.base = self.pattern(self.tables)
        self._base_audit = None
        self._base_singleton = {}
        self._last = None

    def pattern(self, tables: Mapping[str, pl.DataFrame]) -> Pattern:
        """The outsider's view of ``tables`` as published, the earlier releases with it."""
        views = views_from_tables(tables, self.catalogue, self.policy, self.year)
        return Pattern(views + self.earlier_views, self.catalogue.facts, self.rules,
                       self.codes, self.year, self.values)

    def secondaries(self) -> list[Cell]:
        """The secondary suppressions of the log, by table and cell."""
        found = self.log.filter(pl.col("rule") == "secondary").sort("table", "cell")
        return list(found.select("table", "cell").iter_rows())

    def published(self, *cells: Cell) -> dict[str, pl.DataFrame]:
        """The release's tables with ``cells`` published at their true values.

        Raises:
            KeyError: No hidden cell ``cell`` in the log and the tables.
        """
        tables = self.tables
        for cell in cells:
            tables = self._published(tables, cell)
        return tables

    def _published(self, tables: Mapping[str, pl.DataFrame],
                   cell: Cell) -> dict[str, pl.DataFrame]:
        table, key = cell
        spec = self.catalogue.table(table)
        frame = tables[table].with_columns(cell_key(spec).alias("__key"))
        hit = pl.col("__key") == key
        if key not in frame["__key"].to_list() or cell not in self.values:
            raise KeyError(f"{table} {key}: no hidden cell of the release")
        frame = frame.with_columns(
            pl.when(hit).then(pl.lit(self.values[cell], pl.Int64)).otherwise(pl.col("value"))
            .alias("value"),
            pl.when(hit).then(pl.lit(None, pl.String)).otherwise(pl.col("status"))
            .alias("status")).drop("__key")
        return {**tables, table: frame}

    def base_audit(self) -> set[tuple]:
        """The quantities the joint audit fails in the release as published (none, unless
        the release was refused or the engine differs)."""
        if self._base_audit is None:
            found = audit_views(self.base.views, self.catalogue, self.policy, self.year,
                                exact=False)
            self._base_audit = set(found.filter(~pl.col("ok")).select(
                "year", "table", "key").iter_rows())
        return self._base_audit

    def base_population_fails(self, population: str, s: Cell, h: Cell) -> bool:
        """Whether the singleton attack (s on h) within the population already succeeds on
        the release."""
        block = self.base.joint.blocks[(self.year, population)]
        attacked = known_values(block.model)
        attacked[block.forms[s]] = 1.0
        lo, hi = Attacker(block.model.forms, attacked, self.rules.time_limit).range(
            block.forms[h])
        return not singleton_judge(lo, hi, self.base.exempt(s, h)[1], self.rules)

    def base_singleton_fails(self, s: Cell, h: Cell) -> bool:
        """Whether the singleton attack (s on h) already succeeds on the release."""
        if (s, h) not in self._base_singleton:
            ok = True
            targets = set(self.base.singleton_targets())
            if s in self.base.singletons() and h in targets:
                ok = self.base.singleton_range(s, h, self.base.attacker_with(s))[0]
            self._base_singleton[(s, h)] = not ok
        return self._base_singleton[(s, h)]

    def judge(self, *cells: Cell, every: bool = False) -> list[Outcome]:
        """The checks the release fails with ``cells`` published together (see the module),
        each with its first finding: only the first check that fails unless ``every``."""
        found = []
        for outcome in self._failures(cells):
            found.append(outcome)
            if not every:
                break
        return found

    def fails_exactly(self, *cells: Cell) -> bool:
        """Whether the release fails checks 1 or 2 (exact linear algebra, cheap) with
        ``cells`` published together.

        For one cell the base pattern's span answers first (``Pattern.exposed_by``: no
        rebuild); only when it exposes nothing is the pattern with the cell published built
        and checked.
        """
        if len(cells) == 1 and self.base.exposed_by(cells[0]) is not None:
            return True
        return next(self._exact_failures(self._with(cells)), None) is not None

    def _with(self, cells: tuple[Cell, ...]) -> Pattern:
        """The pattern with ``cells`` published; the last one is kept (unpick asks
        ``fails_exactly`` and then ``judge`` of the same cells)."""
        if self._last is None or self._last[0] != cells:
            self._last = (cells, self.pattern(self.published(*cells)))
        return self._last[1]

    def _exact_failures(self, pattern: Pattern) -> Iterator[Outcome]:
        yield from self._rank(pattern)
        base_pairs = set(self.base.singleton_exact())
        for s, h in pattern.singleton_exact():
            if (s, h) not in base_pairs:
                yield Outcome("singleton rank",
                              f"the unit alone in {s[0]} {s[1]} could compute {h[0]} {h[1]} "
                              f"exactly ({self.values[h]})")
                break

    def _failures(self, cells: tuple[Cell, ...]) -> Iterator[Outcome]:
        pattern = self._with(cells)
        yield from self._exact_failures(pattern)
        found = audit_views(pattern.views, self.catalogue, self.policy, self.year, exact=False)
        failed = found.filter(~pl.col("ok"))
        if failed.height:
            base = self.base_audit()
            for row in failed.iter_rows(named=True):
                if (row["year"], row["table"], row["key"]) not in base:
                    yield Outcome("joint audit", f"{row['table']} {row['key']} "
                                  f"({row['year']}): {row['finding']}")
                    break
        for population in dict.fromkeys(self.catalogue.table(c[0]).population for c in cells):
            yield from self._population_singletons(pattern, population)
        if self.joint_singletons:
            yield from self._singleton_audit(pattern, cells)

    def _rank(self, pattern: Pattern) -> Iterator[Outcome]:
        """Check 1: the first cell the published equalities now determine."""
        for h in pattern.exact():
            if h not in self.base.rows or self.base.residual(h):
                yield Outcome("rank", f"{h[0]} {h[1]} could be computed exactly "
                              f"({self.values[h]})")
                return
        for h, value in pattern.exact_small(self.base):
            what = "pooled category" if h[0].endswith("[pooled]") else "implicit cell"
            yield Outcome("rank", f"{what} {h[0]} {h[1]} could be computed exactly "
                          f"({value}, below the threshold)")
            return

    def _population_singletons(self, pattern: Pattern, population: str) -> Iterator[Outcome]:
        """Check 4 within ``population``: its published figures and structural zeros only,
        as its protection (``secure``) judged the singletons."""
        for s, h, lo, hi in self._population_failures(pattern, population):
            if not self.base_population_fails(population, s, h):
                yield Outcome("singleton audit",
                              f"the unit alone in {s[0]} {s[1]} could narrow {h[0]} "
                              f"{h[1]} ({self.values[h]}) to {span_text(lo, hi)}")
                return

    def _population_failures(self, pattern: Pattern, population: str,
                             ) -> Iterator[tuple[Cell, Cell, float, float]]:
        """Every (singleton, hidden cell, lo, hi) of check 4 that fails in ``pattern``."""
        block = pattern.joint.blocks[(self.year, population)]
        model = block.model
        mine = {c for c in pattern.singleton_targets() if c in block.forms}
        known = known_values(model)
        for s in (c for c in pattern.singletons() if c in block.forms):
            attacked = known.copy()
            attacked[block.forms[s]] = 1.0
            attacker = Attacker(model.forms, attacked, self.rules.time_limit)
            for h in sorted(mine):
                exempt, shift = pattern.exempt(s, h)
                if h == s or exempt:
                    continue
                lo, hi = attacker.range(block.forms[h])
                if not singleton_judge(lo, hi, shift, self.rules):
                    yield s, h, lo, hi

    def singleton_failures(self) -> set[tuple[int, str, str]]:
        """Check 4 on the release as it stands, nothing forgiven: (year, table, key) of
        every hidden cell that the unit alone in a singleton of its population narrows
        too far (for ``per_population.pattern_audit``)."""
        found = set()
        for year, population in self.base.joint.blocks:
            if year == self.year:
                found |= {(year, *h) for _, h, _, _ in
                          self._population_failures(self.base, population)}
        return found

    def _singleton_audit(self, pattern: Pattern, cells: tuple[Cell, ...]) -> Iterator[Outcome]:
        """Check 5, over the joint programme: the singletons linked to ``cells``."""
        probe = JointAttacker(pattern.joint, self.rules.time_limit)
        near: set[int] = set()
        for cell in cells:
            block = pattern.joint.blocks[(self.year, self.catalogue.table(cell[0]).population)]
            form = block.model.forms[block.forms[cell]]
            near.update(np.unique(probe.label[form.indices + block.offset]).tolist())
        for s in pattern.singletons():
            if not probe.components_of(pattern.row(s)) & near:
                continue
            attacker = None
            for h in pattern.singleton_targets():
                if h == s or pattern.exempt(s, h)[0] or \
                        not probe.components_of(pattern.row(h)) & near:
                    continue
                attacker = attacker or pattern.attacker_with(s)
                ok, lo, hi = pattern.singleton_range(s, h, attacker)
                if not ok and not self.base_singleton_fails(s, h):
                    yield Outcome("joint singleton audit",
                                  f"the unit alone in {s[0]} {s[1]} could narrow {h[0]} "
                                  f"{h[1]} ({self.values[h]}) to {span_text(lo, hi)}")
                    return


def unhide_check(release: Path, catalogue: Catalogue | None = None,
                 policy: Policy | None = None,
                 previous: Mapping[int, Mapping[str, pl.DataFrame]] | None = None, *,
                 cells: list[Cell] | None = None, every: bool = False,
                 joint_singletons: bool = True,
                 progress: Callable[[str, int, int], None] | None = None) -> pl.DataFrame:
    """Whether each secondary suppression of a written release was needed.

    Each secondary cell of ``release/restricted/suppression_log.csv`` is published alone at
    its true value (everything else as in ``release/open``, the earlier releases known)
    and the checks of the module run on the result, cheapest first.

    Args:
        release: A written release folder ``OUT/YEAR`` (``open/`` and ``restricted/``).
        catalogue: The catalogue it was published with (default: the shipped one).
        policy: The policy it was published with (default: the shipped one).
        previous: The earlier releases the outsider holds, ``{year: {table: frame}}``;
            default: every earlier year under ``release``'s parent (``read_previous``).
        cells: Only these (table, key) cells instead of every secondary.
        every: Run every check, not only up to the first that fails (slower: the joint
            audit runs for every cell); ``check`` and ``reason`` then list each failing
            check with its first finding, separated by ", " and "; ".
        joint_singletons: Run check 5 (the singleton attacks over the whole joint
            programme; minutes on the embedded release, where one linked system holds most
            populations). Without it a "not needed" verdict rests on the singleton attacks
            within the cell's population, as its protection judged them.
        progress: ``progress(cell, done, total)`` after each cell.

    Returns:
        One row per cell, sorted by table and cell: ``table``, ``cell``, ``value`` (its
        true value), ``verdict`` ("needed" or "not needed"), ``check`` (the first check
        that failed: "rank", "singleton rank", "joint audit", "singleton audit" or "joint
        singleton audit"; null
        when none did), ``reason`` (which cell the outsider, or which
        singleton's unit, could then narrow and to what) and ``seconds``.

    Raises:
        UsageError: ``release`` has no ``open/`` or no suppression log.
        KeyError: A cell of ``cells`` is no hidden cell of the release.
        suoja.errors.SolverLimitError: A solver found no integer point within its limits.
    """
    check = UnhideCheck.from_folder(release, catalogue, policy, previous, joint_singletons)
    todo = check.secondaries() if cells is None else list(cells)
    rows = []
    for i, cell in enumerate(todo):
        start = time.perf_counter()
        failed = check.judge(cell, every=every)
        if failed:
            verdict = NEEDED
            checks = ", ".join(o.check for o in failed)
            reason = "; ".join(o.reason for o in failed)
        else:
            verdict, checks = NOT_NEEDED, None
            reason = ("every check passes with it published: rank, the joint audit and the "
                      + ("singleton attacks within the population and across the release"
                         if joint_singletons else "singleton attacks within the population"))
        rows.append((*cell, check.values[cell], verdict, checks, reason,
                     round(time.perf_counter() - start, 2)))
        if progress is not None:
            progress(f"{cell[0]} {cell[1]}", i + 1, len(todo))
    return pl.DataFrame(rows, schema=SCHEMA, orient="row").sort("table", "cell")
