"""The table catalogue and the disclosure policy: contract ids, strict keys, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from suoja.catalogue import read_catalogue
from suoja.errors import CatalogueError, PolicyError
from suoja.policy import read_policy

CONTRACT_TABLES = {
    "applications": ("referrer",),
    "decisions": ("decision",),
    "rejections": ("rejection_reason",),
    "clients_ended": ("end_reason",),
    "new_clients": ("sex", "age_group"),
    "new_clients_citizenship": ("citizenship",),
    "new_children": (),
    "exploitation_forms": ("form", "sex"),
    "finland_victims": ("sex",),
    "finland_victims_citizenship": ("citizenship",),
    "finland_forms": ("form", "sex"),
    "finland_forced_labour_sectors": ("sector",),
    "finland_residence": ("residence_status",),
    "reflection_periods": (),
    "clients_year_end": ("role", "sex"),
    "clients_year_end_citizenship": ("citizenship",),
}
ADDED_TABLES = {
    "clients_year_end_minors": ("minor",),  # issue 15: victims taken in as minors
}


def test_catalogue_has_every_contract_table_with_its_dimensions() -> None:
    catalogue = read_catalogue()
    assert {t.id: t.dimensions for t in catalogue.tables} == {**CONTRACT_TABLES, **ADDED_TABLES}
    assert {t.id: t.of for t in catalogue.distinct} == {
        "new_clients_citizenships": "new_clients_citizenship",
        "finland_victims_citizenships": "finland_victims_citizenship"}
    for spec in catalogue.tables:
        assert set(spec.title) == set(spec.note) == {"fi", "sv", "en"}


def test_age_groups_follow_the_contract() -> None:
    codes = read_catalogue().dimensions["age_group"].codes
    assert codes == ("Y_LT18", "Y18T29", "Y30T39", "Y40T49", "Y50T59", "Y_GE60", "_U")


def _edited(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / source.name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_catalogue_rejects_unknown_key(tmp_path: Path) -> None:
    source = Path(__file__).parents[1] / "data" / "catalogue.toml"
    path = _edited(tmp_path, source, 'id = "decisions"', 'id = "decisions"\ntitel = "x"')
    with pytest.raises(CatalogueError, match=r"tables\[1\]: unknown key 'titel'"):
        read_catalogue(path)


def test_catalogue_rejects_unknown_dimension(tmp_path: Path) -> None:
    source = Path(__file__).parents[1] / "data" / "catalogue.toml"
    path = _edited(tmp_path, source, 'dimensions = ["referrer"]\ntitle',
                   'dimensions = ["regon"]\ntitle')
    with pytest.raises(CatalogueError, match=r"tables\[0\].dimensions: unknown dimension 'regon'; "
                                             "known: referrer"):
        read_catalogue(path)


def test_a_new_table_of_the_same_kind_is_a_catalogue_edit(tmp_path: Path) -> None:
    source = Path(__file__).parents[1] / "data" / "catalogue.toml"
    extra = '''
[[tables]]
id = "new_clients_age"
population = "new_clients"
dimensions = ["age_group"]
title = { fi = "a", sv = "b", en = "c" }
note = { fi = "a", sv = "b", en = "c" }
'''
    path = tmp_path / "catalogue.toml"
    path.write_text(source.read_text(encoding="utf-8") + extra, encoding="utf-8")
    assert read_catalogue(path).table("new_clients_age").dimensions == ("age_group",)


def test_default_policy() -> None:
    policy = read_policy()
    assert policy.min_count == 5 and policy.zeros == "publish" and policy.mode == "suppression"
    assert policy.pool == ("citizenship", "sector")


@pytest.mark.parametrize(("old", "new", "message"), [
    ("min_count = 5", "min_count = 0", r"threshold.min_count must be a whole number >= 1, got 0"),
    ("min_count = 5", "min_cont = 5", r"threshold: unknown key 'min_cont'"),
    ('zeros = "publish"', 'zeros = "maybe"', r"threshold.zeros: 'maybe' is not allowed"),
    ('mode = "suppression"', 'mode = "magic"', r"privacy.mode: 'magic' is not allowed"),
    ('interval = "threshold"', 'interval = "wide"', r"secondary.interval: 'wide' is not allowed"),
])
def test_policy_errors_name_the_setting(tmp_path: Path, old: str, new: str, message: str) -> None:
    source = Path(__file__).parents[1] / "policies" / "default.toml"
    with pytest.raises(PolicyError, match=message):
        read_policy(_edited(tmp_path, source, old, new))


def test_malformed_policy_file(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("[threshold\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="not valid TOML"):
        read_policy(path)


def test_a_count_of_distinct_codes_has_its_own_unit(tmp_path: Path) -> None:
    catalogue = read_catalogue()
    spec = catalogue.table("new_clients_citizenships")
    assert catalogue.unit_of(spec) == {"fi": "kansalaisuutta", "sv": "medborgarskap",
                                       "en": "citizenships"}
    assert catalogue.unit_of(catalogue.table("new_clients"))["en"] == "persons"
    source = Path(__file__).parents[1] / "data" / "catalogue.toml"
    path = _edited(tmp_path, source, 'of = "new_clients_citizenship"\n',
                   'of = "new_clients_citizenship"\nunits = "x"\n')
    with pytest.raises(CatalogueError, match=r"unknown key 'units'"):
        read_catalogue(path)
