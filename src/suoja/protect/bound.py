"""A proven lower bound on the cost of secondary suppression, by cut generation.

The least any safe pattern can cost is the optimum of an integer programme over the
binaries ``z_c`` (hide form ``c``) whose constraints say that every primary keeps its
protection interval. Fischetti and Salazar-Gonzalez (1999, "Models and algorithms for
the 2-dimensional cell suppression problem in statistical disclosure control",
Mathematical Programming 84; 2001 for general tables) write those constraints as
*capacity cuts*, generated from the attacker's linear programme, as tau-ARGUS's OPT does:

For a primary ``p`` and a pattern ``z``, the attacker moves the table by ``u`` (one entry
per model variable, ``u >= -x`` keeps every count non-negative) while every published
form ``c`` stays put (``a_c u = 0``) and maximises ``a_p u``. Any dual solution ``y`` of
that programme (``r = a_p - sum_c y_c a_c <= 0``) bounds the attacker's reach for *every*
pattern: hiding ``c`` opens its row to ``[-x_c, +inf)``, which adds at most ``y_c * inf``
(``y_c > 0``) or ``|y_c| x_c`` (``y_c < 0``), so

    sum_v -r_v x_v + sum_c coef_c z_c >= need_up(p)

holds for any pattern that lets ``p`` move up by ``need_up``. Coefficients are clipped
at the right-hand side (valid for 0/1 ``z``). The interval rule asks for up *or* down
(``SuppressionRules.range_ok``), so the two cuts of a primary are joined into one:
``sum_c max(up_c / need_up, down_c / need_down) z_c >= 1``.

A master programme picks the cheapest ``z`` meeting the cuts found so far; the attacker's
programmes on that pattern give new cuts; when none is violated, the pattern meets every
constraint and the master's optimum is the least cost. Whenever the loop stops (work
limits), the best bound any master proved stays a valid lower bound.

What the bound leaves out makes it a bound: the attacker here knows only the
population's own published forms (not other populations, earlier releases or the
pooling rule), singleton protection asks only that the person behind a singleton not
compute another hidden cell exactly, and ranges are those of linear, not integer,
programmes. Each omission weakens the attacker, so every pattern that the
release audit passes meets these constraints and costs at least the bound. On 2-D
tables without hierarchies the linear ranges are integral (the matrix is totally
unimodular) and the bound is the least cost exactly.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from suoja.protect.highs import INF, has_incumbent, new_highs, outcome, pass_model, solution
from suoja.protect.rules import SuppressionRules
from suoja.protect.secure import deltas_needed

MAX_ROUNDS = 200
"""Master solves allowed (each followed by the attacker's programmes on its pattern)."""
MASTER_NODES = 5_000
"""Branch-and-bound nodes one master solve may explore (a work limit, not time)."""
MAX_SOLVES = 5_000
"""Attacker's linear programmes allowed in all (a work limit): when they run out, the best
bound proven so far stands, marked as not proven optimal."""
MAX_FORMS = 5_000
"""Largest model (distinct forms) for which the bound is sought."""
TOL = 1e-7


@dataclass(frozen=True)
class LowerBound:
    """The outcome of ``lower_bound``.

    Attributes:
        value: No pattern that protects every primary costs less (units of the cost:
            the policy's ``cell_cost`` per hidden cell plus ``unit_cost`` per unit, times
            the priority weights).
        proven: The master reached its optimum with no violated cut left: ``value`` is
            the least cost under the constraints above, not only a bound on it.
        rounds: Master solves run.
        cuts: Capacity cuts generated.
        reason: Why the search stopped early (empty when it did not).
        pattern: The forms hidden by the last master's choice (primaries included) when
            it meets every constraint, whether or not the master proved it optimal; else
            None. Its cost is ``cost``.
        cost: What ``pattern`` costs (``inf`` without one).
    """

    value: float
    proven: bool
    rounds: int
    cuts: int
    reason: str = ""
    pattern: np.ndarray | None = None
    cost: float = float("inf")

    @property
    def gap(self) -> float:
        """``(cost - value) / cost`` of ``pattern``: 0 when proven optimal, 1 without one."""
        if self.pattern is None or self.cost == float("inf"):
            return 1.0
        return 0.0 if self.cost <= self.value + 1e-9 else (self.cost - self.value) / self.cost


@dataclass(frozen=True)
class Links:
    """Constraints every pattern leaves in place: ``lower <= matrix @ v <= upper`` over
    the model's variables ``v`` (the links between tables, earlier releases, the
    publication rules; ``suoja.protect.joint_bound``). Shapes ``(k, n_vars)``, ``(k,)``."""

    matrix: sp.csr_matrix
    lower: np.ndarray
    upper: np.ndarray


class _Attacker:
    """The attacker's linear programme over deviations ``u`` of the model's variables;
    one row per form, fixed at 0 when published and free when hidden, then the rows of
    ``links`` (never changed)."""

    def __init__(self, forms: sp.csr_matrix, x: np.ndarray, cap: float,
                 links: Links | None = None) -> None:
        self.forms = forms.astype(np.float64).tocsr()
        self.x = x.astype(np.float64)
        self.values = self.forms @ self.x
        self.cap = cap
        n_forms, n_vars = forms.shape
        upper = np.full(n_vars, INF) if cap == INF else cap - self.x
        self.highs = new_highs(presolve=False)
        # Only the objective changes between most solves: the basis stays primal feasible.
        self.highs.setOptionValue("simplex_strategy", 4)
        rows, lo, hi = self.forms, np.zeros(n_forms), np.zeros(n_forms)
        self.links = None
        if links is not None and links.matrix.shape[0]:
            matrix = links.matrix.astype(np.float64).tocsr()
            at = matrix @ self.x
            # In deviations: lower - Lx <= L u <= upper - Lx (x meets them: 0 lies inside).
            self.links = (matrix, links.lower - at, links.upper - at)
            rows = sp.vstack([rows, matrix]).tocsr()
            lo, hi = np.concatenate([lo, self.links[1]]), np.concatenate([hi, self.links[2]])
        pass_model(self.highs, rows, -self.x, upper, lo, hi)
        self.hidden = np.zeros(n_forms, dtype=bool)
        self.solves = 0

    def use(self, hidden: np.ndarray) -> None:
        changed = np.flatnonzero(hidden != self.hidden).astype(np.int32)
        if len(changed):
            lo = np.where(hidden[changed], -INF, 0.0)
            hi = np.where(hidden[changed], INF, 0.0)
            self.highs.changeRowsBounds(len(changed), changed, lo, hi)
            self.hidden = hidden.copy()

    def reach(self, form: int, sign: float) -> tuple[float, np.ndarray | None, float]:
        """How far ``sign * form`` can move, and a cut for it: the coefficient of each
        form (``|y_c|`` with the sign of ``y_c``) and the constant ``sum -r_v x_v``.
        Unbounded: ``(inf, None, 0)``. No trustworthy dual: ``(reach, None, 0)``. The
        solver failed: ``(nan, None, 0)``."""
        row = self.forms[form]
        cost = np.zeros(self.forms.shape[1])
        cost[row.indices] = -sign * row.data  # HiGHS minimises
        self.highs.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), cost)
        self.solves += 1
        self.highs.run()
        status = outcome(self.highs)
        if status == "unbounded":
            return INF, None, 0.0
        if status != "optimal":
            return float("nan"), None, 0.0  # no verdict: callers never read it as safe
        reach = -float(self.highs.getInfo().objective_function_value)
        everything = np.asarray(self.highs.getSolution().row_dual, dtype=np.float64)
        n_forms = self.forms.shape[0]
        y, w = everything[:n_forms].copy(), everything[n_forms:]
        y[self.hidden] = 0.0
        target = np.zeros(self.forms.shape[1])
        target[row.indices] = sign * row.data
        best = None
        for flip in (1.0, -1.0):
            dual, linked = flip * y, flip * w
            r = target - self.forms.T @ dual
            fixed = 0.0
            if self.links is not None:
                linked = np.where(np.abs(linked) > TOL, linked, 0.0)
                r = r - self.links[0].T @ linked
                # Weak duality: a link row adds at most w * (its room up or down).
                room = np.where(linked > 0, self.links[2], np.where(linked < 0, self.links[1],
                                                                     0.0))
                if not np.isfinite(room[linked != 0]).all():
                    continue
                fixed = float(linked @ room)
            over = np.maximum(r, 0.0)
            if self.cap == INF and (over > TOL).any():
                continue
            constant = fixed + float(np.maximum(-r, 0.0) @ self.x)
            if self.cap != INF:
                constant += float(over @ (self.cap - self.x))
            if best is None or constant < best[1]:
                best = (dual, constant)
        if best is None or best[1] > reach + 1e-6 * max(1.0, reach):
            return reach, None, 0.0
        return reach, best[0], best[1]


