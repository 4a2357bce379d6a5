"""What the browse pages and the JSON API show of a practice, built from one loaded run.

Texts shown to everyone leave out personal data the way the city reports do: no contact person, and e-mail
addresses, phone numbers and the contact's name removed from the texts.

`city` is the city as the form wrote it (as practices.parquet holds it); `city_listed` its name as the English reports
and the English workbook give it (`pipeline.cities.city_name`: 'Ville de Genève' is Geneva; an unlisted city as
written). Pages show a city by its listed name in the page's language (the `city_name` filter of the templates).
"""

from __future__ import annotations

from dataclasses import asdict, replace
from itertools import chain
from typing import Mapping
from urllib.parse import urlencode

from pipeline.cities import city_country, city_key, city_name
from pipeline.records import SECTION_FIELDS
from pipeline.review_copies import copies_of_reviewed, reviewed_copies_of
from pipeline.web.catalogue import Catalogue
from pipeline.web.i18n import Translator
from pipeline.web.reviews import PracticeReview
from pipeline.web.search import SearchQuery, SearchResult

HEADER_SHOWN = ("department", "form_date", "declared_area_text", "main_objective", "period_text")
HEADER_FOR_STAFF = ("department", "contact_person", *HEADER_SHOWN[1:])
CONTACT_FIELDS = ("department", "contact_person")


def _country(city: str | None) -> str | None:
    return city_country(city)  # a listed city's, or the one written after an unlisted city


def _listed(city: str | None) -> str | None:
    return city_name(city, "en") or None


def practice_summary(catalogue: Catalogue, practice_id: str) -> dict | None:
    """One line of a search result: enough to recognise a practice and open it."""
    row = catalogue.practices.get(practice_id)
    if row is None:
        return None
    versions = [{"practice_id": r["neighbour_id"], "lang": catalogue.practices.get(r["neighbour_id"], {}).get("lang"),
                 "relation": r["relation"]}
                for r in catalogue.similar.get(practice_id, []) if r["rank"] == 0 and r["relation"] == "version"]
    return {
        "practice_id": practice_id,
        "url": f"/practices/{practice_id}",
        "title": row.get("title"),
        "city": row.get("city"),
        "city_listed": _listed(row.get("city")),
        "country": _country(row.get("city")),
        "lang": row.get("lang"),
        "period_start": row.get("period_start"),
        "period_end": row.get("period_end"),
        "ongoing": bool(row.get("ongoing")),
        "declared_areas": list(row.get("declared_areas") or []),
        "predicted_areas": list(row.get("predicted_areas") or []),
        "main_area_pred": row.get("main_area_pred"),
        "versions": versions,
    }


def practice_detail(catalogue: Catalogue, practice_id: str, review: PracticeReview | None,
                    history: list[dict] | None = None,
                    reviews: Mapping[str, PracticeReview] | None = None, staff: bool = False) -> dict | None:
    """Everything the practice page shows, as plain values (also the JSON of GET /api/practices/{id}). `reviews`:
    every practice's review (for the secretariat), to name the reviewed practices this one is a copy of. `staff`:
    the secretariat also sees the form's contact person, to put cities in touch; visitors never do."""
    row = catalogue.practices.get(practice_id)
    if row is None:
        return None
    redact = catalogue.redact
    sections = {name: redact(row.get(name)) for name in SECTION_FIELDS if row.get(name)}
    if not sections and row.get("description"):
        sections["description"] = redact(row["description"])
    return {
        **practice_summary(catalogue, practice_id),
        "source_file": row.get("source_file"),
        # the secretariat reads the contact fields as written (a contact typed into the department field too)
        "header": {name: row.get(name) if staff and name in CONTACT_FIELDS else redact(row.get(name))
                   for name in (HEADER_FOR_STAFF if staff else HEADER_SHOWN) if row.get(name)},
        "sections": sections,
        "warnings": [w for w in row.get("warnings") or [] if not w.startswith("inherited:")],
        "area_mismatch": bool(row.get("area_mismatch")),
        "areas": _areas(catalogue, row, redact),
        "criteria": [{"criterion": r["criterion"], "level": r["level"], "score": r["score"],
                      "evidence": [redact(e) for e in r["evidence"] or []], "hint": r["hint"] or None}
                     for r in catalogue.criteria.get(practice_id, [])],
        "guidelines": [{"check": r["check"], "passed": r["passed"], "detail": r["detail"]}
                       for r in catalogue.guidelines.get(practice_id, [])],
        "similar": _similar(catalogue, practice_id),
        "other_versions": _other_versions(catalogue, practice_id),
        # who set what: a later review of one field does not take the credit for the others
        "review": {**asdict(review), "contributions": review.contributions(),
                   "disagreement": review.disagreement()} if review else None,
        "review_history": history or [],
        "reviewed_copies": _reviewed_copies(catalogue, practice_id, reviews or {}),
    }


