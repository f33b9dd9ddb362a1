"""``suoja protect``: the release's disclosure control for any frequency table.

Reads a CSV (dimension columns and a count column), optional hierarchies (``code,parent``
CSV or tau-ARGUS ``.hrc``), protects it with the policy's rules, audits the result from
the published values alone and writes the table with its status, and the suppression log
(the true values of hidden cells) into an owner-only ``restricted/`` folder beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from suoja.errors import ReleaseRefused, UsageError
from suoja.policy import read_policy
from suoja._target import OWNER_ONLY_DIR, OWNER_ONLY_FILE, RESTRICTED, atomic_folder


@dataclass(frozen=True)
class ProtectedTable:
    """What ``protect_csv`` wrote."""

    table_path: Path
    log_path: Path
    cells: int
    primary: int
    secondary: int


def _hierarchies(specs: list[str]) -> dict[str, dict[str, str]]:
    from suoja.protect.generic import read_code_parent_csv, read_hrc

    result: dict[str, dict[str, str]] = {}
    for spec in specs:
        dim, sep, file = spec.partition("=")
        if not sep or not dim or not file:
            raise UsageError(f"--hierarchy {spec!r}: expected DIM=FILE")
        path = Path(file)
        if not path.is_file():
            raise UsageError(f"--hierarchy {spec!r}: no such file {path}")
        try:
            result[dim] = read_hrc(path) if path.suffix.lower() == ".hrc" \
                else read_code_parent_csv(path)
        except ValueError as e:
            raise UsageError(f"{path}: {e}") from None
    return result


def _read_table(path: Path, count: str, dims: str | None) -> tuple[pl.DataFrame, list[str]]:
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    try:
        frame = pl.read_csv(path, infer_schema=False)
    except pl.exceptions.PolarsError as e:
        raise UsageError(f"{path}: not a readable CSV file ({e})") from None
    if count not in frame.columns:
        raise UsageError(f"{path}: no count column {count!r}; columns: {', '.join(frame.columns)}")
    names = [d.strip() for d in dims.split(",")] if dims else \
        [c for c in frame.columns if c != count]
    unknown = [d for d in names if d not in frame.columns]
    if unknown:
        raise UsageError(f"{path}: no column {unknown[0]!r}; columns: {', '.join(frame.columns)}")
    counts = frame[count].str.strip_chars().str.to_integer(strict=False)
    bad = frame.with_row_index("row", offset=2).filter(counts.is_null() | (counts < 0))
    if bad.height:
        row = bad.row(0, named=True)
        raise UsageError(f"{path}, row {row['row']}, column {count}: {row[count]!r} is not a "
                         "count (a whole number >= 0)")
    return frame.with_columns(counts.alias(count)), names


def protect_csv(path: Path, *, count: str, dims: str | None, hierarchies: list[str],
                margins_given: bool, policy_path: Path | None, out: Path | None,
                force: bool) -> ProtectedTable:
    """Protect one CSV frequency table and write it with its log (atomically)."""
    from suoja.audit import published_only
    from suoja.protect.audit import audit
    from suoja.protect.generic import protect_frequency_table

    policy = read_policy(policy_path)
    rules = policy.suppression_rules()
    frame, names = _read_table(path, count, dims)
    parents = _hierarchies(hierarchies)
    try:
        result = protect_frequency_table(frame, names, count, parents, margins_given, rules)
    except ValueError as e:
        raise UsageError(f"{path}: {e}") from None
    public = published_only(result.rename({count: "value"}))
    domains = {d: sorted(set(frame[d]) - {"_T", *parents.get(d, {}).values()}) for d in names}
    checked = audit(public, domains, parents, rules)
    if checked.height and not checked["ok"].all():
        raise ReleaseRefused(f"{path}: the audit found a hidden cell an outsider can narrow "
                             "down too far; nothing was written")
    target = out or path.with_name(f"{path.stem}-protected")
    with atomic_folder(target, force=force) as folder:
        table_path = folder / path.name
        result.select(*names, pl.col("published").alias("value"),
                      pl.when(pl.col("status") == "published").then(None)
                      .otherwise(pl.lit("C")).alias("status")).write_csv(table_path)
        # The log holds the true values of hidden cells: owner-only restricted/, as publish.
        (folder / RESTRICTED).mkdir(mode=OWNER_ONLY_DIR)
        log_path = folder / RESTRICTED / "suppression_log.csv"
        result.filter(pl.col("status") != "published").select(
            pl.col("key").alias("cell"), pl.col(count).alias("original"),
            pl.col("status").alias("rule"), "reason").write_csv(log_path)
        log_path.chmod(OWNER_ONLY_FILE)
    statuses = result["status"].value_counts()
    tally = dict(zip(statuses["status"], statuses["count"], strict=True))
    return ProtectedTable(target / path.name, target / RESTRICTED / "suppression_log.csv",
                          result.height, tally.get("primary", 0), tally.get("secondary", 0))
