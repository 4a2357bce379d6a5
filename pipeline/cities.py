"""One rule for "the same city": case, accents, spacing and the aliases of resources/cities.yaml.

Used by the similar stage (no neighbours from one's own city), the city reports and the summary alike, so that
'Geneva', 'Genève', 'GENF ' and 'geneve' are one city everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.config import RESOURCES_DIR, load_yaml
from pipeline.normalize import fold
from pipeline.registry import loader

CITIES_FILE = RESOURCES_DIR / "cities.yaml"


@dataclass(frozen=True)
class CityInfo:
    name: str
    country: str | None
    report_lang: str


def fold_key(name: str | None) -> str:
    """A name without case, accents or spacing: 'Genève ' -> 'geneve'; letters of any script stay ('Πάτρα' ->
    'πατρα'), so two cities written in Greek or Cyrillic are two cities. A missing name (None, NaN) gives ''."""
    return re.sub(r"[\W_]+", " ", fold(name if isinstance(name, str) else "")).strip()


@loader("city_directory")
def _city_directory() -> tuple[dict[str, CityInfo], dict[str, str], tuple[re.Pattern, re.Pattern]]:
    data = load_yaml(CITIES_FILE.read_text(encoding="utf-8"))
    lookup: dict[str, CityInfo] = {}
    for name, item in data["cities"].items():
        info = CityInfo(name, item.get("country"), item.get("report_lang", "en"))
        for alias in [name, *item.get("aliases", [])]:
            lookup.setdefault(fold_key(alias), info)
    words = data.get("municipal_words", {})

    def alternation(key: str) -> str:
        return "|".join(re.escape(fold_key(w)) for w in sorted(words.get(key, []), key=len, reverse=True)) or "(?!)"

    around = (re.compile(rf"^(?:{alternation('before')}) "), re.compile(rf" (?:{alternation('after')})$"))
    return lookup, data.get("countries_fr", {}), around


def city_info(name: str | None) -> CityInfo | None:
    """Country and report language of a member city, or None when the city is not listed. 'Ville de Montréal'
    and 'Oslo kommune' are Montréal and Oslo (the words around a name in cities.yaml, `municipal_words`)."""
    lookup, _, (before, after) = _city_directory()
    key = fold_key(name)
    info = lookup.get(key)
    while info is None and key:
        shorter = after.sub("", before.sub("", key))
        if shorter == key:
            break
        key = shorter
        info = lookup.get(key)
    return info


def city_key(name: str | None) -> str:
    """The key of a city under its listed name, so aliases are one city; '' when there is no city."""
    info = city_info(name)
    return fold_key(info.name if info else name)


def country_name(country: str | None, lang: str) -> str | None:
    if country and lang == "fr":
        return _city_directory()[1].get(country, country)
    return country
