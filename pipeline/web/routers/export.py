"""The run as a spreadsheet, reviews included."""

from __future__ import annotations

from datetime import date

import anyio
from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from pipeline.report.export import workbook_bytes
from pipeline.web.deps import CatalogueDep, ServicesDep, StaffDep, TranslatorDep
from pipeline.web.reviews import history_of

router = APIRouter()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/export.xlsx")
async def export_xlsx(services: ServicesDep, catalogue: CatalogueDep, staff: StaffDep, t: TranslatorDep) -> Response:
    # the workbook holds the reviews (names, internal notes) and every city's files: for the secretariat only
    if not services.access.enabled:
        raise HTTPException(403, services.settings.review_off_reason)
    if not staff:
        raise HTTPException(401, "the spreadsheet is for the secretariat: log in at /review/login, or send the "
                                 "review token as 'Authorization: Bearer <token>'",
                            headers={"WWW-Authenticate": 'Bearer realm="review"'})
    reviews = [review.row() for _, review in sorted(services.reviews.all_current().items())]
    history = history_of(services.reviews.all_reviews())
    # city, country and area names in the language of the secretariat's pages
    data = await anyio.to_thread.run_sync(lambda: workbook_bytes(catalogue.data_dir, reviews, t.lang, history=history))
    name = f"icc-practices-{date.today():%Y%m%d}.xlsx"
    return Response(data, media_type=XLSX, headers={"content-disposition": f'attachment; filename="{name}"'})
