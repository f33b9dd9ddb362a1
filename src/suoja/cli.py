"""The ``suoja`` command: a thin Typer layer over the library.

Exit codes: 0 success; 1 a bug (traceback, please report); 2 input the user must fix;
3 the release is refused (the audit found a disclosure, the privacy budget is spent, a
solver reached its limit); 130 interrupted (Ctrl-C), with nothing written.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    help="suoja: publish statistics about vulnerable people without exposing any of them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

from suoja.cli_support import (  # noqa: E402  (after the app, as the commands use both)
    INTERRUPTED,
    Command,
    DebugOption,
    JsonOption,
    default_register,
    folder_argument,
    stages,
    user_errors,
)


@app.command(cls=Command)
def validate(
    path: Annotated[Path, typer.Argument(help="Folder of the register extract.")],
    as_json: JsonOption = False,
    engine: Annotated[str, typer.Option(
        help="polars (in memory), or duckdb or spark (the contract's rules as queries).")
    ] = "polars",
    master: Annotated[str | None, typer.Option(
        help="The Spark master URL for --engine spark (default: local[*]).")] = None,
    debug: DebugOption = False,
) -> None:
    """Check a register extract against the data contract; list every problem.

    Example:

        suoja validate data/register
    """
    from suoja.register.reader import read_raw
    from suoja.register.validate import validate_raw

    if engine != "polars":
        from suoja.cli_cube import validate_with

        with user_errors(debug):
            folder_argument(path, "the register extract")
            validate_with(path, engine, master, as_json)
        typer.echo(f"{path}: valid ({engine}).")
        return
    with user_errors(debug):
        folder_argument(path, "the register extract")
        raw, absent = read_raw(path)
        report = validate_raw(path, raw, absent)
    summary = report.summary()
    if as_json:
        typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    elif report.valid:
        rows = ", ".join(f"{name} {n:,}" for name, n in summary["rows"].items())
        years = summary["years"]
        span = f"{years[0]}–{years[1]}" if years else "no dated rows"
        typer.echo(f"{path}: valid. Rows: {rows}. Years covered: {span}.")
    else:
        total = len(report.problems) + report.more
        typer.echo(f"Error: {path}: {total} problem(s)", err=True)
        for problem in report.problems:
            typer.echo(f"  - {problem}", err=True)
        if report.more:
            typer.echo(f"  ... and {report.more} more problem(s)", err=True)
    if not report.valid:
        raise typer.Exit(code=2)


@app.command(cls=Command)
def synth(
    out: Annotated[Path, typer.Option(help="Folder to write the register into.")] = Path(
        "synthetic-register"
    ),
    scale: Annotated[
        int | None, typer.Option(help="Persons in a large random register (for benchmarks).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed of --scale.")] = 0,
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    parts: Annotated[int | None, typer.Option(
        help="With --scale and --format parquet: write partitioned Parquet (OUT/NAME/part-*) "
             "in this many parts, one in memory at a time (registers larger than memory).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite files in OUT.")] = False,
    debug: DebugOption = False,
) -> None:
    """Write a synthetic register: the embedded one, or a large random one with --scale.

    Example:

        suoja synth --scale 1000000 --out /tmp/big --format parquet
        suoja synth --scale 100000000 --parts 50 --out /tmp/huge --format parquet
    """
    from suoja import synth as synthesis
    from suoja.errors import UsageError

    with user_errors(debug):
        folder_argument(out, "--out (where the register is written)")
        if fmt not in ("csv", "parquet"):
            raise UsageError(f"--format must be csv or parquet, got {fmt!r}")
        if out.exists() and any(out.iterdir()) and not force:
            raise UsageError(f"{out} exists and is not empty; use --force to overwrite")
        if parts is not None:
            if scale is None or fmt != "parquet" or not 1 <= parts <= scale:
                raise UsageError("--parts needs --scale, --format parquet and 1 <= parts <= "
                                 f"scale (got --parts {parts})")
            counts = synthesis.write_scaled_parts(scale, out, parts, seed=seed)
        else:
            frames = (synthesis.embedded_register() if scale is None
                      else synthesis.scaled_register(scale, seed=seed))
            synthesis.write_register(frames, out, fmt=fmt)
            counts = {k: v.height for k, v in frames.items()}
    typer.echo(f"Wrote {', '.join(f'{k} {v:,}' for k, v in counts.items())} to {out}")


@app.command(cls=Command)
def publish(
    year: Annotated[int, typer.Argument(help="The statistical year, e.g. 2025.")],
    register: Annotated[Path | None, typer.Option(help="Folder of the register extract "
                                                   "(default: the embedded register).")] = None,
    out: Annotated[Path, typer.Option(help="Root folder of releases.")] = Path("publish"),
    policy: Annotated[Path | None, typer.Option(help="Disclosure policy TOML "
                                                 "(default: policies/default.toml).")] = None,
    catalogue: Annotated[Path | None, typer.Option(help="Table catalogue TOML.")] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing release.")] = False,
    privacy: Annotated[str | None, typer.Option(
        help="suppression or dp: overrides the mode of the policy's \\[privacy] table.")
    ] = None,
    previous: Annotated[list[Path] | None, typer.Option(
        help="An earlier release (folder) the public already has; repeatable. Earlier "
             "years under OUT are always used.", metavar="<path>")] = None,
    allow_empty_year: Annotated[bool, typer.Option(
        help="Publish YEAR even if nothing in the register is dated in it (all zeros).")
    ] = False,
    engine: Annotated[str, typer.Option(
        help="What computes the cubes from the register: polars (in memory), duckdb "
             "(out of core, from CSV or Parquet) or spark.")] = "polars",
    master: Annotated[str | None, typer.Option(
        help="The Spark master URL for --engine spark (default: local[*]).")] = None,
    cube: Annotated[Path | None, typer.Option(
        help="A cube folder written by suoja cube: publish from it, with no register.")
    ] = None,
    debug: DebugOption = False,
) -> None:
    """Compute, protect, audit and write the release of YEAR into OUT/YEAR.

    Every earlier release under OUT (and each --previous folder) counts as public: the
    protection and the audit treat its cells as known.

    A year in which nothing of the register is dated is refused (exit 2) unless
    --allow-empty-year is given.

    Example:

        suoja publish 2025 --out publish --force
        suoja publish 2025 --engine duckdb --register /data/register
        suoja publish 2025 --cube cubes/
    """
    from suoja.cli_cube import cube_source
    from suoja.pipeline import publish as run_publish

    console = Console(stderr=True)
    with user_errors(debug), stages(console) as progress:
        folder_argument(register, "--register (the register extract)")
        folder_argument(out, "--out (the root folder of releases)")
        source = cube_source(register, engine, master, cube, default_register)
        result = run_publish(year, register or default_register(), out, policy_path=policy,
                             catalogue_path=catalogue, force=force, privacy=privacy,
                             allow_empty_year=allow_empty_year, progress=progress,
                             previous=previous or (), cubes=source)
    tables = len(result.release.catalogue.tables)
    if result.release.policy.mode == "dp":
        spent = result.release.restricted.extra["dp"]
        typer.echo(f"Published {year} with differential privacy: {tables} tables, "
                   f"{result.cells} cells, ε = {spent['epsilon']:.3g} spent "
                   f"(ledger: {result.ledger}).")
    else:
        typer.echo(f"Published {year}: {tables} tables, {result.cells} cells, "
                   f"{result.hidden} not published; the audit found no hidden or derivable "
                   f"cell an outsider can narrow down ({result.audit.height} checked).")
        from suoja.protect.loss import summary
        from suoja.release.write import release_loss

        typer.echo(f"  {summary(release_loss(result.release))}")
        bound = result.release.restricted.extra.get("bound")
        if bound is not None and not bound.is_empty():
            from suoja.protect.loss import bound_summary

            typer.echo(f"  {bound_summary(bound)}")
        never = result.release.restricted.extra.get("never_hide")
        if never is not None and not never.is_empty():
            from suoja.tables.priorities import never_hide_summary

            typer.echo(f"  {never_hide_summary(never)}")
        earlier = result.earlier_releases
        if result.distinct:
            withheld = sum(v is None for v in result.distinct.values())
            typer.echo(f"  counts of distinct codes: {len(result.distinct)} "
                       f"({withheld} withheld by their own rule)")
        if year - 1 in earlier:
            typer.echo(f"  earlier releases taken as known: {', '.join(map(str, earlier))}")
        else:
            typer.echo(f"  warning: no release of {year - 1} under {out} (or --previous); "
                       "the protection could not take last year's published figures into "
                       "account and the review makes no comparison with them")
    typer.echo(f"  open data:  {result.target / 'open'}")
    typer.echo(f"  review:     {result.target / 'review'}")
    typer.echo(f"  restricted: {result.target / 'restricted'} (privacy officer only)")


@app.command(cls=Command)
def audit(
    release: Annotated[Path, typer.Argument(help="A release folder, e.g. publish/2025.")],
    policy: Annotated[Path | None, typer.Option(help="Disclosure policy TOML.")] = None,
    catalogue: Annotated[Path | None, typer.Option(help="Table catalogue TOML.")] = None,
    previous: Annotated[list[Path] | None, typer.Option(
        help="An earlier release (folder) the public has; repeatable. Earlier years beside "
             "RELEASE are always used.", metavar="<path>")] = None,
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Recompute, from public information alone, what an outsider can deduce about every
    hidden cell: open/, the earlier releases beside it (and --previous), and the declared
    facts of the catalogue; never the register.

    Exits 3 when a hidden cell can be computed exactly or narrowed beyond the policy.

    Example:

        suoja audit publish/2025
    """
    from suoja.errors import UsageError
    from suoja.policy import read_policy
    from suoja.protect.release_audit import audit_open, read_previous
    from suoja.tables.catalogue import read_catalogue

    with user_errors(debug):
        folder_argument(release, "a release (e.g. publish/2025)")
        if not (release / "open").is_dir():
            raise UsageError(f"{release}: no open/ folder; is this a release?")
        cat = read_catalogue(catalogue)
        year = int(release.name) if release.name.isdigit() else None
        if year is None:
            raise UsageError(f"{release}: a release folder is named by its year, e.g. 2025")
        earlier = read_previous(release.parent, year, cat, previous or ())
        result = audit_open(release / "open", cat, read_policy(policy), earlier, year)
    failed = result.filter(~result["ok"])
    if as_json:
        typer.echo(json.dumps(result.to_dicts(), indent=2, ensure_ascii=False))
    else:
        for row in failed.iter_rows(named=True):
            typer.echo(f"DISCLOSED {row['year']} {row['table']} {row['key']}: range "
                       f"{row['lo']}..{row['hi']} ({row['finding']}; from {row['knowledge']})")
        verdict = "FAILED" if failed.height else "passed"
        known = ", ".join(map(str, sorted(earlier))) or "none found"
        typer.echo(f"Audit {verdict}: {result.height} hidden or derivable quantities, "
                   f"{failed.height} disclosed (earlier releases taken as known: {known}).")
    if failed.height:
        raise typer.Exit(code=3)


