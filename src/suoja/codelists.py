"""Code lists and their Finnish, Swedish and English labels: one place for every stage.

Validation checks register codes against these lists, the tables take their categories
(zeros included) from them, and the release and the review take their labels from them.
Country names come from pycountry's ISO 3166-1 data and its translations, except names
in index form (with a comma), which come from CLDR through Babel.
"""

from __future__ import annotations

import gettext
import tomllib
from functools import cache

import pycountry
from babel import Locale

from suoja._resources import data_dir

LANGUAGES: tuple[str, ...] = ("fi", "sv", "en")
TOTAL, OTHER, UNKNOWN, NOT_APPLICABLE = "_T", "_O", "_U", "_Z"
STATELESS, CITIZENSHIP_UNKNOWN = "XXA", "XXX"

AGE_GROUPS: tuple[tuple[str, int | None, int | None], ...] = (
    ("Y_LT18", None, 17),
    ("Y18T29", 18, 29),
    ("Y30T39", 30, 39),
    ("Y40T49", 40, 49),
    ("Y50T59", 50, 59),
    ("Y_GE60", 60, None),
)
"""Age groups of the contract: code, lowest age, highest age (None = open)."""


@cache
def _codes_toml() -> dict:
    with (data_dir() / "codelists" / "codes.toml").open("rb") as f:
        return tomllib.load(f)


@cache
def _nace_file() -> dict:
    with (data_dir() / "codelists" / "nace_divisions.toml").open("rb") as f:
        return tomllib.load(f)


def _nace_toml() -> dict:
    return _nace_file()["codes"]


@cache
def groups(name: str) -> dict[str, tuple[str, ...]]:
    """Groups of codes of list ``name`` that a table may show as one category: their code
    and member codes (NACE sections of divisions: ``F`` is 41-43, construction).

    >>> groups("sector")["F"]
    ('41', '42', '43')
    """
    raw = _nace_file().get("groups", {}) if name == "sector" \
        else _codes_toml().get("groups", {}).get(name, {})
    return {code: tuple(group["members"]) for code, group in raw.items()}


def _group_label(name: str, code: str) -> dict[str, str] | None:
    raw = _nace_file().get("groups", {}) if name == "sector" \
        else _codes_toml().get("groups", {}).get(name, {})
    group = raw.get(code)
    return None if group is None else {lang: group[lang] for lang in LANGUAGES}


@cache
def _country_translations(lang: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])


@cache
def _territories(lang: str) -> dict[str, str]:
    return dict(Locale.parse(lang).territories)


@cache
def citizenship_labels() -> dict[str, dict[str, str]]:
    """ISO 3166-1 alpha-3 codes (plus XXA, XXX and _O) with their labels."""
    labels: dict[str, dict[str, str]] = {}
    for country in sorted(pycountry.countries, key=lambda c: c.alpha_3):
        name = getattr(country, "common_name", None) or country.name
        if ", " in name and country.alpha_2 in _territories("en"):
            # An index form ("Congo, The Democratic Republic of the"): a sentence needs the
            # name as people say it, which CLDR (through Babel) gives in every language.
            labels[country.alpha_3] = {
                lang: _territories(lang)[country.alpha_2] for lang in LANGUAGES
            }
            if " - " in labels[country.alpha_3]["en"]:  # CLDR's "Congo - Kinshasa"
                head, _, tail = name.partition(", ")
                labels[country.alpha_3]["en"] = f"{tail.removeprefix('The ')} {head}"
            continue
        labels[country.alpha_3] = {
            lang: _country_translations(lang).gettext(name) for lang in LANGUAGES
        }
    labels.update(_codes_toml()["citizenship_extra"])
    return labels


@cache
def list_labels(name: str) -> dict[str, dict[str, str]]:
    """Codes of one list (register codes only, in their defined order) with labels.

    >>> list(list_labels("sex"))
    ['F', 'M', 'U']
    """
    if name == "citizenship":
        return {k: v for k, v in citizenship_labels().items() if k != OTHER}
    if name == "sector":
        return dict(_nace_toml())
    lists = _codes_toml()["lists"]
    if name not in lists:
        raise KeyError(f"no code list named {name!r}; known: {', '.join(sorted(lists))}")
    return dict(lists[name])


def codes(name: str) -> tuple[str, ...]:
    """The valid register codes of one list, in order.

    >>> codes("decision")
    ('ACCEPTED', 'REJECTED', 'WITHDRAWN', 'PENDING')
    """
    return tuple(list_labels(name))


def label(name: str, code: str, lang: str) -> str:
    """The label of ``code`` of list ``name`` in ``lang``, special codes included.

    >>> label("citizenship", "_O", "fi")
    'Muut maat'
    >>> label("sex", "_T", "en")
    'Total'
    """
    if name == "citizenship" and code in citizenship_labels():
        return citizenship_labels()[code][lang]
    if name == "sector" and code in _codes_toml()["sector_extra"]:
        return _codes_toml()["sector_extra"][code][lang]
    grouped = _group_label(name, code)
    if grouped is not None:
        return grouped[lang]
    known = list_labels(name)
    if code in known:
        return known[code][lang]
    special = _codes_toml()["special"]
    if code in special:
        return special[code][lang]
    raise KeyError(f"code {code!r} is not in the code list {name!r}")
