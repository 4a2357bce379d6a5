"""French and English words of the web app, and the choice of language for each request.

The UI language is the one chosen with the switch (kept in a cookie), else the browser's Accept-Language, else
English.
On the check page, each practice of a form is shown in its own language, as `icc-practices check` shows it; the
page around it stays in the UI language, as does a practice in a language the site does not speak.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path


from pipeline.cities import country_name
from pipeline.config import RESOURCES_DIR, SUPPORTED_SUFFIXES, load_yaml
from pipeline.normalize import is_singular
from pipeline.taxonomy import Taxonomy, load_taxonomy

LANGS = ("en", "fr")
LANG_COOKIE = "icc_lang"
WEB_MESSAGES_FILE = Path(__file__).resolve().parent / "messages.yaml"
PIPELINE_MESSAGES_FILE = RESOURCES_DIR / "messages.yaml"


@dataclass(frozen=True)
class Messages:
    """Both message files, loaded once at start."""

    web: dict
    pipeline: dict  # the words of `icc-practices check`: field, criterion, check and warning names
    taxonomy: Taxonomy

    @classmethod
    def load(cls) -> "Messages":
        read = lambda path: load_yaml(path.read_text(encoding="utf-8"))  # noqa: E731
        return cls(read(WEB_MESSAGES_FILE), read(PIPELINE_MESSAGES_FILE), load_taxonomy())

    def translator(self, lang: str | None) -> "Translator":
        return Translator(supported(lang) or "en", self)


def supported(lang: str | None) -> str | None:
    """'fr' or 'en' for a language tag such as 'fr-CH', else None."""
    if not lang:
        return None
    primary = lang.strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in LANGS else None


def from_accept_language(header: str | None) -> str | None:
    """The supported language the browser prefers most (q-values honoured), or None."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((header or "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        lang = supported(tag)
        if lang and quality > 0:
            ranked.append((-quality, position, lang))
    return min(ranked)[2] if ranked else None


def request_language(cookie_lang: str | None, accept_language: str | None) -> str:
    return supported(cookie_lang) or from_accept_language(accept_language) or "en"


