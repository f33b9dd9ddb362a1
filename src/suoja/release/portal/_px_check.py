"""Checks of a PX file: pyaxis reads it in every language, and the structure pyaxis misses.

pyaxis (the PX reader of the Python ecosystem) takes a multilingual file apart by the
order of its keywords and never notices a language that is left out, a DATASYMBOL that is
not declared or a variable without CODES; ``px_problems`` checks those on our own reading
of the syntax (``suoja.release.portal.px.parse_px``).
"""

from __future__ import annotations

import contextlib
import io
import itertools
import logging
import math
from pathlib import Path

from suoja.codelists import LANGUAGES
from suoja.release.portal.px import DOT_SYMBOLS, PxFile, cells, parse_px

Cells = dict[tuple[str, ...], int | None]

MANDATORY = ("CHARSET", "AXIS-VERSION", "CODEPAGE", "LANGUAGE", "TABLEID", "MATRIX",
             "DECIMALS", "SUBJECT-CODE", "SUBJECT-AREA", "DESCRIPTION", "TITLE", "CONTENTS",
             "UNITS", "HEADING", "CONTVARIABLE", "SOURCE")
# Keywords given once per language (with the language's own variable and value names).
LANGUAGE_DEPENDENT = ("SUBJECT-AREA", "DESCRIPTION", "TITLE", "CONTENTS", "UNITS", "STUB",
                      "HEADING", "CONTVARIABLE", "VALUES", "TIMEVAL", "CODES", "VARIABLE-TYPE",
                      "ELIMINATION", "PRECISION", "CONTACT", "SOURCE", "NOTE", "NOTEX",
                      "VALUENOTE", "VALUENOTEX", "MAP", "DOMAIN", "INFOFILE",
                      *DOT_SYMBOLS.values(), "DATASYMBOLSUM")


def _languages(px: PxFile) -> tuple[str, list[str], list[str]]:
    """The default language, all languages, and problems with the two keywords."""
    problems = []
    default = (px.get("LANGUAGE") or [""])[0]
    languages = px.get("LANGUAGES") or [default]
    if not default:
        problems.append("LANGUAGE is missing")
    elif languages[0] != default:
        problems.append(f"LANGUAGES starts with {languages[0]!r}, but LANGUAGE is {default!r}")
    return default, languages, problems


def _per_language(px: PxFile, languages: list[str], default: str) -> list[str]:
    """Every language-dependent keyword given as often in each language as in the default."""
    problems = []
    tags = {lang for _, lang, _ in px.order}
    for tag in sorted(tags - set(languages) - {""}):
        problems.append(f"keywords in [{tag}], which LANGUAGES does not list")
    for name in (*LANGUAGE_DEPENDENT, "LAST-UPDATED"):
        # LAST-UPDATED of a content value is per language; of the whole table it is not.
        counts = {lang: sum(1 for n, t, spec in px.order if n == name and (t or default) == lang
                            and (spec or name != "LAST-UPDATED"))
                  for lang in languages}
        if len(set(counts.values())) > 1:
            most = max(counts.values())
            short = [lang for lang, n in counts.items() if n < most]
            problems.append(f"{name}: given {most} time(s) in "
                            f"{', '.join(lang for lang, n in counts.items() if n == most)}, "
                            f"fewer in {', '.join(short)} (a language left out)")
    return problems


def _variables(px: PxFile, lang: str, tag: str) -> list[str]:
    """The structure of each STUB and HEADING variable in one language."""
    problems = []
    names = (px.get("STUB", tag) or []) + (px.get("HEADING", tag) or [])
    if not names:
        return [f"[{lang}] no STUB or HEADING"]
    contents = (px.get("CONTVARIABLE", tag) or [""])[0]
    if contents not in names:
        problems.append(f"[{lang}] CONTVARIABLE {contents!r} is not a STUB or HEADING variable")
    timevals = [spec[0] for n, t, spec in px.order if n == "TIMEVAL" and t == tag and spec]
    if len(timevals) != 1 or timevals[0] not in names:
        problems.append(f"[{lang}] needs exactly one TIMEVAL for a STUB or HEADING variable")
    for name in names:
        values, codes = px.get("VALUES", tag, name), px.get("CODES", tag, name)
        if not values:
            problems.append(f"[{lang}] variable {name!r} has no VALUES")
            continue
        if codes is None or len(codes) != len(values):
            problems.append(f"[{lang}] variable {name!r}: CODES do not match its "
                            f"{len(values)} VALUES")
        if len(set(values)) != len(values):
            problems.append(f"[{lang}] variable {name!r}: a value name is repeated")
        if px.get("VARIABLE-TYPE", tag, name) is None:
            problems.append(f"[{lang}] variable {name!r} has no VARIABLE-TYPE")
    for value in (px.get("VALUES", tag, contents) or []):
        for keyword in ("UNITS", "LAST-UPDATED"):
            if px.get(keyword, tag, value) is None:
                problems.append(f"[{lang}] content {value!r} has no {keyword}")
    return problems


