"""The data contract's rules as queries, for a register that stays in DuckDB or Spark.

Each rule is a query for the offending rows; only their count and the first rows up to the
cap come back. Problems are reported as ``suoja validate`` reports them (file, row as a
spreadsheet shows it, column, value, rule; the same wording, the same order, the same cap).

Every rule of the contract is a query here; Excel files and ``--json`` are for the Polars
path only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import polars as pl

from suoja.errors import RegisterError
from suoja.register.consistency import FIRST_BIRTH_YEAR, OLDEST_AGE
from suoja.register.reader import FILES, SCHEMAS
from suoja.register.validate import (
    OPTIONAL_COLUMNS,
    Problem,
    _Collector,
    _text,
    allowed_codes,
)
from suoja.tables.engines._connect import collect
from suoja.tables.engines._sources import Source, _as_text, _read, find_sources, typed_column

ROW = "__row"
FILE = "__file"
TEXT = "__text_"


def _spark_rows(con: Any, source: Source) -> ir.Table:
    """A Spark table with the spreadsheet row number: the files' order, one ordered window."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    session = con._session
    path = str(source.path)
    frame = (session.read.csv(path, header=True, inferSchema=False) if source.fmt == "csv"
             else session.read.parquet(path))
    order = Window.orderBy(F.monotonically_increasing_id())
    if source.path.is_dir():
        # A part's rows in the part's order: one split per part (parts are small files).
        frame = frame.withColumn(FILE, F.regexp_extract(F.input_file_name(), r"([^/]+)$", 1))
        order = Window.partitionBy(FILE).orderBy(F.monotonically_increasing_id())
    frame = frame.withColumn(ROW, F.row_number().over(order) + 1)
    name = f"suoja_rows_{source.name}"
    frame.createOrReplaceTempView(name)
    return con.table(name)


def _with_rows(con: Any, source: Source) -> ir.Table:
    """The entity as read, with ``__row`` (the header is row 1)."""
    if con.name == "pyspark":
        return _spark_rows(con, source)
    if con.name == "duckdb" and source.fmt == "parquet" and source.path.is_file():
        table = con.read_parquet(str(source.path), file_row_number=True)
        return table.mutate(**{ROW: table.file_row_number + 2}).drop("file_row_number")
    if con.name == "duckdb" and source.path.is_dir():
        table = con.read_parquet(str(source.path / "**" / "*.parquet"), file_row_number=True,
                                 filename=True)
        return table.mutate(**{ROW: table.file_row_number + 2,
                               FILE: table.filename.re_extract(r"([^/]+)$", 1)}
                            ).drop("file_row_number", "filename")
    table = _read(con, source)
    return table.mutate(**{ROW: ibis.row_number() + 2})


def _checked_table(con: Any, source: Source) -> tuple[ir.Table, tuple[str, ...]]:
    """Per contract column: the text (``__text_C``) and the typed value (``C``)."""
    table = _with_rows(con, source)
    present = set(table.columns)
    missing = tuple(c for c in SCHEMAS[source.name] if c not in present)
    columns: dict[str, ir.Value] = {ROW: table[ROW]}
    if FILE in table.columns:
        columns[FILE] = table[FILE]
    for column, dtype in SCHEMAS[source.name].items():
        text = _as_text(table[column]) if column in present else ibis.null("string")
        columns[TEXT + column] = text
        columns[column] = typed_column(text, dtype, con.name)
    return _materialised(con, table.select(**columns), source.name), missing


def _materialised(con: Any, table: ir.Table, name: str) -> ir.Table:
    """The checked table kept by the engine (DuckDB spills it to disk when it must; Spark
    caches it), so that each rule's query does not read and parse the files again."""
    if con.name == "pyspark":
        frame = con._session.sql(con.compile(table)).cache()
        frame.createOrReplaceTempView(f"suoja_checked_{name}")
        return con.table(f"suoja_checked_{name}")
    return con.create_table(f"suoja_checked_{name}", table, temp=True, overwrite=True)


class _Rules:
    """Runs rule queries and files their rows into a collector."""

    def __init__(self, con: Any, out: _Collector) -> None:
        self.con = con
        self.out = out

    def add(self, file: str, bad: ir.Table, column: str | None, rule: str,
            value: ir.Value | None = None) -> None:
        shown = (value if value is not None else bad[column]).cast("string") if column \
            else ibis.null("string")
        count = int(collect(self.con, bad.aggregate(n=bad.count()))["n"][0])
        if not count:
            return
        room = max(self.out.cap - len(self.out.problems), 0)
        # A folder of parts: each problem names its part (``persons/part-00001.parquet``).
        part = bad[FILE] if FILE in bad.columns else ibis.literal("")
        rows = pl.DataFrame(schema={"part": pl.String, ROW: pl.Int64, "value": pl.String})
        if room:
            rows = collect(self.con, bad.select(part=part, **{ROW: bad[ROW]}, value=shown)
                           .order_by(["part", ROW]).limit(room))
        for name, row, text in rows.iter_rows():
            where = f"{file}{name}" if name else file
            self.out.problems.append(Problem(where, int(row), column, _text(text), rule))
        self.out.more += max(count - room, 0)