class Translator:
    """The words of one language: `t("search.title")`, `t.plural("search.results", 3)`, plus names of fields,
    criteria, guideline checks, warnings and areas."""

    def __init__(self, lang: str, messages: Messages):
        self.lang = lang
        self.other = "fr" if lang == "en" else "en"
        self._web = messages.web[lang]
        self._pipeline = messages.pipeline[lang]
        self._taxonomy = messages.taxonomy
        # French puts a no-break space before ':' and ';'
        self.colon = "\u00a0:" if lang == "fr" else ":"
        self.semicolon = "\u00a0; " if lang == "fr" else "; "

    def __call__(self, key: str, **values) -> str:
        node = self._web
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return key  # a missing key shows itself rather than breaking a page
            node = node[part]
        text = str(node)
        return text.format(**values) if values else text

    def plural(self, key: str, n: int) -> str:
        """`key.one` or `key.other` with n, as the language counts: French says "0 pratique", English "0 practices"."""
        return self(f"{key}.{'one' if is_singular(n, self.lang) else 'other'}", n=n)

    def knows(self, key: str) -> bool:
        return self(key) != key

    def refusal(self, error: dict) -> str:
        """One refused parameter of an address (an error of RequestValidationError) in this language: the search's
        own refusals and FastAPI's checks by their type, anything else by the parameter and its value."""
        key = f"invalid.{error['type']}"
        values = {"name": error["loc"][-1], "value": error.get("input"), **(error.get("ctx") or {})}
        return self(key if self.knows(key) else "invalid.other", **values)

    def field(self, name: str) -> str:
        return self._pipeline["fields"].get(name, name.replace("_", " "))

    def quoted(self, words: list[str]) -> str:
        return quoted_words(self._pipeline, words)

    def criterion(self, name: str) -> str:
        return self._pipeline["criteria"].get(name, name.replace("_", " "))

    def check(self, name: str) -> str:
        return self._pipeline["checks"].get(name, name.replace("_", " "))

    def warning(self, code: str) -> str:
        """A practice warning ("missing_section:impact") in words, as `icc-practices check` says it."""
        return warning_words(self._pipeline, code)

    def area(self, code: str) -> str:
        return area_words(self._taxonomy, code, self.lang)

    def as_declared(self, codes: list[str]) -> list[str]:
        """Declared codes as the city wrote them: "3b", "7a" without the parents "3", "7" the run adds to them."""
        return _without_implied_parents(list(codes), self._taxonomy)

    def area_mismatch(self, declared: list[str], predicted: list[str], to_the_city: bool = True) -> str | None:
        """Why the declared main area was flagged, as `icc-practices check` says it to the city (None without
        areas); on a practice's page (`to_the_city` False), of the form rather than to its writer."""
        return area_mismatch_words(self._pipeline, self._taxonomy, self.lang, declared, predicted,
                                   "mismatch" if to_the_city else "mismatch_page")

    def years(self, start: int | None, end: int | None, ongoing: bool) -> str | None:
        return years_words(start, end, ongoing, self._pipeline["ongoing"])

    def date(self, iso: str | None, tz: tzinfo | None = None) -> str:
        """A stored UTC time ("2026-12-05T03:28:59+00:00") as a day people read: "5 December 2026", "1er mai 2026"."""
        if not iso:
            return "–"
        when = datetime.fromisoformat(iso).astimezone(tz)
        day = "1er" if self.lang == "fr" and when.day == 1 else str(when.day)  # French writes the first as 1er
        return self("date", day=day, month=self._web["months"][when.month - 1], year=when.year)

    def moment(self, iso: str | None, tz: tzinfo | None = None) -> str:
        """A stored UTC time as a day and time in `tz`, the server's own zone when None, named."""
        if not iso:
            return "–"
        when = datetime.fromisoformat(iso).astimezone(tz)
        return self("moment", date=self.date(iso, tz), time=f"{when:%H:%M}", zone=when.tzname() or "")

    def country(self, country: str | None) -> str:
        return country_name(country, self.lang) or ""

    def language_name(self, lang: str | None) -> str:
        return self._pipeline["languages"].get(lang or "", lang or "?")

    def shared(self, key: str) -> str:
        """A word `icc-practices check` prints too (resources/messages.yaml): the site and the command agree."""
        return self._pipeline[key]

    def declared_areas(self, codes: list[str]) -> tuple[str, str]:
        """The row of the declared areas, label and value, as `icc-practices check` prints it."""
        return declared_areas_words(self._pipeline, self._taxonomy, self.lang, codes)

    def period_years(self, start: int | None, end: int | None, ongoing: bool) -> str:
        """The years a period runs, or the words for a period without a year."""
        return self.years(start, end, ongoing) or self._pipeline["no_years"]

    def phrase(self, text: str | None) -> str | None:
        """A hint or guideline-check detail of criteria.yaml, stored in its practice's language, in this one."""
        from pipeline.criteria import criteria_phrasebook  # numpy and the cues: only when a page needs them

        return criteria_phrasebook().say(text, self.lang)

    def run_message(self, text: str | None) -> str | None:
        """A message of files.parquet in this language, with its detail: in English as the run wrote it, in French
        from resources/errors.yaml; None when no entry of the catalogue wrote it (a run of an older version)."""
        if not text:
            return None
        if self.lang == "en":
            return text
        from pipeline.errors import error_phrasebook

        return error_phrasebook().translation(text, self.lang)

    def error(self, code: str | None) -> str | None:
        """The general text of an error code, the same for every file."""
        text = self._web["errors"].get(code or "")
        return text.format(formats=self.file_types()) if text else None

    def file_types(self) -> str:
        """The suffixes of the files a check reads, in words ('.docx, .doc, … or .pdf'): taken from the readers'
        list, so the page never names fewer than the server reads."""
        *first, last = SUPPORTED_SUFFIXES
        return f"{', '.join(first)} {self('words.or')} {last}"


def quoted_words(texts: dict, words: list[str]) -> str:
    """Words of the form, each quoted as the language of `texts` quotes ("“Partners”", « Partenaires »)."""
    open_, close = texts["quotes"]
    return ", ".join(f"{open_}{w}{close}" for w in words)


def warnings_for_a_city(warnings: list[str]) -> list[str]:
    """The warnings a city checking its form is shown: that LibreOffice converted the file asks to compare the
    fields with the original, which only means something where a field or a part was not found (a text-only
    reading, which loses the form's layout, is always said); the tables keep every warning."""
    lost = any(w.startswith(("missing:", "missing_section:", "unknown_label:")) for w in warnings)
    return [w for w in warnings if lost or w != "converted:libreoffice"]


def warning_words(texts: dict, code: str) -> str:
    """A practice warning ("missing_section:impact") in the words of `texts`, one language of
    resources/messages.yaml: the detail names a field ("missing:title"), how a file was converted
    ("converted:libreoffice") or a language ("other_language:de"). The site and `check` both say it this way."""
    kind, _, detail = code.partition(":")
    if kind == "unknown_label":  # labels as the form wrote them, each quoted as the language quotes
        labels = detail.split("|")
        template = (texts["warning_many"] if len(labels) > 1 else texts["warning"]).get(kind)
        return template.format(detail=quoted_words(texts, labels)) if template else code
    template = texts["warning"].get(kind)
    words = (texts["fields"].get(detail) or texts["conversion"].get(detail) or texts["languages"].get(detail)
             or detail.replace("_", " "))
    return template.format(detail=words) if template else code


# The areas a mismatch names at most: those the text points to most, as its area table lists them.
MISMATCH_AREAS_NAMED = 3


