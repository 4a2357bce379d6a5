"""Review for the secretariat: the JSON API with a bearer token, and HTML forms behind a login with CSRF tokens."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from pipeline.criteria import CRITERIA
from pipeline.web.deps import CatalogueDep, PageDep, ServicesDep
from pipeline.web.reviews import ReviewInput
from pipeline.web.security import CSRF_COOKIE, CSRF_FIELD, SESSION_COOKIE

router = APIRouter()
REVIEW_BODY_BYTES = 64 * 1024  # a review is a few codes and a note
FAILED_LOGIN_DELAY = 0.5  # seconds: slows down guessing the token


def require_review_token(request: Request, services: ServicesDep) -> None:
    """Refuse before the body is even validated: review off (403), no or wrong bearer token (401)."""
    if not services.access.enabled:
        raise HTTPException(403, services.settings.review_off_reason)
    if not services.access.bearer_matches(request.headers.get("authorization")):
        raise HTTPException(401, "send the review token as 'Authorization: Bearer <token>'",
                            headers={"WWW-Authenticate": 'Bearer realm="review"'})


@router.post("/api/practices/{practice_id}/review", max_body_size=REVIEW_BODY_BYTES,
             dependencies=[Depends(require_review_token)], status_code=201)
def api_review(practice_id: str, review: ReviewInput, services: ServicesDep, catalogue: CatalogueDep) -> dict:
    if practice_id not in catalogue.practices:
        raise HTTPException(404, f"no practice {practice_id} in this run")
    practice = catalogue.practices[practice_id]
    stored = services.reviews.add(practice_id, review, review.reviewer or "api", practice.get("city"),
                                  practice.get("title"))
    return {"status": "saved", "review": asdict(stored)}


@router.get("/review/login")
def login_form(page: PageDep):
    return page.render("login.html.j2", status_code=200 if page.services.access.enabled else 403)


@router.post("/review/login", max_body_size=REVIEW_BODY_BYTES)
async def login(request: Request, page: PageDep, services: ServicesDep, reviewer: Annotated[str, Form()] = "",
                token: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = ""):
    access = services.access
    if not access.enabled:
        return page.render("login.html.j2", status_code=403)
    if not access.csrf_valid(request.cookies.get(CSRF_COOKIE), csrf_token):
        return page.render("login.html.j2", status_code=403, problem=page.t("review.csrf"))
    reviewer = " ".join(reviewer.split())
    if not 1 <= len(reviewer) <= 80:
        return page.render("login.html.j2", status_code=422, problem=page.t("review.bad_name"))
    if not access.token_matches(token):
        await anyio.sleep(FAILED_LOGIN_DELAY)
        return page.render("login.html.j2", status_code=401, problem=page.t("review.bad_token"))
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(SESSION_COOKIE, access.session_cookie(reviewer), max_age=services.settings.session_hours * 3600,
                        httponly=True, samesite="strict", secure=request.url.scheme == "https")
    return response


@router.post("/review/logout", max_body_size=REVIEW_BODY_BYTES)
def logout(request: Request, page: PageDep, csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = ""):
    if not page.services.access.csrf_valid(request.cookies.get(CSRF_COOKIE), csrf_token):
        return page.render("login.html.j2", status_code=403, problem=page.t("review.csrf"))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/practices/{practice_id}/review", max_body_size=REVIEW_BODY_BYTES)
async def review_form(practice_id: str, request: Request, page: PageDep, services: ServicesDep,
                      catalogue: CatalogueDep):
    if not services.access.enabled:
        return page.render("login.html.j2", status_code=403)
    form = await request.form()
    if not services.access.csrf_valid(request.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD)):
        return page.render("not_found.html.j2", status_code=403, message=page.t("review.csrf"))
    if page.reviewer is None:
        return RedirectResponse("/review/login", status_code=303)
    if practice_id not in catalogue.practices:
        return page.render("not_found.html.j2", status_code=404, message=page.t("practice.not_found", id=practice_id))
    try:
        review = ReviewInput(**_review_fields(form))
    except ValidationError as exc:
        why = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        return page.render("not_found.html.j2", status_code=422, message=page.t("review.invalid", why=why))
    practice = catalogue.practices[practice_id]
    services.reviews.add(practice_id, review, page.reviewer, practice.get("city"), practice.get("title"))
    return RedirectResponse(f"/practices/{practice_id}?saved=true#review", status_code=303)


def _review_fields(form) -> dict:
    """The HTML form as a ReviewInput: empty selects mean 'leave unreviewed'; levels arrive as text."""
    fields: dict = {}
    if form.get("main_area"):
        fields["main_area"] = form["main_area"]
    areas = [a for a in form.getlist("areas") if a]
    if areas:
        fields["areas"] = areas
    levels = {}
    for criterion in CRITERIA:
        value = form.get(f"level_{criterion}") or ""
        if value != "":
            levels[criterion] = int(value) if value.isdigit() else -1  # -1 is refused with the other bad levels
    if levels:
        fields["criteria"] = levels
    if (form.get("note") or "").strip():
        fields["note"] = form["note"]
    return fields
