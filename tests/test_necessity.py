"""Least loss: every secondary suppression of the embedded release had to be hidden.

Each secondary cell is published alone at its true value (``suoja.protect.necessity``);
the release must then fail one of suoja's checks. The converse check, that the test can
fail: a copy of the release with one more cell hidden than needed, which the check must
call "not needed".
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from suoja.errors import UsageError
from suoja.protect.necessity import NEEDED, NOT_NEEDED, unhide_check

pytestmark = pytest.mark.slow

SINGLETON_ONLY = {
    ("exploitation_forms", "form=FORCED_MARRIAGE;sex=F"),
    ("finland_forms", "form=OTHER;sex=_T"),
    ("finland_forms", "form=SEXUAL_EXPLOITATION;sex=F"),
    ("finland_forms", "form=SEXUAL_EXPLOITATION;sex=_T"),
}
"""Secondaries hidden only so that the unit alone in a hidden cell learns nothing."""


def _log(release: Path) -> pl.DataFrame:
    return pl.read_csv(release / "restricted" / "suppression_log.csv",
                       schema_overrides={"cell": pl.String})


def _over_hidden(release: Path, root: Path, table: str, codes: dict[str, str]) -> tuple:
    """A copy of ``release`` (and the earlier years beside it) with one more published cell
    hidden, logged as a secondary suppression; returns the copy and the cell."""
    for year in release.parent.iterdir():
        if year.name.isdigit() and int(year.name) < int(release.name):
            shutil.copytree(year / "open", root / year.name / "open")
    copy = root / release.name
    for part in ("open", "restricted"):
        shutil.copytree(release / part, copy / part)
    return copy, _hide(copy, table, codes)


def _hide(copy: Path, table: str, codes: dict[str, str]) -> tuple[str, str]:
    """Hide one more published cell of the written release ``copy``, logged as a
    secondary suppression; returns the cell."""
    path = copy / "open" / f"{table}.csv"
    frame = pl.read_csv(path, infer_schema_length=0)
    hit = pl.all_horizontal([pl.col(d) == c for d, c in codes.items()])
    assert frame.filter(hit)["status"].is_null().all(), "the cell must be published"
    value = int(frame.filter(hit)["value"][0])
    frame.with_columns(pl.when(hit).then(None).otherwise(pl.col("value")).alias("value"),
                       pl.when(hit).then(pl.lit("C")).otherwise(pl.col("status"))
                       .alias("status")).write_csv(path)
    key = ";".join(f"{d}={c}" for d, c in codes.items())
    with (copy / "restricted" / "suppression_log.csv").open("a", encoding="utf-8") as f:
        f.write(f"{table},{key},{value},,secondary,hidden by hand: not needed\n")
    return table, key


def test_every_secondary_of_the_embedded_release_is_needed(embedded_release) -> None:
    release = embedded_release.target
    secondaries = _log(release).filter(pl.col("rule") == "secondary")
    found = unhide_check(release)
    assert found.height == secondaries.height > 0
    assert set(found.select("table", "cell").iter_rows()) == \
        set(secondaries.select("table", "cell").iter_rows())
    unneeded = found.filter(pl.col("verdict") != NEEDED)
    assert unneeded.height == 0, unneeded.to_dicts()
    # Every verdict names the cell the outsider (or a singleton's unit) could then narrow.
    assert found["reason"].str.contains(" exactly | to ").all()
    # The four hidden for singleton protection alone: the rank check passes, a singleton
    # of the same population computes another hidden cell.
    singleton = found.filter(pl.struct("table", "cell").map_elements(
        lambda r: (r["table"], r["cell"]) in SINGLETON_ONLY, return_dtype=pl.Boolean))
    assert singleton.height == len(SINGLETON_ONLY)
    assert set(singleton["check"]) == {"singleton rank"}
    assert singleton["reason"].str.starts_with("the unit alone in ").all()


def test_a_cell_hidden_beyond_need_is_reported(embedded_release, tmp_path: Path) -> None:
    """The mutation: finland_forms FORCED_LABOUR F (23 events) hidden as well. Publishing
    it gives back the release as audited: every check passes, so it was not needed."""
    copy, cell = _over_hidden(embedded_release.target, tmp_path,
                              "finland_forms", {"form": "FORCED_LABOUR", "sex": "F"})
    found = unhide_check(copy, cells=[cell], joint_singletons=False)
    row = found.row(0, named=True)
    assert (row["table"], row["cell"], row["value"]) == (*cell, 23)
    assert row["verdict"] == NOT_NEEDED, row
    assert row["check"] is None


def test_a_folder_without_the_log_is_refused(tmp_path: Path) -> None:
    (tmp_path / "open").mkdir()
    with pytest.raises(UsageError, match="suppression log"):
        unhide_check(tmp_path)


def test_a_cell_that_is_not_hidden_is_refused(embedded_release) -> None:
    with pytest.raises(KeyError, match="no hidden cell"):
        unhide_check(embedded_release.target, cells=[("finland_forms", "form=_T;sex=_T")])


def test_no_secondary_of_last_years_release_could_be_published(embedded_release) -> None:
    # The 2024 release under the same root, published with the default policy (it frees
    # the secondaries it does not need; two were not needed before it did).
    found = unhide_check(embedded_release.target.parent / "2024")
    assert found.height > 0
    unneeded = found.filter(pl.col("verdict") != NEEDED)
    assert unneeded.height == 0, unneeded.to_dicts()


def test_unpick_frees_a_cell_hidden_beyond_need(embedded_release, tmp_path: Path) -> None:
    from suoja.protect.necessity import UnhideCheck
    from suoja.protect.unpick import unpick

    copy, cell = _over_hidden(embedded_release.target, tmp_path,
                              "finland_forms", {"form": "FORCED_LABOUR", "sex": "F"})
    check = UnhideCheck.from_folder(copy)
    freed = unpick(check.tables, check.log, check.year, check.catalogue, check.policy,
                   check.earlier_views)
    # The extra cell is freed; every secondary the engine chose stays hidden.
    assert freed == [cell]


def test_unpick_frees_two_cells_that_protect_only_each_other(embedded_release,
                                                             tmp_path: Path) -> None:
    """Hide both F and M of a published age group of new_clients (U is 0 and published):
    publishing either alone gives the other away, so one at a time neither can go; the
    pair pass publishes both together, and only it does."""
    from suoja.protect.necessity import UnhideCheck
    from suoja.protect.unpick import unpick

    copy, first = _over_hidden(embedded_release.target, tmp_path, "new_clients",
                               {"sex": "F", "age_group": "Y18T29"})
    second = _hide(copy, "new_clients", {"sex": "M", "age_group": "Y18T29"})
    check = UnhideCheck.from_folder(copy)
    assert check.fails_exactly(first) and check.fails_exactly(second)
    args = (check.tables, check.log, check.year, check.catalogue, check.policy,
            check.earlier_views)
    assert unpick(*args, max_pair_checks=0) == []
    assert sorted(unpick(*args)) == sorted([first, second])


def test_unpick_keeps_hidden_what_a_solver_limit_leaves_unproven(embedded_release, tmp_path,
                                                                  monkeypatch) -> None:
    from suoja.errors import SolverLimitError
    from suoja.protect import necessity
    from suoja.protect.unpick import unpick

    copy, _ = _over_hidden(embedded_release.target, tmp_path,
                           "finland_forms", {"form": "FORCED_LABOUR", "sex": "F"})
    check = necessity.UnhideCheck.from_folder(copy)

    def stopped(self, *cells, every=False):
        raise SolverLimitError("stopped at its limit")

    monkeypatch.setattr(necessity.UnhideCheck, "judge", stopped)
    # The limit never fails the release: the cell stays hidden. With no full checks
    # allowed, likewise.
    assert unpick(check.tables, check.log, check.year, check.catalogue,
                            check.policy, check.earlier_views) == []
    monkeypatch.undo()
    assert unpick(check.tables, check.log, check.year, check.catalogue,
                            check.policy, check.earlier_views, max_full_checks=0) == []


def test_the_span_update_exposes_what_the_rebuilt_pattern_exposes(embedded_release) -> None:
    """``Pattern.exposed_by`` (the base span updated by one row, no rebuild) against the
    pattern rebuilt from the tables with the cell published: for every secondary of the
    embedded release, the cells it finds exposed are exactly those the rebuilt pattern's
    elimination finds (rank and singleton rank), so unpick's shortcut neither hides more
    nor less than the whole check would."""
    from suoja.protect.necessity import UnhideCheck

    check = UnhideCheck.from_folder(embedded_release.target)
    base_pairs = set(check.base.singleton_exact())
    decided = 0
    for cell in check.secondaries():
        fast = check.base.exposed_by(cell)
        rebuilt = check.pattern(check.published(cell))
        slow = {(None, h) for h in rebuilt.exact() if check.base.residual(h)} | \
            {pair for pair in rebuilt.singleton_exact() if pair not in base_pairs}
        assert (fast is None) == (not slow), (cell, fast, slow)
        assert fast is None or fast in slow, (cell, fast, slow)
        decided += fast is not None
    assert decided > 0


def _swap_secondary(release: Path, root: Path, table: str, dim: str, publish: str,
                    hide: list[str]) -> Path:
    """A copy of ``release`` (earlier years beside it) where the secondary ``publish`` of
    ``table`` is published at its true value and the published cells ``hide`` are hidden
    instead, logged as secondary suppressions."""
    copy = _over_hidden(release, root, table, {dim: hide[0]})[0]
    path = copy / "open" / f"{table}.csv"
    log_path = copy / "restricted" / "suppression_log.csv"
    log = _log(copy)
    value = int(log.filter(pl.col("table") == table, pl.col("cell") == f"{dim}={publish}")
                ["original"][0])
    frame = pl.read_csv(path, infer_schema_length=0)
    extra = frame.filter(pl.col(dim).is_in(hide[1:]))
    frame = frame.with_columns(
        pl.when(pl.col(dim) == publish).then(pl.lit(str(value)))
        .when(pl.col(dim).is_in(hide[1:])).then(None).otherwise(pl.col("value")).alias("value"),
        pl.when(pl.col(dim) == publish).then(None)
        .when(pl.col(dim).is_in(hide[1:])).then(pl.lit("C")).otherwise(pl.col("status"))
        .alias("status"))
    frame.write_csv(path)
    log = log.filter((pl.col("table") != table) | (pl.col("cell") != f"{dim}={publish}"))
    rows = [{"table": table, "cell": f"{dim}={code}", "original": int(v), "published": None,
             "rule": "secondary", "reason": "hidden by hand"}
            for code, v in extra.select(dim, "value").iter_rows()]
    pl.concat([log, pl.DataFrame(rows, schema=log.schema)]).write_csv(log_path)
    return copy


def test_priorities_decide_which_of_two_alternative_secondaries_is_published(
        embedded_release, tmp_path: Path) -> None:
    """Two hidden cells each protect the one small cell of clients_ended on their own: only
    one of them can be published, the first tried. Without priorities that is the one with
    the most persons (NO_NEED, 98); a never-hide flag on the other (LEFT_COUNTRY, 61) makes
    unpick publish that one instead, the order the catalogue's priorities ask for."""
    from suoja.protect.necessity import UnhideCheck
    from suoja.protect.unpick import unpick

    copy = _swap_secondary(embedded_release.target, tmp_path, "clients_ended", "end_reason",
                           "OWN_WISH", ["NO_NEED", "LEFT_COUNTRY"])
    check = UnhideCheck.from_folder(copy)
    args = (check.tables, check.log, check.year, check.catalogue, check.policy,
            check.earlier_views)
    assert unpick(*args) == [("clients_ended", "end_reason=NO_NEED")]
    priority = pl.DataFrame({"table": ["clients_ended"], "key": ["end_reason=LEFT_COUNTRY"],
                             "weight": [1.0], "never_hide": [True]})
    assert unpick(*args, priority) == [("clients_ended", "end_reason=LEFT_COUNTRY")]
