"""One rule for "the same city": case, accents, spacing, the aliases of resources/cities.yaml and what a form
writes around a city's name.

Used by the similar stage (no neighbours from one's own city), the city reports, the summary and the web app alike,
so that 'Geneva', 'Genève', 'GENF ', 'geneve' and 'Geneva, Switzerland' are one city everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.config import RESOURCES_DIR, load_yaml
from pipeline.normalize import fold
from pipeline.registry import loader

CITIES_FILE = RESOURCES_DIR / "cities.yaml"
# Separators between a city and the country or region written after it: "Erlangen, Germany", "Genève/Suisse",
# "Geneva - Switzerland" (a hyphen between spaces only: 'Esch-sur-Alzette' is one name).
_SEPARATORS = (",", "/", " - ", " – ", " — ")
_IN_BRACKETS = re.compile(r"(?P<rest>.*[^\s(])\s*\((?P<qualifier>[^()]*)\)")
_PARTS = re.compile("|".join(map(re.escape, _SEPARATORS)) + r"|[()]")
# between two cities written as one practice's: 'Lyon & Grenoble', 'Geneva and Zurich'
_JOINT = re.compile(r"\s+(?:&|\+|and|et|und)\s+")
# The one word around a name that an unlisted city keeps: 'Kansas City' is a city's whole name.
UNLISTED_KEEPS = "city"
# "Montréal (Québec), Canada" is read in two steps; a longer chain is no city name.
_MAX_QUALIFIERS = 3
_MAX_REMEMBERED = 100_000  # names whose reading is kept


@dataclass(frozen=True)
class CityInfo:
    name: str
    country: str | None
    report_lang: str
    names: tuple[tuple[str, str], ...] = ()  # (language, name) where the city is known by another name in it

    def name_in(self, lang: str | None) -> str:
        """The city's name in a language ('Geneva' in English), its listed name where it has no other."""
        return dict(self.names).get(lang or "", self.name)


def fold_key(name: str | None) -> str:
    """A name without case, accents or spacing: 'Genève ' -> 'geneve'; letters of any script stay ('Πάτρα' ->
    'πατρα'), so two cities written in Greek or Cyrillic are two cities. A missing name (None, NaN) gives ''."""
    return re.sub(r"[\W_]+", " ", fold(name if isinstance(name, str) else "")).strip()


@dataclass
class _Directory:
    lookup: dict[str, CityInfo]
    countries_fr: dict[str, str]
    before: re.Pattern
    after: re.Pattern
    places: frozenset[str]  # keys of the countries and regions a form may write after a city
    countries: dict[str, str]  # key of a country's English or French name, other name or code -> its English name
    aliases: dict[str, tuple[str, ...]]  # listed name -> the other spellings cities.yaml gives it
    # name as written -> (listed city or None, name without what was set aside); names recur on every practice
    resolved: dict[str, tuple[CityInfo | None, str]] = field(default_factory=dict)


@loader("city_directory")
def _city_directory() -> _Directory:
    data = load_yaml(CITIES_FILE.read_text(encoding="utf-8"))
    lookup: dict[str, CityInfo] = {}
    aliases: dict[str, tuple[str, ...]] = {}
    for name, item in data["cities"].items():
        names = item.get("names") or {}
        info = CityInfo(name, item.get("country"), item.get("report_lang", "en"), tuple(sorted(names.items())))
        aliases[name] = tuple(item.get("aliases", []))
        for alias in [name, *aliases[name], *names.values()]:
            lookup.setdefault(fold_key(alias), info)
    words = data.get("municipal_words", {})

    def alternation(key: str) -> str:
        return "|".join(re.escape(fold_key(w)) for w in sorted(words.get(key, []), key=len, reverse=True)) or "(?!)"

    countries_fr = data.get("countries_fr", {})
    countries = {fold_key(name): english for english, french in countries_fr.items() for name in (english, french)}
    for english, other in (data.get("country_aliases") or {}).items():
        countries.update({fold_key(str(name)): english for name in other})
    written = [name for group in (data.get("places") or {}).values() for name in group]
    places = set(countries) | {fold_key(p) for p in written}
    return _Directory(lookup, countries_fr, re.compile(rf"^(?:{alternation('before')}) "),
                      re.compile(rf" (?:{alternation('after')})$"), frozenset(places - {""}), countries, aliases)


