"""Search with facets, one practice, health and the language switch."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse

from pipeline.cities import city_info, city_name
from pipeline.criteria import CRITERIA
from pipeline.taxonomy import load_taxonomy
from pipeline.web.catalogue import Catalogue
from pipeline.web.deps import CatalogueDep, Page, PageDep, ServicesDep, StaffDep, login_link, remember_language
from pipeline.web.i18n import LANGS, main_not_likeliest, supported
from pipeline.web.search import (AREA_SOURCES, MAX_LIMIT, REVIEW_STATES, FacetValue, SearchQuery, SearchResult,
                                 country_of)
from pipeline.web.security import SAVED_COOKIE, local_path
from pipeline.web.views import active_filters, facet_options, practice_detail, practice_summary, search_link

router = APIRouter()


def _blank_is_none(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def search_query(
    catalogue: CatalogueDep,
    staff: StaffDep,
    q: Annotated[str, Query(max_length=200)] = "",
    area: str | None = None,
    area_source: str = "any",
    reviewed: str = "any",
    city: str | None = None,
    country: str | None = None,
    lang: str | None = None,
    year: str | None = None,
    level: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI reads the default, never mutates it
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> SearchQuery:
    """The search as asked in the address; an empty select of an HTML form means 'any'.

    A filter this site cannot read (an unknown area code, criterion, level, language, country or city, a year that
    is not one) is refused with 422 naming it, rather than dropped (which answered every practice) or searched for
    in vain. A country may be named in English or French; the query holds its English name, as the index does.
    A city is known when cities.yaml lists it (by any of its names) or a practice of the run is in it, as a country
    is known when a member city is in it.
    """
    problems: list[dict] = []

    def refuse(name: str, value: str, kind: str, why: str) -> None:
        # `kind` names the refusal, so a page can say it in the visitor's language (messages.yaml, invalid)
        problems.append({"type": kind, "loc": ("query", name), "msg": why, "input": value})

    area, city, country, lang, year = (_blank_is_none(v) for v in (area, city, country, lang, year))
    if area is not None and area not in load_taxonomy().areas:
        refuse("area", area, "unknown_area", f"unknown area code {area!r}")
    area_source = _blank_is_none(area_source) or "any"
    if area_source not in AREA_SOURCES:
        refuse("area_source", area_source, "unknown_area_source",
               f"expected one of {list(AREA_SOURCES)}, not {area_source!r}")
    reviewed = _blank_is_none(reviewed) or "any"
    if reviewed not in REVIEW_STATES:
        refuse("reviewed", reviewed, "unknown_review_state",
               f"expected one of {list(REVIEW_STATES)}, not {reviewed!r}")
    # reviews are the secretariat's: a visitor's search cannot read them, even to filter
    for name, value in (("reviewed", reviewed), ("area_source", area_source)):
        if not staff and value in ("yes", "no", "reviewed"):
            refuse(name, value, "reviews_for_staff", "reviews are read by the secretariat only: log in or send the "
                                                     "review token")
    if city is not None and city_info(city) is None and not (catalogue.index and catalogue.index.has_city(city)):
        refuse("city", city, "unknown_city", f"no member city and no practice of this run is in a city named {city!r}")
    if country is not None and country_of(country) is None:
        refuse("country", country, "unknown_country", f"no member city is in a country named {country!r}")
    if lang is not None and supported(lang) is None:
        refuse("lang", lang, "unknown_language", f"unknown language {lang!r}; the languages are {list(LANGS)}")
    if year is not None and not re.fullmatch(r"\d{4}", year):
        refuse("year", year, "not_a_year", f"expected a year such as 2019, not {year!r}")
    levels = []
    for item in filter(None, (i.strip() for i in level)):
        criterion, _, value = item.partition(":")
        if criterion not in CRITERIA:
            refuse("level", item, "unknown_criterion",
                   f"unknown criterion {criterion!r} in {item!r}; the criteria are {list(CRITERIA)}")
        elif value not in ("0", "1", "2", "3"):
            refuse("level", item, "not_a_level", f"{item!r} is not criterion:N with N from 0 to 3")
        else:
            levels.append((criterion, int(value)))
    if problems:
        raise RequestValidationError(problems)
    return SearchQuery(
        q=q.strip(), area=area, area_source=area_source, city=city, country=country_of(country),
        lang=supported(lang), year=int(year) if year else None, levels=tuple(levels), limit=limit, offset=offset,
        reviewed=reviewed,
    )


SearchQueryDep = Annotated[SearchQuery, Depends(search_query)]


def run_search(catalogue: Catalogue, query: SearchQuery, services=None) -> SearchResult:
    """The search; a query that reads reviews (staff only, see `search_query`) reads them from the store now."""
    if catalogue.index is None:
        return SearchResult(0, [])
    reviews = services.reviews.all_current() if query.reads_reviews and services is not None else None
    return catalogue.index.search(query, reviews)


def _facets_json(result: SearchResult) -> dict:
    """The facets as JSON: a city labelled with its English listed name, as each practice's `city_listed` names it
    (the pages label it in their own language)."""
    def label(name: str, value: FacetValue) -> str:
        return (city_name(value.label, "en") or value.label) if name == "city" else value.label

    facets = {name: [{"value": v.value, "label": label(name, v), "count": v.count} for v in values]
              for name, values in result.facets.items()}
    facets["level"] = {c: {str(k): n for k, n in counts.items()} for c, counts in result.level_counts.items()}
    return facets


@router.get("/api/practices")
def api_search(catalogue: CatalogueDep, query: SearchQueryDep, services: ServicesDep) -> dict:
    result = run_search(catalogue, query, services)
    # found_by: whether the query's words found a practice, or only what the query means (null without words);
    # snippet: the sentence holding the query's words, or the passage closest to what it means (null without one)
    found_by = (lambda pid: "meaning" if pid in result.by_meaning else "words") if query.q.strip() else (lambda pid: None)
    return {"total": result.total, "limit": query.limit, "offset": query.offset,
            "practices": [{**practice_summary(catalogue, pid), "found_by": found_by(pid),
                           "snippet": "".join(text for text, _ in result.snippets[pid]) if pid in result.snippets else None}
                          for pid in result.practice_ids],
            "facets": _facets_json(result)}


@router.get("/api/practices/{practice_id}")
def api_practice(practice_id: str, catalogue: CatalogueDep, services: ServicesDep, staff: StaffDep) -> dict:
    # reviews carry reviewers' names and internal notes: for the secretariat only
    detail = practice_detail(catalogue, practice_id, services.reviews.current(practice_id) if staff else None,
                             services.reviews.history(practice_id) if staff else [],
                             services.reviews.all_current() if staff else None, staff=staff)
    if detail is None:
        raise HTTPException(404, f"no practice {practice_id} in this run")
    return detail


@router.api_route("/", methods=["GET", "HEAD"])  # HEAD: uptime monitors ask so
def search_page(page: PageDep, catalogue: CatalogueDep, query: SearchQueryDep, staff: StaffDep):
    result = run_search(catalogue, query, page.services)
    last = (max(result.total, 1) - 1) // query.limit * query.limit  # where the last page starts
    return page.render("search.html.j2", query=query, result=result, criteria=CRITERIA,
                       practices=[practice_summary(catalogue, pid) for pid in result.practice_ids],
                       facets=facet_options(result, query, page.t), active=active_filters(query, page.t),
                       prev_page=search_link(replace(query, offset=min(max(0, query.offset - query.limit), last))),
                       next_page=search_link(replace(query, offset=query.offset + query.limit)),
                       last_page=search_link(replace(query, offset=last)), catalogue_loaded=catalogue.loaded,
                       staff=staff)


@router.get("/practices/{practice_id}")
def practice_page(practice_id: str, request: Request, page: PageDep, catalogue: CatalogueDep, services: ServicesDep,
                  staff: StaffDep):
    # the confirmation a save left for this page, shown once: a reload, or the same address later, does not show it
    marker = request.cookies.get(SAVED_COOKIE)
    saved = services.access.saved_marker_valid(marker, practice_id)
    response = render_practice(page, catalogue, practice_id, staff, saved=saved, back=_search_left(request))
    if saved:
        response.delete_cookie(SAVED_COOKIE, httponly=True, samesite="strict")
    return response


def _search_left(request: Request) -> str:
    """The search a visitor came from (this site's search page with its words and filters, as the Referer gives
    it), for the page's way back; the plain search page otherwise."""
    came_from = urlsplit(request.headers.get("referer") or "")
    if came_from.netloc != request.url.netloc or came_from.path != "/":
        return "/"
    return local_path("/" + (f"?{came_from.query}" if came_from.query else ""))


