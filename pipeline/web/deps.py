"""What routes receive through FastAPI dependencies: the services made at start, the current run, the UI
language and a page renderer. Nothing here is global: everything hangs off `app.state.services`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

import anyio
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.routing import Match

from pipeline.web.catalogue import Catalogue
from pipeline.web.check_workers import CheckWorkers
from pipeline.web.i18n import LANG_COOKIE, Messages, Translator, request_language
from pipeline.web.models import AnalysisModels, MemoEmbedder
from pipeline.web.reloading import ReloadingStore
from pipeline.web.reviews import ReviewStore
from pipeline.web.security import CSRF_COOKIE, SESSION_COOKIE, ReviewAccess
from pipeline.web.settings import WebSettings


@dataclass
class Services:
    """Made once by the app's lifespan and shared by every request."""

    settings: WebSettings
    messages: Messages
    embedder: MemoEmbedder  # the run's encoder, for the search by meaning
    # the models a check in the server's threads uses, read again after `train` (None: checks run in workers)
    model_store: ReloadingStore[AnalysisModels] | None
    catalogues: ReloadingStore[Catalogue]  # the loaded run, read again after a new `run`
    reviews: ReviewStore
    access: ReviewAccess
    templates: Jinja2Templates
    check_slots: anyio.CapacityLimiter  # checks running at once
    check_workers: "CheckWorkers | None" = None  # processes that run checks with a time limit (None: threads)


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_catalogue(services: ServicesDep) -> Catalogue:
    return services.catalogues.current()


def get_translator(request: Request, services: ServicesDep) -> Translator:
    # Not from the address: `lang=` there is the search's language filter.
    lang = request_language(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
    return services.messages.translator(lang)


def remember_language(response: Response, lang: str) -> None:
    """Keep the language chosen with the switch for the visitor's next pages (a year)."""
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", httponly=True)


def get_reviewer(request: Request, services: ServicesDep) -> str | None:
    """The logged-in reviewer; None for a login its reviewer ended (a copy of the cookie kept elsewhere)."""
    session = services.access.session(request.cookies.get(SESSION_COOKIE))
    if session is None or (session.get("sid") and services.reviews.session_ended(str(session["sid"]))):
        return None
    return session.get("r")


def get_staff(request: Request, services: ServicesDep) -> bool:
    """The secretariat: logged in, or sending the review token. Only staff read reviews and download the run."""
    return (get_reviewer(request, services) is not None
            or services.access.bearer_matches(request.headers.get("authorization")))


CatalogueDep = Annotated[Catalogue, Depends(get_catalogue)]
StaffDep = Annotated[bool, Depends(get_staff)]
TranslatorDep = Annotated[Translator, Depends(get_translator)]
ReviewerDep = Annotated[str | None, Depends(get_reviewer)]


@dataclass
class Page:
    """Renders templates with what every page shows: words in the UI language, login state, CSRF token."""

    request: Request
    services: Services
    t: Translator
    reviewer: str | None

    def csrf_cookie(self) -> tuple[str, bool]:
        cookie = self.request.cookies.get(CSRF_COOKIE)
        return (cookie, False) if cookie else (self.services.access.new_csrf_cookie(), True)

    def render(self, template: str, status_code: int = 200, t: Translator | None = None, **context) -> HTMLResponse:
        t = t or self.t
        cookie, fresh = self.csrf_cookie()
        path = page_address(self.request)
        base = {
            "t": t, "lang": t.lang, "reviewer": self.reviewer,
            "max_upload_bytes": self.services.settings.max_upload_bytes,
            "max_upload_mb": self.services.settings.max_upload_mb,
            "review_enabled": self.services.access.enabled, "csrf_token": self.services.access.csrf_token(cookie),
            "switch_language": "/lang?" + urlencode({"to": t.other, "next": path}),
            "login_href": login_link(path),
            "current_path": self.request.url.path,
        }
        response = self.services.templates.TemplateResponse(self.request, template, base | context,
                                                            status_code=status_code)
        if fresh:
            response.set_cookie(CSRF_COOKIE, cookie, httponly=True, samesite="strict", path="/",
                                secure=self.request.url.scheme == "https")
        response.headers["cache-control"] = "no-store"  # pages carry tokens and reviewers' names
        return response


def page_address(request: Request) -> str:
    """The address of the page on screen, which its language and login links come back to. A page answering a
    form (POST) comes back to the page the form is on: the same address when a page is there (/check), else the
    page above it (/practices/{id} for its review form); a link to an address only a POST answers ends in a 405."""
    url = request.url
    if request.method in ("GET", "HEAD"):
        return url.path + (f"?{url.query}" if url.query else "")
    for candidate in (url.path, url.path.rsplit("/", 1)[0]):
        if _has_page(request, candidate):
            return candidate
    return "/"


def _has_page(request: Request, path: str) -> bool:
    scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
    return any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes)


def login_link(target: str) -> str:
    """The login page, set to come back to `target` once logged in (to the search from the review pages)."""
    if target == "/" or target.startswith("/review/"):
        return "/review/login"
    return "/review/login?" + urlencode({"next": target})


def get_page(request: Request, services: ServicesDep, t: TranslatorDep, reviewer: ReviewerDep) -> Page:
    return Page(request, services, t, reviewer)


PageDep = Annotated[Page, Depends(get_page)]