def _listed(directory: _Directory, name: str) -> CityInfo | None:
    """The listed city of a name, with or without the words around it ('Ville de Montréal', 'Oslo kommune')."""
    key = fold_key(name)
    info = directory.lookup.get(key)
    while info is None and key:
        shorter = directory.after.sub("", directory.before.sub("", key))
        if shorter == key:
            break
        key = shorter
        info = directory.lookup.get(key)
    return info


def _qualified(name: str) -> list[tuple[str, str]]:
    """Each way of reading a name as (city, what follows it): 'Lyon (France)' -> ('Lyon', 'France')."""
    out = []
    match = _IN_BRACKETS.fullmatch(name)
    if match:
        out.append((match["rest"], match["qualifier"]))
    for separator in _SEPARATORS:
        rest, found, qualifier = name.rpartition(separator)
        # a separator inside brackets does not end the city: 'Neukölln (Berlin, Germany)'
        if found and rest.count("(") == rest.count(")"):
            out.append((rest, qualifier))
    return [(rest.strip(), qualifier.strip()) for rest, qualifier in out if rest.strip() and qualifier.strip()]


def _is_place(directory: _Directory, qualifier: str) -> bool:
    """A known country or region, or several ('Québec, Canada')."""
    parts = [fold_key(p) for p in re.split(r"[,/]", qualifier)]
    return all(p in directory.places for p in parts)


def _resolve(directory: _Directory, name: str, depth: int = 0) -> tuple[CityInfo | None, str]:
    info = _listed(directory, name)
    if info is not None:
        return info, info.name
    if depth < _MAX_QUALIFIERS:
        # A country or region after the name is set aside when what is left is a listed city, or when it is a
        # known one: 'Geneva, Switzerland' is Genève, 'Tartu (Estonia)' is Tartu, 'Biel/Bienne' stays as written.
        for rest, qualifier in _qualified(name):
            if _listed(directory, qualifier) is not None and not _is_place(directory, qualifier):
                continue  # two cities ('Geneva / Zurich', 'Oslo, Bergen'): a joint practice, named as written
            rest_info, rest_name = _resolve(directory, rest, depth + 1)
            if rest_info is not None:
                return rest_info, rest_info.name
            if _is_place(directory, qualifier):
                return None, rest_name
    return None, _without_municipal_words(directory, " ".join(name.split()))


def _without_municipal_words(directory: _Directory, name: str) -> str:
    """An unlisted city's name without the words around it that name a municipality ('City of Larnaka' and
    'Larnaka Municipality' are Larnaka, as 'Ville de Montréal' is Montréal), as written otherwise; never empty.
    A last word 'city' stays: it is part of many a city's name ('Kansas City', 'Salt Lake City')."""
    spans = [(m.start(), m.end(), fold_key(m.group(0))) for m in re.finditer(r"[^\W_]+", name)]
    first, last = 0, len(spans)
    while last - first > 1:
        key = " ".join(word for _, _, word in spans[first:last])
        before, after = directory.before.match(key), directory.after.search(key)
        if after and after.group(0).split() == [UNLISTED_KEEPS]:
            after = None
        if before and len(before.group(0).split()) < last - first:
            first += len(before.group(0).split())
        elif after and len(after.group(0).split()) < last - first:
            last -= len(after.group(0).split())
        else:
            break
    if (first, last) == (0, len(spans)):
        return name
    # what follows the last word stays unless words were taken off the end ('Saint-Denis (93)')
    return name[spans[first][0]:spans[last - 1][1] if last < len(spans) else len(name)]


def _resolved(name: str | None) -> tuple[CityInfo | None, str]:
    if not isinstance(name, str):
        return None, ""
    directory = _city_directory()
    found = directory.resolved.get(name)
    if found is None:
        found = _resolve(directory, name)
        joint = [] if found[0] is not None else joint_cities(name)
        if joint:  # 'Lyon & Grenoble' and 'Lyon and Grenoble' are the joint practice 'Lyon / Grenoble' is
            found = _resolve(directory, " / ".join(joint))
        listed = _listed_parts(name) if found[0] is None else []
        if len({info.name for info in listed}) == 1:  # 'Ville de Lyon et Métropole de Lyon' is Lyon
            found = (listed[0], listed[0].name)
        # bounded: the web app looks up whatever city a visitor types
        if len(directory.resolved) < _MAX_REMEMBERED:
            directory.resolved[name] = found
    return found


def _listed_parts(name: str) -> list[CityInfo]:
    """The listed cities of a name written as several ('Lyon / Grenoble', 'Lyon & Grenoble'); [] when one part is
    no listed city or the name is one."""
    parts = joint_cities(name) or name_parts(name)
    infos = [city_info(part) for part in parts]
    return infos if len(infos) > 1 and all(infos) else []