def _coefficients(dual: np.ndarray, x: np.ndarray, rhs: float) -> np.ndarray:
    """Cut coefficients of hiding each form: ``+inf`` (clipped to ``rhs``) where the dual
    is positive, ``|y_c| x_c`` where it is negative."""
    up = np.where(dual > TOL, rhs, 0.0)
    down = np.where(dual < -TOL, np.minimum(-dual * x, rhs), 0.0)
    return np.maximum(up, down)


def _master(cuts: list[tuple[np.ndarray, float]], cost: np.ndarray, nodes: int,
            seconds: float) -> tuple[np.ndarray | None, float, bool]:
    """The cheapest 0/1 ``z`` with ``row @ z >= rhs`` for every cut: the choice (None
    when none was found), the solver's proven bound, and whether the choice is optimal."""
    if not cuts:
        return np.zeros(len(cost), dtype=bool), 0.0, True
    matrix = sp.csr_matrix(np.vstack([row for row, _ in cuts]))
    rhs = np.array([r for _, r in cuts], dtype=np.float64)
    highs = new_highs(time_limit=max(seconds, 0.01))
    highs.setOptionValue("mip_max_nodes", max(nodes, 1))
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.setOptionValue("mip_abs_gap", 1e-9)
    pass_model(highs, matrix, np.zeros(len(cost)), np.ones(len(cost)),
               rhs, np.full(matrix.shape[0], INF), cost, integer=True)
    highs.run()
    status = outcome(highs)
    if status == "infeasible":
        return None, INF, True
    info = highs.getInfo()
    bound = max(float(info.mip_dual_bound), 0.0) if status != "optimal" else \
        float(info.objective_function_value)
    # A choice found when the time limit (a safety net) ran out is not used: it would
    # depend on the machine's speed. Its bound stays valid.
    timed_out = highs.getModelStatus() == highspy.HighsModelStatus.kTimeLimit
    if not has_incumbent(highs) or timed_out:
        return None, bound, False
    return solution(highs) > 0.5, bound, status == "optimal"


