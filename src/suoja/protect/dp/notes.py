# ruff: noqa: RUF001  (Finnish writes number ranges with an en dash)
"""Texts of a differentially private release in Finnish, Swedish and English.

For the review's methods note, the JSON-stat ``extension`` of each table and the status
``C`` of quality-suppressed figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from suoja.protect.dp.settings import DPSettings

MECHANISM = {
    "laplace": {"fi": "diskreetti Laplace-kohina", "sv": "diskret Laplacebrus",
                "en": "integer Laplace noise"},
    "gaussian": {"fi": "diskreetti normaalijakautunut kohina", "sv": "diskret normalfördelat brus",
                 "en": "discrete Gaussian noise"},
}

STATUS = {
    "fi": "Ei julkaista: kohinan vuoksi liian epävarma pieni luku.",
    "sv": "Publiceras inte: ett litet tal som är för osäkert på grund av bruset.",
    "en": "Not published: a small figure too uncertain because of the noise.",
}


def _number(value: float, lang: str) -> str:
    text = f"{value:g}"
    return text.replace(".", ",") if lang in ("fi", "sv") else text


def status_text(lang: str) -> str:
    """What status ``C`` means in a differentially private release."""
    return STATUS[lang]


def error_note(bound: float, lang: str) -> str:
    """One table's 95 % error bound in words, e.g. ``95% error bound ±12``."""
    b = f"{bound:.0f}"
    return {"fi": f"Virhemarginaali (95 %) ±{b}", "sv": f"Felmarginal (95 %) ±{b}",
            "en": f"95% error bound ±{b}"}[lang]


def jsonstat_extension(bound: float, settings: DPSettings, lang: str) -> dict[str, Any]:
    """What a table's JSON-stat ``extension`` says about differential privacy."""
    return {
        "error_bound_95": bound,
        "error_note": error_note(bound, lang),
        "privacy": {"method": "differential privacy", "mechanism": settings.mechanism,
                    "epsilon": settings.epsilon, "delta": settings.delta, "unit": "person"},
        "status": {"C": status_text(lang)},
    }


def cap_note(settings: DPSettings, lang: str) -> str:
    """The yearly cap in words, and what it does not cover: a person counts once per
    release, so one who is in several years' figures spends from several years' budgets."""
    cap = _number(settings.yearly_epsilon_cap, lang)
    delta = f", δ = {settings.yearly_delta_cap:.0e}" if settings.mechanism == "gaussian" else ""
    return {
        "fi": (f" Saman tilastovuoden julkaisut voivat käyttää yhteensä enintään ε = {cap}"
               f"{delta}; rekisterin yhteydessä pidettävä kirjanpito estää tätä suuremman "
               "käytön. Raja laskee jokaisen henkilön kerran julkaisua kohden: henkilö, joka "
               "on luvuissa useana vuonna (esimerkiksi asiakkaana kunkin vuoden 31. "
               "joulukuuta), kuluttaa jokaisen näiden vuosien budjettia, joten hänen "
               "suojansa vuosien yli on usean vuoden budjettien summa."),
        "sv": (f" Publikationerna för ett statistikår får tillsammans använda högst ε = {cap}"
               f"{delta}; en logg som förs med registret vägrar varje publikation utöver det. "
               "Taket räknar varje person en gång per publikation: en person som finns i "
               "siffrorna flera år (till exempel som klient den 31 december varje år) förbrukar "
               "av budgeten för vart och ett av dessa år, så personens skydd över åren är "
               "summan av flera årsbudgetar."),
        "en": (f" The releases of one statistical year may spend at most ε = {cap}{delta} "
               "together; a ledger kept with the register refuses any release beyond it. The "
               "cap counts each person once per release: a person who is in the figures of "
               "several years (for example a client on 31 December of each) spends from the "
               "budget of each of those years, so that person's protection across the years "
               "is the sum of several yearly budgets."),
    }[lang]


