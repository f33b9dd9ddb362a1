"""PX files for PxWeb: one multilingual file per table (Finnish first, Swedish, English).

Follows Statistics Finland's PX keyword specification of 2024 (the Px.Utils
``PX-file keyword specification``): ``CHARSET="Unicode"``, ``AXIS-VERSION="2024"``,
``CODEPAGE="utf-8"``, the keywords in the order that specification lists them, and every
language-dependent keyword written for every language, the default language first and
its translations right after it (``NOTE=...; NOTE[sv]=...; NOTE[en]=...;``), which is
also what PxWeb and pyaxis expect.

The table's dimensions are the stub; the heading is the year (``TIMEVAL``, variable type
``Time``) and the content variable (``Tiedot``, type ``Content``) with one value, the
count. Hidden cells are written ``"..."``, Statistics Finland's symbol for confidential
data, declared with ``DATASYMBOL3`` and explained in ``NOTE`` in each language.

``parse_px`` is a small reader of the PX syntax for ``suoja check``; it keeps what pyaxis
drops (which language each keyword was given in, and their order).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

import suoja
from suoja import codelists
from suoja._jsonstat import METRIC_LABEL, STATUS_TEXT, YEAR_LABEL, cube_order
from suoja.catalogue import TableSpec
from suoja.codelists import LANGUAGES, TOTAL
from suoja.errors import CatalogueError
from suoja.portal._metadata import PortalMetadata, portal_metadata, portal_texts
from suoja.protected import CONFIDENTIAL, ProtectedRelease

CONFIDENTIAL_SYMBOL = "..."
DOT_SYMBOLS = {".": "DATASYMBOL1", "..": "DATASYMBOL2", "...": "DATASYMBOL3",
               "....": "DATASYMBOL4", ".....": "DATASYMBOL5", "......": "DATASYMBOL6",
               "-": "DATASYMBOLNIL"}
MAX_LINE = 256
CRLF = "\r\n"


def _local(moment: dt.datetime) -> str:
    """PX time stamps are Finnish local time, ``CCYYMMDD hh:mm``."""
    try:
        moment = moment.astimezone(ZoneInfo("Europe/Helsinki"))
    except ZoneInfoNotFoundError:  # no time zone data: keep UTC rather than fail
        pass
    return moment.strftime("%Y%m%d %H:%M")


def _clean(text: str) -> str:
    """PX strings cannot hold a double quote or a line break."""
    return " ".join(text.replace('"', "'").split())


def _quoted(text: str, room: int = MAX_LINE) -> list[str]:
    """A string as PX writes it: in quotes, cut into quoted pieces if the line is too long."""
    text = _clean(text)
    if len(text) + 3 <= room:
        return [f'"{text}"']
    pieces, rest = [], text
    while len(rest) > 200:
        cut = rest.rfind(" ", 100, 200)
        cut = cut if cut > 0 else 200
        pieces.append(rest[:cut])
        rest = rest[cut:]
    return [f'"{p}"' for p in [*pieces, rest]]


def _keyword(name: str, lang: str, *spec: str) -> str:
    tag = "" if lang == LANGUAGES[0] else f"[{lang}]"
    sub = "(" + ",".join(f'"{_clean(s)}"' for s in spec) + ")" if spec else ""
    return f"{name}{tag}{sub}"


def _line(key: str, items: list[str]) -> list[str]:
    """``KEY=item,item,...;``, wrapped after a comma when a line would pass 256 characters."""
    lines, current = [], f"{key}="
    for i, item in enumerate(items):
        sep = "" if i == 0 else ","
        if len(current) + len(sep) + len(item) + 1 > MAX_LINE and current != f"{key}=":
            lines.append(current + sep)
            current = item
        else:
            current += sep + item
    return [*lines, current + ";"]


def _text(key: str, text: str) -> list[str]:
    pieces = _quoted(text, MAX_LINE - len(key) - 1)
    lines = [f"{key}={pieces[0]}", *pieces[1:]]
    lines[-1] += ";"
    return lines


def _unique(labels: list[str], codes: list[str]) -> list[str]:
    """PX identifies values by their text: make repeated labels unique with their code."""
    seen = [_clean(label) for label in labels]
    return [f"{label} ({code})" if seen.count(label) > 1 else label
            for label, code in zip(seen, codes, strict=True)]


@dataclass(frozen=True)
class _Variable:
    names: dict[str, str]
    codes: list[str]
    values: dict[str, list[str]]
    kind: str


def _variables(release: ProtectedRelease, spec: TableSpec,
               codes: dict[str, list[str]]) -> tuple[list[_Variable], list[_Variable]]:
    catalogue, texts = release.catalogue, portal_texts()
    stub = []
    for dim in spec.dimensions:
        codelist = catalogue.dimensions[dim].codelist
        values = {lang: _unique([codelists.label(codelist, c, lang) for c in codes[dim]],
                                codes[dim]) for lang in LANGUAGES}
        stub.append(_Variable(catalogue.dimensions[dim].label, codes[dim], values,
                              "Classificatory"))
    year = str(release.year)
    heading = [
        _Variable(YEAR_LABEL, [year], {lang: [year] for lang in LANGUAGES}, "Time"),
        _Variable(texts["contents_variable"], ["value"],
                  {lang: [METRIC_LABEL[lang]] for lang in LANGUAGES}, "Content"),
    ]
    return stub, heading


def _each(name: str, value: dict[str, str], *spec_of: dict[str, str]) -> list[str]:
    """One text keyword in every language, translations right after the default."""
    out = []
    for lang in LANGUAGES:
        out += _text(_keyword(name, lang, *(s[lang] for s in spec_of)), value[lang])
    return out


def _each_list(name: str, items: dict[str, list[str]], *spec_of: dict[str, str]) -> list[str]:
    out = []
    for lang in LANGUAGES:
        quoted = [f'"{_clean(i)}"' for i in items[lang]]
        out += _line(_keyword(name, lang, *(s[lang] for s in spec_of)), quoted)
    return out


def _has_hidden(ordered: pl.DataFrame) -> bool:
    """Whether a cell is not published (status C, or no value)."""
    return bool(ordered["value"].is_null().any()
                or (ordered["status"] == CONFIDENTIAL).any())


def px_text(release: ProtectedRelease, spec: TableSpec,
            meta: PortalMetadata | None = None) -> str:
    """The PX file of one table, as text (lines end with CR LF)."""
    meta = meta or portal_metadata(release.catalogue, release.year)
    codes, ordered = cube_order(release, spec)
    stub, heading = _variables(release, spec, codes)
    variables = [*stub, *heading]
    for lang in LANGUAGES:
        names = [v.names[lang] for v in variables]
        if len(set(map(_clean, names))) != len(names):
            raise CatalogueError(f"{spec.id}: PX needs distinct variable names, but {lang} has "
                                 f"{', '.join(names)}; rename a dimension's label")
    contents = heading[1]
    cname, cvalue = contents.names, {lang: contents.values[lang][0] for lang in LANGUAGES}
    unit = release.catalogue.unit_of(spec)
    stamp = _local(release.created)
    title = spec.title
    lines = [
        'CHARSET="Unicode";', 'AXIS-VERSION="2024";', 'CODEPAGE="utf-8";',
        f'LANGUAGE="{LANGUAGES[0]}";', "LANGUAGES=" + ",".join(f'"{x}"' for x in LANGUAGES) + ";",
        f'CREATION-DATE="{stamp}";',
        f'TABLEID="{meta.px["table_prefix"]}_{spec.id}";',
        f'MATRIX="{meta.px["table_prefix"]}_{spec.id}_{release.year}";',
        # PxWeb adds a hidden cell ("...") as zero when a reader aggregates: forbid it.
        *(["AGGREGALLOWED=NO;"] if _has_hidden(ordered) else []),
        "DECIMALS=0;", f'SUBJECT-CODE="{_clean(meta.px["subject_code"])}";',
        *_each("SUBJECT-AREA", meta.px["subject_area"]),
        *_each("DESCRIPTION", {lang: f"{title[lang]}, {release.year}" for lang in LANGUAGES}),
        *_each("TITLE", title), *_each("CONTENTS", title),
        *_each("UNITS", release.catalogue.unit),
    ]
    if stub:
        lines += _each_list("STUB", {lang: [v.names[lang] for v in stub] for lang in LANGUAGES})
    lines += _each_list("HEADING", {lang: [v.names[lang] for v in heading] for lang in LANGUAGES})
    lines += _each("CONTVARIABLE", cname)
    for var in variables:
        lines += _each_list("VALUES", var.values, var.names)
    timeval = {lang: f'TLIST(A1),"{release.year}"' for lang in LANGUAGES}
    for lang in LANGUAGES:
        lines.append(f"{_keyword('TIMEVAL', lang, YEAR_LABEL[lang])}={timeval[lang]};")
    for var in variables:
        lines += _each_list("CODES", {lang: var.codes for lang in LANGUAGES}, var.names)
    for var in variables:
        lines += _each("VARIABLE-TYPE", {lang: var.kind for lang in LANGUAGES}, var.names)
    for var in stub:
        if TOTAL in var.codes:
            total = var.codes.index(TOTAL)
            lines += _each("ELIMINATION", {lang: var.values[lang][total] for lang in LANGUAGES},
                           var.names)
    for lang in LANGUAGES:
        lines.append(f"{_keyword('PRECISION', lang, cname[lang], cvalue[lang])}=0;")
    lines += _each("LAST-UPDATED", {lang: stamp for lang in LANGUAGES}, cvalue)
    lines += _each("UNITS", unit, cvalue)
    lines += _each("CONTACT", {lang: f"{meta.contact_name[lang]}, {meta.contact_email}, "
                               f"{meta.landing_page[lang]}" for lang in LANGUAGES}, cvalue)
    lines += _each("SOURCE", release.catalogue.publisher)
    lines += [f"OFFICIAL-STATISTICS={'YES' if meta.official_statistics else 'NO'};",
              "SHOWDECIMALS=0;", f'MADE-WITH="suoja {suoja.__version__}";', "COPYRIGHT=YES;"]
    symbol = portal_texts()["symbol_note"]
    lines += _each("NOTE", {lang: f"{spec.note[lang]} {symbol[lang]} {STATUS_TEXT[lang]}"
                            for lang in LANGUAGES})
    lines += _each("DATASYMBOL3", {lang: CONFIDENTIAL_SYMBOL for lang in LANGUAGES})
    lines.append("DATA=")
    for value, status in zip(ordered["value"].to_list(), ordered["status"].to_list(),
                             strict=True):
        lines.append(f'"{CONFIDENTIAL_SYMBOL}"' if status == CONFIDENTIAL or value is None
                     else str(int(value)))
    lines[-1] += ";"
    return CRLF.join(lines) + CRLF


def write_px(release: ProtectedRelease, spec: TableSpec, folder: Path,
             meta: PortalMetadata | None = None) -> Path:
    """Write ``T.px`` (UTF-8 without a byte-order mark)."""
    path = folder / f"{spec.id}.px"
    path.write_bytes(px_text(release, spec, meta).encode("utf-8"))
    return path


# --- reading -------------------------------------------------------------------------------

_KEY = re.compile(r'^\s*([A-Z0-9-]+)(?:\[([a-z]{2})\])?\s*(?:\((.*)\))?\s*$', re.S)


@dataclass
class PxFile:
    """A PX file as keywords: ``(name, lang, specifiers) -> values`` in file order."""

    keywords: dict[tuple[str, str, tuple[str, ...]], list[str]] = field(default_factory=dict)
    order: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    data: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def get(self, name: str, lang: str = "", *spec: str) -> list[str] | None:
        """The values of one keyword (``lang`` empty = the default language)."""
        return self.keywords.get((name, lang, tuple(spec)))


def _tokens(text: str) -> list[str]:
    """Split a keyword's value into items; adjacent quoted pieces join into one string."""
    items: list[str] = []
    pos, joined = 0, False
    for match in re.finditer(r'"([^"]*)"|([^",\s]+)|(,)', text):
        piece, bare, comma = match.groups()
        gap = text[pos:match.start()]
        pos = match.end()
        if comma:
            joined = False
        elif piece is not None:
            if items and joined and "," not in gap:
                items[-1] += piece
            else:
                items.append(piece)
            joined = True
        else:
            items.append(bare)
            joined = False
    return items


