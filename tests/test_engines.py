"""Engines (issue 17): the same cubes and the same release from Polars, DuckDB, Spark and a
cube folder; the cube folder is restricted; validation as queries reports as validate does."""

from __future__ import annotations

import json
import re
import shutil
import stat
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from suoja.cli import app
from suoja.register import read_register
from suoja.synth import scaled_register, write_register
from suoja.tables.catalogue import read_catalogue
from suoja.tables.cubes import compute_cubes
from suoja.tables.engines import connect, engine_cubes
from suoja.tables.engines._sources import find_sources

REPO = Path(__file__).resolve().parents[1]
EMBEDDED = REPO / "data" / "register"
runner = CliRunner()


def polars_cubes(folder: Path, year: int):
    return compute_cubes(read_register(folder).frames, read_catalogue(), year)


def assert_same_cubes(got, expected) -> None:
    assert list(got) == list(expected)
    for name, cube in expected.items():
        other = got[name]
        assert other.dimensions == cube.dimensions
        assert other.finest.schema == cube.finest.schema, name
        assert other.finest.equals(cube.finest), name


def engine_result(engine: str, folder: Path, year: int, con=None):
    con = con or connect(engine)
    sources, absent = find_sources(folder)
    assert not absent
    return engine_cubes(con, sources, read_catalogue(), year)


