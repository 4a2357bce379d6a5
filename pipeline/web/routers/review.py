"""Review for the secretariat: the JSON API with a bearer token, and HTML forms behind a login with CSRF tokens."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from pipeline.criteria import CRITERIA
from pipeline.taxonomy import load_taxonomy
from pipeline.web.catalogue import Catalogue
from pipeline.web.deps import CatalogueDep, Page, PageDep, Services, ServicesDep, login_link, remember_language
from pipeline.web.i18n import Translator
from pipeline.web.reviews import MAX_NOTE_CHARS, ReviewInput
from pipeline.web.routers.browse import render_practice
from pipeline.web.security import (CSRF_COOKIE, CSRF_FIELD, SAVED_COOKIE, SAVED_SECONDS, SESSION_COOKIE,
                                   local_path)

router = APIRouter()
REVIEW_BODY_BYTES = 64 * 1024  # a review is a few codes and a note
FAILED_LOGIN_DELAY = 0.5  # seconds: slows down guessing the token
REVIEW_FIELDS = ("main_area", "areas", "note", *(f"level_{criterion}" for criterion in CRITERIA))
# A review sent after the session ended rides along the login form: its fields under this prefix, and its practice.
PENDING = "review:"
PENDING_OF = "review_of"


def is_review_path(path: str) -> bool:
    """The addresses of this router that read a body: logging in or out, and a review from a form or the API."""
    parts = path.strip("/").split("/")
    return parts[0] == "review" or (parts[-1] == "review" and parts[0] in ("practices", "api"))


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
def login_form(page: PageDep, next: str = "/"):
    return _login_page(page, 200 if page.services.access.enabled else 403, target=next)


def _login_page(page: Page, status_code: int, problem: str | None = None, target: str = "/",
                pending: list[tuple[str, str]] | None = None, pending_of: str | None = None,
                reviewer: str = "", wrong: str | None = None):
    """The login form, which goes on to `target` once logged in; `pending`: the entries of a review sent after the
    session ended, carried in the form so that logging in saves them; after a refusal, the name typed (`reviewer`)
    and the field refused (`wrong`: 'reviewer' or 'token')."""
    return page.render("login.html.j2", status_code=status_code, problem=problem, target=local_path(target),
                       pending=pending or [], pending_of=pending_of, reviewer_typed=reviewer, wrong=wrong)


def _pending(form) -> list[tuple[str, str]]:
    """The review entries a login form carries, as hidden fields (PENDING before the review form's names)."""
    return [(name, value) for name, value in form.multi_items()
            if name.startswith(PENDING) and isinstance(value, str)]


@router.post("/review/login", max_body_size=REVIEW_BODY_BYTES)
async def login(request: Request, page: PageDep, services: ServicesDep, catalogue: CatalogueDep,
                reviewer: Annotated[str, Form()] = "", token: Annotated[str, Form()] = "",
                csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
                target: Annotated[str, Form(alias="next")] = "/",
                pending_of: Annotated[str, Form(alias=PENDING_OF)] = ""):
    access = services.access
    if not access.enabled:
        return page.render("login.html.j2", status_code=403)
    form = await request.form()
    pending = _pending(form)

    def again(status_code: int, problem: str, wrong: str):
        # a failed login keeps where it goes, the review it carries and the name typed
        return _login_page(page, status_code, problem, target, pending, pending_of or None, reviewer, wrong)

    if not access.csrf_valid(request.cookies.get(CSRF_COOKIE), csrf_token):
        # not sent from this site's page: a review it holds is not put in the login form, where logging in would
        # save it under the reviewer's name
        return _login_page(page, 403, page.t("review.csrf"), target)
    reviewer = " ".join(reviewer.split())
    if not 1 <= len(reviewer) <= 80:
        return again(422, page.t("review.bad_name"), "reviewer")
    if not access.token_matches(token):
        await anyio.sleep(FAILED_LOGIN_DELAY)
        return again(401, page.t("review.bad_token"), "token")
    if pending_of and pending:
        entries = FormData([(name.removeprefix(PENDING), value) for name, value in pending])
        response = _save_review(pending_of, entries, reviewer, page, services, catalogue)
    else:
        response = RedirectResponse(local_path(target), status_code=303)
    response.set_cookie(SESSION_COOKIE, access.session_cookie(reviewer), max_age=services.settings.session_hours * 3600,
                        httponly=True, samesite="strict", secure=request.url.scheme == "https")
    return response


@router.post("/review/login/lang", max_body_size=REVIEW_BODY_BYTES)
async def login_language(request: Request, page: PageDep, services: ServicesDep, to: Annotated[str, Form()] = "en",
                         csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
                         target: Annotated[str, Form(alias="next")] = "/",
                         pending_of: Annotated[str, Form(alias=PENDING_OF)] = ""):
    """The language switch of a login page: the same login page in the other language, still going to `target` and
    still carrying the review sent after the session ended, which a link to /lang would drop."""
    page = replace(page, t=services.messages.translator(to))
    if not services.access.enabled:
        response = page.render("login.html.j2", status_code=403)
    elif not services.access.csrf_valid(request.cookies.get(CSRF_COOKIE), csrf_token):
        # not sent from this site's page: a review it holds is not put in the login form, to be saved once logged in
        response = _login_page(page, 403, page.t("review.csrf"), target)
    else:
        pending = _pending(await request.form())
        # the page said why it carries a review: it says so again in the other language
        problem = page.t("review.session_ended", hours=services.settings.session_hours) if pending else None
        response = _login_page(page, 200, problem, target, pending, pending_of or None)
    remember_language(response, page.t.lang)
    return response


@router.get("/review/login/lang")
def login_language_reloaded(next: str = "/"):
    """The address the language switch of a login page posts to, reloaded or opened as a link: the login page (in
    the language the switch remembered), still going to `next` when the address gives one, never to another site."""
    return RedirectResponse(login_link(local_path(next)), status_code=303)


@router.post("/review/logout", max_body_size=REVIEW_BODY_BYTES)
def logout(request: Request, page: PageDep, csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = ""):
    if not page.services.access.csrf_valid(request.cookies.get(CSRF_COOKIE), csrf_token):
        return page.render("login.html.j2", status_code=403, problem=page.t("review.csrf"))
    session = page.services.access.session(request.cookies.get(SESSION_COOKIE))
    if session and session.get("sid"):
        page.services.reviews.end_session(str(session["sid"]), int(session["exp"]))
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
        # An expired form (the token's cookie gone with the browser session): the form again with its entries and
        # a fresh token, so one more click saves it. Without a login, the entries are not shown: a page of another
        # site must not fill in a form for the reviewer.
        if page.reviewer is None:
            return render_practice(page, catalogue, practice_id, False, 403, review_problem=page.t("review.csrf"))
        return render_practice(page, catalogue, practice_id, True, 403, review_problem=page.t("review.expired"),
                               review_entries=_entries(form))
    if page.reviewer is None:
        # The session ended while the review was typed: the login page says so and saves the entries once logged in.
        entries = [(PENDING + name, value) for name, value in form.multi_items()
                   if name in REVIEW_FIELDS and isinstance(value, str)]
        problem = page.t("review.session_ended", hours=services.settings.session_hours)
        return _login_page(page, 401, problem, f"/practices/{practice_id}#review", entries, practice_id)
    return _save_review(practice_id, form, page.reviewer, page, services, catalogue)


def _save_review(practice_id: str, form, reviewer: str, page: Page, services: Services, catalogue: Catalogue):
    """Store the review form's entries as `reviewer`'s, then show the practice; when refused, the practice page
    saying why above the form, filled in with the entries."""
    if practice_id not in catalogue.practices:
        return page.render("not_found.html.j2", status_code=404, message=page.t("practice.not_found", id=practice_id))
    try:
        review = ReviewInput(**_review_fields(form))
    except ValidationError as exc:
        why = page.t.semicolon.join(_refusal(error, page.t) for error in exc.errors())
        # logged in by this very request when the review rode along the login form
        page = replace(page, reviewer=reviewer)
        return render_practice(page, catalogue, practice_id, True, 422,
                               review_problem=page.t("review.invalid", why=why), review_entries=_entries(form))
    practice = catalogue.practices[practice_id]
    services.reviews.add(practice_id, review, reviewer, practice.get("city"), practice.get("title"))
    response = RedirectResponse(f"/practices/{practice_id}#review", status_code=303)
    # said once, on the page the save leads to: not an address that says it whenever it is opened again
    response.set_cookie(SAVED_COOKIE, services.access.saved_marker(practice_id), max_age=SAVED_SECONDS,
                        httponly=True, samesite="strict", secure=page.request.url.scheme == "https")
    return response


def _refusal(error: dict, t: Translator) -> str:
    """Why the form was refused, by the field refused: its selects offer only codes and levels the review takes, so
    this names a value the page did not offer, or (no field) says that nothing was set."""
    field = str(error["loc"][0]) if error["loc"] else "nothing"
    value = error.get("input")
    if field == "areas" and isinstance(value, list):
        value = ", ".join(str(code) for code in value if code not in load_taxonomy().areas)
    key = f"review.refused.{field}"
    return t(key if t.knows(key) else "review.refused.other", value=value, max=MAX_NOTE_CHARS)


def _entries(form) -> dict:
    """What the review form held, to fill it in again: each field's text, the ticked areas as a list."""
    entries = {name: form.get(name) for name in REVIEW_FIELDS if name != "areas" and isinstance(form.get(name), str)}
    entries["areas"] = [code for code in form.getlist("areas") if isinstance(code, str)]
    return entries


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
