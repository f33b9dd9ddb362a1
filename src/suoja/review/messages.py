"""The message catalogues (``messages/{fi,sv,en}.toml``) and Babel formatting per locale.

A message is a string with ``{name}`` fields, or a table of plural forms (``one``,
``other``) chosen by Babel's plural rule for the ``count`` field (by default the ``n``
field). A plural table may add a ``hidden`` form: the whole sentence for a count the
tables withhold, so that no language has to fit "an unpublished number of" into a slot
made for a number. Values are formatted
here, by type: ``Figure`` (a number, or the words for a hidden one), ``int`` (a number),
``float`` (a percentage), lists (joined as the language joins them), ``str`` as it is.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

from babel import Locale
from babel.lists import format_list
from babel.numbers import format_decimal, format_percent

from suoja import codelists
from suoja.review.figures import Figure, Item

LANGUAGES: tuple[str, ...] = ("fi", "sv", "en")
PLURAL_FORMS = frozenset({"zero", "one", "two", "few", "many", "other", "hidden"})
HIDDEN_SYMBOL = ".."


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not (set(value) <= PLURAL_FORMS and "other" in value):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


@cache
def catalogue(lang: str) -> dict[str, Any]:
    """Every message of one language, keyed by dotted name (plural tables kept whole)."""
    text = resources.files("suoja.review").joinpath("messages", f"{lang}.toml").read_text(
        encoding="utf-8")
    return _flatten(tomllib.loads(text))


def catalogue_keys(lang: str) -> set[str]:
    """The dotted keys of one catalogue, plural forms included (``key.one``)."""
    keys = set()
    for key, value in catalogue(lang).items():
        keys |= {f"{key}.{form}" for form in value} if isinstance(value, dict) else {key}
    return keys


class Messages:
    """Words and number formats of one language."""

    def __init__(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise KeyError(f"no messages for language {lang!r}; known: {', '.join(LANGUAGES)}")
        self.lang = lang
        self.messages = catalogue(lang)
        self.locale = Locale.parse(self.messages["meta.locale"])

    def num(self, value: int | float) -> str:
        """A count: ``1 634`` in Finnish and Swedish, ``1,634`` in English."""
        return format_decimal(value, locale=self.locale)

    def decimal(self, value: float) -> str:
        """A number with one decimal: ``2,5`` or ``2.5``."""
        return format_decimal(value, format="#,##0.0", locale=self.locale)

    def pct(self, value: float) -> str:
        """A rounded percentage: ``61 %`` or ``61%``; a positive share under 1 % says so."""
        if 0 < value < 0.005:
            return self.t("number.under_one_percent")
        return format_percent(value, locale=self.locale)

    def word(self, value: int) -> str:
        """A small count in words (``viisi``, ``fem``, ``five``), larger ones as digits."""
        return str(self.messages.get(f"number.words.{value}", self.num(value)))

    def fig(self, figure: Figure) -> str:
        """A published figure as a number ("no" for zero), a hidden one as words only."""
        if figure.value == 0:
            return self.t("number.zero")
        if figure.value is not None:
            return self.num(figure.value)
        if figure.few:
            return self.t("hidden.few", k=self.word(figure.threshold))
        return self.t("hidden.withheld")

    def cell(self, figure: Figure) -> str:
        """A figure in a table: the number, or the symbol of a hidden cell."""
        return HIDDEN_SYMBOL if figure.value is None else self.num(figure.value)

    def label(self, codelist: str, code: str) -> str:
        """The label of a code in this language."""
        return codelists.label(codelist, code, self.lang)

    def age_range(self, low: int | None, high: int | None) -> str:
        """Ages ``low`` to ``high`` (None: open-ended) as a sentence names them."""
        if low is None:
            return self.t("age_range.under", n=high + 1)
        if high is None:
            return self.t("age_range.open", low=low)
        return self.t("age_range.closed", low=low, high=high)

    def join(self, parts: Iterable[str]) -> str:
        """``a, b and c`` as the language writes it."""
        return format_list(list(parts), locale=self.locale)

    def show(self, value: Any) -> str:
        """Any value of a message field, formatted by its type."""
        if isinstance(value, Item):
            return self.fig(value.figure)
        if isinstance(value, Figure):
            return self.fig(value)
        if isinstance(value, bool) or value is None:
            raise TypeError(f"cannot show {value!r} in a message")
        if isinstance(value, int):
            return self.num(value)
        if isinstance(value, float):
            return self.pct(value)
        if isinstance(value, list | tuple):
            return self.join(self.show(v) for v in value)
        return str(value)

    def _plural(self, forms: dict[str, str], count: Any) -> str:
        if isinstance(count, Item):
            count = count.figure
        if isinstance(count, Figure):
            if count.value is None and not count.few and "hidden" in forms:
                return forms["hidden"]
            count = count.value
        form = "other" if count is None else self.locale.plural_form(count)
        return forms.get(form, forms["other"])

    def t(self, key: str, count: Any = None, **values: Any) -> str:
        """The message ``key`` with its fields filled in; ``count`` chooses the plural."""
        try:
            message = self.messages[key]
        except KeyError:
            raise KeyError(f"message {key!r} is missing from messages/{self.lang}.toml") from None
        if isinstance(message, dict):
            message = self._plural(message, values.get("n") if count is None else count)
        if count is not None:
            values.setdefault("count", count)
        text = str(message).format_map({k: self.show(v) for k, v in values.items()})
        if str(message).startswith("{") and text.endswith((".", "!", "?")):
            text = text[:1].upper() + text[1:]  # a sentence that opens with a field
        return text

    def what(self, kind: str, code: str) -> str:
        """A code as a sentence names it: countries and sectors by label, others by word."""
        if kind == "citizenship":
            return self.label("citizenship", code)
        if kind == "sector":
            text = self.label("sector", code)
            return text[:1].lower() + text[1:]
        return self.t(f"words.{kind}.{code}")

    def listing(self, items: Iterable[Item], key: str, kind: str) -> str:
        """Items joined into one phrase.

        Each item is the message ``key.share`` when its share is known, else ``key.count``
        (fields ``what``, ``n``, ``share``).
        """
        parts = []
        for i in items:
            fields: dict[str, Any] = {"what": self.what(kind, i.code), "n": i.figure}
            if i.share is not None:
                parts.append(self.t(f"{key}.share", share=i.share, **fields))
            else:
                parts.append(self.t(f"{key}.count", **fields))
        return self.join(parts)

    def whats(self, codes: Iterable[str], kind: str) -> str:
        """Several codes named as a sentence names them, joined."""
        return self.join(self.what(kind, code) for code in codes)

    def labels(self, codelist: str, codes: Iterable[str]) -> str:
        """The labels of several codes, joined."""
        return self.join(self.label(codelist, code) for code in codes)
