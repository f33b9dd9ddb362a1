"""Reading and validating the register extract: every contract rule can fail."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from conftest import TINY, write_tiny
from typer.testing import CliRunner

from suoja.cli import app
from suoja.errors import RegisterError
from suoja.register import read_register
from suoja.register.reader import SCHEMAS

runner = CliRunner()


def replace_line(name: str, index: int, line: str) -> dict[str, list[str]]:
    lines = list(TINY[name])
    lines[index] = line
    return {name: lines}


def add_line(name: str, line: str) -> dict[str, list[str]]:
    return {name: [*TINY[name], line]}


def test_tiny_register_is_valid_and_typed(tiny_register: Path) -> None:
    register = read_register(tiny_register)
    for name, schema in SCHEMAS.items():
        assert dict(register[name].schema) == schema
    assert register["exploitation"]["sector"].to_list() == ["02", None, None]


def test_codes_stay_strings_and_bom_is_accepted(tmp_path: Path) -> None:
    folder = write_tiny(tmp_path / "r")
    path = folder / "exploitation.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    register = read_register(folder)
    assert register["exploitation"]["sector"][0] == "02"


def test_parquet_and_excel_read_like_csv(tmp_path: Path, tiny_register: Path) -> None:
    frames = read_register(tiny_register).frames
    for fmt in ("parquet", "xlsx"):
        folder = tmp_path / fmt
        folder.mkdir()
        for name, frame in frames.items():
            if fmt == "parquet":
                frame.write_parquet(folder / f"{name}.parquet")
            else:
                frame.write_excel(folder / f"{name}.xlsx")
        again = read_register(folder).frames
        for name, frame in frames.items():
            assert again[name].equals(frame), (fmt, name)


# One case per rule: (file changes, file, row, column, words of the rule)
CASES = {
    "missing_file": ({"reflection_periods": None}, "reflection_periods", None, None,
                     "required file is missing"),
    "missing_column": ({"persons": [TINY["persons"][0].replace(",citizenship", ""),
                                    *[r.rsplit(",", 1)[0] for r in TINY["persons"][1:]]]},
                       "persons.csv", 1, "citizenship", "required column"),
    "duplicate_person": (add_line("persons", "P1,VICTIM,,F,1990,NPL"), "persons.csv", 2,
                         "person_id", "not unique"),
    "empty_id": (add_line("persons", ",VICTIM,,F,1990,NPL"), "persons.csv", 6, "person_id",
                 "required value is empty"),
    "duplicate_application": (add_line("applications", "A1,P1,2025-01-10,MIGRI,PENDING,,"),
                              "applications.csv", 2, "application_id", "not unique"),
    "duplicate_event": (add_line("exploitation", "E1,P2,OTHER,SECONDARY,FIN,,2024-05-20"),
                        "exploitation.csv", 2, "event_id", "not unique"),
    "unknown_person": (replace_line("applications", 1, "A1,P9,2025-01-10,MIGRI,ACCEPTED,2025-02-01,"),
                       "applications.csv", 2, "person_id", "does not refer to a person"),
    "event_of_child": (add_line("exploitation", "E9,P3,OTHER,SECONDARY,FIN,,2025-02-01"),
                       "exploitation.csv", 5, "person_id", "VICTIM"),
    "bad_code": (replace_line("persons", 1, "P1,VICTIM,,X,1990,NPL"), "persons.csv", 2, "sex",
                 "not a code of the sex list"),
    "bad_country": (replace_line("persons", 1, "P1,VICTIM,,F,1990,ZZZ"), "persons.csv", 2,
                    "citizenship", "not a code"),
    "bad_sector": (replace_line("exploitation", 1, "E1,P1,FORCED_LABOUR,PRIMARY,FIN,2,2025-02-01"),
                   "exploitation.csv", 2, "sector", "not a code"),
    "impossible_date": (replace_line("applications", 1, "A1,P1,2025-02-30,MIGRI,ACCEPTED,2025-03-01,"),
                        "applications.csv", 2, "received", "not a date that exists"),
    "not_iso_date": (replace_line("reflection_periods", 1, "P4,02.04.2025,3"),
                     "reflection_periods.csv", 2, "granted", "ISO 8601"),
    "rejection_without_reason": (replace_line("applications", 2, "A2,P2,2025-03-01,SELF,REJECTED,2025-03-20,"),
                                 "applications.csv", 3, "rejection_reason", "required when"),
    "reason_without_rejection": (replace_line("applications", 1, "A1,P1,2025-01-10,MIGRI,ACCEPTED,2025-02-01,OTHER"),
                                 "applications.csv", 2, "rejection_reason", "must be empty"),
    "decided_missing": (replace_line("applications", 1, "A1,P1,2025-01-10,MIGRI,ACCEPTED,,"),
                        "applications.csv", 2, "decided", "required when"),
    "pending_decided": (replace_line("applications", 3, "A3,P4,2025-04-01,NGO,PENDING,2025-04-02,"),
                        "applications.csv", 4, "decided", "must be empty"),
    "decided_before_received": (replace_line("applications", 1, "A1,P1,2025-01-10,MIGRI,ACCEPTED,2025-01-01,"),
                                "applications.csv", 2, "decided", "before received"),
    "end_without_reason": (replace_line("client_periods", 3, "P2,2024-05-20,2025-01-15,,FINNISH_CITIZEN"),
                           "client_periods.csv", 4, "end_reason", "required when"),
    "reason_without_end": (replace_line("client_periods", 1, "P1,2025-02-01,,OWN_WISH,WORK"),
                           "client_periods.csv", 2, "end_reason", "must be empty"),
    "end_before_start": (replace_line("client_periods", 3, "P2,2024-05-20,2024-01-15,NO_NEED,FINNISH_CITIZEN"),
                         "client_periods.csv", 4, "end", "before start"),
    "overlap": (add_line("client_periods", "P2,2024-12-01,,,FINNISH_CITIZEN"),
                "client_periods.csv", 5, "start", "overlaps"),
    "no_primary": (replace_line("exploitation", 1, "E1,P1,FORCED_LABOUR,SECONDARY,FIN,02,2025-02-01"),
                   "client_periods.csv", 2, "person_id", "no PRIMARY"),
    "two_primaries": (replace_line("exploitation", 2, "E2,P1,SEXUAL_EXPLOITATION,PRIMARY,NPL,,2025-02-01"),
                      "client_periods.csv", 2, "person_id", "several PRIMARY"),
    "birth_year_implausible": (replace_line("persons", 1, "P1,VICTIM,,F,1850,NPL"), "persons.csv", 2,
                               "birth_year", "implausible"),
    "born_after_start": (replace_line("persons", 1, "P1,VICTIM,,F,2030,NPL"),
                         "client_periods.csv", 2, "start", "implausible birth year"),
    "birth_year_not_integer": (replace_line("persons", 1, "P1,VICTIM,,F,19x0,NPL"), "persons.csv", 2,
                               "birth_year", "not a whole number"),
    "months_out_of_range": (replace_line("reflection_periods", 1, "P4,2025-04-02,7"),
                            "reflection_periods.csv", 2, "months", "1..6"),
    "child_without_parent": (replace_line("persons", 3, "P3,CHILD,,F,2015,NPL"), "persons.csv", 4,
                             "parent_id", "required when"),
    "parent_not_victim": (replace_line("persons", 3, "P3,CHILD,P9,F,2015,NPL"), "persons.csv", 4,
                          "parent_id", "VICTIM"),
    "finnish_status_mismatch": (replace_line("client_periods", 1, "P1,2025-02-01,,,FINNISH_CITIZEN"),
                                "client_periods.csv", 2, "residence_status", "FIN"),
    "sector_not_forced_labour": (replace_line("exploitation", 2, "E2,P1,SEXUAL_EXPLOITATION,SECONDARY,NPL,56,2025-02-01"),
                                 "exploitation.csv", 3, "sector", "only for FORCED_LABOUR"),
}


def _write_case(tmp_path: Path, changes: dict[str, list[str] | None]) -> Path:
    folder = write_tiny(tmp_path / "register", {k: v for k, v in changes.items() if v})
    for name, lines in changes.items():
        if lines is None:
            (folder / f"{name}.csv").unlink()
    return folder


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_with_place_and_rule(tmp_path: Path, case: str) -> None:
    changes, file, row, column, words = CASES[case]
    folder = _write_case(tmp_path, changes)
    out = tmp_path / "publish"
    result = runner.invoke(app, ["publish", "2025", "--register", str(folder), "--out", str(out)])
    assert result.exit_code == 2, result.output
    message = result.stderr
    assert "Traceback" not in result.output
    line = next((m for m in message.splitlines() if words in m), None)
    assert line is not None, message
    assert file in line
    if row is not None:
        assert f"row {row}" in line
    if column is not None:
        assert f"column {column}" in line
    assert not out.exists() or not any(out.iterdir())


def test_not_utf8_names_file_and_row(tmp_path: Path) -> None:
    folder = write_tiny(tmp_path / "r")
    path = folder / "persons.csv"
    path.write_bytes(path.read_bytes().replace(b"NPL\nP2", b"NPL\nP\xe42"))
    result = runner.invoke(app, ["validate", str(folder)])
    assert result.exit_code == 2
    assert "persons.csv, row 3" in result.stderr and "not UTF-8" in result.stderr


def test_all_problems_are_collected_with_a_cap(tmp_path: Path) -> None:
    lines = [f"X{i},VICTIM,,Q,1990,NPL" for i in range(80)]
    folder = write_tiny(tmp_path / "r", {"persons": [*TINY["persons"], *lines]})
    with pytest.raises(RegisterError) as error:
        read_register(folder, max_problems=10)
    assert len(error.value.problems) == 10
    assert error.value.more == 70
    assert "and 70 more problem(s)" in str(error.value)


def test_validate_summary_and_json(tiny_register: Path) -> None:
    result = runner.invoke(app, ["validate", str(tiny_register)])
    assert result.exit_code == 0
    assert "valid" in result.stdout and "persons 4" in result.stdout and "2024–2025" in result.stdout
    result = runner.invoke(app, ["validate", "--json", str(tiny_register)])
    data = json.loads(result.stdout)
    assert data["valid"] is True and data["rows"]["persons"] == 4 and data["years"] == [2024, 2025]


def test_validate_json_lists_problems(tmp_path: Path) -> None:
    folder = _write_case(tmp_path, CASES["bad_code"][0])
    result = runner.invoke(app, ["validate", "--json", str(folder)])
    assert result.exit_code == 2
    problems = json.loads(result.stdout)["problems"]
    assert problems == [{"file": "persons.csv", "row": 2, "column": "sex", "value": "X",
                         "rule": problems[0]["rule"]}]


def test_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "no such folder" in result.stderr


def test_event_period_mapping_prefers_the_open_period(tiny_register: Path) -> None:
    from suoja.register.consistency import event_periods

    register = read_register(tiny_register)
    mapped = event_periods(register["exploitation"], register["client_periods"])
    starts = dict(zip(mapped["event_id"], mapped["period_start"], strict=True))
    assert str(starts["E1"]) == "2025-02-01" and str(starts["E3"]) == "2024-05-20"
    assert pl.Series(list(starts.values())).null_count() == 0