def lower_bound(forms: sp.csr_matrix, x: np.ndarray, primary: np.ndarray,
                can_hide: np.ndarray, cost: np.ndarray, rules: SuppressionRules,
                values: np.ndarray, *, cap: float = INF,
                need: Mapping[int, tuple[float, float]] | None = None,
                singletons: bool = False, free: frozenset[int] = frozenset(),
                links: Links | None = None, tie: np.ndarray | None = None,
                verify: Callable[[np.ndarray], list[tuple[np.ndarray, float]]] | None = None,
                groups: np.ndarray | None = None, exact_only: frozenset[int] = frozenset(),
                nodes: int = MASTER_NODES,
                solves: int = MAX_SOLVES, time_limit: float = 60.0) -> LowerBound:
    """The least cost of hiding forms so that every primary keeps its protection interval.

    Args:
        forms: Forms x variables, 0/1 (``LinearModel.forms``), shape ``(n_forms, n_vars)``.
        x: True count of each variable, shape ``(n_vars,)``.
        primary: Forms that are hidden and must be protected, shape ``(n_forms,)``.
        can_hide: Forms that may be hidden as secondaries.
        cost: What hiding each form costs (0 or more), shape ``(n_forms,)``.
        rules: ``threshold`` and ``interval`` (``deltas_needed``) set how far each primary
            must be able to move.
        values: True count of each form.
        cap: A bound on any variable that every pattern publishes (the grand total, when
            it may not be hidden); ``INF`` when none.
        need: How far some primaries must be able to move, up or down, instead of
            ``deltas_needed`` (forced cells: ``suoja.protect.secure.State.need``).
        singletons: Singleton protection: the person behind a primary of one unit,
            who knows it, must not compute exactly any other hidden form, primary or
            secondary (``_singleton_pairs``).
        free: Forms that need no protection of their own when hidden (cells no table
            publishes, of 0 or at least the threshold: ``suoja.protect.secure.State.free``).
        links: Constraints the attacker knows whatever the pattern (``Links``): other
            tables, earlier releases, the publication rules.
        tie: Breaks ties between patterns of the least cost (the units hidden: fewer
            persons), shape ``(n_forms,)``. Used when every cost is a whole number: the
            master then minimises ``cost + tie / (sum(tie) + 1)``, whose whole part is the
            cost, so the bound is unchanged.
        verify: A full check of a pattern that linear ranges pass (hidden forms, shape
            ``(n_forms,)``): the cuts it violates, each a row over the forms and a
            right-hand side (``row @ z >= rhs``), valid for every safe pattern; empty when
            it passes, None when it may not run (a work limit: the search stops). The
            bound is then the least cost under that check too.
        groups: The group (population) of each form, shape ``(n_forms,)``: a singleton is
            judged only against the hidden forms of its own group, and without ``links``
            (as ``suoja.protect.singleton_gate`` judges a release).
        exact_only: Primaries that need only not be computed exactly, whatever the
            interval rule (pooled categories: ``release_audit._judge``).
        nodes: Branch-and-bound nodes one master solve may explore (a work limit).
        solves: Attacker's linear programmes allowed in all (a work limit).
        time_limit: Seconds all master solves together may take: a safety net only.

    Returns:
        The bound (``LowerBound``); ``value`` is ``inf`` when no pattern protects every
        primary.
    """
    primary = np.asarray(primary, dtype=bool)
    candidates = np.flatnonzero(np.asarray(can_hide, dtype=bool) & ~primary)
    column = np.full(len(primary), -1)
    column[candidates] = np.arange(len(candidates))
    price = np.asarray(cost, dtype=np.float64)[candidates]
    objective, whole = price, False
    if tie is not None and len(price) and np.allclose(price, np.round(price)):
        breaker = np.asarray(tie, dtype=np.float64)[candidates]
        objective, whole = price + breaker / (float(breaker.sum()) + 1.0), True
    if forms.shape[0] > MAX_FORMS:
        return LowerBound(0.0, False, 0, 0, f"more than {MAX_FORMS} distinct cells")
    attacker = _Attacker(forms, x, cap, links)
    # The person behind a singleton is judged as the release audit's singleton gate
    # judges: within the singleton's group (population), without the links.
    alone = attacker if links is None else _Attacker(forms, x, cap)

    def spent_solves() -> int:
        return attacker.solves + (alone.solves if alone is not attacker else 0)

    targets = np.flatnonzero(primary).tolist()
    singles = [t for t in targets if values[t] == 1] if singletons else []
    cuts: list[tuple[np.ndarray, float]] = []
    passed: dict[tuple[int | None, int], np.ndarray] = {}
    best, spent = 0.0, 0.0
    for rounds in range(1, MAX_ROUNDS + 1):
        start = time.perf_counter()
        choice, bound, optimal = _master(cuts, objective, nodes, time_limit - spent)
        spent += time.perf_counter() - start
        if whole and bound != INF:
            bound = float(np.floor(bound + 1e-6))  # the tie-break is below one unit of cost
        best = max(best, bound)
        if choice is None:
            reason = "" if bound == INF else "no pattern within the master's limits"
            return LowerBound(best, bound == INF, rounds, len(cuts), reason)
        hidden = primary.copy()
        hidden[candidates[choice]] = True
        checks = []
        for p in targets:
            up, down = (1.0, 1.0) if p in exact_only else deltas_needed(int(values[p]), rules)
            if need and p in need:
                up, down = max(up, need[p][0]), max(down, need[p][1])
            checks.append((None, p, up, down))
        found = _cuts(attacker, checks, column, hidden, solves - spent_solves(), passed)
        if found == [] and singles:
            judged = hidden.copy()
            judged[list(free)] = False
            pairs = _singleton_pairs(forms, singles, np.flatnonzero(judged).tolist(), values)
            if groups is not None:
                pairs = [pair for pair in pairs if groups[pair[0]] == groups[pair[1]]]
            found = _cuts(alone, pairs, column, hidden, solves - spent_solves(), passed)
        if found is None:
            return LowerBound(best, False, rounds, len(cuts),
                              "an attacker's programme gave no usable dual")
        if spent_solves() >= solves:
            return LowerBound(best, False, rounds, len(cuts) + len(found),
                              f"the work limit of {solves} linear programmes")
        if not found and verify is not None:
            # Linear ranges pass: the full check (integer ranges, the release audit) may
            # still fail the pattern; its cuts are over forms, like ``given``.
            extra = verify(hidden)
            if extra is None:
                return LowerBound(best, False, rounds, len(cuts), "the work limit of audits")
            found = [(row[candidates], rhs) for row, rhs in extra]
        cuts += found
        if not found:
            value = float(price[choice].sum())
            return LowerBound(value if optimal else best, optimal, rounds, len(cuts),
                              "" if optimal else "a master stopped at its work limit",
                              hidden, value)
    return LowerBound(best, False, MAX_ROUNDS, len(cuts), f"{MAX_ROUNDS} rounds")