def _statements(meta: str) -> list[str]:
    """The ``KEY=VALUE`` statements of the metadata part (``;`` outside quotes ends one)."""
    out, current, quoted = [], [], False
    for ch in meta:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            out.append("".join(current))
            current = []
        else:
            current.append(ch)
    if "".join(current).strip():
        out.append("".join(current))
    return out


def parse_px(text: str) -> PxFile:
    """Read PX syntax leniently, collecting problems instead of failing on the first."""
    px = PxFile()
    head, sep, data = text.partition("\nDATA=")
    if not sep:
        head, sep, data = text.partition("DATA=")
    if not sep:
        px.problems.append("no DATA keyword")
        return px
    for statement in _statements(head):
        if not statement.strip():
            continue
        key, eq, value = statement.partition("=")
        match = _KEY.match(key)
        if not eq or not match:
            px.problems.append(f"cannot read the statement {statement.strip()[:60]!r}")
            continue
        name, lang, spec = match.group(1), match.group(2) or "", match.group(3)
        ident = (name, lang, tuple(_tokens(spec)) if spec else ())
        if ident in px.keywords:
            px.problems.append(f"{_show(ident)} is given twice")
        px.keywords[ident] = _tokens(value)
        px.order.append(ident)
    px.data = re.findall(r'"[^"]*"|[^\s;,"]+', data.rstrip().rstrip(";"))
    return px


def _show(ident: tuple[str, str, tuple[str, ...]]) -> str:
    name, lang, spec = ident
    tag = f"[{lang}]" if lang else ""
    sub = "(" + ",".join(f'"{s}"' for s in spec) + ")" if spec else ""
    return f"{name}{tag}{sub}"


def cells(px: PxFile) -> int:
    """The number of cells the STUB and HEADING variables make, in the default language."""
    names = (px.get("STUB") or []) + (px.get("HEADING") or [])
    return math.prod(len(px.get("VALUES", "", n) or []) for n in names)