def declared_beside(suggested: list[str], declared: list[str], taxonomy: Taxonomy | None = None) -> list[str]:
    """The suggested areas, then each area the city declared that the text suggests neither as it is nor by its
    family (the main one first, at most DECLARED_SHOWN), so that a city sees where each of its choices stands: as
    declared, a sub-area ("7c") rather than its parent."""
    if not declared:
        return list(suggested)
    taxonomy = taxonomy or load_taxonomy()
    main = declared_main(declared, taxonomy)
    listed = [main, *(c for c in _without_implied_parents(list(declared), taxonomy) if c != main)]
    family_of = lambda code: taxonomy.parent(code) if code in taxonomy.areas else code  # noqa: E731
    shown = []
    for code in listed:
        # suggested as it is, by its parent, or by one of its sub-areas (« 14 » declared, "14a" suggested)
        family = {code, family_of(code), *(s for s in suggested if family_of(s) == code)}
        if code == main:
            family.add(declared[0])
        if not family & set(suggested) and code not in shown:
            shown.append(code)
    return [*suggested, *shown[:DECLARED_SHOWN]]


DECLARED_SHOWN = 3  # declared areas listed beside the suggested ones, at most


def declared_main(declared: list[str], taxonomy: Taxonomy) -> str:
    """The declared main area as the city wrote it: its sub-area ("7c. Sécurité") where one of the main area's
    family is declared, not the parent listed before it."""
    family_of = lambda code: taxonomy.parent(code) if code in taxonomy.areas else code  # noqa: E731
    family = family_of(declared[0])
    return next((c for c in declared if c != family and family_of(c) == family), declared[0])


def _without_implied_parents(codes: list[str], taxonomy: Taxonomy) -> list[str]:
    """The declared codes without a parent its own sub-area implies ("7", "7c" -> "7c")."""
    return [c for c in codes if not any(o != c and o in taxonomy.areas and taxonomy.parent(o) == c for o in codes)]


def main_not_likeliest(main: str | None, probability: dict[str, float]) -> bool:
    """Whether another listed area is likelier than the main one: the main area comes from a model of its own,
    which a reader should be told."""
    return main in probability and any(p > probability[main] for p in probability.values())


def area_words(taxonomy: Taxonomy, code: str, lang: str) -> str:
    """An area by number and name ("6. Espace public"); an unknown code as it is."""
    area = taxonomy.areas.get(code)
    return f"{code}. {area.name(lang)}" if area else code


def declared_areas_words(texts: dict, taxonomy: Taxonomy, lang: str | None, codes: list[str]) -> tuple[str, str]:
    """The declared areas by number and name, with their label, in the words of `texts`; "-" when none."""
    codes = _without_implied_parents(codes, taxonomy)
    label = texts["declared_areas"] if len(codes) > 1 else texts["declared_area"]
    # area names hold commas
    return label, semicolon(lang).join(area_words(taxonomy, code, lang) for code in codes) or "-"


def semicolon(lang: str | None) -> str:
    """A semicolon between items, spaced as the language spaces it (French puts a space before it)."""
    return " ; " if lang == "fr" else "; "


def area_mismatch_words(texts: dict, taxonomy: Taxonomy, lang: str, declared: list[str],
                        predicted: list[str], key: str = "mismatch") -> str | None:
    """The declared main area and the areas the text points to most (`predicted`, main first), in the words of
    `texts` (one language of resources/messages.yaml). The declared area and its sub-areas are not named as
    where the text points instead; None when no area is left to name."""
    if not declared:
        return None
    family_of = lambda code: taxonomy.parent(code) if code in taxonomy.areas else code  # noqa: E731
    # the declared sub-area as the city wrote it ("3b. Roma and Travellers"), not the parent listed before it
    shown = declared_main(declared, taxonomy)
    named, pointed = {family_of(code) for code in declared}, []
    for code in predicted:  # one area per family: "9" and then "9a" would name one area twice
        family = family_of(code)
        if family not in named and len(pointed) < MISMATCH_AREAS_NAMED:
            named.add(family)
            # the suggested sub-area says more than its parent ("7b. Housing" rather than "7. Public services")
            sub = next((c for c in predicted if c != family and family_of(c) == family), code)
            pointed.append(area_words(taxonomy, sub, lang))
    if not pointed:
        return None
    # area names hold commas ("Business, employment and diversity"): areas are set apart by semicolons
    listed = pointed[0] if len(pointed) == 1 else f"{semicolon(lang).join(pointed[:-1])} {texts['or']} {pointed[-1]}"
    return texts[key].format(declared=area_words(taxonomy, shown, lang), pointed=listed)


def years_words(start: int | None, end: int | None, ongoing: bool, ongoing_word: str) -> str | None:
    """The years of a period: '2021–2023', '2023' when it starts and ends in one year, '2021–ongoing'; None
    without any year."""
    if start is None and end is None:
        return None
    if start is not None and end == start:
        return str(start)
    return f"{start or '?'}–{end or (ongoing_word if ongoing else '?')}"