def _singleton_pairs(forms: sp.csr_matrix, singles: list[int], hidden: list[int],
                     values: np.ndarray) -> list[tuple[int | None, int, float, float]]:
    """(singleton, hidden form, 1, 1) for each primary of 1 unit and each hidden form
    whose exact value the person behind the singleton must not compute: any but one
    inside the singleton's own cell, or one holding only that unit
    (``suoja.protect.secure.exempt``)."""
    outer = sp.csr_matrix(forms[singles], dtype=np.float64)
    inner = sp.csr_matrix(forms[hidden], dtype=np.float64)
    shared = (inner @ outer.T).toarray()
    size_in = np.diff(inner.indptr)[:, None]
    size_out = np.diff(outer.indptr)[None, :]
    exempt = (shared == size_in) | ((shared == size_out) & (values[hidden] == 1)[:, None])
    return [(s, c, 1.0, 1.0) for j, s in enumerate(singles) for i, c in enumerate(hidden)
            if not exempt[i, j]]


_UNSET = object()


def _cuts(attacker: _Attacker, checks: list[tuple[int | None, int, float, float]],
          column: np.ndarray, hidden: np.ndarray, solves: int = MAX_SOLVES,
          passed: dict[tuple[int | None, int], np.ndarray] | None = None,
          ) -> list[tuple[np.ndarray, float]] | None:
    """The cuts the pattern ``hidden`` violates among ``checks`` (known singleton or None,
    form, need up, need down); None when an attacker's programme gives no cut. At most
    ``solves`` linear programmes are run.

    A check of a primary gives ``row @ z >= 1``; one of a secondary ``c`` (a candidate)
    holds only while ``c`` is hidden: ``row @ z - z_c >= 0``. ``passed`` keeps, per
    check, a pattern it passed under: hiding more only widens ranges, so a check passes
    under any pattern that hides at least those cells and is not run again."""
    found = []
    start = attacker.solves
    known: object = _UNSET  # the attacker's rows are set for the first check
    passed = {} if passed is None else passed
    for singleton, form, up, down in checks:
        if attacker.solves - start >= solves:
            break  # the caller stops: the checks left are not made
        before = passed.get((singleton, form))
        if before is not None and not (before & ~hidden).any():
            continue
        if singleton != known:
            view = hidden.copy()
            if singleton is not None:
                view[singleton] = False  # known to its person: as if published
            attacker.use(view)
            known = singleton
        cut = _cut(attacker, form, up, down, column, hidden)
        if cut is False:
            return None
        if cut is None:
            passed[(singleton, form)] = hidden.copy()
            continue
        if column[form] >= 0:
            cut[column[form]] = -1.0
            found.append((cut, 0.0))
        else:
            found.append((cut, 1.0))
    return found


def _cut(attacker: _Attacker, form: int, need_up: float, need_down: float,
         column: np.ndarray, hidden: np.ndarray) -> np.ndarray | bool | None:
    """The capacity cut (over candidate columns, ``>= 1``) that the pattern ``hidden``
    violates for ``form`` (which must move up by ``need_up`` or down by ``need_down``);
    None when ``form`` is protected, False when no cut is found."""
    parts = []
    for sign, need in ((1.0, need_up), (-1.0, need_down)):
        reach, dual, constant = attacker.reach(form, sign)
        if reach >= need - 1e-6:
            return None  # this direction already meets the rule
        if dual is None:
            return False
        rhs = need - constant
        if rhs <= 1e-9:
            return False
        coefficients = _coefficients(dual, attacker.values, rhs) / rhs
        coefficients[hidden] = 0.0
        parts.append(coefficients)
    joined = np.maximum(parts[0], parts[1])
    cut = np.zeros(int((column >= 0).sum()))
    mask = column >= 0
    cut[column[mask]] = joined[mask]
    return cut
