"""Full-text search with facets: an in-memory SQLite FTS5 index built from a run's tables, joined (when the site
has its encoder) to the practices a query means (`pipeline.web.meaning`) by reciprocal rank fusion.

Titles, objectives and description sections are indexed folded the way a query is (`pipeline.normalize.fold`: no
case or accents, 'œ' and 'æ' spelled 'oe' and 'ae'), so 'Genève' finds 'Geneve', 'médiation' finds 'mediation' and
'oeuvre' finds 'œuvre'. A query word that names a key term of resources/terms.yaml also looks for the term's
forms in the other language, as written or with a plural or feminine ending ('mediator' finds 'médiatrices',
'école' finds 'schools').
Facets (area declared or suggested, city, country, language, year running, criterion level) are counted over
the whole result set, not only the page shown, each with the other filters in force but not its own, so that a
dropdown keeps offering the other values; the value chosen is always listed, with 0 when nothing matches it.
A city is one facet value however its forms write it (`pipeline.cities.city_key`: 'Ville de Genève' and 'Geneva'
are Genève), labelled with its listed name.
A query finds a practice by its city's whole name only, the name the form wrote or any name cities.yaml knows a
listed city by (its listed names and aliases: 'Genf' and 'Geneva' find Genève), never by the start or a word of
one: 'vie' does not find Wien (Vienna, Vienne), nor 'city' Québec (Quebec City), though 'Aquila' finds L'Aquila
(a French elided word is no word of a query); titles, objectives and
descriptions match a query word as the start of a word; a prefix before a hyphen ("anti-rumour") is no word of its
own. Each hit of a page comes with what shows why it was found (`SearchResult.snippets`).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.cities import (CITIES_FILE, city_country, city_info, city_key, city_name, city_names, country_name,
                             fold_key, joint_cities, name_parts)
from pipeline.config import RESOURCES_DIR, load_yaml
from pipeline.criteria import CRITERIA
from pipeline.embed import split_sentences
from pipeline.normalize import fold, holds_link_or_address, shorten
from pipeline.records import SECTION_FIELDS
from pipeline.registry import loader
from pipeline.taxonomy import Taxonomy, load_taxonomy

if TYPE_CHECKING:
    from pipeline.web.meaning import MeaningIndex

AREA_SOURCES = ("any", "declared", "suggested", "reviewed")
# whether a practice has a review (the secretariat's filter of what is left to review)
REVIEW_STATES = ("any", "yes", "no")
MAX_QUERY_WORDS = 12
MAX_LIMIT = 100
MAX_YEARS_SPAN = 40  # an implausible period ('1900 - 2024') is not spread over a century of facet values
_WORD = re.compile(r"[^\W_]+")  # letters and digits: the index splits words at "_" as at any sign
_PLURAL_ENDINGS = ("s", "x", "e", "es")
_TEXT_COLUMNS = "{title objective body}"  # matched by word starts; the city column by whole names only
# a French elided word before an apostrophe ("d'Anvers", "l'accueil"): no word of its own in a query
_ELIDED = re.compile(r"\b(?:[cdjlmnst]|qu)'(?=\w)")

_SCHEMA = """
CREATE TABLE practice (rid INTEGER PRIMARY KEY, practice_id TEXT UNIQUE NOT NULL, title TEXT, city TEXT,
                       city_key TEXT, country TEXT, lang TEXT);
