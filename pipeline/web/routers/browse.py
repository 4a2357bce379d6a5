"""Search with facets, one practice, health and the language switch."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import RedirectResponse

from pipeline.criteria import CRITERIA
from pipeline.web.catalogue import Catalogue
from pipeline.web.deps import CatalogueDep, PageDep, ServicesDep
from pipeline.web.i18n import LANG_COOKIE, supported
from pipeline.web.search import AREA_SOURCES, MAX_LIMIT, SearchQuery, SearchResult
from pipeline.web.views import active_filters, facet_options, practice_detail, practice_summary, search_link

router = APIRouter()


def _blank_is_none(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def search_query(
    q: Annotated[str, Query(max_length=200)] = "",
    area: str | None = None,
    area_source: str = "any",
    city: str | None = None,
    country: str | None = None,
    lang: str | None = None,
    year: str | None = None,
    level: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI reads the default, never mutates it
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> SearchQuery:
    """The search as asked in the address; an empty select of an HTML form means 'any'."""
    levels = []
    for item in level:
        criterion, _, value = item.partition(":")
        if criterion in CRITERIA and value in ("1", "2", "3"):
            levels.append((criterion, int(value)))
    year = _blank_is_none(year)
    return SearchQuery(
        q=q.strip(), area=_blank_is_none(area), area_source=area_source if area_source in AREA_SOURCES else "any",
        city=_blank_is_none(city), country=_blank_is_none(country), lang=supported(lang),
        year=int(year) if year and year.isdigit() else None, levels=tuple(levels), limit=limit, offset=offset,
    )


SearchQueryDep = Annotated[SearchQuery, Depends(search_query)]


def run_search(catalogue: Catalogue, query: SearchQuery) -> SearchResult:
    if catalogue.index is None:
        return SearchResult(0, [])
    return catalogue.index.search(query)


def _facets_json(result: SearchResult) -> dict:
    facets = {name: [{"value": v.value, "label": v.label, "count": v.count} for v in values]
              for name, values in result.facets.items()}
    facets["level"] = {c: {str(k): n for k, n in counts.items()} for c, counts in result.level_counts.items()}
    return facets


@router.get("/api/practices")
def api_search(catalogue: CatalogueDep, query: SearchQueryDep) -> dict:
    result = run_search(catalogue, query)
    return {"total": result.total, "limit": query.limit, "offset": query.offset,
            "practices": [practice_summary(catalogue, pid) for pid in result.practice_ids],
            "facets": _facets_json(result)}


@router.get("/api/practices/{practice_id}")
def api_practice(practice_id: str, catalogue: CatalogueDep, services: ServicesDep) -> dict:
    detail = practice_detail(catalogue, practice_id, services.reviews.current(practice_id),
                             services.reviews.history(practice_id))
    if detail is None:
        raise HTTPException(404, f"no practice {practice_id} in this run")
    return detail


@router.get("/")
def search_page(page: PageDep, catalogue: CatalogueDep, query: SearchQueryDep):
    result = run_search(catalogue, query)
    return page.render("search.html.j2", query=query, result=result, criteria=CRITERIA,
                       practices=[practice_summary(catalogue, pid) for pid in result.practice_ids],
                       facets=facet_options(result, query, page.t), active=active_filters(query, page.t),
                       prev_page=search_link(replace(query, offset=max(0, query.offset - query.limit))),
                       next_page=search_link(replace(query, offset=query.offset + query.limit)),
                       catalogue_loaded=catalogue.loaded)


@router.get("/practices/{practice_id}")
def practice_page(practice_id: str, page: PageDep, catalogue: CatalogueDep, services: ServicesDep, saved: bool = False):
    review = services.reviews.current(practice_id)
    detail = practice_detail(catalogue, practice_id, review, services.reviews.history(practice_id))
    if detail is None:
        return page.render("not_found.html.j2", status_code=404, message=page.t("practice.not_found", id=practice_id))
    return page.render("practice.html.j2", p=detail, criteria=CRITERIA, saved=saved,
                       area_codes=services.messages.taxonomy.codes)


@router.get("/healthz")
def healthz(catalogue: CatalogueDep) -> dict:
    return {"status": "ok", "practices": len(catalogue.practices)}


def local_path(target: str) -> str:
    """`target` when it is a path of this site, else '/': never a redirect to another site ('//host',
    '/\\host', or a path with control characters that browsers drop)."""
    parts = urlsplit(target)
    local = (target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc
             and "\\" not in target and not any(ord(ch) < 32 or ord(ch) == 127 for ch in target))
    return target if local else "/"


@router.get("/lang")
def switch_language(to: str = "en", next: str = "/") -> RedirectResponse:
    """Remember the chosen language and go back to the page it was chosen on."""
    response = RedirectResponse(local_path(next), status_code=303)
    response.set_cookie(LANG_COOKIE, supported(to) or "en", max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    return response