def render_practice(page: Page, catalogue: Catalogue, practice_id: str, staff: bool, status_code: int = 200,
                    saved: bool = False, review_problem: str | None = None, review_entries: dict | None = None,
                    back: str = "/"):
    """The practice page; after a refused review, with why (`review_problem`) above its review form, filled in
    with what was sent (`review_entries`, the form's fields by name) so that nothing typed is lost; `back`: the
    search its way back leads to."""
    services = page.services
    detail = practice_detail(catalogue, practice_id, services.reviews.current(practice_id) if staff else None,
                             services.reviews.history(practice_id) if staff else [],
                             services.reviews.all_current() if staff else None, staff=staff)
    if detail is None:
        return page.render("not_found.html.j2", status_code=404, message=page.t("practice.not_found", id=practice_id))
    main = main_not_likeliest(detail.get("main_area_pred"), {a["area"]: a["probability"] for a in detail["areas"]
                                                             if a.get("probability") is not None})
    return page.render("practice.html.j2", status_code=status_code, p=detail, criteria=CRITERIA, saved=saved,
                       main_not_likeliest=main, area_codes=services.messages.taxonomy.codes,
                       review_login=login_link(f"/practices/{practice_id}#review"), review_problem=review_problem,
                       entered=review_entries or {}, back=back)


@router.api_route("/healthz", methods=["GET", "HEAD"])
def healthz(catalogue: CatalogueDep, services: ServicesDep) -> dict:
    """'ok' with the practices of the loaded run; 'empty' when no run is loaded (checks still work, search finds
    nothing): a monitor tells a site that lost its tables from one that serves them. `checks`: 'ok'; 'starting'
    while the check workers load their models, 'restarting' after one died ('threads' when checks run in the
    server)."""
    n = len(catalogue.practices)
    workers = services.check_workers
    checks = "threads" if workers is None else workers.state
    return {"status": "ok" if n else "empty", "practices": n, "checks": checks}


@router.get("/lang")
def switch_language(to: str = "en", next: str = "/") -> RedirectResponse:
    """Remember the chosen language and go back to the page it was chosen on."""
    response = RedirectResponse(local_path(next), status_code=303)
    remember_language(response, supported(to) or "en")
    return response
