"""Self-check for cities: upload a form, see what the analysis reads in it, in the form's language."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import JSONResponse

from pipeline.web.catalogue import Catalogue
from pipeline.errors import message
from pipeline.web.checking import (UPLOAD_ACCEPT, CheckReport, answer_translator, check_upload, display_name,
                                   practice_translator, report_json, status_message)
from pipeline.web.deps import CatalogueDep, Page, PageDep, Services, ServicesDep, TranslatorDep
from pipeline.web.i18n import Translator

router = APIRouter()


# the site could not finish the check now (every slot busy, the check's process ended): come back in a minute
_COME_BACK = ("busy", "check_stopped")


def _status_code(report: CheckReport) -> int:
    """200 when the file was read (even a blank form), 422 when it cannot be used, 413 when too large, 503 when
    every check is busy or the check's process ended under it."""
    if report.error_code == "file_too_large":
        return 413
    if report.error_code in _COME_BACK:
        return 503
    return 422 if report.status == "error" else 200


async def _more_than_one_file(request: Request, upload: UploadFile) -> CheckReport | None:
    """A check reads one form: an upload of several files is refused, not answered for one of them."""
    files = [part for part in (await request.form()).getlist("file") if not isinstance(part, str)]
    if len(files) < 2:
        return None
    return CheckReport(display_name(upload.filename), "error", "more_than_one_file",
                       message("more_than_one_file", n=len(files)))


async def _check(upload: UploadFile, services: Services, catalogue: Catalogue, visitor: Translator,
                 request: Request | None = None) -> CheckReport:
    if request is not None and (several := await _more_than_one_file(request, upload)) is not None:
        return several
    if upload.size is not None and upload.size > services.settings.max_upload_bytes:
        return CheckReport(display_name(upload.filename), "error", "file_too_large",
                           visitor("check.too_large", mb=services.settings.max_upload_mb), message_lang=visitor.lang)
    # CPU-bound: run in a worker thread, at most `check_workers` at once, so pages stay responsive; an upload that
    # finds them all busy for a while is told to come back rather than left hanging.
    settings = services.settings
    try:
        with anyio.fail_after(settings.check_wait_seconds):
            await services.check_slots.acquire()
    except TimeoutError:
        return CheckReport(display_name(upload.filename), "error", "busy", visitor("check.busy_retry"),
                           message_lang=visitor.lang)
    try:
        if services.check_workers is not None:  # in a worker process, stopped past its time limit
            # a run read in the last few minutes: the workers may be reading it too while they check
            return await services.check_workers.check(
                await upload.read(), upload.filename, settings.check_max_practices, settings.check_max_words,
                request.is_disconnected if request is not None else None,
                lambda: services.catalogues.changed_within(services.check_workers.timeout + 180))
        # the models are looked up in the worker thread: reading new ones after `train` takes a few seconds
        return await anyio.to_thread.run_sync(lambda: check_upload(
            upload.file, upload.filename, services.model_store.current(), catalogue, settings.check_max_practices,
            settings.check_max_words))
    finally:
        services.check_slots.release()


@router.post("/api/check")
async def api_check(request: Request, services: ServicesDep, catalogue: CatalogueDep, visitor: TranslatorDep,
                    file: UploadFile = File(...)) -> JSONResponse:
    report = await _check(file, services, catalogue, visitor, request)
    t = answer_translator(report, services.messages, visitor)
    headers = {"retry-after": "60"} if report.error_code in _COME_BACK else None
    return JSONResponse(report_json(report, catalogue, services.messages, t), status_code=_status_code(report),
                        headers=headers)


def form_page(page: Page, status_code: int = 200, problem: str | None = None):
    return page.render("check.html.j2", status_code=status_code, problem=problem, accept=UPLOAD_ACCEPT)


@router.get("/check")
def check_form(page: PageDep):
    return form_page(page)


@router.post("/check")
async def check_result(request: Request, page: PageDep, services: ServicesDep, catalogue: CatalogueDep,
                       file: UploadFile | None = File(None)):
    if file is None or not file.filename:
        return form_page(page, 422, page.t("check.missing_file"))
    report = await _check(file, services, catalogue, page.t, request)
    # The page speaks the visitor's language; each practice is shown in its own (`translator`), as the CLI shows it.
    response = page.render("check_result.html.j2", status_code=_status_code(report), report=report,
                           message=status_message(report, page.t), catalogue=catalogue,
                           translator=lambda lang: practice_translator(services.messages, lang, page.t))
    if report.error_code in _COME_BACK:
        response.headers["retry-after"] = "60"
    return response