def city_info(name: str | None) -> CityInfo | None:
    """Country and report language of a member city, or None when the city is not listed. 'Ville de Montréal',
    'Oslo kommune' (the words around a name in cities.yaml, `municipal_words`), 'Montréal (Québec)' and
    'Geneva, Switzerland' are listed cities."""
    return _resolved(name)[0]


def city_in_path(path: str | None) -> CityInfo | None:
    """The listed city a file's path names, in its file name first, then in its folders from the nearest
    ('2024/patras/Patras_blank_form.docx' -> Patras), one word or two running words of a name; None when it names
    none or several."""
    parts = [part for part in re.split(r"[\\/]", path or "") if part]
    if not parts:
        return None
    parts[-1] = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", parts[-1])
    for part in reversed(parts):
        words = [w for w in re.split(r"[\s_.,()\[\]-]+", part) if w]
        found = {info.name for n in (2, 1) for k in range(len(words) - n + 1)
                 if (info := city_info(" ".join(words[k:k + n])))}
        if len(found) == 1:
            return city_info(found.pop())
        if found:
            return None
    return None


def city_name(name: str | None, lang: str | None = None) -> str:
    """The name the reports give a city: its listed name (in `lang` where cities.yaml gives one: 'Geneva' in
    English), else the name as written without the country or region after it; '' when there is no city."""
    info, name = _resolved(name)
    return info.name_in(lang) if info else name


def name_parts(name: str | None) -> list[str]:
    """The parts of a city's name written with others, split where `_qualified` reads a qualifier: 'Geneva / Zurich'
    -> ['Geneva', 'Zurich'], 'Neukölln (Berlin, Germany)' -> ['Neukölln', 'Berlin', 'Germany']; [] for one name."""
    parts = [part.strip() for part in _PARTS.split(name or "") if part.strip()]
    return parts if len(parts) > 1 else []


def joint_cities(name: str | None) -> list[str]:
    """Listed cities written together with 'and', '&' or « et » ('Geneva and Zurich' -> ['Geneva', 'Zurich']); []
    when a part is no listed city ('Trois-Rivières et environs')."""
    parts = [part.strip() for part in _JOINT.split(name or "")]
    return parts if len(parts) > 1 and all(city_info(part) for part in parts) else []


def city_country(name: str | None) -> str | None:
    """The English name of a city's country: a listed city's, that of several listed cities of one country written
    together ('Lyon / Grenoble'), else the country a form wrote after an unlisted one ('Larnaka, Cyprus', 'Tartu
    (Estonie)', 'Larnaka - CY'); None when neither says it."""
    info = city_info(name)
    if info is not None or not isinstance(name, str):
        return info.country if info else None
    # a practice of several cities of one country ('Lyon / Grenoble', 'Lyon & Grenoble') is in that country
    listed = [city_info(part) for part in name_parts(name) or joint_cities(name)]
    if len(listed) > 1 and all(listed) and len({info.country for info in listed}) == 1:
        return listed[0].country
    directory = _city_directory()
    for _, qualifier in _qualified(" ".join(name.split())):
        # the last part of 'Québec, Canada' or 'Attica/Greece' is the country where one is named
        for part in reversed(re.split(r"[,/]", qualifier)):
            country = directory.countries.get(fold_key(part))
            if country:
                return country
    return None


def city_names(name: str | None) -> tuple[str, ...]:
    """Every name cities.yaml knows a listed city by: its listed name, its names in other languages and its aliases
    ('Genf' -> Genève, Geneva, Genf, Geneve, Ginevra); () when the city is not listed."""
    info = city_info(name)
    if info is None:
        return ()
    names = [info.name, *(n for _, n in info.names), *_city_directory().aliases.get(info.name, ())]
    return tuple(dict.fromkeys(names))


def city_key(name: str | None) -> str:
    """The key of a city under its listed name, so aliases and 'Erlangen, Germany' are one city with 'Erlangen';
    '' when there is no city. Listed cities written together are one key in any order: 'Grenoble & Lyon' is the joint
    practice 'Lyon / Grenoble' is."""
    info, resolved = _resolved(name)
    listed = [] if info is not None or not isinstance(name, str) else _listed_parts(name)
    if listed:
        return " ".join(sorted(dict.fromkeys(fold_key(part.name) for part in listed)))
    return fold_key(resolved)


def country_name(country: str | None, lang: str) -> str | None:
    if country and lang == "fr":
        return _city_directory().countries_fr.get(country, country)
    return country