def methods_note(settings: DPSettings, error_bounds: Mapping[str, float], lang: str,
                 titles: Mapping[str, str] | None = None) -> str:
    """The review's methods note on differential privacy, in one language.

    ``titles`` maps table ids to their titles in ``lang``; the note then lists every
    table's 95 % error bound.
    """
    eps = _number(settings.epsilon, lang)
    delta = f", δ = {settings.delta:.0e}" if settings.mechanism == "gaussian" else ""
    mech = MECHANISM[settings.mechanism][lang]
    events, records = settings.max_events_per_person, settings.max_records_per_person
    low = settings.suppress_below
    if lang == "fi":
        text = (
            f"Differentiaalinen tietosuoja. Luvut ovat lukumääriä, joihin on lisätty "
            f"satunnaista kohinaa ({mech}; koko julkaisun yksityisyysbudjetti ε = {eps}{delta}, "
            "suojattava yksikkö on henkilö), niin ettei mikään luku paljasta, onko joku "
            "yksittäinen henkilö rekisterissä. Yhdeltä henkilöltä lasketaan enintään "
            f"{events} {'hyväksikäyttötapahtuma' if events == 1 else 'hyväksikäyttötapahtumaa'}"
            f" ja muihin vuoden joukkoihin enintään {records} "
            f"{'kirjaus' if records == 1 else 'kirjausta'} kuhunkin. "
            "Kohinaiset luvut on sovitettu ei-negatiivisiksi kokonaisluvuiksi, "
            "joiden osat summautuvat yhteissummiin jokaisessa taulukossa ja toisiinsa "
            "liittyvien taulukoiden välillä; sovitus ei käytä henkilöistä mitään lisätietoa. "
            "Taulukon virhemarginaali on lisätyn kohinan 95 %:n raja: ennen sovitusta luku "
            "poikkeaa todellisesta enintään virhemarginaalin verran 95 %:n todennäköisyydellä. "
            "Sovitus pienentää yhteissummien ja tyhjien luokkien virhettä.")
        if low:
            text += f" Lukuja 1–{low - 1} ei julkaista (C), koska ne ovat liian epävarmoja."
    elif lang == "sv":
        text = (
            f"Differentiell integritet. Siffrorna är antal till vilka slumpmässigt brus har "
            f"lagts ({mech}; integritetsbudget ε = {eps}{delta} för hela publikationen, den "
            "skyddade enheten är en person), så att ingen siffra avslöjar om en enskild person "
            f"finns i registret. En person räknas med högst {events} "
            f"{'händelse' if events == 1 else 'händelser'} av utnyttjande och {records} "
            f"{'post' if records == 1 else 'poster'} i varje annan population av året. "
            "De brusiga siffrorna "
            "har justerats till icke-negativa heltal vars delar summerar till totalerna i varje "
            "tabell och mellan länkade tabeller; justeringen använder ingen ytterligare "
            "information om personer. Tabellens felmarginal är 95 %-gränsen för bruset: före "
            "justeringen avviker en siffra från den sanna med högst felmarginalen med 95 % "
            "sannolikhet. Justeringen minskar felet i totaler och i tomma kategorier.")
        if low:
            text += (f" Siffror från 1 till {low - 1} publiceras inte (C) eftersom de är för "
                     "osäkra.")
    else:
        text = (
            f"Differential privacy. The figures are counts with random noise added ({mech}; "
            f"privacy-loss budget ε = {eps}{delta} for the whole release, the protected unit "
            "being one person), so that no figure reveals whether any one person is in the "
            f"register. One person counts with at most {events} exploitation "
            f"{'event' if events == 1 else 'events'} and {records} "
            f"{'record' if records == 1 else 'records'} in each other population of the "
            "year. The noisy figures were "
            "then adjusted to non-negative whole numbers whose parts add up to their totals in "
            "every table and across linked tables; the adjustment uses no further information "
            "about persons. A table's error bound is the 95% bound of the noise: before the "
            "adjustment, a figure is within the bound of the true figure with probability 95%. "
            "The adjustment lowers the error of totals and of empty categories.")
        if low:
            text += f" Figures from 1 to {low - 1} are not published (C): too uncertain."
    text += cap_note(settings, lang)
    if titles:
        lines = [f"{titles.get(t, t)}: ±{b:.0f}" for t, b in error_bounds.items()]
        head = {"fi": "Virhemarginaalit (95 %)", "sv": "Felmarginaler (95 %)",
                "en": "Error bounds (95%)"}[lang]
        text += f"\n{head}:\n" + "\n".join(lines)
    return text