def _reviewed_copies(catalogue: Catalogue, practice_id: str, reviews: Mapping[str, PracticeReview]) -> list[dict]:
    """The reviewed practices this one is another copy of (pipeline/review_copies.py): their review is not this
    practice's, the page only points to it."""
    if not reviews:
        return []
    copies = copies_of_reviewed([asdict(r) for r in reviews.values()], catalogue.practices,
                                chain.from_iterable(catalogue.similar.values()))
    out = []
    for found in reviewed_copies_of(practice_id, copies):
        reviewed, review = found["practice_id"], reviews[found["practice_id"]]
        row = catalogue.practices.get(reviewed) or {}
        city = row.get("city") or review.city
        out.append({"practice_id": reviewed, "url": f"/practices/{reviewed}" if row else None,
                    "relation": found["relation"], "city": city, "city_listed": _listed(city),
                    "title": row.get("title") or review.title,
                    "reviewer": ", ".join(review.reviewers) or review.reviewer, "reviewed_at": review.reviewed_at})
    return out


def _areas(catalogue: Catalogue, row: dict, redact) -> list[dict]:
    """Declared and suggested areas in one list: suggested ones as `predicted_areas` lists them (the main area
    first, which a practice's other version may have given it), then those only declared."""
    declared = list(row.get("declared_areas") or [])
    rows = {r["area"]: r for r in catalogue.areas.get(row["practice_id"], [])}
    by_chance = [r["area"] for r in sorted(rows.values(), key=lambda r: -r["probability"]) if r["suggested"]]
    listed = [c for c in (row.get("predicted_areas") or []) if c in rows]
    suggested = [*listed, *(c for c in by_chance if c not in listed)]
    out = []
    for code in [*suggested, *(c for c in declared if c not in suggested)]:
        r = rows.get(code, {})
        out.append({"area": code, "declared": code in declared, "suggested": code in suggested,
                    "main": code == row.get("main_area_pred"), "probability": r.get("probability"),
                    "evidence": redact(r.get("evidence"))})
    return out


def _similar(catalogue: Catalogue, practice_id: str) -> list[dict]:
    out = []
    for r in catalogue.similar.get(practice_id, []):
        other = catalogue.practices.get(r["neighbour_id"])
        if r["rank"] < 1 or other is None:
            continue
        out.append({"practice_id": r["neighbour_id"], "url": f"/practices/{r['neighbour_id']}", "rank": r["rank"],
                    "title": other.get("title"), "city": other.get("city"), "city_listed": _listed(other.get("city")),
                    "country": _country(other.get("city")),
                    "lang": other.get("lang"), "score": r["score"], "weak": bool(r.get("weak")),
                    "relation": r.get("relation"), "matched_section": r.get("matched_section"),
                    "shared_terms": list(r.get("shared_terms") or [])})
    return out


def _other_versions(catalogue: Catalogue, practice_id: str) -> list[dict]:
    """Rank-0 rows: the practice in its other language (`version`) or submitted again (`near_duplicate`)."""
    out = []
    for r in catalogue.similar.get(practice_id, []):
        other = catalogue.practices.get(r["neighbour_id"])
        if r["rank"] == 0 and other is not None:
            out.append({"practice_id": r["neighbour_id"], "url": f"/practices/{r['neighbour_id']}",
                        "relation": r["relation"], "lang": other.get("lang"), "title": other.get("title")})
    return out


# --------------------------------------------------------------------------- the search page


def facet_options(result: SearchResult, query: SearchQuery, t: Translator) -> dict[str, list[dict]]:
    """Each facet's values with a label in the UI language, its count and whether it is the active filter."""
    labels = {
        "area": lambda v: t.area(v.value),
        "city": lambda v: city_name(v.label, t.lang),  # a city's value is its key, its label the listed name
        "country": lambda v: t.country(v.value),
        "lang": lambda v: t.language_name(v.value),
    }
    selected = {"area": query.area, "city": city_key(query.city) if query.city else None, "country": query.country,
                "lang": query.lang, "year": str(query.year) if query.year is not None else None}
    return {name: [{"value": v.value, "label": labels[name](v) if name in labels else v.label, "count": v.count,
                    "selected": v.value == selected[name]} for v in values]
            for name, values in result.facets.items()}


def active_filters(query: SearchQuery, t: Translator) -> list[dict]:
    """The filters in force, each with the address of the same search without it."""
    def without(**changes) -> str:
        return search_link(replace(query, offset=0, **changes))

    items = []
    if query.q:
        items.append({"label": t.quoted([query.q]), "href": without(q="")})  # « médiation » on a French page
    if query.area:
        source = f" ({t('search.area_source_' + query.area_source)})" if query.area_source != "any" else ""
        items.append({"label": t.area(query.area) + source, "href": without(area=None, area_source="any")})
    if query.reviewed != "any":
        items.append({"label": t("search.reviewed_" + query.reviewed), "href": without(reviewed="any")})
    if query.city:
        items.append({"label": city_name(query.city, t.lang) or query.city, "href": without(city=None)})
    if query.country:
        items.append({"label": t.country(query.country), "href": without(country=None)})
    if query.lang:
        items.append({"label": t.language_name(query.lang), "href": without(lang=None)})
    if query.year is not None:
        items.append({"label": str(query.year), "href": without(year=None)})
    for criterion, level in query.levels:
        # level 0 selects the practices that do not address it, not "at least 0" (every practice)
        items.append({"label": f"{t.criterion(criterion)}{t.colon} {t('search.not_addressed')}" if level == 0
                      else f"{t.criterion(criterion)} ≥ {level}",
                      "href": without(levels=query.toggled_level(criterion, level))})
    return items


def search_link(query: SearchQuery) -> str:
    params = query.params()
    return "/?" + urlencode(params) if params else "/"
