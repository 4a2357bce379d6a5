"""Self-check for cities: upload a form, see what the analysis reads in it, in the form's language."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, File, UploadFile
from fastapi.responses import JSONResponse

from pipeline.web.catalogue import Catalogue
from pipeline.web.checking import CheckReport, check_upload, display_name, report_json
from pipeline.web.deps import CatalogueDep, PageDep, Services, ServicesDep

router = APIRouter()


def _status_code(report: CheckReport) -> int:
    """200 when the file was read (even a blank form), 422 when it cannot be used, 413 when too large."""
    if report.error_code == "file_too_large":
        return 413
    return 422 if report.status == "error" else 200


async def _check(upload: UploadFile, services: Services, catalogue: Catalogue) -> CheckReport:
    if upload.size is not None and upload.size > services.settings.max_upload_bytes:
        t = services.messages.translator("en")
        return CheckReport(display_name(upload.filename), "error", "file_too_large",
                           t("check.too_large", mb=services.settings.max_upload_mb))
    # CPU-bound: run in a worker thread, at most `check_workers` at once, so pages stay responsive.
    return await anyio.to_thread.run_sync(check_upload, upload.file, upload.filename, services.models, catalogue,
                                          limiter=services.check_slots)


@router.post("/api/check")
async def api_check(services: ServicesDep, catalogue: CatalogueDep, file: UploadFile = File(...)) -> JSONResponse:
    report = await _check(file, services, catalogue)
    return JSONResponse(report_json(report, catalogue, services.messages), status_code=_status_code(report))


@router.get("/check")
def check_form(page: PageDep):
    return page.render("check.html.j2")


@router.post("/check")
async def check_result(page: PageDep, services: ServicesDep, catalogue: CatalogueDep,
                       file: UploadFile | None = File(None)):
    if file is None or not file.filename:
        return page.render("check.html.j2", status_code=422, problem=page.t("check.missing_file"))
    report = await _check(file, services, catalogue)
    # The answer speaks the form's language; a file that could not be read keeps the visitor's language.
    t = services.messages.translator(report.lang) if report.lang in ("en", "fr") else page.t
    return page.render("check_result.html.j2", status_code=_status_code(report), t=t, report=report,
                       catalogue=catalogue)
