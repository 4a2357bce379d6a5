"""The FastAPI app: `create_app(settings)` wires routers, middleware and the lifespan that loads models once.

Served by `icc-practices serve` (uvicorn). Tests build it with their own settings and, to share the models
between several apps, pass already loaded `models`.
"""

from __future__ import annotations

import logging
import secrets
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlencode

import anyio
from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException

from pipeline.cities import city_name
from pipeline.config import ReportSettings, offline_hub
from pipeline.embed import make_embedder
from pipeline.normalize import shorten
from pipeline.web.catalogue import catalogue_store
from pipeline.web.check_workers import CheckWorkers, WorkerSettings
from pipeline.web.deps import Page, Services, get_page, get_reviewer, get_translator
from pipeline.web.i18n import Messages, Translator
from pipeline.web.middleware import AnnouncedSizeLimit, SecurityHeaders
from pipeline.web.models import AnalysisModels, MemoEmbedder, model_store
from pipeline.web.reviews import ReviewStore
from pipeline.web.routers import browse, check, export, review
from pipeline.web.security import SECRET_KEY_BYTES, ReviewAccess, stored_secret_key
from pipeline.web.settings import WebSettings

log = logging.getLogger(__name__)
WEB_DIR = Path(__file__).resolve().parent


def make_templates(reports: ReportSettings = ReportSettings()) -> Jinja2Templates:
    env = Environment(loader=FileSystemLoader(WEB_DIR / "templates"), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    # French writes a no-break space before the percent sign
    env.filters["pct"] = lambda value, lang="en": ("–" if value is None else
                                                   f"{round(100 * float(value))}{chr(0xA0) if lang == 'fr' else ''}%")
    # a pair score as the city reports print it (0.47, French 0,47): it is not a probability
    env.filters["score"] = lambda value, lang="en", weak=False: (
        "–" if value is None else
        f"{reports.shown_score(float(value), weak):.2f}".replace(".", "," if lang == "fr" else "."))
    # the band of a pair score, as the city reports word it: close, related or loose
    env.filters["strength"] = lambda value: reports.strength(float(value))
    env.filters["shorten"] = shorten  # a long value cut after a whole word
    # a practice's city by its listed name in the page's language, as the reports name it ('Ville de Genève' is
    # Geneva on English pages, Genève on French ones); an unlisted city as written
    env.filters["city_name"] = city_name
    return Jinja2Templates(env=env)


def build_services(settings: WebSettings, messages: Messages, models: AnalysisModels | None = None) -> Services:
    """Everything a request may need, made once: models, the loaded run, the review store. With checks in worker
    processes (`check_timeout_seconds`), the site itself only searches: it loads the encoder alone (about 0.2 GB,
    not the 0.7 GB of every check model)."""
    store = None
    if models is not None:
        embedder, store = models.embedder, model_store(models, settings.reload_check_seconds)
    elif settings.check_timeout_seconds:
        embedder = MemoEmbedder(make_embedder(settings.pipeline.embedder, None, settings.pipeline.threads).inner)
        if settings.warm_up:
            embedder.encode(["warm-up", "Café des langues pour les nouveaux habitants"])
    else:
        models = AnalysisModels.load(settings.pipeline)
        if settings.warm_up:
            models.warm_up()
        embedder, store = models.embedder, model_store(models, settings.reload_check_seconds)
    catalogues = catalogue_store(settings.data_dir, embedder, settings.pipeline, settings.reload_check_seconds)
    if settings.review_off_reason:
        log.warning(settings.review_off_reason)
    reviews = ReviewStore(settings.reviews_file)  # first: it makes the folder the key is kept in
    access = ReviewAccess(_secret_key(settings), settings.review_token if settings.review_enabled else None,
                          settings.session_hours * 3600)
    return Services(settings, messages, embedder, store, catalogues, reviews, access,
                    make_templates(settings.pipeline.reports), anyio.CapacityLimiter(settings.check_workers))


async def _keep_workers_running(workers: CheckWorkers, every: float = 5.0) -> None:
    """Start the check workers again when one died between checks (the system ending it for lack of memory), so
    that the next check finds them ready."""
    while True:
        await anyio.sleep(every)
        await anyio.to_thread.run_sync(workers.revive)


def _secret_key(settings: WebSettings) -> bytes:
    """The settings' key, else the one kept beside the review store; with review off nothing is signed that should
    outlive the process, and no file is written."""
    if settings.secret_key:
        return settings.secret_key
    if not settings.review_enabled:
        return secrets.token_bytes(SECRET_KEY_BYTES)
    try:
        return stored_secret_key(settings.secret_key_file)
    except OSError as exc:  # a read-only folder, a file of someone else's: review still works until a restart
        log.warning("the secret key cannot be kept (%s): reviewers log in again after a restart", exc)
        return secrets.token_bytes(SECRET_KEY_BYTES)


def _wants_json(request: Request) -> bool:
    """The API answers in JSON; the site's own addresses with a page, as they answer when all is well, unless the
    client asks for JSON and not HTML (a browser asks for HTML; curl and scripts often name no type at all)."""
    if request.url.path.startswith("/api/"):
        return True
    accept = request.headers.get("accept", "").lower()
    return "json" in accept and "text/html" not in accept


def _search_without_refused(request: Request, errors: list[dict]) -> str | None:
    """The address of the same search without the parameters refused (the others kept), for a refused search
    address; None for another address."""
    if request.method not in ("GET", "HEAD") or request.url.path != "/":
        return None
    # a refused value is left out (one bad level of several); a parameter refused as a whole is left out whole
    refused = {(str(error["loc"][1]), error["input"] if isinstance(error.get("input"), str) else None)
               for error in errors if len(error["loc"]) > 1}
    kept = [(name, value) for name, value in request.query_params.multi_items()
            if (name, value) not in refused and (name, None) not in refused]
    return "/?" + urlencode(kept) if kept else "/"


def _error_page(request: Request) -> tuple[Translator, Page]:
    services = request.app.state.services
    t = get_translator(request, services)
    return t, get_page(request, services, t, get_reviewer(request, services))


def _status_words(status: int, t: Translator, services: Services) -> str:
    """What an HTTP error means, in the visitor's words: its detail is the API's, in English."""
    if status == 404:
        return t("status.not_found")
    if status == 401:
        return t("status.login_needed")
    if status == 403 and not services.access.enabled:
        return t("review.disabled")
    return t("status.error", code=status)


def _body_limit(path: str, settings: WebSettings) -> int:
    """A login or a review is a few fields; the other routes that read a body take an upload."""
    return review.REVIEW_BODY_BYTES if review.is_review_path(path) else settings.max_body_bytes


def _too_large(request: Request, settings: WebSettings) -> Response:
    """A body over its route's limit, said as the site says it: the upload form again, or for a login or review
    a page of its own (the upload's words would be wrong there); JSON for the API."""
    t, page = _error_page(request)
    api = request.url.path.startswith("/api/")
    if review.is_review_path(request.url.path):
        kb = review.REVIEW_BODY_BYTES // 1024
        if api:
            return JSONResponse({"detail": f"a review is at most {kb} KB"}, status_code=413)
        return page.render("not_found.html.j2", status_code=413, message=t("review.too_large", kb=kb))
    message = t("check.too_large", mb=settings.max_upload_mb)
    if api:
        return JSONResponse({"status": "error", "error_code": "file_too_large", "message": message, "practices": []},
                            status_code=413)
    return check.form_page(page, 413, message)


def create_app(settings: WebSettings | None = None, models: AnalysisModels | None = None) -> FastAPI:
    offline_hub()  # also when served by uvicorn without the command line: the models are local
    settings = settings or WebSettings.from_env()
    messages = Messages.load()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        services = await anyio.to_thread.run_sync(build_services, settings, messages, models)
        if settings.check_timeout_seconds:
            services.check_workers = CheckWorkers(
                WorkerSettings(settings.pipeline, Path(settings.data_dir), settings.reload_check_seconds,
                               settings.warm_up),
                settings.check_workers, settings.check_timeout_seconds)
        app.state.services = services
        log.info("serving %d practices from %s", len(services.catalogues.current().practices), settings.data_dir)
        try:
            async with anyio.create_task_group() as tasks:
                if services.check_workers is not None:
                    tasks.start_soon(_keep_workers_running, services.check_workers)
                try:
                    yield
                finally:
                    tasks.cancel_scope.cancel()
        finally:  # outside the cancelled scope: these must run to their end
            services.reviews.close()
            if services.check_workers is not None:
                await anyio.to_thread.run_sync(services.check_workers.close)

    # No interactive docs: their pages load scripts from a CDN, and the app makes no request elsewhere.
    app = FastAPI(title="ICC good practices", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json")
    async def too_large(request: Request) -> Response:
        return _too_large(request, settings)

    app.add_middleware(AnnouncedSizeLimit, limit_for=lambda path: _body_limit(path, settings), answer=too_large)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    for router in (browse.router, review.router, export.router):
        app.include_router(router)
    # Every route that reads a body has a limit; the upload routes get the upload's.
    app.include_router(check.router, max_body_size=settings.max_body_bytes)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        """JSON for the API; a page in the visitor's language for a browser."""
        if exc.status_code == 413:  # a body that grew past its limit while it was read
            return _too_large(request, settings)
        if _wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        t, page = _error_page(request)
        response = page.render("not_found.html.j2", status_code=exc.status_code,
                               message=_status_words(exc.status_code, t, page.services),
                               offer_login=exc.status_code == 401 and page.services.access.enabled)
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        """FastAPI's 422 for the API; for a browser (a search address edited by hand), a page saying what is wrong."""
        if _wants_json(request):
            return await request_validation_exception_handler(request, exc)
        t, page = _error_page(request)
        errors = exc.errors()
        why = t.semicolon.join(t.refusal(error) for error in errors)
        return page.render("not_found.html.j2", status_code=422, message=t("status.invalid", why=why),
                           retry_href=_search_without_refused(request, errors))

    return app