def partitioned(frames: dict[str, pl.DataFrame], folder: Path, parts: int = 3) -> Path:
    """The register as a warehouse writes it: a folder of Parquet parts per entity."""
    for name, frame in frames.items():
        (folder / name).mkdir(parents=True)
        size = -(-frame.height // parts)
        for i in range(parts):
            frame.slice(i * size, size).write_parquet(folder / name / f"part-{i:05d}.parquet")
    return folder


@pytest.fixture(scope="module")
def synth_register(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small ``suoja synth --scale`` register as CSV and as partitioned Parquet."""
    frames = scaled_register(4000, seed=3)
    root = tmp_path_factory.mktemp("synth")
    write_register(frames, root / "csv")
    return {"csv": root / "csv", "parquet": partitioned(frames, root / "parts")}


@pytest.mark.parametrize("year", [2025, 2024])
def test_duckdb_cubes_equal_polars_on_embedded(year):
    assert_same_cubes(engine_result("duckdb", EMBEDDED, year), polars_cubes(EMBEDDED, year))


def test_ibis_definition_on_polars_equals_polars():
    """The Ibis definition itself, run by Polars, gives today's cubes."""
    assert_same_cubes(engine_result("ibis-polars", EMBEDDED, 2025),
                      polars_cubes(EMBEDDED, 2025))


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_duckdb_cubes_equal_polars_on_synth(synth_register, fmt):
    expected = polars_cubes(synth_register["csv"], 2025)
    assert_same_cubes(engine_result("duckdb", synth_register[fmt], 2025), expected)


@pytest.fixture(scope="module")
def spark():
    """One local Spark session for the module (pyspark is a declared test dependency: a
    missing one fails here, it is never skipped)."""
    return connect("spark", "local[2]")


@pytest.mark.slow
def test_spark_cubes_equal_polars(spark, synth_register):
    assert_same_cubes(engine_result("spark", EMBEDDED, 2025, spark),
                      polars_cubes(EMBEDDED, 2025))
    assert_same_cubes(engine_result("spark", synth_register["parquet"], 2025, spark),
                      polars_cubes(synth_register["csv"], 2025))


# --- the release: byte-identical whatever made the cubes -----------------------------------

def invoke(*args: str):
    return runner.invoke(app, list(args))


STAMPS = [(re.compile(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"), b"<time>"),
          (re.compile(rb'"\d{8} \d{2}:\d{2}"'), b'"<time>"'),
          (re.compile(rb'"checksumValue": "[0-9a-f]{64}"'), b'"checksumValue": "<sum>"')]


def _manifest(data: bytes) -> bytes:
    """open/manifest.json with the checksums and sizes of the files holding a time blanked
    (the CSV files' are kept)."""
    manifest = json.loads(data)
    for entry in manifest["files"]:
        if not entry["path"].endswith(".csv"):
            entry["sha256"] = entry["bytes"] = "<of a file with a time>"
    return json.dumps(manifest, indent=1).encode()


def open_files(release: Path) -> dict[str, bytes]:
    """The release's open/ files and review pages, with the times of publication (and the
    checksums of the files holding them) blanked: nothing else may differ."""
    files = [p for p in sorted((release / "open").rglob("*")) if p.is_file()]
    files += sorted((release / "review").glob("*.html"))
    out = {}
    for path in files:
        data = path.read_bytes()
        for pattern, blank in STAMPS:
            data = pattern.sub(blank, data)
        if path.name == "manifest.json":
            data = _manifest(data)
        out[str(path.relative_to(release))] = data
    return out


@pytest.fixture(scope="module")
def releases(embedded_release, spark,
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """2025 published from the register (Polars: the session's release), through DuckDB,
    and from a cube folder that Spark made (``suoja cube --engine spark``, on the module's
    local session); each after the same 2024 release, so the earlier release takes part as
    in use."""
    root = tmp_path_factory.mktemp("engines")
    polars = embedded_release.target
    for name in ("duckdb", "cube"):
        shutil.copytree(polars.parent / "2024", root / name / "2024")
    done = invoke("publish", "2025", "--engine", "duckdb", "--out", str(root / "duckdb"))
    assert done.exit_code == 0, done.output
    done = invoke("cube", "2025", "--engine", "spark", "--out", str(root / "cubes"))
    assert done.exit_code == 0, done.output
    done = invoke("publish", "2025", "--cube", str(root / "cubes"), "--out", str(root / "cube"))
    assert done.exit_code == 0, done.output
    return {"root": root, "polars": polars,
            **{n: root / n / "2025" for n in ("duckdb", "cube")}}


@pytest.mark.slow
def test_release_identical_from_every_engine(releases):
    """open/ and the review pages are the same bytes (publication times blanked).

    The cubes are equal by construction (tests above); what follows them is one code path,
    and protection stops at work limits, never the clock, so the same cubes give the same
    release on any machine.
    """
    assert_same_release(releases)


def assert_same_release(releases: dict[str, Path]) -> None:
    """The releases made by DuckDB and from a cube folder have the same files as the
    Polars one, byte for byte (publication times blanked)."""
    expected = open_files(releases["polars"])
    assert "open/datapackage.json" in expected and "review/review.en.html" in expected
    for name in ("duckdb", "cube"):
        got = open_files(releases[name])
        assert sorted(got) == sorted(expected), name
        different = [f for f in expected if got[f] != expected[f]]
        assert not different, f"{name}: {different}"


@pytest.mark.slow
def test_cube_folder_is_owner_only_and_described(releases):
    folder = releases["root"] / "cubes"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["year"] == 2025 and manifest["engine"] == "spark"
    assert manifest["catalogue_fingerprint"] == read_catalogue().fingerprint
    populations = {p["population"]: p for p in manifest["populations"]}
    cubes = polars_cubes(EMBEDDED, 2025)
    assert set(populations) == set(cubes)
    for name, cube in cubes.items():
        assert populations[name]["rows"] == cube.finest.height
        assert populations[name]["dimensions"] == list(cube.dimensions)
        assert pl.read_parquet(folder / populations[name]["file"]).equals(cube.finest)


def test_cube_refused_under_open(tmp_path):
    done = invoke("cube", "2025", "--out", str(tmp_path / "publish" / "open" / "cubes"))
    assert done.exit_code == 2
    assert "never written under an open/ folder" in done.stderr
    assert not (tmp_path / "publish").exists()


@pytest.fixture(scope="module")
def cube_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cubes") / "cubes"
    done = invoke("cube", "2025", "--out", str(out))
    assert done.exit_code == 0, done.output
    return out


def test_publish_from_cubes_of_another_year_is_refused(cube_folder, tmp_path):
    done = invoke("publish", "2024", "--cube", str(cube_folder), "--out", str(tmp_path))
    assert done.exit_code == 2
    assert done.stderr.endswith(f"Error: {cube_folder}: the cubes are of 2025, not of 2024; "
                                "make them with: suoja cube 2024\n")
    assert not (tmp_path / "2024").exists()


def test_publish_from_cubes_of_another_catalogue_is_refused(cube_folder, tmp_path):
    catalogue = tmp_path / "catalogue.toml"
    catalogue.write_text((REPO / "data" / "catalogue.toml").read_text() + "\n# edited\n")
    done = invoke("publish", "2025", "--cube", str(cube_folder), "--catalogue", str(catalogue),
                  "--out", str(tmp_path / "out"))
    assert done.exit_code == 2
    assert "made with another table catalogue" in done.stderr


def test_publish_from_a_changed_cube_is_refused(cube_folder, tmp_path):
    copy = tmp_path / "cubes"
    shutil.copytree(cube_folder, copy)
    frame = pl.read_parquet(copy / "applications.parquet")
    frame.with_columns(pl.col("value") + 1).write_parquet(copy / "applications.parquet")
    done = invoke("publish", "2025", "--cube", str(copy), "--out", str(tmp_path / "out"))
    assert done.exit_code == 2
    assert "do not match the manifest" in done.stderr


def test_publish_from_cubes_refuses_dp_and_register(cube_folder, tmp_path):
    done = invoke("publish", "2025", "--cube", str(cube_folder), "--privacy", "dp",
                  "--out", str(tmp_path))
    assert done.exit_code == 2
    assert "differential privacy" in done.stderr
    done = invoke("publish", "2025", "--cube", str(cube_folder), "--register", str(EMBEDDED),
                  "--out", str(tmp_path))
    assert done.exit_code == 2


def test_unknown_engine_is_refused(tmp_path):
    done = invoke("publish", "2025", "--engine", "oracle", "--out", str(tmp_path))
    assert done.exit_code == 2
    assert done.stderr == "Error: --engine must be one of polars, duckdb, spark, got 'oracle'\n"


# --- validation as queries -----------------------------------------------------------------

def broken_register(folder: Path) -> Path:
    """The embedded register with problems of the kinds the queries check."""
    shutil.copytree(EMBEDDED, folder)
    persons = pl.read_csv(folder / "persons.csv", infer_schema=False)
    persons = persons.with_columns(
        pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("Q")).otherwise(pl.col("sex"))
        .alias("sex"),
        pl.when(pl.int_range(pl.len()) == 7).then(pl.lit("19x0"))
        .otherwise(pl.col("birth_year")).alias("birth_year"))
    persons.write_csv(folder / "persons.csv")
    apps = pl.read_csv(folder / "applications.csv", infer_schema=False)
    apps = apps.with_columns(
        pl.when(pl.int_range(pl.len()) == 5).then(pl.lit("2025-02-30"))
        .otherwise(pl.col("received")).alias("received"),
        pl.when(pl.int_range(pl.len()) == 9).then(pl.lit("NOBODY"))
        .otherwise(pl.col("person_id")).alias("person_id"),
        pl.when(pl.int_range(pl.len()) == 11).then(pl.col("application_id").first())
        .otherwise(pl.col("application_id")).alias("application_id"))
    apps.write_csv(folder / "applications.csv")
    months = pl.read_csv(folder / "reflection_periods.csv", infer_schema=False)
    months.with_columns(pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("9"))
                        .otherwise(pl.col("months")).alias("months")
                        ).write_csv(folder / "reflection_periods.csv")
    return folder


def test_validation_as_queries_reports_as_validate(tmp_path):
    folder = broken_register(tmp_path / "register")
    expected = invoke("validate", str(folder))
    assert expected.exit_code == 2 and expected.stderr.count("\n  - ") >= 6
    got = invoke("validate", str(folder), "--engine", "duckdb")
    assert got.exit_code == 2
    assert got.stderr == expected.stderr


def test_validation_as_queries_names_a_missing_file_and_column(tmp_path):
    folder = tmp_path / "register"
    shutil.copytree(EMBEDDED, folder)
    (folder / "reflection_periods.csv").unlink()
    persons = pl.read_csv(folder / "persons.csv", infer_schema=False).drop("sex")
    persons.write_csv(folder / "persons.csv")
    expected = invoke("validate", str(folder))
    got = invoke("validate", str(folder), "--engine", "duckdb")
    assert got.exit_code == expected.exit_code == 2
    assert got.stderr == expected.stderr


def test_publish_through_duckdb_validates_first(tmp_path):
    folder = broken_register(tmp_path / "register")
    done = invoke("publish", "2025", "--engine", "duckdb", "--register", str(folder),
                  "--out", str(tmp_path / "out"))
    assert done.exit_code == 2
    assert "problem(s)" in done.stderr
    assert not (tmp_path / "out" / "2025").exists()


def test_validation_as_queries_names_the_part_of_a_partitioned_table(tmp_path):
    frames = read_register(EMBEDDED).frames
    persons = frames["persons"].with_columns(
        pl.when(pl.int_range(pl.len()) == frames["persons"].height // 3 + 2)
        .then(pl.lit("Q")).otherwise(pl.col("sex")).alias("sex"))
    folder = partitioned({**frames, "persons": persons}, tmp_path / "parts", parts=3)
    done = invoke("validate", str(folder), "--engine", "duckdb")
    assert done.exit_code == 2
    size = -(-persons.height // 3)
    row = frames["persons"].height // 3 + 2 - size + 2
    assert done.stderr == (f"Error: {folder}: 1 problem(s)\n  - persons/part-00001.parquet, "
                           f"row {row}, column sex: 'Q': not a code of the sex list "
                           "(F, M, U)\n")


@pytest.mark.slow
def test_spark_validation_reports_as_validate(spark, tmp_path):
    folder = broken_register(tmp_path / "register")
    expected = invoke("validate", str(folder))
    got = invoke("validate", str(folder), "--engine", "spark")
    assert got.exit_code == expected.exit_code == 2
    assert got.stderr == expected.stderr


def test_validation_as_queries_of_periods_and_persons(tmp_path):
    """Overlapping periods, a CHILD of age, FINNISH_CITIZEN without FIN: as validate says."""
    folder = tmp_path / "register"
    shutil.copytree(EMBEDDED, folder)
    periods = pl.read_csv(folder / "client_periods.csv", infer_schema=False)
    typed = periods.with_row_index("i").with_columns(pl.col("start", "end").str.to_date())
    later = typed.join(typed, on="person_id", suffix="_first").filter(
        (pl.col("start_first") < pl.col("start"))
        & (pl.col("end_first") > pl.col("start_first") + pl.duration(days=2))).row(0, named=True)
    new_start = (later["start_first"] + __import__("datetime").timedelta(days=1)).isoformat()
    work = typed.filter(pl.col("residence_status") == "WORK")["i"][0]
    periods = periods.with_row_index("i").with_columns(
        pl.when(pl.col("i") == later["i"]).then(pl.lit(new_start)).otherwise(pl.col("start"))
        .alias("start"),
        pl.when(pl.col("i") == work).then(pl.lit("FINNISH_CITIZEN"))
        .otherwise(pl.col("residence_status")).alias("residence_status")).drop("i")
    periods.write_csv(folder / "client_periods.csv")
    persons = pl.read_csv(folder / "persons.csv", infer_schema=False)
    child = persons.with_row_index("i").filter(pl.col("role") == "CHILD")["i"][0]
    persons.with_row_index("i").with_columns(
        pl.when(pl.col("i") == child).then(pl.lit("1950")).otherwise(pl.col("birth_year"))
        .alias("birth_year")).drop("i").write_csv(folder / "persons.csv")
    expected = invoke("validate", str(folder))
    assert expected.exit_code == 2 and "overlaps" in expected.stderr
    assert "FINNISH_CITIZEN exactly" in expected.stderr and "a CHILD must" in expected.stderr
    got = invoke("validate", str(folder), "--engine", "duckdb")
    assert got.stderr == expected.stderr


def test_validation_as_queries_of_primary_events(tmp_path):
    """A period with two PRIMARY events and one with none: as validate says."""
    folder = tmp_path / "register"
    shutil.copytree(EMBEDDED, folder)
    events = pl.read_csv(folder / "exploitation.csv", infer_schema=False)
    secondary = events.with_row_index("i").filter(pl.col("rank") == "SECONDARY")["i"][0]
    primary = events.with_row_index("i").filter(pl.col("rank") == "PRIMARY")["i"][5]
    events.with_row_index("i").with_columns(
        pl.when(pl.col("i") == secondary).then(pl.lit("PRIMARY"))
        .when(pl.col("i") == primary).then(pl.lit("SECONDARY"))
        .otherwise(pl.col("rank")).alias("rank")).drop("i").write_csv(folder / "exploitation.csv")
    expected = invoke("validate", str(folder))
    assert "no PRIMARY event" in expected.stderr and "several PRIMARY" in expected.stderr
    got = invoke("validate", str(folder), "--engine", "duckdb")
    assert got.stderr == expected.stderr


def test_cube_help_has_an_example_and_no_type_placeholders():
    result = runner.invoke(app, ["cube", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "Example" in result.stdout and "suoja cube" in result.stdout
    assert "<bool>" not in result.stdout
    assert "[OPTIONS] YEAR" in result.stdout


def test_duckdb_spills_into_an_owner_only_folder_not_the_working_folder(tmp_path, monkeypatch):
    # What DuckDB spills beyond its memory limit is restricted data (joins of the register).
    from suoja.tables.engines._connect import connect

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SUOJA_DUCKDB_TEMP", raising=False)
    con = connect("duckdb")
    spill = Path(con.raw_sql("SELECT current_setting('temp_directory')").fetchall()[0][0])
    assert spill.is_dir() and tmp_path not in spill.parents
    assert stat.S_IMODE(spill.stat().st_mode) == 0o700


@pytest.mark.parametrize("setting", ["temp", "memory"])
def test_a_bad_duckdb_setting_is_exit_2_naming_it(tmp_path, monkeypatch, setting):
    # A careless environment: the spill folder is a file, or the memory limit no size.
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    if setting == "temp":
        monkeypatch.setenv("SUOJA_DUCKDB_TEMP", str(blocker / "spill"))
        expected = f"Error: SUOJA_DUCKDB_TEMP={blocker / 'spill'}: DuckDB cannot spill there"
    else:
        monkeypatch.setenv("SUOJA_DUCKDB_MEMORY_LIMIT", "three gigabytes")
        expected = "Error: SUOJA_DUCKDB_MEMORY_LIMIT=three gigabytes: not a memory size"
    done = invoke("cube", "2025", "--engine", "duckdb", "--out", str(tmp_path / "cubes"))
    assert done.exit_code == 2, done.output
    assert done.stderr.startswith(expected), done.stderr
    assert "Traceback" not in done.output
    assert not (tmp_path / "cubes").exists()


def test_duckdb_spills_into_the_named_folder_made_owner_only(tmp_path, monkeypatch):
    from suoja.tables.engines._connect import connect

    spill = tmp_path / "warehouse" / "spill"
    monkeypatch.setenv("SUOJA_DUCKDB_TEMP", str(spill))
    con = connect("duckdb")
    assert Path(con.raw_sql("SELECT current_setting('temp_directory')").fetchall()[0][0]) \
        == spill
    assert spill.is_dir() and stat.S_IMODE(spill.stat().st_mode) == 0o700


@pytest.fixture(scope="module")
def synth_releases(spark, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """2025 of a ``suoja synth --scale`` register (400 persons) published three ways: by
    Polars from CSV files, by DuckDB from partitioned Parquet, and from a cube folder that
    Spark made from the same Parquet parts."""
    frames = scaled_register(400, seed=11)
    root = tmp_path_factory.mktemp("synth-releases")
    csv = root / "register-csv"
    write_register(frames, csv)
    parts = partitioned(frames, root / "register-parts")
    done = invoke("publish", "2025", "--register", str(csv), "--out", str(root / "polars"))
    assert done.exit_code == 0, done.output
    done = invoke("publish", "2025", "--register", str(parts), "--engine", "duckdb",
                  "--out", str(root / "duckdb"))
    assert done.exit_code == 0, done.output
    done = invoke("cube", "2025", "--register", str(parts), "--engine", "spark",
                  "--out", str(root / "cubes"))
    assert done.exit_code == 0, done.output
    done = invoke("publish", "2025", "--cube", str(root / "cubes"), "--out", str(root / "cube"))
    assert done.exit_code == 0, done.output
    return {name: root / name / "2025" for name in ("polars", "duckdb", "cube")}


@pytest.mark.slow
def test_release_of_a_synth_register_identical_from_every_engine(synth_releases):
    assert_same_release(synth_releases)