CREATE VIRTUAL TABLE practice_text USING fts5(title, objective, body, city,
                                              tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3');
CREATE TABLE practice_area (rid INTEGER NOT NULL, area TEXT NOT NULL, source TEXT NOT NULL);
CREATE TABLE practice_year (rid INTEGER NOT NULL, year INTEGER NOT NULL);
CREATE TABLE practice_level (rid INTEGER NOT NULL, criterion TEXT NOT NULL, level INTEGER NOT NULL);
CREATE INDEX area_by_code ON practice_area (area, source);
-- the secretariat's reviews as they stand at a search (refilled from the review store): who is reviewed, and the
-- main area and area set each review gives (with their parents)
CREATE TABLE reviewed_practice (rid INTEGER PRIMARY KEY);
CREATE TABLE reviewed_area (rid INTEGER NOT NULL, area TEXT NOT NULL);
CREATE INDEX year_by_value ON practice_year (year);
CREATE INDEX level_by_criterion ON practice_level (criterion, level);
"""


@dataclass(frozen=True)
class SearchQuery:
    q: str = ""
    area: str | None = None
    area_source: str = "any"
    city: str | None = None  # any spelling: compared by city key
    country: str | None = None
    lang: str | None = None
    year: int | None = None
    levels: tuple[tuple[str, int], ...] = ()  # (criterion, lowest level)
    limit: int = 20
    offset: int = 0
    reviewed: str = "any"  # REVIEW_STATES: for the secretariat only, as reviews are

    @property
    def reads_reviews(self) -> bool:
        """Whether the search filters by the secretariat's reviews (which visitors do not see)."""
        return self.reviewed != "any" or self.area_source == "reviewed"

    def params(self) -> list[tuple[str, str]]:
        """The search as query parameters, defaults left out (for links that keep it)."""
        values = [("q", self.q), ("area", self.area),
                  ("area_source", self.area_source if self.area_source != "any" else None),
                  ("reviewed", self.reviewed if self.reviewed != "any" else None), ("city", self.city),
                  ("country", self.country), ("lang", self.lang),
                  ("year", str(self.year) if self.year is not None else None),
                  *(("level", f"{c}:{n}") for c, n in self.levels),
                  ("limit", str(self.limit) if self.limit != 20 else None),
                  ("offset", str(self.offset) if self.offset else None)]
        return [(k, v) for k, v in values if v]

    def toggled_level(self, criterion: str, level: int) -> tuple[tuple[str, int], ...]:
        """The level filters with (criterion, level) in place of that criterion's other level, or without it when it
        is already there."""
        others = tuple(item for item in self.levels if item[0] != criterion)
        return others if (criterion, level) in self.levels else (*others, (criterion, level))


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int


@dataclass
class SearchResult:
    total: int
    practice_ids: list[str]
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    level_counts: dict[str, dict[int, int]] = field(default_factory=dict)  # criterion -> N -> n at least N (0: at 0)
    by_meaning: frozenset[str] = frozenset()  # found by what the query means, not by its words
    # the page's practices: what shows why each was found, as (text, is a query word) pieces: the sentence holding
    # most of the query's words, or the passage closest to what it means (none where only the title or city matched)
    snippets: dict[str, tuple[tuple[str, bool], ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class IndexedPractice:
    """What the index needs of one practice."""

    practice_id: str
    title: str | None
    city: str | None
    lang: str | None
    objective: str | None
    body: str
    declared_areas: list[str]
    suggested_areas: list[str]
    years: list[int]
    levels: dict[str, int]

    @classmethod
    def from_row(cls, row: dict, levels: dict[str, int], taxonomy: Taxonomy, current_year: int,
                 redact=lambda text: text) -> "IndexedPractice":
        """`redact`: what the site leaves out of texts (contacts), so that no query finds a practice by them."""
        sections = [row.get(name) for name in SECTION_FIELDS if row.get(name)]
        body = redact("\n".join(sections) if sections else (row.get("description") or ""))
        known = lambda codes: taxonomy.with_parents([c for c in codes or [] if c in taxonomy.areas])  # noqa: E731
        years = years_running(row.get("period_start"), row.get("period_end"), bool(row.get("ongoing")), current_year)
        return cls(row["practice_id"], row.get("title"), row.get("city"), row.get("lang"), redact(row.get("main_objective")),
                   body, known(row.get("declared_areas")), known(row.get("predicted_areas")), years, levels)


@loader("web_country_names")
def _country_names() -> dict[str, str]:
    """Every country of resources/cities.yaml by the key of its English and French names, to its English name
    (the one the index holds)."""
    data = load_yaml(CITIES_FILE.read_text(encoding="utf-8"))
    english = {item.get("country") for item in data["cities"].values()} | set(data.get("countries_fr") or {})
    return {fold_key(name): en for en in english if en for name in (en, country_name(en, "fr"))}


def country_of(name: str | None) -> str | None:
    """The English name of a country named in English or French, any case or accents ('suisse' -> 'Switzerland'),
    or None when no member city is in it."""
    return _country_names().get(fold_key(name))


def city_name_word(name: str | None) -> str:
    """A city name as one word of the index, its words run together ('Quebec City' -> 'quebeccity'), so that the
    full text finds it by the whole name and never by one of its words or the start of one."""
    return fold_key(name).replace(" ", "")


def _names_of(city: str | None) -> list[str]:
    """The names a practice's city is found by: as written, as the reports name it (without a country after it or
    the words naming a municipality: 'Ville de Foo' is found by 'foo') and, for a listed city, every name
    cities.yaml knows it by (listed names in every language and aliases); the same for each part of a name written
    with others ('Geneva / Zurich' and 'Geneva and Zurich' are found by 'Zurich', 'Neukölln (Berlin, Germany)' by
    'Berlin')."""
    return [name for piece in [city, *name_parts(city), *joint_cities(city)]
            for name in (piece or "", city_name(piece), *city_names(piece))]


def city_words(city: str | None) -> str:
    """What the full text finds a practice's city by (`_names_of`), each name one word (`city_name_word`), so
    'Geneva' and 'Genf' find a form that wrote 'Ville de Genève'; a name with a French elided word is also found
    without it, as a query reads "L'Aquila" ('aquila') when it is not typed whole."""
    names = [form for name in _names_of(city) for form in (name, _ELIDED.sub("", fold(name)))]
    return " ".join(dict.fromkeys(w for w in map(city_name_word, names) if w))


def city_phrases(city: str | None) -> set[str]:
    """The names of several words `city_words` holds for a city, as a query spells them (`fold_key`), so a query
    can tell 'quebec city' is one name."""
    return {key for key in map(fold_key, _names_of(city)) if " " in key}


def years_running(start: int | None, end: int | None, ongoing: bool, current_year: int) -> list[int]:
    """The years a practice ran: start to end, or to the current year while it is ongoing."""
    if start is None:
        return [end] if end is not None else []
    last = end if end is not None else (max(current_year, start) if ongoing else start)
    last = min(max(last, start), start + MAX_YEARS_SPAN)
    return list(range(start, last + 1))


class TermExpander:
    """French and English forms of the key terms of resources/terms.yaml, to widen a query word."""

    def __init__(self, path: Path = RESOURCES_DIR / "terms.yaml"):
        data = load_yaml(path.read_text(encoding="utf-8"))
        self._forms: dict[str, list[str]] = {}
        self._concept_of: dict[str, str] = {}
        for key, item in data["concepts"].items():
            forms = sorted({fold(f) for lang in ("en", "fr") for f in item.get(lang, [])})
            self._forms[key] = forms
            for form in forms:
                self._concept_of.setdefault(form, key)

    def alternatives(self, word: str) -> list[str]:
        """Forms of the concept a (folded) query word names, or [] when it names none."""
        stems = [word] + [word[: -len(e)] for e in _PLURAL_ENDINGS if word.endswith(e) and len(word) - len(e) >= 3]
        for stem in stems:
            if stem in self._concept_of:
                return self._forms[self._concept_of[stem]]
        return []

    def written_forms(self, word: str) -> list[str]:
        """What a (folded) query word also matches whole: each form of its concept as terms.yaml writes it or with a
        plural or feminine ending, as the similar stage matches a concept ('mediator' -> 'mediateurs',
        'mediatrices'). Whole words, not word starts: 'media' must not find 'mediation'. Forms the typed word
        already finds as a word start are left out."""
        written = (form + ending for form in self.alternatives(word) for ending in ("", *_PLURAL_ENDINGS))
        return [form for form in dict.fromkeys(written) if not form.startswith(word)]


# a prefix written before a hyphen ("anti-rumour", « anti-rumeurs », "co-design"), or "anti" before a word: no word
# a practice must hold (Barcelona's text says "rumours"; one writes "anti-rumour", another "antirumour")
_BOUND_PREFIX = re.compile(r"\b(?:anti[\s-]+|(?:co|multi|inter|intra|pre|post|pluri|semi|trans|sub|ex)-)(?=[^\W\d_])")


def query_folded(text: str | None) -> str:
    """A query as the index reads it: folded (`fold`), a bound prefix left out."""
    return _BOUND_PREFIX.sub("", fold(text or ""))


SNIPPET_CHARS = 300
_TOKEN = re.compile(r"[^\W_]+|[\W_]+")


def word_snippet(texts: tuple[str, ...], query: str, expander: TermExpander | None = None
                 ) -> tuple[tuple[str, bool], ...] | None:
    """The sentence of `texts` holding most of the query's words (the first of equals), as pieces of text, each
    saying whether it is a word the query found (a word starting with a query word, or a form of its key term in
    the other language, as the index matches them); cut to about SNIPPET_CHARS around its first such word. None
    when no sentence holds one (the title or the city matched)."""
    folded = [m.group(0) for m in _WORD.finditer(query_folded(query))][:MAX_QUERY_WORDS]
    words = [w for w in folded if len(w) > 1]
    if not words:
        return None
    forms = {form: word for word in words for form in (expander.written_forms(word) if expander else [])}

    def found(token: str) -> str | None:
        key = fold(token)
        return next((w for w in words if key.startswith(w)), None) or forms.get(key)

    best, best_count = None, 0
    for text in texts:
        for sentence in split_sentences(text):
            tokens = _TOKEN.findall(" ".join(sentence.split()))
            matched = [found(token) if token[:1].isalnum() else None for token in tokens]
            count = len(set(matched) - {None})
            if count > best_count:
                best, best_count = [(token, word is not None) for token, word in zip(tokens, matched)], count
    if best is None:
        return None
    first = next(i for i, (_, hit) in enumerate(best) if hit)
    start = first
    while start > 0 and sum(len(t) for t, _ in best[start - 1:first]) < SNIPPET_CHARS // 3:
        start -= 1
    kept, length = [], 0
    for token, hit in best[start:]:
        if length + len(token) > SNIPPET_CHARS and kept:
            break
        kept.append((token, hit))
        length += len(token)
    cut_before, cut_after = start > 0, start + len(kept) < len(best)
    while kept and not kept[0][0].strip():
        kept.pop(0)
    while kept and not kept[-1][0].strip():
        kept.pop()
    merged: list[tuple[str, bool]] = []
    for token, hit in [*((("… ", False),) if cut_before else ()), *kept, *(((" …", False),) if cut_after else ())]:
        if merged and merged[-1][1] == hit and not hit:
            merged[-1] = (merged[-1][0] + token, False)
        else:
            merged.append((token, hit))
    return tuple(merged)


def _phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _text_options(word: str, expander: TermExpander | None) -> str:
    """What one query word matches in the texts: the start of a word, as typed or as a form of the same key term in
    the other language."""
    options = [_phrase(word) + "*"] + [_phrase(form) for form in (expander.written_forms(word) if expander else [])]
    return options[0] if len(options) == 1 else "(" + " OR ".join(options) + ")"


def _word_group(word: str, expander: TermExpander | None) -> str:
    """What one query word matches: the start of a word of the title, objective or description, as typed or as a
    form of the same key term in the other language, or a whole one-word name of the city."""
    text = _text_options(word, expander)
    name = city_name_word(word)
    return f"({_TEXT_COLUMNS} : {text} OR city : {_phrase(name)})" if name else f"{_TEXT_COLUMNS} : {text}"


def fts_expression(text: str, expander: TermExpander | None = None,
                   phrases: frozenset[str] | set[str] = frozenset(),
                   city_keys: frozenset[str] | set[str] = frozenset()) -> str | None:
    """An FTS5 MATCH expression for what a person typed: every word must match, in the text as the start of a word
    (as typed or as a form of the same key term in the other language) or as a city's whole name. Words of the
    query that together spell a city's name of several words also match that city: one of `phrases` (the names
    `city_phrases` gives), a listed city ('Ville de Genève') or a city of `city_keys` once the words naming a
    municipality are left out ('City of Larnaka'). The text is folded before it is split, so an accent typed as a
    mark of its own stays in its word; a French elided word ("d'Anvers") is not a word to match on its own.
    Quotes and operators are never passed on."""
    folded = query_folded(text)
    elided = {m.start() for m in _ELIDED.finditer(folded)}
    found = [(m.group(0), m.start() in elided) for m in _WORD.finditer(folded)][:MAX_QUERY_WORDS]
    words = [w for w, _ in found]
    longest = max([key.count(" ") + 1 for key in phrases] + [_LONGEST_TYPED_NAME])
    groups: list[str] = []
    start = 0
    while start < len(words):
        names = []
        for end in range(min(len(words), start + longest), start + 1, -1):
            names = _span_names(" ".join(words[start:end]), phrases, city_keys)
            if names:
                break
        else:
            end = start + 1
        each = [_word_group(word, expander) for word, is_elided in dict.fromkeys(found[start:end]) if not is_elided]
        if not names:
            groups += each
        else:
            cities = " OR ".join(f"city : {_phrase(name)}" for name in names)
            groups.append(f"(({' AND '.join(each)}) OR {cities})" if each else f"({cities})")
        start = end
    return " AND ".join(dict.fromkeys(groups)) or None


# the most words a typed city name with the words around it is looked for in ('ville de saint denis')
_LONGEST_TYPED_NAME = 5


def _span_names(span: str, phrases, city_keys) -> list[str]:
    """The index words (`city_name_word`) a span of several query words matches as a city's name: as typed when it
    is one of `phrases`, and by the name the reports give it when it is a listed city or a city of `city_keys`."""
    names = [city_name_word(span)] if fold_key(span) in phrases else []
    if city_info(span) is not None or city_key(span) in city_keys:
        names.append(city_name_word(city_name(span)))
    return list(dict.fromkeys(n for n in names if n))


class SearchIndex:
    """The index of one run; safe to share between request threads (one connection, one lock)."""

    def __init__(self, practices: list[IndexedPractice], expander: TermExpander | None = None,
                 meaning: MeaningIndex | None = None):
        """`meaning`: the practices' passage vectors, so that a query also finds what it means in other words or
        the other language; without it only the query's words find practices."""
        self._expander = expander
        self._meaning = meaning
        self._lock = threading.Lock()
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.executescript(_SCHEMA)
        self._ids: list[str] = []
        self._rids: dict[str, int] = {}
        self._phrases: set[str] = set()  # the city names of several words, for the query to find them whole
        self._city_keys: set[str] = set()  # the cities of the run, for a query to name one with the words around it
        self._texts: dict[str, tuple[str, ...]] = {}  # each practice's objective and description, as shown
        with self._db:
            for rid, p in enumerate(practices, start=1):
                self._add(rid, p)
                self._ids.append(p.practice_id)
                self._rids[p.practice_id] = rid
                self._texts[p.practice_id] = tuple(t for t in (p.objective, p.body) if t)

    def _add(self, rid: int, p: IndexedPractice) -> None:
        # the city under its listed name (as the reports name it), grouped and filtered by its key
        self._db.execute("INSERT INTO practice VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (rid, p.practice_id, p.title, city_name(p.city) or None, city_key(p.city),
                          city_country(p.city), p.lang))
        self._db.execute("INSERT INTO practice_text (rowid, title, objective, body, city) VALUES (?, ?, ?, ?, ?)",
                         (rid, *(fold(text or "") for text in (p.title, p.objective, p.body)), city_words(p.city)))
        self._phrases |= city_phrases(p.city)
        self._city_keys.add(city_key(p.city))
        self._db.executemany("INSERT INTO practice_area VALUES (?, ?, ?)",
                             [(rid, a, "declared") for a in p.declared_areas]
                             + [(rid, a, "suggested") for a in p.suggested_areas])
        self._db.executemany("INSERT INTO practice_year VALUES (?, ?)", [(rid, y) for y in p.years])
        self._db.executemany("INSERT INTO practice_level VALUES (?, ?, ?)",
                             [(rid, c, int(v)) for c, v in p.levels.items()])

    def __len__(self) -> int:
        return len(self._ids)

    def has_city(self, name: str) -> bool:
        """Whether a practice of the run is in the city `name` names (any of the spellings the city filter takes)."""
        key = city_key(name)
        return bool(key) and key in self._city_keys

    def search(self, query: SearchQuery, reviews: Mapping[str, object] | None = None) -> SearchResult:
        """The practices a query finds, a page of them, and the facets. Each facet is counted with the other filters
        in force but not its own (the usual faceted-search rule): its dropdown keeps offering the other values,
        each with the practices choosing it would give, and the value chosen is listed even when nothing matches
        it (with 0), so that it stays selected and is not dropped when the form is sent again. `reviews` (practice
        id -> PracticeReview, as the review store holds them now) are what a query that reads reviews filters by."""
        conditions, order, joins = self._conditions(query)
        has_words = any(name == "q" for name, _, _ in conditions)
        meant = self._meant(query) if has_words and self._some_word_shown(query.q) else []
        passages = {pid: passage for pid, _, passage in meant}
        meant = [(self._rids[pid], score) for pid, score, _ in meant]
        if meant:
            # the practices the words find, or those the query means
            text = next(i for i, c in enumerate(conditions) if c[0] == "q")
            expression = conditions[text][2][0]
            conditions[text] = ("q", "(p.rid IN (SELECT rowid FROM practice_text WHERE practice_text MATCH ?) "
                                     "OR p.rid IN (SELECT value FROM json_each(?)))",
                                [expression, json.dumps([rid for rid, _ in meant])])
            joins, order = "", "p.rid"
        with self._lock:
            if query.reads_reviews:
                self._load_reviews(reviews or {})
            rows = self._select(conditions, joins, order)
            by_meaning: frozenset[str] = frozenset()
            if meant:
                rows, by_words = self._fused(rows, expression, meant)
                by_meaning = frozenset(pid for rid, pid in rows if rid not in by_words)
            everything = json.dumps([r[0] for r in rows])

            def hits_without(facet: str) -> str:
                kept = [c for c in conditions if c[0] != facet]
                if len(kept) == len(conditions):
                    return everything
                return json.dumps([r[0] for r in self._select(kept, joins, "p.rid")])

            facets = self._facets(hits_without, query)
            levels = self._level_counts(hits_without("level"))
        limit = max(1, min(query.limit, MAX_LIMIT))
        page = rows[max(0, query.offset): max(0, query.offset) + limit]
        snippets = {}
        if has_words:
            for _, pid in page:
                shown = (((shorten(passages[pid], SNIPPET_CHARS), False),) if pid in by_meaning
                         else word_snippet(self._texts.get(pid, ()), query.q, self._expander))
                if shown:
                    snippets[pid] = shown
        return SearchResult(len(rows), [r[1] for r in page], facets, levels, by_meaning, snippets)

    def _some_word_shown(self, text: str) -> bool:
        """Whether a word of the query (or of its key term in the other language) is one the site's texts hold: a
        query of nothing but words no page shows (a contact's name, left out of them, or a string of letters) is
        not read for its meaning, which a name's sound alone can lend."""
        words = [m.group(0) for m in _WORD.finditer(query_folded(text))][:MAX_QUERY_WORDS]
        with self._lock:
            return any(self._db.execute("SELECT 1 FROM practice_text WHERE practice_text MATCH ? LIMIT 1",
                                        [f"{_TEXT_COLUMNS} : {_text_options(word, self._expander)}"]).fetchone()
                       for word in words if len(word) > 2)

    def _meant(self, query: SearchQuery) -> list[tuple[str, float, str]]:
        """The practices the query means (id, score, closest passage), best first; none for an e-mail address or a
        link (a contact's address pasted in has no meaning to find)."""
        if self._meaning is None or not self._meaning.settings.meaning or holds_link_or_address(query.q):
            return []
        return [hit for hit in self._meaning.hits(query.q) if hit[0] in self._rids]

    def _fused(self, rows: list[tuple[int, str]], expression: str,
               meant: list[tuple[int, float]]) -> tuple[list[tuple[int, str]], set[int]]:
        """Rows in the order of reciprocal rank fusion of the words' ranking (bm25, a title hit first) and the
        meaning's: a practice both find comes first, then one found well by either; and what the words find."""
        by_words = [rid for (rid,) in self._db.execute(
            "SELECT rowid FROM practice_text WHERE practice_text MATCH ? ORDER BY bm25(practice_text, 8.0, 3.0, 1.0, 8.0)",
            [expression])]
        k, weight = self._meaning.settings.fusion_k, self._meaning.settings.meaning_weight
        score: dict[int, float] = {}
        for ranking, w in ((by_words, 1.0), ([rid for rid, _ in meant], weight)):
            for rank, rid in enumerate(ranking, start=1):
                score[rid] = score.get(rid, 0.0) + w / (k + rank)
        # a tie goes to what the words found: a hit by meaning alone never outranks the words' equal
        word_rank = {rid: rank for rank, rid in enumerate(by_words)}
        return sorted(rows, key=lambda row: (-score.get(row[0], 0.0), word_rank.get(row[0], len(word_rank)), row[0])), \
            set(by_words)

    def _load_reviews(self, reviews: Mapping[str, object]) -> None:
        """The reviews as they stand, into reviewed_practice and reviewed_area (the practices of this run only)."""
        taxonomy = load_taxonomy()
        self._db.execute("DELETE FROM reviewed_practice")
        self._db.execute("DELETE FROM reviewed_area")
        rows, areas = [], []
        for practice_id, review in reviews.items():
            rid = self._rids.get(practice_id)
            if rid is None:
                continue
            rows.append((rid,))
            codes = [*([review.main_area] if review.main_area else []), *(review.areas or [])]
            areas += [(rid, code) for code in dict.fromkeys(taxonomy.with_parents(codes))]
        self._db.executemany("INSERT INTO reviewed_practice VALUES (?)", rows)
        self._db.executemany("INSERT INTO reviewed_area VALUES (?, ?)", areas)

    def _select(self, conditions: list[tuple[str, str, list]], joins: str, order: str) -> list[tuple[int, str]]:
        where = " AND ".join(clause for _, clause, _ in conditions) or "1"
        params = [value for _, _, values in conditions for value in values]
        return self._db.execute(f"SELECT p.rid, p.practice_id FROM practice p {joins} WHERE {where} ORDER BY {order}",
                                params).fetchall()

    def _conditions(self, query: SearchQuery) -> tuple[list[tuple[str, str, list]], str, str]:
        """The query's conditions, each as (the facet it filters, SQL, parameters); the query's words filter no
        facet; then the order and the join the words need."""
        conditions: list[tuple[str, str, list]] = []
        joins, order = "", "p.city_key, p.title"
        expression = fts_expression(query.q, self._expander, self._phrases, self._city_keys)
        if expression:
            joins = "JOIN practice_text ON practice_text.rowid = p.rid"
            conditions.append(("q", "practice_text MATCH ?", [expression]))
            # a title hit outranks a body hit; a practice of the city a query names, a title that names it
            order = "bm25(practice_text, 8.0, 3.0, 1.0, 8.0), p.title"
        if query.area and query.area_source == "reviewed":
            conditions.append(("area", "p.rid IN (SELECT rid FROM reviewed_area WHERE area = ?)", [query.area]))
        elif query.area:
            sources = _area_sources(query)
            marks = ",".join("?" * len(sources))
            conditions.append(("area", f"p.rid IN (SELECT rid FROM practice_area WHERE area = ? AND source IN ({marks}))",
                               [query.area, *sources]))
        if query.reviewed != "any":
            # what is left to review, or what was
            negation = "NOT " if query.reviewed == "no" else ""
            conditions.append(("reviewed", f"p.rid {negation}IN (SELECT rid FROM reviewed_practice)", []))
        if query.city:
            conditions.append(("city", "p.city_key = ?", [city_key(query.city)]))
        if query.country:
            conditions.append(("country", "p.country = ?", [country_of(query.country) or query.country]))
        if query.lang:
            conditions.append(("lang", "p.lang = ?", [query.lang]))
        if query.year is not None:
            conditions.append(("year", "p.rid IN (SELECT rid FROM practice_year WHERE year = ?)", [query.year]))
        for criterion, level in query.levels:
            # N: at least N; 0: not addressed (at least 0 would be every practice)
            compare = "=" if level == 0 else ">="
            conditions.append(("level", f"p.rid IN (SELECT rid FROM practice_level WHERE criterion = ? AND level {compare} ?)",
                               [criterion, level]))
        return conditions, order, joins

    def _facets(self, hits_without, query: SearchQuery) -> dict[str, list[FacetValue]]:
        """Each facet's values and counts over `hits_without(facet)`, the value chosen listed whatever its count."""
        hits = "rid IN (SELECT value FROM json_each(?))"
        sources = _area_sources(query)
        # the areas of the source the area filter reads, so that a count is what choosing the area gives
        queries = {
            "area": (f"SELECT area, area, COUNT(DISTINCT rid) FROM reviewed_area WHERE {hits} GROUP BY area", ())
            if query.area_source == "reviewed" else
            (f"SELECT area, area, COUNT(DISTINCT rid) FROM practice_area WHERE {hits} "
             f"AND source IN ({','.join('?' * len(sources))}) GROUP BY area", sources),
            "city": (f"SELECT city_key, MIN(city), COUNT(*) FROM practice WHERE {hits} AND city_key != '' "
                     "GROUP BY city_key", ()),
            "country": (f"SELECT country, country, COUNT(*) FROM practice WHERE {hits} AND country IS NOT NULL "
                        "GROUP BY country", ()),
            "lang": (f"SELECT lang, lang, COUNT(*) FROM practice WHERE {hits} AND lang IS NOT NULL GROUP BY lang", ()),
            "year": (f"SELECT year, year, COUNT(DISTINCT rid) FROM practice_year WHERE {hits} GROUP BY year", ()),
        }
        chosen = {"area": (query.area, query.area), "city": (city_key(query.city), city_name(query.city)),
                  "country": (query.country, query.country), "lang": (query.lang, query.lang),
                  "year": (str(query.year), str(query.year)) if query.year is not None else (None, None)}
        facets = {}
        for name, (sql, params) in queries.items():
            values = [FacetValue(str(v), str(label), n)
                      for v, label, n in self._db.execute(sql, (hits_without(name), *params))]
            value, label = chosen[name]
            if value and value not in {v.value for v in values}:
                values.append(FacetValue(value, label or value, 0))
            facets[name] = sorted(values, key=_facet_order(name))
        return facets

    def _level_counts(self, rids: str) -> dict[str, dict[int, int]]:
        counts = {c: {0: 0, 1: 0, 2: 0, 3: 0} for c in CRITERIA}
        sql = ("SELECT criterion, level, COUNT(*) FROM practice_level "
               "WHERE rid IN (SELECT value FROM json_each(?)) GROUP BY criterion, level")
        for criterion, level, n in self._db.execute(sql, (rids,)):
            per_level = counts.setdefault(criterion, {0: 0, 1: 0, 2: 0, 3: 0})
            if int(level) == 0:  # 0 counts the practices not addressing it, as its filter finds them
                per_level[0] += n
            for at_least in range(1, int(level) + 1):
                per_level[at_least] += n
        return counts


def _area_sources(query: SearchQuery) -> tuple[str, ...]:
    """The sources of areas the area filter reads: declared, suggested or both (reviewed areas have a table of
    their own)."""
    return ("declared", "suggested") if query.area_source in ("any", "reviewed") else (query.area_source,)


def _facet_order(name: str):
    if name == "area":
        return lambda v: _area_key(v.value)
    if name == "year":
        return lambda v: -int(v.value)
    return lambda v: (-v.count, fold(v.label))


def _area_key(code: str) -> tuple[int, str]:
    digits = "".join(ch for ch in code if ch.isdigit())
    return int(digits or 0), code