@app.command(cls=Command)
def protect(
    table: Annotated[Path, typer.Argument(help="A frequency table as CSV: dimension "
                                          "columns and a count column.")],
    count: Annotated[str, typer.Option(help="The column of counts.")] = "count",
    dims: Annotated[str | None, typer.Option(help="Comma-separated dimension columns "
                                             "(default: every other column).")] = None,
    hierarchy: Annotated[list[str] | None, typer.Option(
        help="DIM=FILE: a hierarchy as a code,parent CSV or a tau-ARGUS .hrc file. "
             "Repeat for more dimensions.", metavar="<dim=file>")] = None,
    margins_given: Annotated[bool, typer.Option(help="The table already holds its totals "
                                                "(_T) and parent codes; check them.")] = False,
    total: Annotated[str, typer.Option(help="The code of the totals in TABLE (Total, as "
                                       "tau-ARGUS and sdcTable write them); written back "
                                       "the same.")] = "_T",
    policy: Annotated[Path | None, typer.Option(help="Disclosure policy TOML.")] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder (default: TABLE's name "
                                             "with -protected).")] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing output folder.")] = False,
    debug: DebugOption = False,
) -> None:
    """Protect any frequency table: threshold, secondary suppression, audit, log.

    Writes OUT/TABLE.csv (dimension codes, value empty where hidden, status C) and
    OUT/restricted/suppression_log.csv (every hidden cell, its true value and why), in a
    folder only its owner can read.

    Example:

        suoja protect regions.csv --count persons --hierarchy region=regions.hrc
    """
    from rich.console import Console
    from rich.progress import Progress

    from suoja.table_pipeline import protect_csv

    with user_errors(debug), Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("protect", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        folder_argument(out, "--out (the output folder)")
        result = protect_csv(table, count=count, dims=dims, hierarchies=hierarchy or [],
                             margins_given=margins_given, policy_path=policy, out=out,
                             force=force, progress=progress, total=total)
    typer.echo(f"Protected {result.cells} cells of {table}: {result.primary} primary, "
               f"{result.secondary} secondary suppressions; audit passed.")
    typer.echo(f"  table:      {result.table_path}")
    typer.echo(f"  restricted: {result.log_path} (owner only: holds the true values of "
               "hidden cells; never publish it)")


@app.command(cls=Command)
def check(
    release: Annotated[Path, typer.Argument(help="A release folder, e.g. publish/2025.")],
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Run the open-data ecosystem's own readers on every file of open/.

    frictionless on the data package, JSON-stat readers, pyaxis on the PX files, pyshacl on
    the DCAT file, and the structural checks those readers miss. Exits 2 if any fails.

    Example:

        suoja check publish/2025
    """
    from dataclasses import asdict

    from suoja.release.portal import check_release

    with user_errors(debug):
        folder_argument(release, "a release (e.g. publish/2025)")
        lines = check_release(release)
    failed = [line for line in lines if not line.ok]
    if as_json:
        typer.echo(json.dumps([asdict(line) for line in lines], indent=2, ensure_ascii=False))
    else:
        for line in failed:
            typer.echo(str(line))
        verdict = f"{len(failed)} failed" if failed else "all passed"
        typer.echo(f"{len(lines)} checks of {release / 'open'}: {verdict}.")
    if failed:
        raise typer.Exit(code=2)


@app.command(cls=Command)
def verify(
    release: Annotated[Path, typer.Argument(help="A release folder, e.g. publish/2025.")],
    debug: DebugOption = False,
) -> None:
    """Recompute every checksum of the manifest and say what changed. Exits 2 on a change.

    Example:

        suoja verify publish/2025
    """
    from suoja.release.portal import verify_release

    with user_errors(debug):
        folder_argument(release, "a release (e.g. publish/2025)")
        report = verify_release(release)
    if report.ok:
        typer.echo(str(report))
        return
    for change in report.changes:
        typer.echo(change)
    raise typer.Exit(code=2)


from suoja.cli_cube import cube as _cube  # noqa: E402  (a command of its own module)

app.command(cls=Command, name="cube")(_cube)


def main() -> None:
    """Entry point: exit 1 with a traceback and a plea to report on an unexpected error."""
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        typer.echo(INTERRUPTED, err=True)
        sys.exit(130)
    except BaseException:
        traceback.print_exc()
        typer.echo("This is a bug in suoja; please report it with the traceback above.",
                   err=True)
        sys.exit(1)
