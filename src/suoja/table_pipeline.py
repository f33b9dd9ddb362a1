"""``suoja protect``: the release's disclosure control for any frequency table.

Reads a CSV (dimension columns and a count column), optional hierarchies (``code,parent``
CSV or tau-ARGUS ``.hrc``), protects it with the policy's rules, audits the result from
the published values alone and writes the table with its status, and the suppression log
(the true values of hidden cells) into an owner-only ``restricted/`` folder beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from suoja.errors import ReleaseRefused, UsageError
from suoja.policy import read_policy
from suoja.protect._table_input import COUNT, Hierarchy, UserTable, read_table
from suoja.protect.cube import TOTAL
from suoja.release._target import OWNER_ONLY_DIR, OWNER_ONLY_FILE, RESTRICTED, atomic_folder

if TYPE_CHECKING:
    from suoja.protect.gauss import Progress
    from suoja.protect.rules import SuppressionRules


@dataclass(frozen=True)
class ProtectedTable:
    """What ``protect_csv`` wrote."""

    table_path: Path
    log_path: Path
    cells: int
    primary: int
    secondary: int


def _hierarchies(specs: list[str]) -> dict[str, Hierarchy]:
    from suoja.protect.generic import read_code_parent_csv, read_hrc

    result: dict[str, Hierarchy] = {}
    for spec in specs:
        dim, sep, file = spec.partition("=")
        dim = dim.strip()
        if not sep or not dim or not file:
            raise UsageError(f"--hierarchy {spec!r}: expected DIM=FILE")
        path = Path(file)
        if not path.is_file():
            raise UsageError(f"--hierarchy {spec!r}: no such file {path}")
        if dim in result:
            raise UsageError(f"--hierarchy names {dim!r} twice; give one file per dimension")
        try:
            parents = read_hrc(path) if path.suffix.lower() == ".hrc" \
                else read_code_parent_csv(path)
        except UnicodeDecodeError as e:  # before ValueError, its base class
            raise UsageError(f"{path}: byte {e.object[e.start]:#04x} is not UTF-8 (rule: the "
                             "hierarchy file is UTF-8; save it as UTF-8)") from None
        except ValueError as e:
            raise UsageError(str(e) if str(e).startswith(str(path)) else f"{path}: {e}") \
                from None
        result[dim] = Hierarchy(path, parents)
    return result


def _output_names(table: UserTable) -> tuple[str, str]:
    """The published value and status columns: ``value`` and ``status`` unless taken."""
    value = "value" if "value" not in table.dims else table.count
    taken = {*table.dims, value}
    status = next(n for n in ("status", "obs_status", "status_flag") if n not in taken)
    return value, status


def _write(table: UserTable, result: pl.DataFrame, folder: Path) -> tuple[Path, Path]:
    value, status = _output_names(table)
    # Always CSV: an Excel workbook's table is written beside it as NAME.csv.
    table_path = folder / (table.path.name if table.path.suffix.lower() == ".csv"
                           else f"{table.path.stem}.csv")

    result = result.with_columns(
        *[pl.col(p).replace(TOTAL, table.total) for p in table.private_dims],
        *[pl.col(c).str.replace_all(rf"={TOTAL}\b", "=" + table.total.replace("$", "$$"))
          for c in ("key", "reason")])
    result.select(*[pl.col(p).alias(d) for p, d in zip(table.private_dims, table.dims,
                                                        strict=True)],
                  pl.col("published").alias(value),
                  pl.when(pl.col("status") == "published").then(None)
                  .otherwise(pl.lit("C")).alias(status)).write_csv(table_path)
    # The log holds the true values of hidden cells: owner-only restricted/, as publish.
    (folder / RESTRICTED).mkdir(mode=OWNER_ONLY_DIR)
    log_path = folder / RESTRICTED / "suppression_log.csv"
    result.filter(pl.col("status") != "published").select(
        table.public_expr("key").alias("cell"), pl.col(COUNT).alias("original"),
        pl.col("status").alias("rule"), table.public_expr("reason").alias("reason"),
    ).write_csv(log_path)
    log_path.chmod(OWNER_ONLY_FILE)
    return table_path, log_path


def _audit(public: pl.DataFrame, domains: dict[str, list[str]],
           parents: dict[str, dict[str, str]], rules: SuppressionRules) -> pl.DataFrame:
    """The full audit (integer ranges, the interval rule); above ``LARGE_FORMS`` cells the
    linear one (exact disclosure by rank), which scales to tens of thousands of cells."""
    from suoja.protect.audit import audit
    from suoja.protect.audit_linear import audit_linear
    from suoja.protect.rules import LARGE_FORMS

    if public.height > LARGE_FORMS:
        return audit_linear(public, domains, parents)
    return audit(public, domains, parents, rules)


def protect_csv(path: Path, *, count: str, dims: str | None, hierarchies: list[str],
                margins_given: bool, policy_path: Path | None, out: Path | None,
                force: bool, progress: Progress | None = None,
                total: str = "_T") -> ProtectedTable:
    """Protect one CSV frequency table and write it with its log (atomically).

    Every column name works: the table is protected under private names and written back
    under the user's. The published value and status columns are ``value`` and ``status``,
    unless a dimension has that name (then the count's name and ``obs_status``).
    Tables of more than ``suoja.protect.rules.LARGE_FORMS`` cells are protected by
    Gaussian elimination and audited for exact disclosure by rank (``audit_linear``).
    ``progress(stage, done, total)`` is called now and then.
    """
    from suoja.protect.generic import protect_frequency_table
    from suoja.protect.release_audit import published_only

    policy = read_policy(policy_path)
    rules = policy.suppression_rules()
    files = _hierarchies(hierarchies)
    table = read_table(path, count=count, dims=dims, hierarchies=files,
                       margins_given=margins_given, total=total)
    names = dict(zip(table.dims, table.private_dims, strict=True))
    parents = {names[d]: h.parents for d, h in files.items()}
    try:
        result = protect_frequency_table(table.frame, table.private_dims, COUNT, parents,
                                         margins_given, rules, row_offset=2,
                                         progress=progress)
    except ValueError as e:
        raise UsageError(f"{path}: {table.public(str(e))}") from None
    public = published_only(result.rename({COUNT: "value"}))
    domains = {d: sorted(set(result[d]) - {TOTAL, *parents.get(d, {}).values()})
               for d in table.private_dims}
    if progress is not None:
        progress("audit", 0, 1)
    checked = _audit(public, domains, parents, rules)
    if checked.height and not checked["ok"].all():
        raise ReleaseRefused(f"{path}: the audit found a hidden cell an outsider can narrow "
                             "down too far; nothing was written")
    target = out or path.with_name(f"{path.stem}-protected")
    with atomic_folder(target, force=force) as folder:
        table_path, _ = _write(table, result, folder)
    statuses = result["status"].value_counts()
    tally = dict(zip(statuses["status"], statuses["count"], strict=True))
    return ProtectedTable(target / table_path.name, target / RESTRICTED / "suppression_log.csv",
                          result.height, tally.get("primary", 0), tally.get("secondary", 0))