def _file_rules(rules: _Rules, source: Source, table: ir.Table,
                missing: tuple[str, ...]) -> None:
    file = source.label
    for column in missing:
        rules.out.add(Problem(file, 1, column, None, "required column is missing from the header"))
    for column, dtype in SCHEMAS[source.name].items():
        if column in missing:
            continue
        text = table[TEXT + column]
        if dtype in (pl.Date, pl.Int64):
            rule = ("not a date that exists (expected a date as ISO 8601, YYYY-MM-DD)"
                    if dtype == pl.Date else "not a whole number (expected an integer)")
            rules.add(file, table.filter(text.notnull() & table[column].isnull()), column, rule,
                      text)
        if column not in OPTIONAL_COLUMNS[source.name]:
            rules.add(file, table.filter(text.isnull()), column, "required value is empty",
                      text)
    for (name, column), allowed in allowed_codes().items():
        if name != source.name or column in missing:
            continue
        values = table[column]
        bad = table.filter(values.notnull() & ~values.isin(sorted(allowed)))
        listed = ", ".join(sorted(allowed)) if len(allowed) <= 12 else f"{len(allowed)} codes"
        rules.add(file, bad, column, f"not a code of the {column} list ({listed})")


def _unique(rules: _Rules, file: str, t: ir.Table, column: str) -> None:
    given = t.filter(t[column].notnull())
    counts = given.group_by(k=given[column]).aggregate(n=given.count())
    twice = counts.filter(counts.n > 1)
    bad = t.semi_join(twice, t[column] == twice.k)
    rules.add(file, bad, column, f"{column} is not unique (each value may appear once)")


def _references(rules: _Rules, file: str, t: ir.Table, column: str, persons: ir.Table,
                role: str | None = None) -> None:
    targets = persons if role is None else persons.filter(persons.role == role)
    targets = targets.select(k=targets.person_id)
    bad = t.filter(t[column].notnull()).anti_join(targets, t[column] == targets.k)
    what = "a person" if role is None else f"a {role} person"
    rules.add(file, bad, column, f"does not refer to {what} in persons")


def _conditional(rules: _Rules, file: str, t: ir.Table, column: str,
                 required: Callable[[ir.Table], ir.BooleanValue], condition: str) -> None:
    rules.add(file, t.filter(required(t) & t[TEXT + column].isnull()), column,
              f"required when {condition}")
    rules.add(file, t.filter(~required(t) & t[column].notnull()), column,
              f"must be empty unless {condition}")


def _periods_of_persons(rules: _Rules, file: str, periods: ir.Table,
                        persons: ir.Table) -> None:
    """Overlapping periods of one person; ages, minors and Finnish citizens at the start."""
    started = periods.filter(periods.start.notnull() & periods.person_id.notnull())
    place = [started[FILE], started[ROW]] if FILE in started.columns else [started[ROW]]
    order = ibis.window(group_by=started.person_id, order_by=[started.start, *place])
    ordered = started.mutate(_prev_row=started[ROW].lag().over(order),
                             _prev_end=started.end.lag().over(order))
    overlap = ordered.filter(ordered._prev_row.notnull() & (
        ordered.start <= ordered._prev_end.fill_null(ibis.date(9999, 12, 31))))
    rules.add(file, overlap, "start", "overlaps an earlier period of the same person")
    who = persons.select(k=persons.person_id, k_role=persons.role,
                         k_born=persons.birth_year, k_citizenship=persons.citizenship)
    joined = periods.join(who, periods.person_id == who.k)
    age = joined.start.year() - joined.k_born
    rules.add(file, joined.filter((age < 0) | (age > OLDEST_AGE)), "start",
              f"implausible birth year for this period (age must be 0..{OLDEST_AGE})")
    rules.add(file, joined.filter((joined.k_role == "CHILD") & (age >= 18)), "start",
              "a CHILD must be a minor (under 18) at the start of the period")
    status = joined.residence_status
    finnish = joined.k_citizenship == "FIN"
    rules.add(file, joined.filter(status.notnull() & (finnish != (status == "FINNISH_CITIZEN"))),
              "residence_status", "FINNISH_CITIZEN exactly when the person's citizenship is FIN")