def _codes_agree(px: PxFile, languages: list[str], default: str) -> list[str]:
    """The same codes, in the same order, in every language."""
    def codes(lang: str) -> list[list[str]]:
        tag = "" if lang == default else lang
        names = (px.get("STUB", tag) or []) + (px.get("HEADING", tag) or [])
        return [px.get("CODES", tag, n) or [] for n in names]

    first = codes(default)
    return [f"[{lang}] CODES differ from the {default} ones" for lang in languages
            if codes(lang) != first]


def _data(px: PxFile, languages: list[str], default: str) -> list[str]:
    problems = []
    expected = cells(px)
    if len(px.data) != expected:
        problems.append(f"DATA has {len(px.data)} values, but the variables make {expected} cells")
    used = {d.strip('"') for d in px.data if d.startswith('"')}
    for symbol in sorted(used):
        keyword = DOT_SYMBOLS.get(symbol)
        if keyword is None:
            problems.append(f"DATA holds {symbol!r}, which is not a PX dot code")
            continue
        missing = [lang for lang in languages
                   if px.get(keyword, "" if lang == default else lang) is None]
        if missing:
            problems.append(f"DATA uses {symbol!r}, but {keyword} is not declared in "
                            f"{', '.join(missing)}")
    if used and (px.get("AGGREGALLOWED") or [""])[0].upper() != "NO":
        problems.append("DATA has hidden cells, but AGGREGALLOWED=NO is missing: PxWeb would "
                        "add them as zero when a reader aggregates")
    for datum in px.data:
        if not datum.startswith('"'):
            try:
                float(datum)
            except ValueError:
                problems.append(f"DATA holds {datum!r}: neither a number nor a quoted dot code")
                break
    return problems


def px_problems(text: str) -> list[str]:
    """Structural problems of a multilingual PX file (empty when there are none)."""
    px = parse_px(text)
    problems = list(px.problems)
    if not px.keywords:
        return problems or ["no keywords"]
    problems += [f"{k} is missing" for k in MANDATORY if px.get(k) is None]
    if (px.get("CHARSET") or [""])[0] == "Unicode" and \
            (px.get("CODEPAGE") or [""])[0].lower() != "utf-8":
        problems.append('CHARSET="Unicode" needs CODEPAGE="utf-8"')
    default, languages, language_problems = _languages(px)
    problems += language_problems + _per_language(px, languages, default)
    for lang in languages:
        problems += _variables(px, lang, "" if lang == default else lang)
    problems += _codes_agree(px, languages, default) + _data(px, languages, default)
    return problems


def _quiet_pyaxis():
    """Import pyaxis without its import-time ``logging.basicConfig`` touching our logging."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        from pyaxis import pyaxis
    finally:
        root.handlers[:], root.level = handlers, level
    return pyaxis


def pyaxis_read(path: Path, reference: Cells) -> str:
    """Read the file with pyaxis in every language; compare the cells with the CSV.

    Returns a one-line summary; raises ValueError (or pyaxis' own error) on a failure.
    """
    pyaxis = _quiet_pyaxis()
    read = {}
    for lang in LANGUAGES:
        with contextlib.redirect_stdout(io.StringIO()):  # pyaxis prints as it reads
            parsed = pyaxis.parse(uri=str(path), encoding="utf-8", lang=lang,
                                  sd_values=r'^"\.\.\."$', null_values=r'^"\."$')
        meta, frame = parsed["METADATA"], parsed["DATA"]
        names = [*meta.get("STUB", []), *meta.get("HEADING", [])]
        codes = [meta.get(f"CODES({n})") for n in names]
        if any(c is None for c in codes):
            raise ValueError(f"[{lang}] pyaxis finds no CODES for every variable")
        expected = math.prod(len(c) for c in codes)
        if len(frame) != expected:
            raise ValueError(f"[{lang}] pyaxis reads {len(frame)} cells, expected {expected}")
        read[lang] = {key: _number(v) for key, v in
                      zip(itertools.product(*codes), frame["DATA"].tolist(), strict=True)}
    default = read[LANGUAGES[0]]
    for lang in LANGUAGES[1:]:
        if read[lang] != default:
            raise ValueError(f"[{lang}] pyaxis reads other figures than in {LANGUAGES[0]}")
    # PX keys are the dimensions, the year and the content code; the CSV's lack the last.
    found = {key[:-1]: value for key, value in default.items()}
    if found != reference:
        diff = sorted(k for k in set(found) | set(reference) if found.get(k, "?") !=
                      reference.get(k, "?"))
        raise ValueError(f"figures differ from the CSV at {len(diff)} cell(s), "
                         f"e.g. {';'.join(diff[0]) or 'total'}")
    return f"read in {', '.join(LANGUAGES)}: {len(default)} cells each, equal to the CSV"


def _number(value: object) -> int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    try:
        number = float(str(value))
    except ValueError:
        raise ValueError(f"pyaxis reads {value!r}, which is not a number") from None
    return int(number)
