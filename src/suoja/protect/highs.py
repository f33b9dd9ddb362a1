"""Thin helpers around HiGHS (highspy): silent solver objects and column-wise models."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import highspy
import numpy as np
import scipy.sparse as sp

INF = highspy.kHighsInf
_banner_shown = False


@contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence file descriptor 1: HiGHS prints its banner there once per process."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def new_highs(*, presolve: bool = True, time_limit: float | None = None) -> highspy.Highs:
    """A HiGHS object that prints nothing, single-threaded for determinism."""
    global _banner_shown
    if _banner_shown:
        highs = highspy.Highs()
    else:
        with _quiet_stdout():
            highs = highspy.Highs()
        _banner_shown = True
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("log_to_console", False)
    highs.setOptionValue("threads", 1)
    highs.setOptionValue("random_seed", 0)
    # Our MIPs are nearly always settled at the root node: the primal heuristics and
    # symmetry detection cost far more (tens of ms per solve) than they save.
    highs.setOptionValue("mip_heuristic_run_feasibility_jump", False)
    highs.setOptionValue("mip_heuristic_effort", 0.0)
    highs.setOptionValue("mip_detect_symmetry", False)
    if not presolve:
        highs.setOptionValue("presolve", "off")
    if time_limit is not None:
        highs.setOptionValue("time_limit", float(time_limit))
    return highs


def pass_model(
    highs: highspy.Highs,
    matrix: sp.spmatrix,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    cost: np.ndarray | None = None,
    integer: bool = False,
) -> None:
    """Load ``row_lower <= matrix @ x <= row_upper, col_lower <= x <= col_upper``."""
    csc = matrix if sp.issparse(matrix) and matrix.format == "csc" else sp.csc_matrix(matrix)
    csc = csc.astype(np.float64)
    csc.sort_indices()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = csc.shape[1], csc.shape[0]
    lp.col_cost_ = np.zeros(csc.shape[1]) if cost is None else np.asarray(cost, float)
    lp.col_lower_ = np.asarray(col_lower, float)
    lp.col_upper_ = np.asarray(col_upper, float)
    lp.row_lower_ = np.asarray(row_lower, float)
    lp.row_upper_ = np.asarray(row_upper, float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = csc.shape[1], csc.shape[0]
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * csc.shape[1]
    highs.passModel(lp)


def set_integer(highs: highspy.Highs, columns: np.ndarray, integer: bool) -> None:
    """Switch ``columns`` between integer and continuous."""
    kind = highspy.HighsVarType.kInteger if integer else highspy.HighsVarType.kContinuous
    cols = np.asarray(columns, dtype=np.int32)
    highs.changeColsIntegrality(len(cols), cols, np.full(len(cols), kind, dtype=np.uint8))


def set_costs(highs: highspy.Highs, columns: np.ndarray, costs: np.ndarray) -> None:
    """Change the objective coefficients of ``columns``."""
    cols = np.asarray(columns, dtype=np.int32)
    if len(cols):
        highs.changeColsCost(len(cols), cols, np.asarray(costs, dtype=np.float64))


def set_bounds(highs: highspy.Highs, columns: np.ndarray, lower: np.ndarray, upper: np.ndarray):
    """Change the bounds of ``columns``."""
    cols = np.asarray(columns, dtype=np.int32)
    if len(cols):
        highs.changeColsBounds(
            len(cols), cols, np.asarray(lower, dtype=np.float64), np.asarray(upper, np.float64)
        )


def outcome(highs: highspy.Highs) -> str:
    """``optimal``, ``unbounded``, ``infeasible``, ``limit`` (time/iterations) or ``error``."""
    status = highs.getModelStatus()
    names = {
        highspy.HighsModelStatus.kOptimal: "optimal",
        highspy.HighsModelStatus.kUnbounded: "unbounded",
        highspy.HighsModelStatus.kInfeasible: "infeasible",
        highspy.HighsModelStatus.kUnboundedOrInfeasible: "unbounded",
        highspy.HighsModelStatus.kTimeLimit: "limit",
        highspy.HighsModelStatus.kIterationLimit: "limit",
        highspy.HighsModelStatus.kSolutionLimit: "limit",
        highspy.HighsModelStatus.kInterrupt: "limit",
    }
    return names.get(status, "error")


def solution(highs: highspy.Highs) -> np.ndarray:
    """Column values of the current solution."""
    return np.asarray(highs.getSolution().col_value, dtype=np.float64)


def has_incumbent(highs: highspy.Highs) -> bool:
    """Whether a MIP run found a feasible solution."""
    return highs.getInfo().primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible


def is_integral(x: np.ndarray, tol: float = 1e-6) -> bool:
    """Whether every value is within ``tol`` of an integer."""
    return bool(np.all(np.abs(x - np.round(x)) <= tol))