def _primaries(rules: _Rules, file: str, periods_file: str, events: ir.Table,
               periods: ir.Table, persons: ir.Table) -> None:
    """Exactly one PRIMARY event per victim and period: each event belongs to the first
    period of its person not ended before it (the smallest such end)."""
    known = events.filter(events.identified.notnull())
    spans = periods.filter(periods.start.notnull()).select(
        p_person=periods.person_id, p_start=periods.start,
        p_until=periods.end.fill_null(ibis.date(9999, 12, 31)))
    joined = known.join(spans, known.person_id == spans.p_person)
    joined = joined.filter(joined.identified <= joined.p_until)
    # An event is its row (and part, in a folder of parts).
    keys = {"k_row": joined[ROW]}
    if FILE in joined.columns:
        keys["k_file"] = joined[FILE]
    first = joined.group_by(**keys).aggregate(k_until=joined.p_until.min())
    same = [joined[ROW] == first.k_row, joined.p_until == first.k_until]
    if FILE in joined.columns:
        same.append(joined[FILE] == first.k_file)
    owned = joined.join(first, same)
    primary = owned.filter(owned["rank"] == "PRIMARY")
    counts = primary.group_by(c_person=primary.person_id, c_start=primary.p_start).aggregate(
        primaries=primary.count())
    victims = persons.filter(persons.role == "VICTIM").select(v=persons.person_id)
    own = periods.filter(periods.start.notnull())
    own = own.semi_join(victims, own.person_id == victims.v)
    counted = own.left_join(counts, [own.person_id == counts.c_person,
                                     own.start == counts.c_start])
    rules.add(periods_file, counted.filter(counted.primaries.isnull()), "person_id",
              f"this victim's period has no PRIMARY event in {file} (exactly one required)")
    rules.add(periods_file, counted.filter(counted.primaries > 1), "person_id",
              f"this victim's period has several PRIMARY events in {file} (exactly one "
              "required)")


def _relations(rules: _Rules, tables: dict[str, ir.Table], names: dict[str, str]) -> None:
    persons, apps = tables["persons"], tables["applications"]
    periods, events = tables["client_periods"], tables["exploitation"]
    reflection = tables["reflection_periods"]
    f = names["persons"]
    _unique(rules, f, persons, "person_id")
    _conditional(rules, f, persons, "parent_id", lambda t: t.role == "CHILD", "role is CHILD")
    _references(rules, f, persons.filter(persons.role == "CHILD"), "parent_id", persons,
                "VICTIM")
    rules.add(f, persons.filter(persons.birth_year < FIRST_BIRTH_YEAR), "birth_year",
              f"implausible birth year (before {FIRST_BIRTH_YEAR})")
    f = names["applications"]
    _unique(rules, f, apps, "application_id")
    _references(rules, f, apps, "person_id", persons)
    _conditional(rules, f, apps, "decided", lambda t: t.decision != "PENDING",
                 "decision is not PENDING")
    _conditional(rules, f, apps, "rejection_reason", lambda t: t.decision == "REJECTED",
                 "decision is REJECTED")
    rules.add(f, apps.filter(apps.decided < apps.received), "decided",
              "decided is before received")
    f = names["client_periods"]
    _references(rules, f, periods, "person_id", persons)
    _conditional(rules, f, periods, "end_reason", lambda t: t.end.notnull(), "end is set")
    rules.add(f, periods.filter(periods.end < periods.start), "end", "end is before start")
    _periods_of_persons(rules, f, periods, persons)
    f = names["exploitation"]
    _unique(rules, f, events, "event_id")
    _references(rules, f, events, "person_id", persons, "VICTIM")
    rules.add(f, events.filter((events.form != "FORCED_LABOUR") & events.sector.notnull()),
              "sector", "sector is given only for FORCED_LABOUR events")
    _primaries(rules, f, names["client_periods"], events, periods, persons)
    f = names["reflection_periods"]
    _references(rules, f, reflection, "person_id", persons)
    rules.add(f, reflection.filter((reflection.months < 1) | (reflection.months > 6)),
              "months", "months must be 1..6")


def validate_sources(con: Any, folder: Path, *,
                     max_problems: int = 50) -> dict[str, Source]:
    """Check the register in ``folder`` with the engine behind ``con``; return its sources,
    or raise ``RegisterError`` listing the problems as ``suoja validate`` does."""
    sources, absent = find_sources(folder)
    out = _Collector(max_problems)
    for name in absent:
        out.add(Problem(f"{name}.csv", None, None, None,
                        f"required file is missing from {folder} (as .csv, .parquet or .xlsx)"))
    rules = _Rules(con, out)
    tables: dict[str, ir.Table] = {}
    unusable = False
    for name, source in sources.items():
        table, missing = _checked_table(con, source)
        _file_rules(rules, source, table, missing)
        tables[name] = table
        unusable = unusable or bool(missing)
    if all(name in tables for name in FILES) and not unusable:
        _relations(rules, tables, {name: sources[name].label for name in FILES})
    if out.problems:
        raise RegisterError(str(folder), [str(p) for p in out.problems], out.more)
    return sources


def dated_years(con: Any, sources: dict[str, Source]) -> list[int]:
    """The years in which anything of the register is dated (every date column counts)."""
    from suoja.tables.engines._sources import typed_tables

    tables = typed_tables(con, sources)
    parts = []
    for name, table in tables.items():
        for column, dtype in SCHEMAS[name].items():
            if dtype == pl.Date:
                years = table.select(y=table[column].year()).filter(lambda t: t.y.notnull())
                parts.append(years.distinct())
    union = ibis.union(*parts, distinct=True)
    return sorted(int(y) for y in collect(con, union)["y"].to_list())
